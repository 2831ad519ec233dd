/** Stops the run with one line when the shared data the tests read is not there. */
import { existsSync } from 'node:fs';
import { SHARED_DIR, sharedPath } from './shared-path.js';

export default function checkSharedData(): void {
  const needed = ['fixtures/reference-cases.json', 'data/voc-sample/JPEGImages', 'data/coco-sample/annotations'];
  const missing = needed.filter((p) => !existsSync(sharedPath(p)));
  if (missing.length > 0) {
    throw new Error(`hfpl tests read the shared fixtures and data samples from ${SHARED_DIR} (../shared beside the checkout, or $HFPL_SHARED); missing: ${missing.join(', ')}`);
  }
}
