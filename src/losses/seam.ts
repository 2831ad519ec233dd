/**
 * SEAM's self-supervision losses (Wang et al., CVPR 2020; METHOD 2), as used by the reference
 * training script. CAMs are NHWC [N, h, w, 1 + K] with the background at channel 0.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ensureEngine } from '../engine/init.js';
import { argError, asFloat, checkDim, checkNumber, checkRange, checkTensor, LABEL_DTYPES, LABEL_RANGE_HINT, nchwHint } from './check-args.js';
import { detached, gatherFlat } from './gather-flat.js';

function checkCam(fn: string, name: string, t: unknown): asserts t is tf.Tensor4D {
  ensureEngine(fn);
  checkTensor(fn, name, t, 4, '[N, h, w, 1 + K]');
  if ((t as tf.Tensor4D).shape[3] < 2) argError(fn, `${name} must have at least 2 channels (background + 1 class), got shape [${(t as tf.Tensor).shape.join(', ')}]`);
}

function checkSameShape(fn: string, a: string, ta: tf.Tensor, b: string, tb: tf.Tensor): void {
  if (ta.shape.some((d, i) => d !== tb.shape[i])) argError(fn, `${b} must have the shape of ${a} [${ta.shape.join(', ')}], got [${tb.shape.join(', ')}]`);
}

/** Mean over N rows of the k largest values of each row of x [N, L] (gradient to those k). */
function meanTopK(x: tf.Tensor2D, k: number, largest: boolean): tf.Scalar {
  const [n, len] = x.shape;
  const { indices } = tf.tidy(() => tf.topk(largest ? x : tf.neg(x), k));
  const idx = indices.dataSync() as Int32Array;
  indices.dispose();
  const flatIdx = new Int32Array(n * k);
  for (let r = 0; r < n; r++) for (let j = 0; j < k; j++) flatIdx[r * k + j] = r * len + idx[r * k + j];
  return tf.tidy(() => tf.mean(gatherFlat(x, flatIdx, [n, k])));
}

/**
 * Equivariant regularisation L_er = mean |cam1 - cam2| over the foreground channels (METHOD 2).
 * The reference feeds max_norm'ed, label-masked CAMs of the two views at the same size (the
 * first view's CAM rescaled by 0.3, bilinear, corners aligned).
 *
 * @param cam1 float32 [N, h, w, 1 + K].
 * @param cam2 float32, same shape.
 */
export function equivariantRegularizationLoss(cam1: tf.Tensor4D, cam2: tf.Tensor4D): tf.Scalar {
  const fn = 'equivariantRegularizationLoss';
  checkCam(fn, 'cam1', cam1);
  checkCam(fn, 'cam2', cam2);
  checkSameShape(fn, 'cam1', cam1, 'cam2', cam2);
  return tf.tidy(() => tf.mean(tf.abs(tf.slice(tf.sub(cam1, cam2), [0, 0, 0, 1], [-1, -1, -1, -1]))));
}

/** Options of {@link equivariantCrossRegularizationLoss}. */
export interface EquivariantCrossOptions {
  /** Fraction of the (1 + K) h w elements per image that are averaged (largest first); default 0.2. */
  topFraction?: number;
}

/**
 * One direction of SEAM's equivariant cross regularisation (METHOD 2): the target is `cam`
 * (the other view's max_norm'ed, label-masked CAM; not differentiated) with its background
 * channel set to 1 - max over the foreground channels and every foreground value that is not
 * the pixel's foreground maximum set to 0 (max_onehot); the loss is the mean of the largest
 * floor((1 + K) h w topFraction) values of |target - refined| per image, averaged over images.
 * The reference's L_ecr is f(cam2, refined1) + f(cam1, refined2).
 *
 * @param cam float32 [N, h, w, 1 + K], the other view.
 * @param refined float32, same shape: this view's PCM-refined CAM, max_norm'ed and label-masked.
 */
export function equivariantCrossRegularizationLoss(cam: tf.Tensor4D, refined: tf.Tensor4D, opts: EquivariantCrossOptions = {}): tf.Scalar {
  const fn = 'equivariantCrossRegularizationLoss';
  checkCam(fn, 'cam', cam);
  checkCam(fn, 'refined', refined);
  checkSameShape(fn, 'cam', cam, 'refined', refined);
  const frac = opts.topFraction ?? 0.2;
  checkNumber(fn, 'topFraction', frac, (x) => x > 0 && x <= 1, 'a number in (0, 1]');
  const [n, h, w, c] = cam.shape;
  const k = Math.max(1, Math.floor(c * h * w * frac));
  const diff = tf.tidy(() => {
    const target = detached(cam, (x) => {
      const fg = tf.slice(x, [0, 0, 0, 1], [-1, -1, -1, -1]);
      const m = tf.max(fg, 3, true);
      return tf.concat([tf.sub(1, m), tf.mul(fg, tf.cast(tf.equal(fg, m), 'float32'))], 3);
    });
    return tf.reshape(tf.abs(tf.sub(target, refined)), [n, h * w * c]) as tf.Tensor2D;
  });
  const out = meanTopK(diff, k, true);
  diff.dispose();
  return out;
}

/**
 * SEAM's adaptive min-pooling loss (METHOD 2): per image, the foreground maximum of the
 * label-masked refined CAM at each pixel; the sum of relu of its floor(h w / 4) smallest values,
 * divided by N floor(h w / 4).
 *
 * @param refined float32 [N, h, w, 1 + K]: the PCM-refined CAM (not normalised).
 * @param labels [N, K] in [0, 1]: float32, or int32/bool (cast).
 */
export function adaptiveMinPoolingLoss(refined: tf.Tensor4D, labels: tf.Tensor2D): tf.Scalar {
  const fn = 'adaptiveMinPoolingLoss';
  checkCam(fn, 'refined', refined);
  checkTensor(fn, 'labels', labels, 2, '[N, K]', LABEL_DTYPES);
  const [n, h, w, c] = refined.shape;
  const kl = labels.shape[1];
  const hint = nchwHint('refined', refined, [kl + 1]) || (c === kl
    ? `; refined has K = ${c} channels: it takes all 1 + K CAM channels with the background at channel 0` : '');
  checkDim(fn, 'labels', labels, 0, n, 'batch size of refined');
  checkDim(fn, 'labels', labels, 1, c - 1, 'foreground channels of refined', hint);
  checkRange(fn, 'labels', labels, 0, 1, undefined, LABEL_RANGE_HINT);
  const k = Math.max(1, Math.floor((h * w) / 4));
  const x = tf.tidy(() => {
    const fg = tf.mul(tf.slice(refined, [0, 0, 0, 1], [-1, -1, -1, -1]), tf.reshape(asFloat(labels), [n, 1, 1, c - 1]));
    return tf.reshape(tf.max(fg, 3), [n, h * w]) as tf.Tensor2D;
  });
  // mean over the k smallest of relu(x): relu is monotone, so the smallest of x are taken.
  const out = tf.tidy(() => meanTopK(tf.relu(x) as tf.Tensor2D, k, false));
  x.dispose();
  return out;
}
