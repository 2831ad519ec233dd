/**
 * Pseudo-labels from normalised CAMs (METHOD 3, step 3): the background score is a constant
 * threshold t or (1 - max_c cam_c)^alpha; the label is the argmax over [background, CAMs]
 * (background wins ties, so a pixel needs a CAM above the background score).
 */
import { HfplError } from '../errors.js';
import type { LabelMap } from '../data/label-png.js';

/** How the background score is set: `{ threshold: t }` or `{ alpha: a }`. */
export type BackgroundScore = { threshold: number } | { alpha: number };

/**
 * Label map of one image from its P x H x W CAMs.
 *
 * @param labels 1-based class index of each map.
 * @example pseudoLabelFromCams(cams, [3], 2, 2, { threshold: 0.3 }) // data [0, 3, 3, 0] for cams [0.1, 0.5, 0.9, 0.3]
 */
export function pseudoLabelFromCams(cams: Float32Array, labels: number[], height: number, width: number, bg: BackgroundScore): LabelMap {
  const n = height * width;
  if (cams.length !== labels.length * n) throw new HfplError('E_ARG', `pseudoLabelFromCams: ${cams.length} CAM values, expected ${labels.length} x ${height} x ${width}`);
  const data = new Uint8Array(n);
  const max = new Float32Array(n);
  labels.forEach((c, p) => {
    const off = p * n;
    for (let i = 0; i < n; i++) {
      const v = cams[off + i];
      if (v > max[i]) {
        max[i] = v;
        data[i] = c;
      }
    }
  });
  if ('threshold' in bg) {
    const t = Math.fround(bg.threshold);
    for (let i = 0; i < n; i++) if (max[i] <= t) data[i] = 0;
  } else {
    for (let i = 0; i < n; i++) if (max[i] <= Math.pow(1 - max[i], bg.alpha)) data[i] = 0;
  }
  return { data, width, height };
}
