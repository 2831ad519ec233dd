/**
 * Access to the TF.js wasm backend's heap for the native kernels: byte offsets of tensors and
 * freshly allocated outputs. The heap view is re-read at every call: memory growth (any
 * `_malloc`, e.g. `makeOutput`) replaces the underlying buffer.
 */
import type { DataType, TensorInfo } from '@tensorflow/tfjs-core';

/** The parts of `BackendWasm` the native kernels use. */
export interface WasmBackendLike {
  wasm: { HEAPU8: Uint8Array };
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: DataType): TensorInfo;
}

/** Byte offset of a tensor's data in the wasm heap. */
export function offsetOf(backend: WasmBackendLike, t: TensorInfo): number {
  const d = backend.dataIdMap.get(t.dataId);
  if (!d) throw new Error(`hfpl native: tensor ${t.dataId} is not on the wasm backend`);
  return d.memoryOffset;
}

/** Heap view to hand to the addon; call after every allocation of the kernel. */
export function heapOf(backend: WasmBackendLike): Uint8Array {
  return backend.wasm.HEAPU8;
}

export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
