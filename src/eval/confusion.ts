/**
 * Confusion matrix over a data set (METHOD 4, mIoU): rows are ground-truth classes, columns
 * predicted classes; pixels whose GT is the ignore index are left out. A prediction equal to
 * the ignore index (e.g. 255 in a label map) on a valid GT pixel counts as a miss of the GT
 * class: it adds to T_c but to no column (as in the reference, which sums P_c, T_c, TP_c).
 */
import { HfplError } from '../errors.js';
import type { LabelMap } from '../data/label-png.js';

/** Names used in error messages for one image pair. */
export interface PairNames {
  pred?: string;
  gt?: string;
}

/** Throws `E_MASK` naming both files and sizes unless they have the same width and height. */
export function checkSameDims(pred: { width: number; height: number }, gt: { width: number; height: number }, names: PairNames = {}): void {
  if (pred.width !== gt.width || pred.height !== gt.height) {
    throw new HfplError('E_MASK', `${names.pred ?? 'prediction'} is ${pred.width}x${pred.height} but ${names.gt ?? 'ground truth'} is ${gt.width}x${gt.height}`);
  }
}

/** `checkSameDims`, and the data lengths match width x height. */
export function checkSameSize(pred: LabelMap, gt: LabelMap, names: PairNames = {}): void {
  checkSameDims(pred, gt, names);
  if (pred.data.length !== pred.width * pred.height || gt.data.length !== gt.width * gt.height) {
    throw new HfplError('E_ARG', `${names.pred ?? 'prediction'} / ${names.gt ?? 'ground truth'}: data length does not match width*height`);
  }
}

/** Checks `numClasses` (2..255) and `ignoreIndex` (0..255, not a class index). */
export function checkClasses(numClasses: number, ignoreIndex: number): void {
  if (!Number.isInteger(numClasses) || numClasses < 2 || numClasses > 255) {
    throw new HfplError('E_CONFIG', `numClasses must be an integer in 2..255, got ${numClasses}`);
  }
  if (!Number.isInteger(ignoreIndex) || ignoreIndex < numClasses || ignoreIndex > 255) {
    throw new HfplError('E_CONFIG', `ignoreIndex must be an integer in ${numClasses}..255 (not a class index), got ${ignoreIndex}`);
  }
}

/** Per-class IoU_c = TP / (T + P - TP) from the counts; a class with T + P = 0 scores 0. */
export function iouFromCounts(tp: ArrayLike<number>, t: ArrayLike<number>, p: ArrayLike<number>): number[] {
  const out: number[] = [];
  for (let c = 0; c < tp.length; c++) {
    const denom = t[c] + p[c] - tp[c];
    out.push(denom > 0 ? tp[c] / denom : 0);
  }
  return out;
}

/** Mean of the values (METHOD 4: mean over all classes, background included). */
export function mean(values: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i];
  return values.length > 0 ? s / values.length : 0;
}

/**
 * Accumulates the confusion matrix of label-map pairs with constant memory. Each `add` is one
 * pass over the pixels into a 256 x 256 pair histogram, then a fold into the K x (K+1) counts.
 *
 * @example
 * const acc = new ConfusionAccumulator(21);
 * acc.add(pred, gt, { pred: 'a.png', gt: 'a_gt.png' });
 * acc.miou(); // 0.63
 */
export class ConfusionAccumulator {
  /** K x (K+1) counts, row-major; column K holds predictions equal to the ignore index. */
  readonly counts: Float64Array;
  private readonly hist = new Uint32Array(65536);
  /** Number of label-map pairs added. */
  numImages = 0;

  /**
   * @param numClasses K, classes 0..K-1 (21 for VOC, 81 for COCO).
   * @param ignoreIndex GT value left out of the counts (default 255).
   */
  constructor(readonly numClasses: number, readonly ignoreIndex = 255) {
    checkClasses(numClasses, ignoreIndex);
    this.counts = new Float64Array(numClasses * (numClasses + 1));
  }

  /**
   * Adds one pair. Throws `E_MASK` (naming the file) on a size mismatch, on a predicted value
   * that is neither a class nor the ignore index, or on such a GT value; nothing is counted
   * from a pair that fails.
   */
  add(pred: LabelMap, gt: LabelMap, names: PairNames = {}): void {
    checkSameSize(pred, gt, names);
    const h = this.hist;
    const p = pred.data, g = gt.data, n = p.length;
    for (let i = 0; i < n; i++) h[(g[i] << 8) | p[i]]++;
    this.fold(n, names);
    this.numImages++;
  }

