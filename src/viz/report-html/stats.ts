/**
 * Small statistics of the report: paired differences over seeds with t intervals, and the
 * mIoU of a single image.
 */
import type { LabelMap } from '../../data/label-png.js';

export { tQuantile975, pairedInterval } from '../../util/two-sample.js';
import { pairedInterval } from '../../util/two-sample.js';

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
