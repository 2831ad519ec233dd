/**
 * Native training batch norm: libtorch versions of hfpl's `HfplBatchNormTrain` and
 * `HfplBatchNormTrainGrad` kernels (src/engine/wasm-kernels/batch-norm.ts has the math and the
 * input/output contract). Statistics run over every axis but the last (channels).
 */
import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { NativeKernelFunc } from './conv-kernels.js';
import { heapOf, offsetOf, sizeOf } from './heap.js';

/** Kernel names owned by src/engine/wasm-kernels/batch-norm.ts. */
export const BATCH_NORM_TRAIN = 'HfplBatchNormTrain';
export const BATCH_NORM_TRAIN_GRAD = 'HfplBatchNormTrainGrad';

const fwdParams = new Float64Array(9);
const bwdParams = new Float64Array(11);

function allFloat(ts: (TensorInfo | undefined)[]): ts is TensorInfo[] {
  return ts.every((t) => t !== undefined && t.dtype === 'float32');
}

/** [y, mean, variance] from {x, gamma, beta}, attrs {varianceEpsilon}. */
const forward: NativeKernelFunc = (args, addon) => {
  const { x, gamma, beta } = args.inputs;
  if (!allFloat([x, gamma, beta]) || !x || !gamma || !beta) return null;
  const c = x.shape[x.shape.length - 1];
  const rows = sizeOf(x.shape) / c;
  if (!(c > 0) || rows === 0 || sizeOf(gamma.shape) !== c || sizeOf(beta.shape) !== c) return null;
  const { backend } = args;
  const y = backend.makeOutput(x.shape, 'float32');
  const mean = backend.makeOutput([c], 'float32');
  const variance = backend.makeOutput([c], 'float32');
  fwdParams.set([
    offsetOf(backend, x), offsetOf(backend, gamma), offsetOf(backend, beta),
    offsetOf(backend, y), offsetOf(backend, mean), offsetOf(backend, variance),
    rows, c, Number(args.attrs?.varianceEpsilon ?? 1e-3),
  ]);
  addon.batchNormForward(heapOf(backend), fwdParams);
  return [y, mean, variance];
};

/** [dx, dgamma, dbeta] from {dy, x, gamma, mean, variance}, attrs {varianceEpsilon}. */
const backward: NativeKernelFunc = (args, addon) => {
  const { dy, x, gamma, mean, variance } = args.inputs;
  if (!allFloat([dy, x, gamma, mean, variance]) || !dy || !x || !gamma || !mean || !variance) return null;
  const c = x.shape[x.shape.length - 1];
  const rows = sizeOf(x.shape) / c;
  if (!(c > 0) || rows === 0 || sizeOf(dy.shape) !== rows * c) return null;
  if ([gamma, mean, variance].some((t) => sizeOf(t.shape) !== c)) return null;
  const { backend } = args;
  const dx = backend.makeOutput(x.shape, 'float32');
  const dgamma = backend.makeOutput([c], 'float32');
  const dbeta = backend.makeOutput([c], 'float32');
  bwdParams.set([
    offsetOf(backend, x), offsetOf(backend, dy), offsetOf(backend, gamma), offsetOf(backend, mean),
    offsetOf(backend, variance), offsetOf(backend, dx), offsetOf(backend, dgamma), offsetOf(backend, dbeta),
    rows, c, Number(args.attrs?.varianceEpsilon ?? 1e-3),
  ]);
  addon.batchNormBackward(heapOf(backend), bwdParams);
  return [dx, dgamma, dbeta];
};

/** The native batch-norm kernels by name. */
export function batchNormKernels(): Record<string, NativeKernelFunc> {
  return { [BATCH_NORM_TRAIN]: forward, [BATCH_NORM_TRAIN_GRAD]: backward };
}
