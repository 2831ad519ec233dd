/**
 * CAM evaluation with the background-threshold sweep (METHOD 3 step 3, METHOD 4): for every
 * t in 0.00, 0.01, ..., 0.59 the pseudo-label is argmax over [t, CAMs] (background wins ties),
 * and one confusion matrix per t is accumulated in a single pass per image.
 *
 * Per pixel only the largest CAM value m and its class k matter: the label is k for every t
 * with t < m (in float32) and 0 otherwise. So each pixel adds 1 to a histogram cell
 * (GT class, k, J) with J = #{t : t < m}; the confusion for every t follows at the end from
 * suffix sums over J. Memory: K x K x (T + 1) counts plus two H x W scratch buffers.
 */
import { HfplError } from '../errors.js';
import type { LabelMap } from '../data/label-png.js';
import { camMaxArgmax, type CamFile } from './cam-files.js';
import { checkClasses, checkSameDims, iouFromCounts, mean, type PairNames } from './confusion.js';

/** The reference thresholds 0.00 ... 0.59 (i / 100). */
export const DEFAULT_CAM_THRESHOLDS: readonly number[] = Object.freeze(Array.from({ length: 60 }, (_, i) => i / 100));

/** Options of the threshold sweep. */
export interface SweepOptions {
  /** K, classes 0..K-1 including background. */
  numClasses: number;
  /** GT value left out (default 255). */
  ignoreIndex?: number;
  /** Background thresholds, ascending (default 0.00 ... 0.59 step 0.01). */
  thresholds?: readonly number[];
  /** Called after each image with the number done. */
  onImage?: (done: number) => void;
}

/** One CAM file with its GT mask. */
export interface CamGtPair {
  cam: CamFile;
  gt: LabelMap;
  names?: PairNames;
}

/** Result of the sweep. */
export interface SweepResult {
  /** mIoU (mean over all K classes) per threshold. */
  curve: { t: number; miou: number }[];
  /** The threshold with the highest mIoU (the first one on ties). */
  bestThreshold: number;
  bestMiou: number;
  /** Per-class IoU at the best threshold. */
  bestIou: number[];
  numImages: number;
}

/** Accumulates the per-threshold confusions image by image. */
export class CamThresholdSweep {
  readonly thresholds: readonly number[];
  private readonly t32: Float32Array;
  /** hist[((g * K) + k) * (T + 1) + J]. */
  private readonly hist: Float64Array;
  private max = new Float32Array(0);
  private arg = new Uint8Array(0);
  numImages = 0;

  constructor(readonly numClasses: number, readonly ignoreIndex = 255, thresholds: readonly number[] = DEFAULT_CAM_THRESHOLDS) {
    checkClasses(numClasses, ignoreIndex);
    if (thresholds.length === 0 || thresholds.some((t, i) => !Number.isFinite(t) || (i > 0 && t <= thresholds[i - 1]))) {
      throw new HfplError('E_CONFIG', `thresholds must be finite and ascending, got [${thresholds.join(', ')}]`);
    }
    this.thresholds = thresholds;
    this.t32 = Float32Array.from(thresholds);
    this.hist = new Float64Array(numClasses * numClasses * (thresholds.length + 1));
  }

  /** Adds one image: CAMs and GT of the same size; CAM labels must be < K. */
  add(cam: CamFile, gt: LabelMap, names: PairNames = {}): void {
    const K = this.numClasses, ig = this.ignoreIndex, T = this.t32.length, T1 = T + 1;
    const camName = names.pred ?? `CAMs of ${cam.id}`;
    checkSameDims(cam, gt, { pred: camName, gt: names.gt });
    const bad = cam.labels.find((c) => c >= K);
    if (bad !== undefined) throw new HfplError('E_DATA', `${camName}: class ${bad} is not a foreground class (1..${K - 1})`);
    const n = gt.width * gt.height, g = gt.data;
    if (g.length !== n) throw new HfplError('E_ARG', `${names.gt ?? 'ground truth'}: data length does not match width*height`);
    if (this.max.length < n) {
      this.max = new Float32Array(n);
      this.arg = new Uint8Array(n);
    }
    const max = this.max, arg = this.arg, t32 = this.t32, h = this.hist;
    camMaxArgmax(cam, max, arg);
    const tFirst = t32[0], tLast = t32[T - 1];
    const inv = T > 1 ? (T - 1) / (tLast - tFirst) : 0;
    for (let i = 0; i < n; i++) {
      if (g[i] >= K && g[i] !== ig) throw new HfplError('E_MASK', `${names.gt ?? 'ground truth'}: value ${g[i]} is not a class (allowed 0..${K - 1} and ${ig})`);
    }
    for (let i = 0; i < n; i++) {
      const gi = g[i];
      if (gi === ig) continue;
      const m = max[i];
      // J = #{t : t < m}: label arg[i] for thresholds 0..J-1, background for the rest.
      let J: number;
      if (!(m > tFirst)) J = 0; // NaN included
      else if (m > tLast) J = T;
      else {
        // Guess from the (roughly even) spacing, then settle t32[J-1] < m <= t32[J].
        J = Math.ceil((m - tFirst) * inv);
        if (J < 1) J = 1;
        else if (J > T - 1) J = T - 1;
        while (t32[J - 1] >= m) J--;
        while (t32[J] < m) J++;
      }
      h[(gi * K + arg[i]) * T1 + J]++;
    }
    this.numImages++;
  }

