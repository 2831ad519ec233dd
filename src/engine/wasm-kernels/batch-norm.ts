/**
 * Fused batch normalisation with batch statistics (training mode), NHWC, statistics over all
 * axes but the last. Two custom kernels, so another engine (e.g. libtorch) can replace them:
 *
 * - `HfplBatchNormTrain`: inputs {x, gamma, beta}, attrs {varianceEpsilon}
 *   -> [y, mean, variance] (variance biased, as tf.moments).
 * - `HfplBatchNormTrainGrad`: inputs {dy, x, gamma, mean, variance}, attrs {varianceEpsilon}
 *   -> [dx, dgamma, dbeta], with xhat = (x - mean) * invstd, M = elements per channel:
 *   dbeta = sum dy, dgamma = sum dy * xhat, dx = gamma * invstd / M * (M dy - dbeta - xhat dgamma).
 *
 * The math runs as typed-array passes with float64 per-channel sums (one statistics pass and
 * one write pass each way), on the wasm heap directly for the wasm backend and on the stored
 * arrays for the cpu backend. (XNNPACK sums were tried: ones[1, M] @ X repacks X as weights on
 * every call and was no faster, and float32 sums over M are less exact.)
 *
 * Under data-parallel replicas (`../replicas.ts`) the per-channel sums and the element count
 * are summed over all replicas before use (synchronised BN): each replica normalises its shard
 * with the whole batch's statistics and gets its part of the whole batch's gradient.
 */
import { util, type KernelBackend, type TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { NamedAttrMap, NamedTensorInfoMap } from '@tensorflow/tfjs-core';
import { replicaGroup } from '../replicas.js';

export const BATCH_NORM_TRAIN = 'HfplBatchNormTrain';
export const BATCH_NORM_TRAIN_GRAD = 'HfplBatchNormTrainGrad';

/** Per-channel sums a and b and the count m, summed over the replicas of this thread's group (unchanged without one). */
function reduceOverReplicas(a: Float64Array, b: Float64Array, m: number): [Float64Array, Float64Array, number] {
  const group = replicaGroup();
  if (!group || group.size === 1) return [a, b, m];
  const c = a.length;
  const packed = new Float64Array(2 * c + 1);
  packed.set(a, 0);
  packed.set(b, c);
  packed[2 * c] = m;
  const r = group.allReduceSum(packed);
  return [r.subarray(0, c), r.subarray(c, 2 * c), r[2 * c]];
}

/** Forward pass on raw arrays: fills y, mean and (biased) variance. */
export function batchNormTrainForward(
  x: Float32Array, gamma: Float32Array, beta: Float32Array, eps: number,
  y: Float32Array, mean: Float32Array, variance: Float32Array,
): void {
  const c = gamma.length;
  let m = x.length / c;
  let s1: Float64Array = new Float64Array(c), s2: Float64Array = new Float64Array(c);
  for (let i = 0; i < x.length; i += c) {
    for (let k = 0; k < c; k++) {
      const v = x[i + k];
      s1[k] += v;
      s2[k] += v * v;
    }
  }
  [s1, s2, m] = reduceOverReplicas(s1, s2, m);
  const scale = new Float32Array(c), shift = new Float32Array(c);
  for (let k = 0; k < c; k++) {
    const mu = s1[k] / m;
    const va = Math.max(0, s2[k] / m - mu * mu);
    mean[k] = mu;
    variance[k] = va;
    scale[k] = gamma[k] / Math.sqrt(va + eps);
    shift[k] = beta[k] - mu * scale[k];
  }
  for (let i = 0; i < x.length; i += c) {
    for (let k = 0; k < c; k++) y[i + k] = x[i + k] * scale[k] + shift[k];
  }
}

/** Backward pass on raw arrays: fills dx, dgamma and dbeta (module comment). */
export function batchNormTrainBackward(
  dy: Float32Array, x: Float32Array, gamma: Float32Array, mean: Float32Array, variance: Float32Array, eps: number,
  dx: Float32Array, dgamma: Float32Array, dbeta: Float32Array,
): void {
  const c = gamma.length;
  const sdy = new Float64Array(c), sdyx = new Float64Array(c);
  for (let i = 0; i < x.length; i += c) {
    for (let k = 0; k < c; k++) {
      const g = dy[i + k];
      sdy[k] += g;
      sdyx[k] += g * x[i + k];
    }
  }
  // dgamma and dbeta are this shard's part (sgdStep sums parameter gradients over replicas);
  // dx needs the whole batch's sums.
  const [tdy, tdyx, m] = reduceOverReplicas(sdy, sdyx, x.length / c);
  const a = new Float32Array(c), b = new Float32Array(c), d = new Float32Array(c);
  for (let k = 0; k < c; k++) {
    const inv = 1 / Math.sqrt(variance[k] + eps);
    dbeta[k] = sdy[k];
    dgamma[k] = (sdyx[k] - mean[k] * sdy[k]) * inv; // sum dy * xhat
    const db = tdy[k];
    const dg = (tdyx[k] - mean[k] * tdy[k]) * inv;
    // dx = gamma*inv*dy - gamma*inv/M * (db + xhat*dg), xhat = (x - mean)*inv
    const gi = gamma[k] * inv;
    a[k] = gi;
    b[k] = (gi * dg * inv) / m;
    d[k] = (gi * db) / m - b[k] * mean[k];
  }
  for (let i = 0; i < x.length; i += c) {
    for (let k = 0; k < c; k++) dx[i + k] = a[k] * dy[i + k] - b[k] * x[i + k] - d[k];
  }
}

interface KernelArgs {
  inputs: NamedTensorInfoMap;
  backend: KernelBackend;
  attrs: NamedAttrMap;
}

function isWasm(b: KernelBackend): b is BackendWasm {
  return typeof (b as Partial<BackendWasm>).typedArrayFromHeap === 'function';
}

/** Allocates float32 outputs first (heap may grow), then hands views of inputs and outputs to `f`. */
function runOnArrays(
  backend: KernelBackend, ins: TensorInfo[], outShapes: number[][],
  f: (ins: Float32Array[], outs: Float32Array[]) => void,
): TensorInfo[] {
  if (isWasm(backend)) {
    const outs = outShapes.map((s) => backend.makeOutput(s, 'float32'));
    f(ins.map((t) => backend.typedArrayFromHeap(t) as Float32Array), outs.map((t) => backend.typedArrayFromHeap(t) as Float32Array));
    return outs;
  }
  const arrays = outShapes.map((s) => new Float32Array(util.sizeFromShape(s)));
  f(ins.map((t) => backend.readSync(t.dataId) as Float32Array), arrays);
  const cpu = backend as KernelBackend & { makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): TensorInfo };
  return arrays.map((a, i) => cpu.makeTensorInfo(outShapes[i], 'float32', a));
}

