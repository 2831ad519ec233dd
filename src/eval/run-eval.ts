/**
 * The evaluation stage on files (`hfpl eval`): label-map PNGs or CAM files against GT masks,
 * listed by an ImageSets-style file. Streaming with bounded memory: the next pair's bytes are
 * read while the current pair is decoded and counted, then dropped.
 */
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { HfplError } from '../errors.js';
import type { LabelMap } from '../data/label-png.js';
import { VOC_CLASSES } from '../data/voc-classes.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { silentReporter, type ProgressReporter } from '../util/progress.js';
import { runImages } from '../scale/run-images.js';
import type { ImageTask } from '../scale/tasks.js';
import { readCamFile, camsToLabelMap, type CamFile } from './cam-files.js';
import { decodeLabelPngFast } from './fast-label-png.js';
import { SegmentationEvaluator, type SegmentationMetrics } from './evaluate.js';
import { CamThresholdSweep } from './threshold-sweep.js';

/** Options of `runEval`. */
export interface EvalRunOptions {
  /** Folder of `<id>.png` label maps (palette or grayscale), or of CAM files with `cams`. */
  predDir: string;
  /** Folder of `<id>.png` GT masks (255 = void). */
  gtDir: string;
  /** Text file with one id per line (first token of each non-empty line). */
  listFile: string;
  /** K, classes including background. */
  numClasses: number;
  /** Names for the table and JSON (default: VOC names when K = 21, else 'background', 'class 1', ...). */
  classNames?: readonly string[];
  /** Evaluate CAM files with the background-threshold sweep. Default false. */
  cams?: boolean;
  /** Write the result JSON here (atomically). */
  out?: string;
  /** GT ignore value (default 255). */
  ignoreIndex?: number;
  /** Contour tolerance (default 0.008 of the diagonal). */
  boundTh?: number;
}

/** What `runEval` returns and writes: metrics, class names and, for CAMs, the sweep. */
export interface EvalRunResult extends SegmentationMetrics {
  classNames: string[];
  /** With `cams`: the best background threshold; the metrics above are at this threshold. */
  bestThreshold?: number;
  /** With `cams`: mIoU per threshold. */
  curve?: { t: number; miou: number }[];
}

/** Default class names for K classes. */
export function defaultClassNames(numClasses: number): string[] {
  if (numClasses === VOC_CLASSES.length) return [...VOC_CLASSES];
  return Array.from({ length: numClasses }, (_, c) => (c === 0 ? 'background' : `class ${c}`));
}

/** Reads an ImageSets-style list: the first token of each non-empty line. */
export function readIdList(listFile: string): string[] {
  let text: string;
  try {
    text = readFileSync(listFile, 'utf8');
  } catch {
    throw new HfplError('E_IO', `${listFile}: list file not found or unreadable`);
  }
  const ids = text.split(/\r?\n/).map((l) => l.trim().split(/\s+/)[0]).filter((s) => s.length > 0);
  if (ids.length === 0) throw new HfplError('E_DATA', `${listFile}: the list holds no ids`);
  return ids;
}

function checkFilesExist(ids: string[], dir: string, ext: string, what: string): void {
  for (const id of ids) {
    const p = join(dir, `${id}${ext}`);
    if (!existsSync(p)) throw new HfplError('E_IO', `${p}: ${what} file not found (id ${id} is listed)`);
  }
}

async function readBytes(path: string, what: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch {
    throw new HfplError('E_IO', `${path}: ${what} file not found or unreadable`);
  }
}

/** Yields items of `ids` in order, loading item i + 1 while item i is consumed. */
async function* prefetched<T>(ids: string[], load: (id: string) => Promise<T>): AsyncGenerator<T> {
  let next: Promise<T> | null = ids.length > 0 ? load(ids[0]) : null;
  for (let i = 0; i < ids.length; i++) {
    const current = next!;
    next = i + 1 < ids.length ? load(ids[i + 1]) : null;
    next?.catch(() => {}); // awaited (and rethrown) on the next turn
    yield await current;
  }
}

interface LoadedPair<P> {
  id: string;
  pred: P;
  gt: LabelMap;
  predName: string;
  gtName: string;
}

/** Setup of the eval task (src/scale/tasks.ts): one pass of `runEval` over a share of the images. */
export interface EvalTaskSetup {
  predDir: string;
  gtDir: string;
  numClasses: number;
  ignoreIndex?: number;
  boundTh?: number;
  /** 'labels': label maps; 'sweep': CAM threshold sweep; 'contour': CAMs at threshold `t`. */
  mode: 'labels' | 'sweep' | 'contour';
  t?: number;
}