  /** The raw histogram (for merging sweeps run in other threads). */
  histogram(): Float64Array {
    return this.hist;
  }

  /** Adds another sweep's histogram (same classes and thresholds). The cells are integer counts, so the sum is exact in any order. */
  addHistogram(hist: ArrayLike<number>, numImages: number): void {
    if (hist.length !== this.hist.length) throw new HfplError('E_ARG', `addHistogram: ${hist.length} cells, expected ${this.hist.length}`);
    for (let i = 0; i < hist.length; i++) this.hist[i] += hist[i];
    this.numImages += numImages;
  }

  /** K x K confusion (rows GT, columns pseudo-label) at threshold index j. */
  confusionAt(j: number): Float64Array {
    const K = this.numClasses, T1 = this.t32.length + 1, h = this.hist;
    const conf = new Float64Array(K * K);
    for (let g = 0; g < K; g++) {
      for (let k = 0; k < K; k++) {
        const base = (g * K + k) * T1;
        let fg = 0, all = 0;
        for (let J = 0; J < T1; J++) {
          all += h[base + J];
          if (J > j) fg += h[base + J];
        }
        conf[g * K + k] += fg;
        conf[g * K] += all - fg;
      }
    }
    return conf;
  }

  /** Per-class IoU at threshold index j. */
  iouAt(j: number): number[] {
    const K = this.numClasses, conf = this.confusionAt(j);
    const tp = new Float64Array(K), t = new Float64Array(K), p = new Float64Array(K);
    for (let g = 0; g < K; g++) {
      for (let k = 0; k < K; k++) {
        t[g] += conf[g * K + k];
        p[k] += conf[g * K + k];
      }
      tp[g] = conf[g * K + g];
    }
    return iouFromCounts(tp, t, p);
  }

  result(): SweepResult {
    const curve = this.thresholds.map((t, j) => ({ t, miou: mean(this.iouAt(j)) }));
    let best = 0;
    for (let j = 1; j < curve.length; j++) if (curve[j].miou > curve[best].miou) best = j;
    return { curve, bestThreshold: curve[best].t, bestMiou: curve[best].miou, bestIou: this.iouAt(best), numImages: this.numImages };
  }
}

/**
 * Sweeps the background threshold over CAM files (METHOD 3 step 3): mIoU per t in one pass
 * over the images, and the best t. Contour F at the best t needs the label maps of that t,
 * i.e. a second pass with `camsToLabelMap` and `evaluateSegmentation` (what `hfpl eval --cams` does).
 *
 * @example
 * const s = await sweepCamThresholds(pairs, { numClasses: 21 });
 * // { bestThreshold: 0.16, bestMiou: 0.553, curve: [{ t: 0, miou: 0.12 }, ...], bestIou, numImages }
 */
export async function sweepCamThresholds(pairs: Iterable<CamGtPair> | AsyncIterable<CamGtPair>, options: SweepOptions): Promise<SweepResult> {
  const sweep = new CamThresholdSweep(options.numClasses, options.ignoreIndex ?? 255, options.thresholds ?? DEFAULT_CAM_THRESHOLDS);
  let done = 0;
  for await (const { cam, gt, names } of pairs) {
    sweep.add(cam, gt, names);
    options.onImage?.(++done);
  }
  return sweep.result();
}
