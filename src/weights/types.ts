/**
 * The in-memory form of a weight file, whatever its format: named tensors in the layout they
 * were stored (PyTorch NCHW / OIHW, C order), floats widened or narrowed to float32.
 */

/** Element type as stored in the file (the data itself is converted, see `WeightTensor.data`). */
export type WeightDtype =
  | 'float32'
  | 'float16'
  | 'bfloat16'
  | 'float64'
  | 'int64'
  | 'int32'
  | 'int16'
  | 'int8'
  | 'uint8'
  | 'bool';

/** Typed array a tensor's values come in: float32 for every float dtype, BigInt64 for int64, Int32 for the other integers and bool. */
export type WeightData = Float32Array | BigInt64Array | Int32Array;

/** One named tensor, contiguous in C order (views with offsets and strides are materialised). */
export interface WeightTensor {
  name: string;
  /** The dtype stored in the file. */
  dtype: WeightDtype;
  /** Dimensions; `[]` for a scalar (one element). */
  shape: number[];
  /** Values: Float32Array for float16/bfloat16/float32/float64, BigInt64Array for int64, Int32Array otherwise. */
  data: WeightData;
}

/** Formats `readWeights` tells apart. */
export type WeightFormat = 'pth-zip' | 'pth-legacy' | 'safetensors' | 'mxnet' | 'tfjs';

/** A weight file read into memory. */
export interface WeightFile {
  format: WeightFormat;
  /** Tensors in file order. Nested checkpoint dicts are flattened with '.' (e.g. `state_dict.module.conv1a.weight`). */
  tensors: Map<string, WeightTensor>;
  /**
   * Non-tensor content: safetensors `__metadata__`; for PyTorch files the scalar/string leaves of
   * the pickled object by flattened key (e.g. `epoch: 3`); for TF.js the `hfpl` field.
   */
  meta: Record<string, unknown>;
  /**
   * PyTorch files: top-level keys of the pickled dict whose values are dicts/lists holding tensors
   * (e.g. `['state_dict']` for `{'state_dict': {...}, 'epoch': 3}`, `['model', 'optimizer']`);
   * empty for a plain state dict. Tells nesting apart from dotted names for `stripPrefix`.
   */
  containers?: string[];
}

/** Number of elements of a shape (1 for a scalar). */
export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
