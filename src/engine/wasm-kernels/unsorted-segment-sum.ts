/**
 * UnsortedSegmentSum for the wasm backend (the gradient of `tf.gather` needs it): one pass that
 * adds each row of x into its segment's row. Ids outside [0, numSegments) are dropped, as in TF.
 */
import { util, type TensorInfo } from '@tensorflow/tfjs-core';
import type { WasmKernelArgs } from './conv2d-backprop.js';

/** out[segmentIds[i], ...] += x[i, ...]; out has shape [numSegments, ...x.shape[ids.rank:]]. */
export function unsortedSegmentSumWasm(args: WasmKernelArgs): TensorInfo {
  const { inputs, backend } = args;
  const x = inputs.x as TensorInfo;
  const ids = inputs.segmentIds as TensorInfo;
  const numSegments = args.attrs.numSegments as number;
  const rows = util.sizeFromShape(ids.shape);
  const inner = rows === 0 ? 0 : util.sizeFromShape(x.shape) / rows;
  const outShape = [numSegments, ...x.shape.slice(ids.shape.length)];
  const out = backend.makeOutput(outShape, x.dtype);
  const o = backend.typedArrayFromHeap(out) as Float32Array | Int32Array;
  o.fill(0);
  const xv = backend.typedArrayFromHeap(x) as Float32Array | Int32Array;
  const iv = backend.typedArrayFromHeap(ids) as Int32Array;
  for (let r = 0; r < rows; r++) {
    const s = iv[r];
    if (s < 0 || s >= numSegments) continue;
    const src = r * inner, dst = s * inner;
    for (let i = 0; i < inner; i++) o[dst + i] += xv[src + i];
  }
  return out;
}
