/**
 * Gradient of the fused training batch norm kernel `HfplBatchNormTrain` (see
 * src/engine/wasm-kernels/batch-norm.ts): one `HfplBatchNormTrainGrad` kernel call instead of the
 * Tile-heavy gradient of tf.moments + tf.batchNorm. The mean and variance outputs are running
 * statistics and get no gradient.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { GradConfig, NamedAttrMap } from '@tensorflow/tfjs-core';

/** Gradient config for `HfplBatchNormTrain` (inputs x, gamma, beta). */
export const batchNormTrainGradConfig: GradConfig = {
  kernelName: 'HfplBatchNormTrain',
  inputsToSave: ['x', 'gamma'],
  outputsToSave: [false, true, true],
  gradFunc: (dys, saved, attrs) => {
    const dy = (Array.isArray(dys) ? dys[0] : dys) as tf.Tensor;
    const [x, gamma, mean, variance] = saved;
    // One kernel call for all three gradients, made here (not inside the per-input closures,
    // which TF.js runs in separate tidy scopes).
    const [dx, dgamma, dbeta] = tf.engine().runKernel(
      'HfplBatchNormTrainGrad', { dy, x, gamma, mean, variance },
      { varianceEpsilon: attrs.varianceEpsilon } as NamedAttrMap,
    ) as tf.Tensor[];
    return { x: () => dx, gamma: () => dgamma, beta: () => dbeta };
  },
};
