/**
 * Small statistics of the report: paired differences over seeds with t intervals, and the
 * mIoU of a single image.
 */
import type { LabelMap } from '../../data/label-png.js';

export { tQuantile975, pairedInterval } from '../../util/two-sample.js';
import { stagePairedDifferences } from '../../pipeline/stage-paired.js';

/** One row of per-seed results. */
export interface SeedRow {
  variant: string;
  seed: number;
  miou: number;
  contourF: number;
}

/** Paired difference of one variant against `against` (the baseline unless asked) over the seeds both have. */
export interface PairedDifference {
  variant: string;
  against: string;
  seeds: number[];
  miou: { mean: number; lo: number; hi: number };
  contourF: { mean: number; lo: number; hi: number };
}

/**
 * For every variant other than `baseline`, then each `[variant, against]` of `comparisons`, the
 * per-seed differences (same seed) of mIoU and contour F: mean and 95% t interval
 * (`stagePairedDifferences` on one stage). Only comparisons with at least two shared seeds.
 */
export function pairedDifferences(rows: SeedRow[], baseline = 'baseline', comparisons: readonly [string, string][] = []): PairedDifference[] {
  const perSeed = [...new Set(rows.map((r) => r.seed))].map((seed) => ({
    seed, rows: rows.filter((r) => r.seed === seed).map((r) => ({ stage: 'CAM' as const, split: '', variant: r.variant, miou: r.miou, contourF: r.contourF, numImages: 0 })),
  }));
  return stagePairedDifferences(perSeed, baseline, comparisons)
    .filter((d) => d.seeds.length >= 2)
    .map(({ variant, against, seeds, miou, contourF }) => ({ variant, against, seeds, miou, contourF }));
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
