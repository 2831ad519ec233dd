/**
 * Small helpers for kernels that run inside the wasm backend: call other wasm kernels directly
 * (no engine bookkeeping), view tensors on the wasm heap, and free intermediates.
 */
import { getKernel, type NamedAttrMap, type NamedTensorInfoMap, type TensorInfo, util } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/** Runs another wasm kernel's function on tensor infos; the caller owns the result. */
export function callWasm(backend: BackendWasm, name: string, inputs: NamedTensorInfoMap, attrs: object = {}): TensorInfo {
  const config = getKernel(name, 'wasm');
  if (!config) throw new Error(`wasm kernel ${name} is not registered`);
  const out = config.kernelFunc({ inputs, backend, attrs: attrs as unknown as NamedAttrMap });
  return Array.isArray(out) ? out[0] : out;
}

/** A view of `info` with another shape (same data, no copy). */
export function reshapeInfo(info: TensorInfo, shape: number[]): TensorInfo {
  if (util.sizeFromShape(shape) !== util.sizeFromShape(info.shape)) {
    throw new Error(`cannot view shape [${info.shape}] as [${shape}]`);
  }
  return { dataId: info.dataId, shape, dtype: info.dtype };
}

/** Frees intermediates made by this module (never the kernel's inputs). */
export function disposeInfos(backend: BackendWasm, ...infos: TensorInfo[]): void {
  for (const info of infos) backend.disposeData(info.dataId);
}

export function transposeWasm(backend: BackendWasm, x: TensorInfo, perm: number[]): TensorInfo {
  return callWasm(backend, 'Transpose', { x }, { perm });
}

export function sliceWasm(backend: BackendWasm, x: TensorInfo, begin: number[], size: number[]): TensorInfo {
  return callWasm(backend, 'Slice', { x }, { begin, size });
}

/** A Float32Array view of a float32 tensor on the wasm heap; re-take it after any allocation. */
export function heapF32(backend: BackendWasm, info: TensorInfo): Float32Array {
  return backend.typedArrayFromHeap(info) as Float32Array;
}

/** Normalises a stride/dilation attribute to [h, w]. */
export function pair(v: number | [number, number] | number[] | undefined, dflt = 1): [number, number] {
  if (v == null) return [dflt, dflt];
  if (typeof v === 'number') return [v, v];
  return [v[0], v[1] ?? v[0]];
}

/**
 * Crops a 4-D NHWC input where an explicit padding is negative, so the remaining padding can be
 * handed to XNNPACK (which only pads). Returns the (maybe new) input and non-negative pads.
 */
export function cropNegativePads(
  backend: BackendWasm,
  x: TensorInfo,
  pads: { top: number; bottom: number; left: number; right: number },
): { x: TensorInfo; owned: boolean; pads: { top: number; bottom: number; left: number; right: number } } {
  const { top, bottom, left, right } = pads;
  if (top >= 0 && bottom >= 0 && left >= 0 && right >= 0) return { x, owned: false, pads };
  const [n, h, w, c] = x.shape;
  const t = Math.max(0, -top), b = Math.max(0, -bottom), l = Math.max(0, -left), r = Math.max(0, -right);
  const cropped = sliceWasm(backend, x, [0, t, l, 0], [n, h - t - b, w - l - r, c]);
  return {
    x: cropped,
    owned: true,
    pads: { top: Math.max(0, top), bottom: Math.max(0, bottom), left: Math.max(0, left), right: Math.max(0, right) },
  };
}

/** Runs the wasm (XNNPACK) Conv2D with explicit, non-negative padding. */
export function conv2dWasm(
  backend: BackendWasm,
  x: TensorInfo,
  filter: TensorInfo,
  strides: [number, number],
  dilations: [number, number],
  pads: { top: number; bottom: number; left: number; right: number },
): TensorInfo {
  const c = cropNegativePads(backend, x, pads);
  const pad = [[0, 0], [c.pads.top, c.pads.bottom], [c.pads.left, c.pads.right], [0, 0]];
  const out = callWasm(backend, 'Conv2D', { x: c.x, filter }, { strides, dilations, pad, dataFormat: 'NHWC' });
  if (c.owned) disposeInfos(backend, c.x);
  return out;
}