/** Counts of one eval worker, summed by the caller (integers: exact in any order). */
export interface EvalPartial {
  numImages: number;
  /** ConfusionAccumulator counts (labels, contour) or the sweep histogram (sweep). */
  counts: number[];
  contour?: { matchedPred: number[]; matchedGt: number[]; nPred: number[]; nGt: number[] };
}

/** The per-image eval work: accumulates this worker's counts; `finish` hands them over. */
export async function createEvalTask(setup: EvalTaskSetup): Promise<ImageTask> {
  const { predDir, gtDir, numClasses, mode } = setup;
  const evaluator = new SegmentationEvaluator({ numClasses, ignoreIndex: setup.ignoreIndex, boundTh: setup.boundTh });
  const sweep = mode === 'sweep' ? new CamThresholdSweep(numClasses, setup.ignoreIndex ?? 255) : null;
  const readGt = async (id: string): Promise<LabelMap> => {
    const gtName = join(gtDir, `${id}.png`);
    return decodeLabelPngFast(await readBytes(gtName, 'ground-truth'), gtName);
  };
  return {
    async run({ id }) {
      const gtName = join(gtDir, `${id}.png`);
      if (mode === 'labels') {
        const predName = join(predDir, `${id}.png`);
        const [pb, gt] = await Promise.all([readBytes(predName, 'prediction'), readGt(id)]);
        evaluator.add(decodeLabelPngFast(pb, predName), gt, { pred: predName, gt: gtName });
      } else {
        const [cam, gt] = await Promise.all([readCamFile(predDir, id), readGt(id)]);
        const names = { pred: join(predDir, `${id}.npy`), gt: gtName };
        if (sweep) sweep.add(cam, gt, names);
        else evaluator.add(camsToLabelMap(cam, setup.t!), gt, names);
      }
      return null;
    },
    finish(): EvalPartial {
      if (sweep) return { numImages: sweep.numImages, counts: Array.from(sweep.histogram()) };
      const c = evaluator.contour!.sums;
      return {
        numImages: evaluator.confusion.numImages,
        counts: Array.from(evaluator.confusion.counts),
        contour: { matchedPred: Array.from(c.matchedPred), matchedGt: Array.from(c.matchedGt), nPred: Array.from(c.nPred), nGt: Array.from(c.nGt) },
      };
    },
  };
}

function addInto(target: Float64Array, src: ArrayLike<number>): void {
  for (let i = 0; i < target.length; i++) target[i] += src[i];
}

/** Sums worker partials into an evaluator (label or contour passes). */
function mergeEvalPartials(evaluator: SegmentationEvaluator, partials: unknown[]): void {
  for (const p of partials as EvalPartial[]) {
    addInto(evaluator.confusion.counts, p.counts);
    evaluator.confusion.numImages += p.numImages;
    const c = evaluator.contour!.sums;
    addInto(c.matchedPred, p.contour!.matchedPred);
    addInto(c.matchedGt, p.contour!.matchedGt);
    addInto(c.nPred, p.contour!.nPred);
    addInto(c.nGt, p.contour!.nGt);
  }
}

/**
 * Runs the evaluation stage: reads every listed pair once (twice for CAMs: the sweep, then the
 * contour F at the best threshold), reports progress and writes `out` if given.
 */
