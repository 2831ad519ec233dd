/**
 * Registers hfpl's training kernels for the wasm backend (and the fused batch-norm kernels for
 * the cpu backend too). Kernel functions are exported by name so an optional native engine can
 * re-register the same kernel names and still fall back to them.
 */
import { getKernel, registerKernel, unregisterKernel, type KernelFunc } from '@tensorflow/tfjs-core';
import { conv2dBackpropFilterWasm, conv2dBackpropInputWasm } from './conv2d-backprop.js';
import { depthwiseBackpropFilterWasm, depthwiseBackpropInputWasm } from './depthwise-backprop.js';
import { unsortedSegmentSumWasm } from './unsorted-segment-sum.js';
import { BATCH_NORM_TRAIN, BATCH_NORM_TRAIN_GRAD, batchNormTrainGradKernel, batchNormTrainKernel } from './batch-norm.js';

const WASM_KERNELS: Array<[string, unknown]> = [
  ['Conv2DBackpropFilter', conv2dBackpropFilterWasm],
  ['Conv2DBackpropInput', conv2dBackpropInputWasm],
  ['DepthwiseConv2dNativeBackpropFilter', depthwiseBackpropFilterWasm],
  ['DepthwiseConv2dNativeBackpropInput', depthwiseBackpropInputWasm],
  ['UnsortedSegmentSum', unsortedSegmentSumWasm],
  [BATCH_NORM_TRAIN, batchNormTrainKernel],
  [BATCH_NORM_TRAIN_GRAD, batchNormTrainGradKernel],
];

const CPU_KERNELS: Array<[string, unknown]> = [
  [BATCH_NORM_TRAIN, batchNormTrainKernel],
  [BATCH_NORM_TRAIN_GRAD, batchNormTrainGradKernel],
];

/** Registers `kernelFunc` for `name` on `backend`, replacing any other without a warning. */
export function replaceKernel(name: string, backend: string, kernelFunc: KernelFunc): void {
  const existing = getKernel(name, backend);
  if (existing?.kernelFunc === kernelFunc) return;
  if (existing) unregisterKernel(name, backend);
  registerKernel({ kernelName: name, backendName: backend, kernelFunc });
}

/**
 * Registers the wasm training kernels: Conv2DBackpropFilter, Conv2DBackpropInput (XNNPACK based,
 * with dilation support), DepthwiseConv2dNativeBackpropFilter/Input, UnsortedSegmentSum and the
 * fused batch norm `HfplBatchNormTrain` / `HfplBatchNormTrainGrad` (also for cpu).
 * Idempotent; returns the kernel names registered for wasm.
 */
export function registerWasmTrainingKernels(): string[] {
  for (const [name, f] of WASM_KERNELS) replaceKernel(name, 'wasm', f as KernelFunc);
  for (const [name, f] of CPU_KERNELS) replaceKernel(name, 'cpu', f as KernelFunc);
  return WASM_KERNELS.map(([name]) => name);
}

export {
  conv2dBackpropFilterWasm, conv2dBackpropInputWasm, depthwiseBackpropFilterWasm, depthwiseBackpropInputWasm,
  unsortedSegmentSumWasm, batchNormTrainKernel, batchNormTrainGradKernel, BATCH_NORM_TRAIN, BATCH_NORM_TRAIN_GRAD,
};
