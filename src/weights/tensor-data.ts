/**
 * Turning stored bytes into `WeightTensor.data`: element sizes, float16/bfloat16/float64 to
 * float32, and views (storage offset + strides) gathered into contiguous C order.
 */
import { HfplError } from '../errors.js';
import type { ByteSource } from './file-source.js';
import { numel, type WeightData, type WeightDtype } from './types.js';

/** Bytes per element of each stored dtype. */
export const ELEMENT_SIZE: Readonly<Record<WeightDtype, number>> = {
  float32: 4,
  float16: 2,
  bfloat16: 2,
  float64: 8,
  int64: 8,
  int32: 4,
  int16: 2,
  int8: 1,
  uint8: 1,
  bool: 1,
};

let halfTable: Float32Array | null = null;
/** float32 value of every IEEE half bit pattern (built once, 256 KB). */
function halfToFloatTable(): Float32Array {
  if (halfTable) return halfTable;
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, m = h & 0x3ff;
    t[h] = e === 0 ? s * m * 2 ** -24 : e === 31 ? (m ? NaN : s * Infinity) : s * (1 + m / 1024) * 2 ** (e - 15);
  }
  return (halfTable = t);
}

/** Decodes `count` little-endian elements of `dtype` from `raw` (which starts at an aligned buffer offset 0 or a multiple of the element size). */
export function decodeElements(raw: Uint8Array, dtype: WeightDtype, count: number): WeightData {
  const es = ELEMENT_SIZE[dtype];
  const r = raw.byteOffset % es === 0 ? raw : raw.slice(0, count * es);
  const ab = r.buffer, ao = r.byteOffset;
  switch (dtype) {
    case 'float32':
      return new Float32Array(ab, ao, count).slice();
    case 'float64':
      return Float32Array.from(new Float64Array(ab, ao, count));
    case 'float16': {
      const t = halfToFloatTable(), src = new Uint16Array(ab, ao, count), out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = t[src[i]];
      return out;
    }
    case 'bfloat16': {
      const src = new Uint16Array(ab, ao, count), bits = new Uint32Array(count);
      for (let i = 0; i < count; i++) bits[i] = src[i] << 16;
      return new Float32Array(bits.buffer);
    }
    case 'int64':
      return new BigInt64Array(ab, ao, count).slice();
    case 'int32':
      return new Int32Array(ab, ao, count).slice();
    case 'int16':
      return Int32Array.from(new Int16Array(ab, ao, count));
    case 'int8':
      return Int32Array.from(new Int8Array(ab, ao, count));
    case 'uint8':
    case 'bool':
      return Int32Array.from(new Uint8Array(ab, ao, count));
  }
}

/** The typed array `readElements` reads `dtype` into without conversion, or null when a conversion is needed. */
function directArray(dtype: WeightDtype, n: number): WeightData | null {
  if (dtype === 'float32') return new Float32Array(n);
  if (dtype === 'int64') return new BigInt64Array(n);
  if (dtype === 'int32') return new Int32Array(n);
  return null;
}

/** True when `strides` are the C-order strides of `shape` (size-1 dimensions ignored). */
export function isContiguous(shape: readonly number[], strides: readonly number[]): boolean {
  let expect = 1;
  for (let k = shape.length - 1; k >= 0; k--) {
    if (shape[k] !== 1 && strides[k] !== expect) return false;
    expect *= shape[k];
  }
  return true;
}

/**
 * Reads a tensor whose storage starts at file offset `pos`: `shape` viewed with element
 * `storageOffset` and `strides` (C-order strides when omitted); `storageNumel` bounds the view.
 * Contiguous float32/int32/int64 tensors go straight from the file into their final array.
 */
export async function readTensorData(
  src: ByteSource,
  pos: number,
  dtype: WeightDtype,
  shape: readonly number[],
  what: string,
  view: { storageOffset?: number; strides?: readonly number[]; storageNumel?: number } = {},
): Promise<WeightData> {
  const es = ELEMENT_SIZE[dtype], n = numel(shape), off = view.storageOffset ?? 0;
  const strides = view.strides ?? cStrides(shape);
  if (strides.length !== shape.length || strides.some((s) => !Number.isInteger(s) || s < 0) || shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new HfplError('E_DATA', `${src.path}: corrupt: ${what} has shape [${shape.join(', ')}] with strides [${strides.join(', ')}]`);
  }
  let span = n === 0 ? 0 : 1;
  if (n > 0) for (let k = 0; k < shape.length; k++) span += (shape[k] - 1) * strides[k];
  if (view.storageNumel !== undefined && off + span > view.storageNumel) {
    throw new HfplError('E_DATA', `${src.path}: corrupt: ${what} reaches element ${off + span} of a storage of ${view.storageNumel}`);
  }
  const start = pos + off * es;
  // Check the range before allocating: a corrupt shape must not ask for terabytes.
  if (start + span * es > src.size) {
    throw new HfplError('E_DATA', `${src.path}: truncated or corrupt: ${what} (shape [${shape.join(', ')}]) needs bytes ${start}..${start + span * es} but there are ${src.size}`);
  }
  if (isContiguous(shape, strides)) {
    const direct = directArray(dtype, n);
    if (direct) {
      await src.readInto(start, direct, what);
      return direct;
    }
    return decodeElements(await src.read(start, n * es, what), dtype, n);
  }
  const flat = decodeElements(await src.read(start, span * es, what), dtype, span);
  return gather(flat, shape, strides);
}

/** C-order strides of `shape`. */
export function cStrides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let k = shape.length - 1; k >= 0; k--) {
    s[k] = acc;
    acc *= shape[k];
  }
  return s;
}

/** Copies the strided view of `flat` (offset 0) into a new contiguous array. */
function gather(flat: WeightData, shape: readonly number[], strides: readonly number[]): WeightData {
  const n = numel(shape), r = shape.length;
  const out = flat instanceof Float32Array ? new Float32Array(n) : flat instanceof BigInt64Array ? new BigInt64Array(n) : new Int32Array(n);
  if (n === 0) return out;
  const idx = new Array<number>(r).fill(0);
  // Same element type on both sides (number or bigint); the casts only satisfy the checker.
  const o = out as Float32Array, f = flat as Float32Array;
  let src = 0;
  for (let i = 0; i < n; i++) {
    o[i] = f[src];
    for (let k = r - 1; k >= 0; k--) {
      idx[k]++;
      src += strides[k];
      if (idx[k] < shape[k]) break;
      src -= strides[k] * shape[k];
      idx[k] = 0;
    }
  }
  return out;
}
