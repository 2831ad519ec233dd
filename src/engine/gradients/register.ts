/** Registers the gradients training needs: TF.js's own set (absent from tfjs-core's Node entry) plus hfpl's. */
import { getGradient, registerGradient } from '@tensorflow/tfjs-core';
import { registerCoreGradients } from './core-gradients.js';
import { conv2dGradConfig } from './conv2d-grad.js';
import { batchNormTrainGradConfig } from './batch-norm-grad.js';

/** hfpl's gradient configs, registered on top of TF.js's set. */
export const HFPL_GRADIENTS = [conv2dGradConfig, batchNormTrainGradConfig];
let coreCount = -1;

/**
 * Registers TF.js 4.22's gradient configs (loaded from tfjs-core's dist, see core-gradients.ts;
 * once per process), then hfpl's on top: `Conv2D` with dilation support and the fused
 * `HfplBatchNormTrain`. Idempotent, and a later call puts hfpl's back when another package
 * (e.g. `@tensorflow/tfjs-layers`) replaced them. Returns the kernel names whose gradients hfpl
 * sets (not the core set).
 */
export function registerTrainingGradients(): string[] {
  if (coreCount < 0) coreCount = registerCoreGradients().length;
  for (const g of HFPL_GRADIENTS) if (getGradient(g.kernelName) !== g) registerGradient(g);
  return HFPL_GRADIENTS.map((g) => g.kernelName);
}

/** How many TF.js gradients {@link registerTrainingGradients} registered (0 before it ran). */
export function coreGradientCount(): number {
  return Math.max(0, coreCount);
}

/** True when hfpl's gradients are the registered ones (set up by `initEngine()` or by hand). */
export function hfplGradientsRegistered(): boolean {
  return HFPL_GRADIENTS.every((g) => getGradient(g.kernelName) === g);
}

export { conv2dGradConfig, batchNormTrainGradConfig };
export { expandFilter, kernelSupportsDilations } from './conv2d-grad.js';
export { coreGradientConfigs, registerCoreGradients } from './core-gradients.js';