export async function runEval(options: EvalRunOptions, reporter: ProgressReporter = silentReporter, scale: { workers?: number } = {}): Promise<EvalRunResult> {
  const { predDir, gtDir, numClasses } = options;
  const classNames = [...(options.classNames ?? defaultClassNames(numClasses))];
  if (classNames.length !== numClasses) throw new HfplError('E_CONFIG', `classNames has ${classNames.length} names for ${numClasses} classes`);
  const ids = readIdList(options.listFile);
  checkFilesExist(ids, gtDir, '.png', 'ground-truth');
  checkFilesExist(ids, predDir, options.cams ? '.json' : '.png', options.cams ? 'CAM' : 'prediction');
  const readGt = async (id: string): Promise<LabelMap> => {
    const gtName = join(gtDir, `${id}.png`);
    return decodeLabelPngFast(await readBytes(gtName, 'ground-truth'), gtName);
  };
  const evaluator = new SegmentationEvaluator({ numClasses, ignoreIndex: options.ignoreIndex, boundTh: options.boundTh });
  let extra: Pick<EvalRunResult, 'bestThreshold' | 'curve'> = {};
  const workers = scale.workers ?? 1;

  if (workers > 1) {
    // Each thread counts a share of the images; the integer counts are summed, so every
    // number equals the one-thread run's exactly.
    const items = ids.map((id) => ({ id }));
    const base = { predDir: resolve(predDir), gtDir: resolve(gtDir), numClasses, ignoreIndex: options.ignoreIndex, boundTh: options.boundTh };
    const pass = async (mode: EvalTaskSetup['mode'], label: string, t?: number): Promise<unknown[]> =>
      (await runImages({ workers, task: 'eval', setup: { ...base, mode, t } satisfies EvalTaskSetup, items, label, reporter })).partials;
    if (!options.cams) {
      mergeEvalPartials(evaluator, await pass('labels', 'eval'));
    } else {
      const sweep = new CamThresholdSweep(numClasses, options.ignoreIndex ?? 255);
      for (const p of (await pass('sweep', 'eval cams: threshold sweep')) as EvalPartial[]) sweep.addHistogram(p.counts, p.numImages);
      const s = sweep.result();
      reporter.end({ bestT: s.bestThreshold, miou: s.bestMiou });
      mergeEvalPartials(evaluator, await pass('contour', `eval cams: contour F at t = ${s.bestThreshold.toFixed(2)}`, s.bestThreshold));
      extra = { bestThreshold: s.bestThreshold, curve: s.curve };
    }
  } else if (!options.cams) {
    const load = async (id: string): Promise<LoadedPair<LabelMap>> => {
      const predName = join(predDir, `${id}.png`), gtName = join(gtDir, `${id}.png`);
      const [pb, gb] = await Promise.all([readBytes(predName, 'prediction'), readBytes(gtName, 'ground-truth')]);
      return { id, pred: decodeLabelPngFast(pb, predName), gt: decodeLabelPngFast(gb, gtName), predName, gtName };
    };
    reporter.start('eval', ids.length, 'img');
    let done = 0;
    for await (const p of prefetched(ids, load)) {
      evaluator.add(p.pred, p.gt, { pred: p.predName, gt: p.gtName });
      reporter.step({ done: ++done, total: ids.length });
    }
  } else {
    const load = async (id: string): Promise<LoadedPair<CamFile>> => {
      const [cam, gt] = await Promise.all([readCamFile(predDir, id), readGt(id)]);
      return { id, pred: cam, gt, predName: join(predDir, `${id}.npy`), gtName: join(gtDir, `${id}.png`) };
    };
    const sweep = new CamThresholdSweep(numClasses, options.ignoreIndex ?? 255);
    reporter.start('eval cams: threshold sweep', ids.length, 'img');
    let done = 0;
    for await (const p of prefetched(ids, load)) {
      sweep.add(p.pred, p.gt, { pred: p.predName, gt: p.gtName });
      reporter.step({ done: ++done, total: ids.length });
    }
    const s = sweep.result();
    reporter.end({ bestT: s.bestThreshold, miou: s.bestMiou });
    reporter.start(`eval cams: contour F at t = ${s.bestThreshold.toFixed(2)}`, ids.length, 'img');
    done = 0;
    for await (const p of prefetched(ids, load)) {
      evaluator.add(camsToLabelMap(p.pred, s.bestThreshold), p.gt, { pred: p.predName, gt: p.gtName });
      reporter.step({ done: ++done, total: ids.length });
    }
    extra = { bestThreshold: s.bestThreshold, curve: s.curve };
  }
  const metrics = evaluator.result();
  reporter.end({ miou: metrics.miou, contourF: metrics.contourF });
  const result: EvalRunResult = { ...metrics, classNames, ...extra };
  if (options.out) await writeFileAtomic(options.out, toJson(result));
  return result;
}

/** The JSON file: headline numbers first, one key per line, the confusion matrix last. */
function toJson(r: EvalRunResult): string {
  const { miou, contourF, numImages, bestThreshold, iou, contourFPerClass, classNames, absentClasses, curve, confusion } = r;
  const ordered = { miou, contourF, numImages, bestThreshold, iou, contourFPerClass, classNames, absentClasses, curve, confusion };
  const lines = Object.entries(ordered)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `  ${JSON.stringify(k)}: ${JSON.stringify(v)}`);
  return `{\n${lines.join(',\n')}\n}\n`;
}
