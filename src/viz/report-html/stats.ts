/**
 * Small statistics of the report: paired differences over seeds with t intervals, and the
 * mIoU of a single image.
 */
import type { LabelMap } from '../../data/label-png.js';

/** Two-sided 95% Student t quantiles t(0.975, df) for df = 1 ... 30 (beyond: 1.96). */
const T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042];

/** t(0.975, df); 1.96 above 30 degrees of freedom. */
export function tQuantile975(df: number): number {
  return df >= 1 && df <= 30 ? T975[df - 1] : 1.96;
}

/** Mean and 95% t interval of paired differences `d` (n >= 2; the interval is [mean, mean] for n = 1). */
export function pairedInterval(d: number[]): { n: number; mean: number; lo: number; hi: number } {
  const n = d.length;
  const mean = d.reduce((a, b) => a + b, 0) / Math.max(1, n);
  if (n < 2) return { n, mean, lo: mean, hi: mean };
  const sd = Math.sqrt(d.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
  const half = tQuantile975(n - 1) * (sd / Math.sqrt(n));
  return { n, mean, lo: mean - half, hi: mean + half };
}

/** One row of per-seed results. */
export interface SeedRow {
  variant: string;
  seed: number;
  miou: number;
  contourF: number;
}

/** Paired difference of one variant against the baseline over the seeds both have. */
export interface PairedDifference {
  variant: string;
  seeds: number[];
  miou: { mean: number; lo: number; hi: number };
  contourF: { mean: number; lo: number; hi: number };
}

/**
 * For every variant other than `baseline`, the per-seed differences (variant - baseline, same
 * seed) of mIoU and contour F: mean and 95% t interval. Empty unless some variant shares at
 * least two seeds with the baseline.
 */
export function pairedDifferences(rows: SeedRow[], baseline = 'baseline'): PairedDifference[] {
  const base = new Map(rows.filter((r) => r.variant === baseline).map((r) => [r.seed, r]));
  const variants = [...new Set(rows.map((r) => r.variant))].filter((v) => v !== baseline);
  const out: PairedDifference[] = [];
  for (const v of variants) {
    const pairs = rows.filter((r) => r.variant === v && base.has(r.seed));
    if (pairs.length < 2) continue;
    const mi = pairedInterval(pairs.map((r) => r.miou - base.get(r.seed)!.miou));
    const cf = pairedInterval(pairs.map((r) => r.contourF - base.get(r.seed)!.contourF));
    out.push({ variant: v, seeds: pairs.map((r) => r.seed), miou: mi, contourF: cf });
  }
  return out;
}

/**
 * The mIoU of one image: IoU averaged over the classes present in the GT or the prediction
 * (pixels whose GT is `ignore` left out); NaN when the image has no valid pixel.
 */
export function imageMiou(pred: LabelMap, gt: LabelMap, ignore = 255): number {
  const inter = new Float64Array(256), union = new Float64Array(256);
  const gtCount = new Float64Array(256), predCount = new Float64Array(256);
  const n = Math.min(pred.data.length, gt.data.length);
  for (let i = 0; i < n; i++) {
    const g = gt.data[i];
    if (g === ignore) continue;
    const p = pred.data[i];
    gtCount[g]++;
    predCount[p]++;
    if (p === g) inter[g]++;
  }
  let sum = 0, k = 0;
  for (let c = 0; c < 256; c++) {
    union[c] = gtCount[c] + predCount[c] - inter[c];
    if (union[c] > 0) {
      sum += inter[c] / union[c];
      k++;
    }
  }
  return k > 0 ? sum / k : Number.NaN;
}
