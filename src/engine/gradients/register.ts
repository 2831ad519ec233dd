/** Registers the gradients training needs: TF.js's own set (absent from tfjs-core's Node entry) plus hfpl's. */
import { registerGradient } from '@tensorflow/tfjs-core';
import { registerCoreGradients } from './core-gradients.js';
import { conv2dGradConfig } from './conv2d-grad.js';
import { batchNormTrainGradConfig } from './batch-norm-grad.js';

const HFPL_GRADIENTS = [conv2dGradConfig, batchNormTrainGradConfig];
let registered: string[] | null = null;

/**
 * Registers TF.js 4.22's gradient configs (loaded from tfjs-core's dist, see core-gradients.ts),
 * then hfpl's on top: `Conv2D` with dilation support and the fused `HfplBatchNormTrain`.
 * Idempotent; returns the kernel names whose gradients hfpl set or replaced (not the core set).
 */
export function registerTrainingGradients(): string[] {
  if (registered) return registered;
  registerCoreGradients();
  for (const g of HFPL_GRADIENTS) registerGradient(g);
  registered = HFPL_GRADIENTS.map((g) => g.kernelName);
  return registered;
}

export { conv2dGradConfig, batchNormTrainGradConfig };
export { expandFilter, kernelSupportsDilations } from './conv2d-grad.js';
export { coreGradientConfigs, registerCoreGradients } from './core-gradients.js';
