/**
 * Differentiable gather of elements of a tensor by flat (row-major) index. TF.js's own
 * GatherV2 gradient needs UnsortedSegmentSum, which the wasm backend lacks; this one scatters
 * with ScatterNd (duplicate indices accumulate).
 */
import * as tf from '@tensorflow/tfjs-core';

/**
 * Returns x.flat[idx] reshaped to `outShape`; the gradient adds dy into the gathered positions.
 * `idx` must hold valid flat indices of x (not checked here).
 */
export function gatherFlat(x: tf.Tensor, idx: Int32Array, outShape: number[]): tf.Tensor {
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const xt = args[0] as tf.Tensor;
    const value = tf.tidy(() => tf.reshape(tf.gather(tf.reshape(xt, [-1]), tf.tensor1d(idx, 'int32')), outShape));
    const gradFunc = (dy: tf.Tensor): tf.Tensor =>
      tf.tidy(() => {
        const at = tf.tensor2d(idx, [idx.length, 1], 'int32');
        return tf.reshape(tf.scatterND(at, tf.reshape(dy, [-1]), [xt.size]), xt.shape);
      });
    return { value, gradFunc };
  });
  return f(x);
}

/**
 * fn(x) with a zero gradient (TF.js has no stopGradient). fn runs inside a custom-gradient
 * forward pass, where the tape is off, so it may use ops that have no gradient (Equal, ...).
 */
export function detached<T extends tf.Tensor>(x: tf.Tensor, fn: (x: tf.Tensor) => T): T {
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const xt = args[0] as tf.Tensor;
    return { value: tf.tidy(() => fn(xt)), gradFunc: () => tf.zeros(xt.shape) };
  });
  return f(x) as T;
}
