/**
 * Batch normalisation with batch statistics (training mode), NHWC, over axes N, H, W.
 *
 * Runs the fused `HfplBatchNormTrain` kernel (one statistics pass and one normalisation pass;
 * its registered gradient is one `HfplBatchNormTrainGrad` call) when the current backend has it
 * (wasm and cpu after `initEngine()`), otherwise plain tf.moments + tf.batchNorm.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { NamedAttrMap } from '@tensorflow/tfjs-core';

export interface BatchNormTrainResult {
  y: tf.Tensor4D;
  /** Batch mean and (biased) variance per channel, for running statistics; not differentiated. */
  mean: tf.Tensor1D;
  variance: tf.Tensor1D;
}

/** Name of the fused forward kernel (inputs x, gamma, beta; attr varianceEpsilon). */
export const BATCH_NORM_TRAIN_KERNEL = 'HfplBatchNormTrain';

/**
 * y = gamma * (x - mean) / sqrt(var + eps) + beta with mean, var over N, H, W.
 *
 * @param x NHWC input.
 * @param gamma Per-channel scale [C].
 * @param beta Per-channel shift [C].
 * @param eps Added to the variance; default 1e-5.
 * @example
 * const { y, mean, variance } = batchNormTrain(x, gamma, beta);
 */
export function batchNormTrain(x: tf.Tensor4D, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps = 1e-5): BatchNormTrainResult {
  if (tf.getKernel(BATCH_NORM_TRAIN_KERNEL, tf.getBackend())) {
    const [y, mean, variance] = tf.engine().runKernel(
      BATCH_NORM_TRAIN_KERNEL, { x, gamma, beta }, { varianceEpsilon: eps } as NamedAttrMap,
    ) as tf.Tensor[];
    return { y: y as tf.Tensor4D, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D };
  }
  const { mean, variance } = tf.moments(x, [0, 1, 2]);
  const y = tf.batchNorm(x, mean, variance, beta, gamma, eps) as tf.Tensor4D;
  return { y, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D };
}
