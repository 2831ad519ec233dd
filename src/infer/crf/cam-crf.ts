/**
 * Dense CRF on CAMs (METHOD 3.3-3.4): CRF probabilities [background, CAMs of the present
 * classes] with background (1 - max_c cam_c)^alpha (PSA/SEAM `infer_cls`) or a constant
 * threshold t, then the CRF label map with channel k > 0 written as its real class index.
 */
import { HfplError } from '../../errors.js';
import type { LabelMap } from '../../data/label-png.js';
import type { RgbImage } from '../../data/types.js';
import type { BackgroundScore } from '../pseudo-labels.js';
import { argmaxLabels, denseCrf, type DenseCrfOptions } from './dense-crf.js';

/**
 * (1 + P) x n probabilities from P x n CAMs: channel 0 the background score, then the CAMs.
 * @example crfProbabilities(cams, 2, n, { alpha: 24 })
 */
export function crfProbabilities(cams: Float32Array, numMaps: number, n: number, bg: BackgroundScore): Float32Array {
  if (cams.length !== numMaps * n) throw new HfplError('E_ARG', `crfProbabilities: ${cams.length} CAM values, expected ${numMaps} x ${n}`);
  const out = new Float32Array((numMaps + 1) * n);
  if ('threshold' in bg) {
    out.fill(bg.threshold, 0, n);
  } else {
    for (let i = 0; i < n; i++) {
      let mx = 0;
      for (let p = 0; p < numMaps; p++) mx = Math.max(mx, cams[p * n + i]);
      out[i] = Math.pow(Math.max(0, 1 - mx), bg.alpha);
    }
  }
  out.set(cams, n);
  return out;
}

/**
 * The CRF pseudo-label of one image: `labels` are the 1-based classes of the P maps
 * (ascending); the result holds 0 and those classes.
 */
export function camCrfLabels(image: RgbImage, cams: Float32Array, labels: readonly number[], bg: BackgroundScore, opts: DenseCrfOptions = {}): LabelMap {
  return camCrf(image, cams, labels, bg, opts).map;
}

/**
 * The CRF output of one image: the (1 + P) x H x W probabilities (channel 0 background, then
 * the present classes in order; what the reference saves as its CRF dict,
 * arvijj/hfpl infer_cam_voc.py) and their label map (real class indices).
 */
export function camCrf(image: RgbImage, cams: Float32Array, labels: readonly number[], bg: BackgroundScore, opts: DenseCrfOptions = {}): { scores: Float32Array; map: LabelMap } {
  const n = image.width * image.height;
  const scores = denseCrf(image, crfProbabilities(cams, labels.length, n, bg), opts);
  return { scores, map: argmaxLabels(scores, image.width, image.height, [0, ...labels]) };
}
