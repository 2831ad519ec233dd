/**
 * Native BatchMatMul and _FusedMatMul for the wasm backend. Inputs of rank >= 2 are viewed as
 * [batch, rows, cols] (transposes are strides, no copies); the batch dimensions must be equal or
 * one side's must be 1 (other broadcasts run on wasm).
 */
import type { TensorInfo } from '@tensorflow/tfjs-core';
import { readFusion, type NativeKernelFunc } from './conv-kernels.js';
import { heapOf, offsetOf, sizeOf } from './heap.js';

const params = new Float64Array(16);

function sameShape(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** BatchMatMul (fused = false) or _FusedMatMul (fused = true). */
export function matMul(fused: boolean): NativeKernelFunc {
  return (args, addon) => {
    const { a, b } = args.inputs as { a?: TensorInfo; b?: TensorInfo };
    if (!a || !b || a.dtype !== 'float32' || b.dtype !== 'float32') return null;
    if (a.shape.length < 2 || b.shape.length < 2) return null;
    const transposeA = Boolean(args.attrs?.transposeA), transposeB = Boolean(args.attrs?.transposeB);
    const ra = a.shape.length, rb = b.shape.length;
    const m = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
    const k = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
    const kb = transposeB ? b.shape[rb - 1] : b.shape[rb - 2];
    const n = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
    if (k !== kb) return null;
    const outerA = a.shape.slice(0, -2), outerB = b.shape.slice(0, -2);
    const batchA = sizeOf(outerA), batchB = sizeOf(outerB);
    let outer: number[];
    if (sameShape(outerA, outerB) || batchB === 1 && outerA.length >= outerB.length) outer = outerA;
    else if (batchA === 1 && outerB.length >= outerA.length) outer = outerB;
    else return null;
    if (m * n * k === 0 || sizeOf(outer) === 0) return null;
    const fusion = fused ? readFusion(args, n, true) : undefined;
    if (fusion === null) return null;
    const { backend } = args;
    const out = backend.makeOutput([...outer, m, n], 'float32');
    params.set([
      offsetOf(backend, a), offsetOf(backend, b), offsetOf(backend, out), batchA, batchB, m, k, n,
      transposeA ? 1 : 0, transposeB ? 1 : 0,
      fusion?.bias ?? -1, fusion?.bias !== undefined && fusion.bias >= 0 ? lastSize(args.inputs.bias) : 0,
      fusion?.activation ?? 0, fusion?.alpha ?? 0, fusion?.prelu ?? -1, fusion?.preluSize ?? 0,
    ]);
    addon.matmul(heapOf(backend), params);
    return out;
  };
}

function lastSize(t: TensorInfo | undefined): number {
  return t ? sizeOf(t.shape) : 0;
}
