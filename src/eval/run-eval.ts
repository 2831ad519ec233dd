/**
 * The evaluation stage on files (`hfpl eval`): label-map PNGs or CAM files against GT masks,
 * listed by an ImageSets-style file. Streaming with bounded memory: the next pair's bytes are
 * read while the current pair is decoded and counted, then dropped.
 */
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HfplError } from '../errors.js';
import type { LabelMap } from '../data/label-png.js';
import { VOC_CLASSES } from '../data/voc-classes.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { silentReporter, type ProgressReporter } from '../util/progress.js';
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

/**
 * Runs the evaluation stage: reads every listed pair once (twice for CAMs: the sweep, then the
 * contour F at the best threshold), reports progress and writes `out` if given.
 */
export async function runEval(options: EvalRunOptions, reporter: ProgressReporter = silentReporter): Promise<EvalRunResult> {
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

  if (!options.cams) {
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
