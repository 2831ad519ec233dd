/**
 * Classification quality of a CAM network (BENCHMARK.md: report it beside mIoU and contour F):
 * per-class average precision of the image scores, and exact-match accuracy of the predicted
 * label set (score > 0.5) against the image labels.
 */

/** Average precision of one class: mean of the precision at each positive, scores ranked descending (ties: positives last). */
export function averagePrecision(scores: ArrayLike<number>, positives: ArrayLike<boolean>): number {
  const idx = Array.from({ length: scores.length }, (_, i) => i);
  idx.sort((a, b) => scores[b] - scores[a] || Number(positives[a]) - Number(positives[b]));
  let tp = 0, sum = 0;
  idx.forEach((i, rank) => {
    if (positives[i]) {
      tp++;
      sum += tp / (rank + 1);
    }
  });
  return tp === 0 ? Number.NaN : sum / tp;
}

/** Classification metrics of a set of images. */
export interface ClassificationMetrics {
  /** AP per foreground class (NaN when the class has no positive image). */
  ap: number[];
  /** Mean AP over classes with positives. */
  mAP: number;
  /** Fraction of images whose predicted set (score > 0.5) equals the label set. */
  exactMatch: number;
  numImages: number;
}

/**
 * Metrics from per-image scores (K values in [0, 1]) and labels (1-based indices).
 *
 * @example classificationMetrics([[0.9, 0.1]], [[1]]) // { ap: [1, NaN], mAP: 1, exactMatch: 1, numImages: 1 }
 */
export function classificationMetrics(scores: ArrayLike<number>[], labels: number[][]): ClassificationMetrics {
  const n = scores.length;
  const K = n > 0 ? scores[0].length : 0;
  const ap: number[] = [];
  for (let c = 0; c < K; c++) {
    ap.push(averagePrecision(scores.map((s) => s[c]), labels.map((l) => l.includes(c + 1))));
  }
  const valid = ap.filter((v) => !Number.isNaN(v));
  let exact = 0;
  scores.forEach((s, i) => {
    let ok = true;
    for (let c = 0; c < K && ok; c++) ok = s[c] > 0.5 === labels[i].includes(c + 1);
    if (ok) exact++;
  });
  return { ap, mAP: valid.length ? valid.reduce((a, b) => a + b, 0) / valid.length : Number.NaN, exactMatch: n ? exact / n : Number.NaN, numImages: n };
}