  /** Moves the pair histogram into `counts` and clears it; validates the values seen. */
  private fold(n: number, names: PairNames): void {
    const K = this.numClasses, ig = this.ignoreIndex, h = this.hist, c = this.counts;
    let seen = 0;
    for (let gi = 0; gi <= K; gi++) {
      const g = gi === K ? ig : gi;
      for (let pi = 0; pi <= K; pi++) {
        const idx = (g << 8) | (pi === K ? ig : pi);
        seen += h[idx];
      }
    }
    if (seen !== n) {
      const err = this.describeBadValue(names);
      h.fill(0);
      throw err;
    }
    for (let g = 0; g < K; g++) {
      for (let pi = 0; pi <= K; pi++) {
        const idx = (g << 8) | (pi === K ? ig : pi);
        c[g * (K + 1) + pi] += h[idx];
        h[idx] = 0;
      }
    }
    for (let pi = 0; pi <= K; pi++) h[(ig << 8) | (pi === K ? ig : pi)] = 0;
  }

  private describeBadValue(names: PairNames): HfplError {
    const K = this.numClasses, ig = this.ignoreIndex, h = this.hist;
    const ok = (v: number): boolean => v < K || v === ig;
    for (let v = 0; v < 256; v++) {
      if (ok(v)) continue;
      let inPred = 0, inGt = 0;
      for (let u = 0; u < 256; u++) {
        inPred += h[(u << 8) | v];
        inGt += h[(v << 8) | u];
      }
      if (inPred > 0) return new HfplError('E_MASK', `${names.pred ?? 'prediction'}: value ${v} is not a class (allowed 0..${K - 1} and ${ig}), ${inPred} pixels`);
      if (inGt > 0) return new HfplError('E_MASK', `${names.gt ?? 'ground truth'}: value ${v} is not a class (allowed 0..${K - 1} and ${ig}), ${inGt} pixels`);
    }
    return new HfplError('E_MASK', `${names.pred ?? 'prediction'}: unexpected label values`);
  }

  /** Adds the counts of another accumulator with the same classes. */
  merge(other: ConfusionAccumulator): void {
    if (other.numClasses !== this.numClasses) throw new HfplError('E_ARG', `merge: numClasses ${other.numClasses} != ${this.numClasses}`);
    for (let i = 0; i < this.counts.length; i++) this.counts[i] += other.counts[i];
    this.numImages += other.numImages;
  }

  /** The K x K confusion matrix (rows GT, columns prediction). */
  confusion(): number[][] {
    const K = this.numClasses;
    return Array.from({ length: K }, (_, g) => Array.from(this.counts.subarray(g * (K + 1), g * (K + 1) + K)));
  }

  /** Per-class IoU (METHOD 4); 0 for a class that occurs in neither GT nor prediction. */
  iou(): number[] {
    const { tp, t, p } = this.totals();
    return iouFromCounts(tp, t, p);
  }

  /** Classes that occur neither in the (valid) GT nor in the prediction: T_c + P_c = 0. */
  absentClasses(): number[] {
    const { t, p } = this.totals();
    const out: number[] = [];
    for (let c = 0; c < this.numClasses; c++) if (t[c] + p[c] === 0) out.push(c);
    return out;
  }

  /** TP_c, T_c (GT pixels) and P_c (predicted pixels) per class. */
  private totals(): { tp: Float64Array; t: Float64Array; p: Float64Array } {
    const K = this.numClasses, c = this.counts;
    const tp = new Float64Array(K), t = new Float64Array(K), p = new Float64Array(K);
    for (let g = 0; g < K; g++) {
      for (let q = 0; q <= K; q++) {
        const v = c[g * (K + 1) + q];
        t[g] += v;
        if (q < K) p[q] += v;
      }
      tp[g] = c[g * (K + 1) + g];
    }
    return { tp, t, p };
  }

  /** Mean IoU over all K classes (background included, absent classes count as 0). */
  miou(): number {
    return mean(this.iou());
  }
}
