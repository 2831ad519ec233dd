/**
 * Multi-scale CAM inference of one image (METHOD 3.2): for every scale (and its horizontal
 * flip) the image is resized (bilinear), normalised and passed through the network in eval
 * mode; the CAM logits of the present classes (the PCM-refined map for SEAM, as the reference
 * infers) are upsampled to the image size (bilinear, half-pixel centres = PyTorch's
 * align_corners=False), flipped back, multiplied by the labels and summed; then relu and a
 * per-class min-max normalisation: relu(v - min - 1e-5) / (max - min + 1e-5).
 */
import * as tf from '@tensorflow/tfjs-core';
import { HfplError } from '../errors.js';
import type { RgbImage } from '../data/types.js';
import { type CamNet } from '../models/cam-net.js';
import { SeamNet } from '../models/seam-net.js';

/** Options of `inferCams`. */
export interface CamInferenceOptions {
  /** Image scales; default [0.5, 1, 1.5, 2] (METHOD 3.2). */
  scales?: number[];
  /** Add the horizontally flipped copy of every scale; default true. */
  flip?: boolean;
  /**
   * Scale whose unflipped GAP gives the classification scores; default the scale nearest 1.
   * Set it to the scale the network was trained at when that is not 1 (the demo on benchmark
   * v2 trains at half the generated size): a classifier scores objects best at its training scale.
   */
  scoreScale?: number;
  /** Normalisation mean/std of RGB in [0, 1]; default ImageNet. */
  mean?: number[];
  std?: number[];
}

/** CAMs of one image. */
export interface ImageCams {
  /** P x H x W normalised CAMs of the present classes (ascending), values in [0, 1). */
  cams: Float32Array;
  /** 1-based class indices of the maps. */
  labels: number[];
  height: number;
  width: number;
  /** Sigmoid of the GAP logits of all K foreground classes at `scoreScale` (no flip): classification scores. */
  scores: Float32Array;
}

export const DEFAULT_CAM_SCALES: readonly number[] = Object.freeze([0.5, 1, 1.5, 2]);

/** Per-class min-max normalisation of relu(sum) over H, W (METHOD 3.2); x: H x W x P. */
export function normaliseCams(x: tf.Tensor3D): tf.Tensor3D {
  return tf.tidy(() => {
    const r = tf.relu(x);
    const mx = tf.max(r, [0, 1], true);
    const mn = tf.min(r, [0, 1], true);
    return tf.div(tf.relu(tf.sub(tf.sub(r, mn), 1e-5)), tf.add(tf.sub(mx, mn), 1e-5)) as tf.Tensor3D;
  });
}

/**
 * CAMs of the labelled classes of one image; see the module comment.
 *
 * @param labels 1-based foreground class indices present in the image (ascending).
 * @example
 * const { cams } = inferCams(model, image, [1, 15]); // 2 x H x W
 */
export function inferCams(model: CamNet, image: RgbImage, labels: number[], opts: CamInferenceOptions = {}): ImageCams {
  const scales = opts.scales ?? [...DEFAULT_CAM_SCALES];
  const flip = opts.flip ?? true;
  const mean = opts.mean ?? [0.485, 0.456, 0.406];
  const std = opts.std ?? [0.229, 0.224, 0.225];
  const { width: W, height: H } = image;
  const K = model.numClasses;
  if (labels.some((c) => !Number.isInteger(c) || c < 1 || c > K)) {
    throw new HfplError('E_DATA', `labels ${JSON.stringify(labels)} are not class indices in 1..${K}`);
  }
  if (scales.length === 0 || scales.some((s) => !(s > 0))) throw new HfplError('E_CONFIG', `scales must be positive numbers, got ${JSON.stringify(scales)}`);
  const P = labels.length;
  const ctx = { training: false };
  let scores: Float32Array = new Float32Array(K);
  // Classification scores come from the (first) scale nearest to `scoreScale` (1), unflipped.
  const target = opts.scoreScale ?? 1;
  const refScale = scales.reduce((a, b) => (Math.abs(b - target) < Math.abs(a - target) ? b : a));
  let scored = false;
  const out = tf.tidy(() => {
    const rgb = tf.tensor3d(image.data, [H, W, 3], 'int32');
    const x = tf.div(tf.sub(tf.div(tf.cast(rgb, 'float32'), 255), tf.tensor1d(mean)), tf.tensor1d(std));
    const idx = tf.tensor1d(labels, 'int32');
    let sum: tf.Tensor3D = tf.zeros([H, W, P]);
    scales.forEach((s) => {
      const h = Math.max(1, Math.round(H * s)), w = Math.max(1, Math.round(W * s));
      const xs = tf.image.resizeBilinear(x as tf.Tensor3D, [h, w], false, true);
      const batch = (flip ? tf.stack([xs, tf.reverse(xs, 1)]) : tf.expandDims(xs, 0)) as tf.Tensor4D;
      const cam = model instanceof SeamNet ? model.forwardSeam(batch, ctx).camRv : model.forward(batch, ctx).cam;
      if (s === refScale && !scored) {
        scores = tf.sigmoid(tf.slice(tf.mean(cam, [1, 2]), [0, 1], [1, K])).dataSync() as Float32Array;
        scored = true;
      }
      if (P === 0) return;
      let maps = tf.gather(cam, idx, 3);
      maps = tf.image.resizeBilinear(maps, [H, W], false, true);
      if (flip) {
        const [a, b] = tf.split(maps, 2, 0);
        maps = tf.concat([a, tf.reverse(b, 2)], 0) as tf.Tensor4D;
      }
      sum = tf.add(sum, tf.sum(maps, 0)) as tf.Tensor3D;
    });
    return tf.transpose(normaliseCams(sum), [2, 0, 1]);
  });
  const cams = out.dataSync() as Float32Array;
  out.dispose();
  return { cams, labels: [...labels], height: H, width: W, scores };
}
