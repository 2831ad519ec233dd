/**
 * NumPy `.npy` (format version 1.0) for the arrays hfpl stores (CAMs: float32; label maps:
 * uint8). Little-endian, C order. `encodeNpy` / `decodeNpy` round-trip exactly and read what
 * `numpy.save` writes for these dtypes.
 */
import { HfplError } from '../errors.js';

export type NpyArray = Float32Array | Float64Array | Uint8Array | Int32Array | Uint16Array | Int16Array;

const DESCR: Record<string, string> = {
  Float32Array: '<f4', Float64Array: '<f8', Uint8Array: '|u1', Int32Array: '<i4', Uint16Array: '<u2', Int16Array: '<i2',
};
const CTOR: Record<string, new (buf: ArrayBuffer) => NpyArray> = {
  '<f4': Float32Array, '<f8': Float64Array, '|u1': Uint8Array, '<u1': Uint8Array, '<i4': Int32Array, '<u2': Uint16Array, '<i2': Int16Array,
};

export interface NpyData {
  data: NpyArray;
  shape: number[];
}

/** Encodes an array with its shape as `.npy` bytes. */
export function encodeNpy(data: NpyArray, shape: number[]): Uint8Array {
  const descr = DESCR[data.constructor.name];
  if (!descr) throw new HfplError('E_ARG', `npy: unsupported array type ${data.constructor.name}`);
  const n = shape.reduce((a, b) => a * b, 1);
  if (n !== data.length) throw new HfplError('E_ARG', `npy: shape [${shape}] holds ${n} values, array has ${data.length}`);
  const shapeStr = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeStr}, }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0);
  out[8] = header.length & 0xff;
  out[9] = header.length >> 8;
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 10 + header.length);
  return out;
}

/** Decodes `.npy` bytes (version 1.x/2.x, little-endian, C order). `name` is used in errors. */
export function decodeNpy(bytes: Uint8Array, name = 'npy'): NpyData {
  if (bytes.length < 10 || bytes[0] !== 0x93 || String.fromCharCode(...bytes.subarray(1, 6)) !== 'NUMPY') {
    throw new HfplError('E_DATA', `${name}: not a .npy file`);
  }
  const major = bytes[6];
  const hlen = major === 1 ? bytes[8] | (bytes[9] << 8) : bytes[8] | (bytes[9] << 8) | (bytes[10] << 16) | (bytes[11] << 24);
  const hstart = major === 1 ? 10 : 12;
  const header = String.fromCharCode(...bytes.subarray(hstart, hstart + hlen));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeStr = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !CTOR[descr] || fortran !== 'False' || shapeStr === undefined) {
    throw new HfplError('E_DATA', `${name}: unsupported .npy header ${header.trim()}`);
  }
  const shape = shapeStr.split(',').map((s) => s.trim()).filter((s) => s.length > 0).map(Number);
  const n = shape.reduce((a, b) => a * b, 1);
  const start = hstart + hlen;
  const ctor = CTOR[descr];
  const bytesPer = (ctor as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
  if (bytes.length - start < n * bytesPer) throw new HfplError('E_DATA', `${name}: truncated .npy (shape [${shape}])`);
  // Uint8Array.prototype.slice copies even for a Node Buffer (whose own slice is a view).
  const copy = Uint8Array.prototype.slice.call(bytes, start, start + n * bytesPer);
  return { data: new ctor(copy.buffer), shape };
}
