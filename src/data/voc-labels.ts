/**
 * Image-level labels of a VOC split (what `hfpl labels` writes), optionally with a full check
 * of every sample's pixels.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type ProgressReporter, silentReporter } from '../util/progress.js';
import { readLabelsFile } from './labels-file.js';
import { type BadSampleHandler, guardSample, loadSample } from './sample.js';
import type { LabelsFile } from './types.js';
import { VOC_CLASSES } from './voc-classes.js';
import { readVocSplit } from './voc.js';

/** Options of `buildVocLabels`. */
export interface VocLabelsOptions {
  /** List name under ImageSets/Segmentation or a list file path. Default 'train'. */
  split?: string;
  /**
   * 'xml' (object names of Annotations/<id>.xml), 'mask' (classes present in the mask) or
   * 'auto' (per id: the XML when it exists, else the mask). Default 'auto'.
   */
  source?: 'auto' | 'xml' | 'mask';
  /** Mask folder under the root. Default SegmentationClassAug when present, else SegmentationClass. */
  maskDir?: string;
  /**
   * Class names (index 0 background). Default: the `classes` of `<root>/labels.json` when it
   * exists (e.g. a COCO or synthetic layout; its labels are not used), else the 21 VOC classes.
   */
  classNames?: readonly string[];
  /** Decode and check every image and mask (`loadSample`). Default true. */
  verify?: boolean;
  /** When given, bad samples are reported here and left out; otherwise the first throws. */
  onBad?: BadSampleHandler;
  /** Progress over samples when verifying. Default silent. */
  reporter?: ProgressReporter;
}

/**
 * The labels file of a VOC split: `{ classes, labels: { id: [class indices] } }` with the ids in
 * list order. With 'xml' and 'auto', masks are used where present (labels, check); with 'mask',
 * every id needs one.
 */
export async function buildVocLabels(root: string, opts: VocLabelsOptions = {}): Promise<LabelsFile> {
  const source = opts.source ?? 'auto';
  const existing = join(root, 'labels.json');
  const classNames = opts.classNames ?? (existsSync(existing) ? readLabelsFile(existing).classes : VOC_CLASSES);
  const split = readVocSplit(root, opts.split ?? 'train', {
    classNames,
    labels: source,
    maskDir: opts.maskDir,
    masks: source === 'mask' ? 'required' : 'optional',
    labelsFile: false, // this builds the labels file: never read an existing one
    onBad: opts.onBad,
  });
  const labels: Record<string, number[]> = {};
  const reporter = opts.reporter ?? silentReporter;
  const verify = opts.verify ?? true;
  reporter.start(`labels ${split.split}`, split.samples.length, 'img');
  for (const [i, rec] of split.samples.entries()) {
    const ok = !verify || (await guardSample(() => loadSample(rec, { numClasses: split.classNames.length }), opts.onBad));
    if (ok) labels[rec.id] = rec.labels;
    reporter.step({ done: i + 1, total: split.samples.length });
  }
  reporter.end();
  return { classes: [...split.classNames], labels };
}
