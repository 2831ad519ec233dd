/**
 * Batch normalisation with batch statistics (training mode), NHWC, over axes N, H, W.
 * Placeholder implementation with plain ops; the engine work replaces it with a fused
 * gradient (same signature).
 */
import * as tf from '@tensorflow/tfjs-core';

export interface BatchNormTrainResult {
  y: tf.Tensor4D;
  /** Batch mean and (biased) variance per channel, for running statistics; not differentiated. */
  mean: tf.Tensor1D;
  variance: tf.Tensor1D;
}

/** y = gamma * (x - mean) / sqrt(var + eps) + beta with mean, var over N, H, W. */
export function batchNormTrain(x: tf.Tensor4D, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps = 1e-5): BatchNormTrainResult {
  const { mean, variance } = tf.moments(x, [0, 1, 2]);
  const y = tf.batchNorm(x, mean, variance, beta, gamma, eps) as tf.Tensor4D;
  return { y, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D };
}
