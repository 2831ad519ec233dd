/**
 * Entry of a refinement thread (see `full-stages-threads.ts`): the parent's engine (backend,
 * libtorch kernels or not, one libtorch thread), one `refineVariant`, log lines posted back
 * (stage starts and ends in place of progress bars).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { initEngine } from '../engine/init.js';
import { describeTaskError } from '../scale/tasks.js';
import { refineVariant } from './full-stages.js';
import type { RefineThreadData, RefineThreadMessage } from './full-stages-threads.js';

const port = parentPort!;
const { opts, variant, ctx, engine } = workerData as RefineThreadData;
const post = (m: RefineThreadMessage) => port.postMessage(m);
const log = (line: string) => post({ type: 'log', line });

try {
  await initEngine({ backend: engine.backend, native: engine.native, threads: 1 });
  let label = '', t0 = 0;
  const result = await refineVariant(opts, variant, ctx, {
    log,
    reporter: {
      start: (l, total, unit) => {
        label = l;
        t0 = performance.now();
        log(`${l}: ${total} ${unit ?? 'items'}`);
      },
      step: () => {},
      end: () => log(`${label}: done in ${((performance.now() - t0) / 1000).toFixed(1)} s`),
    },
  });
  post({ type: 'done', result });
} catch (e) {
  post({ type: 'error', error: describeTaskError(e) });
}
