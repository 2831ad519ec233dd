/**
 * max_norm and the FSL target q built from CAM logits (METHOD 1), as custom ops with typed-array
 * forward and backward passes (max-norm-kernel.ts): the gradient flows through the
 * normalisation, its min and max, and the background max, in O(N h w C).
 */
import * as tf from '@tensorflow/tfjs-core';
import { ensureEngine } from '../engine/init.js';
import { argError, asFloat, checkDim, checkRange, checkTensor, LABEL_DTYPES, LABEL_RANGE_HINT, nchwHint } from './check-args.js';
import { maxNormBackward, maxNormForward } from './max-norm-kernel.js';

type Shape4 = [number, number, number, number];

/**
 * Per (image, channel) min-max normalisation of CAMs (METHOD 1):
 * p = relu(p); p = relu(p - min - 1e-5) / (max - min + 1e-5), min and max over h x w.
 * Differentiable (min and max pass their gradient to the first element attaining them).
 *
 * @param p float32 [N, h, w, C].
 * @returns [N, h, w, C] with values in [0, 1).
 */
export function maxNorm(p: tf.Tensor4D): tf.Tensor4D {
  ensureEngine('maxNorm');
  checkTensor('maxNorm', 'p', p, 4, '[N, h, w, C]');
  const [n, h, w, c] = p.shape;
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const x = args[0] as tf.Tensor;
    const data = Float32Array.from(x.dataSync() as Float32Array);
    const out = new Float32Array(data.length);
    const st = maxNormForward(data, n, h * w, c, out);
    const gradFunc = (dy: tf.Tensor4D): tf.Tensor =>
      tf.tensor4d(maxNormBackward(data, st, dy.dataSync() as Float32Array, n, h * w, c), p.shape as Shape4);
    return { value: tf.tensor4d(out, p.shape as Shape4), gradFunc };
  });
  return f(p) as tf.Tensor4D;
}

/**
 * The FSL target q from CAM logits (METHOD 1): max_norm(z) times [1, y] (label masking; the
 * background channel is always kept), then the background channel replaced by
 * 1 - max over the foreground channels. Differentiable wrt `camLogits` (the background max
 * passes its gradient to the first foreground channel attaining it); `labels` get none.
 *
 * @param camLogits float32 [N, h, w, 1 + K], channel 0 = background.
 * @param labels [N, K] image labels in [0, 1]: float32, or int32/bool (cast).
 * @returns [N, h, w, 1 + K].
 */
export function fslTargetFromCam(camLogits: tf.Tensor4D, labels: tf.Tensor2D): tf.Tensor4D {
  const fn = 'fslTargetFromCam';
  ensureEngine(fn);
  checkTensor(fn, 'camLogits', camLogits, 4, '[N, h, w, 1 + K]');
  checkTensor(fn, 'labels', labels, 2, '[N, K]', LABEL_DTYPES);
  const [n, h, w, c] = camLogits.shape;
  const kl = labels.shape[1];
  const hint = nchwHint('camLogits', camLogits, [kl + 1]) || (c === kl
    ? `; camLogits has K = ${c} channels: it takes all 1 + K CAM channels with the background at channel 0 (the ISL takes the K foreground ones)` : '');
  if (c < 2) argError(fn, `camLogits must have at least 2 channels (background + 1 class), got shape [${camLogits.shape.join(', ')}]${hint}`);
  checkDim(fn, 'labels', labels, 0, n, 'batch size of camLogits');
  checkDim(fn, 'labels', labels, 1, c - 1, 'foreground channels of camLogits', hint);
  const lab = Float32Array.from(labels.dataSync() as ArrayLike<number>);
  checkRange(fn, 'labels', labels, 0, 1, lab, LABEL_RANGE_HINT);
  const hw = h * w;
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [z, y] = args as tf.Tensor[];
    const data = Float32Array.from(z.dataSync() as Float32Array);
    const q = new Float32Array(data.length);
    const st = maxNormForward(data, n, hw, c, q);
    const argBg = new Int32Array(n * hw); // foreground channel of the max, per pixel
    for (let b = 0; b < n; b++) {
      for (let i = 0; i < hw; i++) {
        const t = (b * hw + i) * c;
        let m = -Infinity;
        for (let ch = 1; ch < c; ch++) {
          const v = q[t + ch] * lab[b * (c - 1) + ch - 1];
          q[t + ch] = v;
          if (v > m) { m = v; argBg[b * hw + i] = ch; }
        }
        q[t] = 1 - m;
      }
    }
    const gradFunc = (dy: tf.Tensor4D): tf.Tensor[] => {
      const g = Float32Array.from(dy.dataSync() as Float32Array);
      for (let b = 0; b < n; b++) {
        for (let i = 0; i < hw; i++) {
          const t = (b * hw + i) * c;
          g[t + argBg[b * hw + i]] -= g[t]; // bg = 1 - max fg
          g[t] = 0; // max_norm's background output is replaced
          for (let ch = 1; ch < c; ch++) g[t + ch] *= lab[b * (c - 1) + ch - 1];
        }
      }
      return [tf.tensor4d(maxNormBackward(data, st, g, n, hw, c), camLogits.shape as Shape4), tf.zeros(y.shape)];
    };
    return { value: tf.tensor4d(q, camLogits.shape as Shape4), gradFunc };
  });
  return tf.tidy(() => f(camLogits, asFloat(labels)) as tf.Tensor4D);
}
