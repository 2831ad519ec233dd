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
 * arrays for the cpu backend; on the wasm backend, for channel counts that are multiples of 4,
 * the passes run as WebAssembly SIMD on the heap with the same bits (`batch-norm-simd.ts`). (XNNPACK sums were tried: ones[1, M] @ X repacks X as weights on
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
import { batchNormSimd, type BatchNormSimd } from './batch-norm-simd.js';

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

/** mean, variance (outputs) and the affine map y = scale x + shift from the sums (replica-reduced). */
function forwardCoefficients(
  sums1: Float64Array, sums2: Float64Array, count: number, gamma: Float32Array, beta: Float32Array, eps: number,
  mean: Float32Array, variance: Float32Array,
): { scale: Float32Array; shift: Float32Array } {
  const c = gamma.length;
  const [s1, s2, m] = reduceOverReplicas(sums1, sums2, count);
  const scale = new Float32Array(c), shift = new Float32Array(c);
  for (let k = 0; k < c; k++) {
    const mu = s1[k] / m;
    const va = Math.max(0, s2[k] / m - mu * mu);
    mean[k] = mu;
    variance[k] = va;
    scale[k] = gamma[k] / Math.sqrt(va + eps);
    shift[k] = beta[k] - mu * scale[k];
  }
  return { scale, shift };
}

/**
 * dgamma, dbeta (outputs: this shard's part; sgdStep sums parameter gradients over replicas)
 * and dx = a dy - b x - d from the sums of dy and dy x (dx needs the whole batch's sums).
 */
function backwardCoefficients(
  sdy: Float64Array, sdyx: Float64Array, count: number, gamma: Float32Array, mean: Float32Array, variance: Float32Array, eps: number,
  dgamma: Float32Array, dbeta: Float32Array,
): { a: Float32Array; b: Float32Array; d: Float32Array } {
  const c = gamma.length;
  const [tdy, tdyx, m] = reduceOverReplicas(sdy, sdyx, count);
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
  return { a, b, d };
}

/** Forward pass on raw arrays: fills y, mean and (biased) variance. */
export function batchNormTrainForward(
  x: Float32Array, gamma: Float32Array, beta: Float32Array, eps: number,
  y: Float32Array, mean: Float32Array, variance: Float32Array,
): void {
  const c = gamma.length;
  const s1 = new Float64Array(c), s2 = new Float64Array(c);
  for (let i = 0; i < x.length; i += c) {
    for (let k = 0; k < c; k++) {
      const v = x[i + k];
      s1[k] += v;
      s2[k] += v * v;
    }
  }
  const { scale, shift } = forwardCoefficients(s1, s2, x.length / c, gamma, beta, eps, mean, variance);
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
  const { a, b, d } = backwardCoefficients(sdy, sdyx, x.length / c, gamma, mean, variance, eps, dgamma, dbeta);
  for (let i = 0; i < x.length; i += c) {
    for (let k = 0; k < c; k++) dx[i + k] = a[k] * dy[i + k] - b[k] * x[i + k] - d[k];
  }
}

/**
 * f64 scratch of `n` values on the wasm heap (as a float32 tensor of 2n; free it with
 * disposeData): its byte offset and a view, re-taken by the caller after any allocation.
 */
function heapF64(backend: BackendWasm, n: number): { info: TensorInfo; view: () => Float64Array } {
  const info = backend.makeOutput([2 * n], 'float32');
  const view = () => {
    const f = backend.typedArrayFromHeap(info) as Float32Array;
    return new Float64Array(f.buffer, f.byteOffset, n);
  };
  return { info, view };
}

const byteOffset = (backend: BackendWasm, t: TensorInfo): number => (backend.typedArrayFromHeap(t) as Float32Array).byteOffset;

/** The forward kernel with the SIMD passes (same bits as `batchNormTrainForward`). */
function forwardSimd(backend: BackendWasm, simd: BatchNormSimd, x: TensorInfo, gamma: TensorInfo, beta: TensorInfo, eps: number): TensorInfo[] {
  const c = gamma.shape[0];
  const rows = util.sizeFromShape(x.shape) / c;
  const y = backend.makeOutput(x.shape, 'float32'), mean = backend.makeOutput([c], 'float32'), variance = backend.makeOutput([c], 'float32');
  const scratch = heapF64(backend, 4 * c); // s1, s2, scale, shift
  const base = byteOffset(backend, scratch.info);
  simd.stats1(byteOffset(backend, x), rows, c, base, base + 8 * c);
  const sums = scratch.view();
  const h = (t: TensorInfo) => backend.typedArrayFromHeap(t) as Float32Array;
  const { scale, shift } = forwardCoefficients(sums.slice(0, c), sums.slice(c, 2 * c), rows, h(gamma), h(beta), eps, h(mean), h(variance));
  const coef = scratch.view();
  coef.set(scale, 2 * c);
  coef.set(shift, 3 * c);
  simd.affine(byteOffset(backend, x), byteOffset(backend, y), rows, c, base + 16 * c, base + 24 * c);
  backend.disposeData(scratch.info.dataId);
  return [y, mean, variance];
}

/** The gradient kernel with the SIMD passes (same bits as `batchNormTrainBackward`). */
function backwardSimd(backend: BackendWasm, simd: BatchNormSimd, dy: TensorInfo, x: TensorInfo, gamma: TensorInfo, mean: TensorInfo, variance: TensorInfo, eps: number): TensorInfo[] {
  const c = gamma.shape[0];
  const rows = util.sizeFromShape(x.shape) / c;
  const dx = backend.makeOutput(x.shape, 'float32'), dgamma = backend.makeOutput([c], 'float32'), dbeta = backend.makeOutput([c], 'float32');
  const scratch = heapF64(backend, 5 * c); // sdy, sdyx, a, b, d
  const base = byteOffset(backend, scratch.info);
  simd.stats2(byteOffset(backend, dy), byteOffset(backend, x), rows, c, base, base + 8 * c);
  const sums = scratch.view();
  const h = (t: TensorInfo) => backend.typedArrayFromHeap(t) as Float32Array;
  const { a, b, d } = backwardCoefficients(sums.slice(0, c), sums.slice(c, 2 * c), rows, h(gamma), h(mean), h(variance), eps, h(dgamma), h(dbeta));
  const coef = scratch.view();
  coef.set(a, 2 * c);
  coef.set(b, 3 * c);
  coef.set(d, 4 * c);
  simd.dx(byteOffset(backend, dy), byteOffset(backend, x), byteOffset(backend, dx), rows, c, base + 16 * c, base + 24 * c, base + 32 * c);
  backend.disposeData(scratch.info.dataId);
  return [dx, dgamma, dbeta];
}

/** The SIMD passes for this call, or null (cpu backend, c not a multiple of 4, no SIMD). */
function simdFor(backend: KernelBackend, c: number): BatchNormSimd | null {
  return isWasm(backend) && c % 4 === 0 ? batchNormSimd(backend) : null;
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
  const simd = simdFor(backend, c);
  if (simd) return forwardSimd(backend as BackendWasm, simd, x, gamma, beta, eps);
  return runOnArrays(backend, [x, gamma, beta], [x.shape, [c], [c]], ([xv, g, b], [y, mu, va]) =>
    batchNormTrainForward(xv, g, b, eps, y, mu, va));
}

/** Kernel function of `HfplBatchNormTrainGrad` (wasm and cpu). */
export function batchNormTrainGradKernel({ inputs, backend, attrs }: KernelArgs): TensorInfo[] {
  const { dy, x, gamma, mean, variance } = inputs as Record<string, TensorInfo>;
  checkFloat(BATCH_NORM_TRAIN_GRAD, [dy, x, gamma, mean, variance]);
  const c = x.shape[x.shape.length - 1];
  const eps = attrs.varianceEpsilon as number;
  const simd = simdFor(backend, c);
  if (simd) return backwardSimd(backend as BackendWasm, simd, dy, x, gamma, mean, variance, eps);
  return runOnArrays(backend, [dy, x, gamma, mean, variance], [x.shape, [c], [c]], ([g, xv, ga, mu, va], [dx, dg, db]) =>
    batchNormTrainBackward(g, xv, ga, mu, va, eps, dx, dg, db));
}
