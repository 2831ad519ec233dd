/**
 * `evaluateSegmentation`: mIoU and contour F-score of label-map pairs (METHOD 4), streaming:
 * pairs are consumed one at a time and only fixed-size counts are kept.
 */
import { z } from 'zod';
import { HfplError } from '../errors.js';
import type { LabelMap } from '../data/label-png.js';
import { ConfusionAccumulator, type PairNames } from './confusion.js';
import { ContourAccumulator } from './contour-f.js';

/** One prediction / ground-truth pair; `names` (file names) are used in error messages. */
export interface SegmentationPair {
  pred: LabelMap;
  gt: LabelMap;
  names?: PairNames;
}

/** Options of `evaluateSegmentation`. */
export interface EvaluateOptions {
  /** K, classes 0..K-1 including background (21 for VOC, 81 for COCO). */
  numClasses: number;
  /** GT value left out of mIoU and counted as background for contour F (default 255). */
  ignoreIndex?: number;
  /** Contour tolerance as a fraction of the image diagonal (default 0.008; pixels if >= 1). */
  boundTh?: number;
  /** Skip the contour F-score (then `contourF` is NaN and `contourFPerClass` empty). Default false. */
  skipContour?: boolean;
  /** Called after each pair with the number of pairs done. */
  onPair?: (done: number) => void;
}

/** Metrics of a data set (METHOD 4). */
export interface SegmentationMetrics {
  /** K x K pixel counts, rows GT class, columns predicted class (GT ignore pixels left out). */
  confusion: number[][];
  /** Per-class IoU, length K; a class in neither GT nor prediction scores 0. */
  iou: number[];
  /** Mean of `iou` over all K classes. */
  miou: number;
  /** Mean of `contourFPerClass`. */
  contourF: number;
  /** Contour F per foreground class, length K - 1 (entry i is class i + 1). */
  contourFPerClass: number[];
  /** Classes in neither GT nor prediction (IoU 0 by definition, still in the mean). */
  absentClasses: number[];
  /** Number of pairs evaluated. */
  numImages: number;
}

const optionsSchema = z.object({
  numClasses: z.number().int().min(2).max(255),
  ignoreIndex: z.number().int().min(0).max(255).default(255),
  boundTh: z.number().positive().default(0.008),
  skipContour: z.boolean().default(false),
});

/** Validates options, filling defaults; throws `E_CONFIG` naming the option and value. */
export function resolveEvaluateOptions(options: EvaluateOptions): Required<Omit<EvaluateOptions, 'onPair'>> {
  const r = optionsSchema.safeParse({ ...options, onPair: undefined });
  if (!r.success) {
    const issue = r.error.issues[0];
    const key = issue.path.join('.');
    const value = (options as unknown as Record<string, unknown>)[key];
    throw new HfplError('E_CONFIG', `evaluate option ${key}: ${issue.message} (got ${JSON.stringify(value)})`);
  }
  return r.data;
}

/**
 * Accumulates mIoU and contour counts pair by pair; `result()` can be called at any time.
 */
export class SegmentationEvaluator {
  readonly confusion: ConfusionAccumulator;
  readonly contour: ContourAccumulator | null;

  constructor(options: EvaluateOptions) {
    const o = resolveEvaluateOptions(options);
    this.confusion = new ConfusionAccumulator(o.numClasses, o.ignoreIndex);
    this.contour = o.skipContour ? null : new ContourAccumulator(o);
  }

  /** Adds one pair (validates sizes and values first; a failing pair adds nothing). */
  add(pred: LabelMap, gt: LabelMap, names: PairNames = {}): void {
    this.confusion.add(pred, gt, names);
    this.contour?.add(pred, gt, names);
  }

  result(): SegmentationMetrics {
    const iou = this.confusion.iou();
    const cf = this.contour?.result() ?? { contourF: Number.NaN, contourFPerClass: [] };
    return {
      confusion: this.confusion.confusion(),
      iou,
      miou: this.confusion.miou(),
      contourF: cf.contourF,
      contourFPerClass: cf.contourFPerClass,
      absentClasses: this.confusion.absentClasses(),
      numImages: this.confusion.numImages,
    };
  }
}

/**
 * Evaluates prediction / GT label-map pairs: confusion, per-class IoU, mIoU (mean over all K
 * classes), and contour F-score with boundary matches summed over the data set per class
 * (METHOD 4). `pairs` may be any iterable or async iterable; memory does not grow with it.
 *
 * @example
 * const m = await evaluateSegmentation(pairs, { numClasses: 21 });
 * // { miou: 0.634, contourF: 0.412, iou: [0.89, ...], contourFPerClass: [...], confusion, numImages }
 */
export async function evaluateSegmentation(
  pairs: Iterable<SegmentationPair> | AsyncIterable<SegmentationPair>,
  options: EvaluateOptions,
): Promise<SegmentationMetrics> {
  const ev = new SegmentationEvaluator(options);
  let done = 0;
  for await (const { pred, gt, names } of pairs) {
    ev.add(pred, gt, names);
    options.onPair?.(++done);
  }
  return ev.result();
}