function checkFloat(name: string, infos: TensorInfo[]): void {
  for (const t of infos) if (t.dtype !== 'float32') throw new Error(`${name} needs float32 inputs, got ${t.dtype}`);
}

/** Kernel function of `HfplBatchNormTrain` (wasm and cpu). */
export function batchNormTrainKernel({ inputs, backend, attrs }: KernelArgs): TensorInfo[] {
  const { x, gamma, beta } = inputs as { x: TensorInfo; gamma: TensorInfo; beta: TensorInfo };
  checkFloat(BATCH_NORM_TRAIN, [x, gamma, beta]);
  const c = x.shape[x.shape.length - 1];
  const eps = attrs.varianceEpsilon as number;
  return runOnArrays(backend, [x, gamma, beta], [x.shape, [c], [c]], ([xv, g, b], [y, mu, va]) =>
    batchNormTrainForward(xv, g, b, eps, y, mu, va));
}

/** Kernel function of `HfplBatchNormTrainGrad` (wasm and cpu). */
export function batchNormTrainGradKernel({ inputs, backend, attrs }: KernelArgs): TensorInfo[] {
  const { dy, x, gamma, mean, variance } = inputs as Record<string, TensorInfo>;
  checkFloat(BATCH_NORM_TRAIN_GRAD, [dy, x, gamma, mean, variance]);
  const c = x.shape[x.shape.length - 1];
  const eps = attrs.varianceEpsilon as number;
  return runOnArrays(backend, [dy, x, gamma, mean, variance], [x.shape, [c], [c]], ([g, xv, ga, mu, va], [dx, dg, db]) =>
    batchNormTrainBackward(g, xv, ga, mu, va, eps, dx, dg, db));
}
