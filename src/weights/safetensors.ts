/**
 * safetensors (huggingface/safetensors): u64 LE header length N, N bytes of JSON
 * `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {string: string}}`
 * (space-padded), then the raw little-endian data; offsets are relative to the data section.
 */
import { HfplError } from '../errors.js';
import { writeStreamAtomic } from '../util/atomic-write.js';
import { writeAll, type FileSource } from './file-source.js';
import { ELEMENT_SIZE, readTensorData } from './tensor-data.js';
import { numel, type WeightData, type WeightDtype, type WeightFile, type WeightTensor } from './types.js';

const ST_TO_DTYPE: Readonly<Record<string, WeightDtype>> = {
  F32: 'float32',
  F16: 'float16',
  BF16: 'bfloat16',
  F64: 'float64',
  I64: 'int64',
  I32: 'int32',
  I16: 'int16',
  I8: 'int8',
  U8: 'uint8',
  BOOL: 'bool',
};

/** Largest header accepted (the official reader's limit is 100 MB). */
const MAX_HEADER = 100_000_000;

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

/** Reads every tensor of a safetensors file. */
export async function readSafetensors(src: FileSource): Promise<WeightFile> {
  const bad = (what: string): never => {
    throw new HfplError('E_DATA', `${src.path}: truncated or corrupt safetensors file: ${what}`);
  };
  if (src.size < 8) bad(`${src.size} bytes, no header length`);
  const n = Number(new DataView((await src.read(0, 8, 'header length')).buffer).getBigUint64(0, true));
  if (n > MAX_HEADER || 8 + n > src.size) bad(`header length ${n} does not fit in ${src.size} bytes`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(await src.read(8, n, 'header')));
  } catch {
    return bad('header is not JSON');
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) bad('header is not a JSON object');
  const dataStart = 8 + n;
  const meta: Record<string, unknown> = {};
  const entries: [string, HeaderEntry][] = [];
  for (const [name, v] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (v && typeof v === 'object') Object.assign(meta, v);
      continue;
    }
    const e = v as HeaderEntry;
    const dtype = e && ST_TO_DTYPE[e.dtype];
    if (!dtype) bad(`tensor ${name} has dtype ${JSON.stringify(e?.dtype)} (known: ${Object.keys(ST_TO_DTYPE).join(', ')})`);
    if (!Array.isArray(e.shape) || e.shape.some((d) => !Number.isInteger(d) || d < 0)) bad(`tensor ${name} has shape ${JSON.stringify(e.shape)}`);
    const [b, end] = Array.isArray(e.data_offsets) ? e.data_offsets : [NaN, NaN];
    if (!Number.isInteger(b) || !Number.isInteger(end) || end - b !== numel(e.shape) * ELEMENT_SIZE[dtype]) {
      bad(`tensor ${name}: data_offsets ${JSON.stringify(e.data_offsets)} do not match shape [${e.shape.join(', ')}] of ${e.dtype}`);
    }
    if (dataStart + end > src.size) bad(`tensor ${name} ends at byte ${dataStart + end} but the file has ${src.size}`);
    entries.push([name, e]);
  }
  entries.sort((a, b) => a[1].data_offsets[0] - b[1].data_offsets[0]);
  const tensors = new Map<string, WeightTensor>();
  for (const [name, e] of entries) {
    const dtype = ST_TO_DTYPE[e.dtype];
    const data = await readTensorData(src, dataStart + e.data_offsets[0], dtype, e.shape, `tensor ${name}`);
    tensors.set(name, { name, dtype, shape: e.shape.slice(), data });
  }
  return { format: 'safetensors', tensors, meta };
}

/** A tensor to write: the safetensors dtype follows the array (Float32Array -> F32, BigInt64Array -> I64, Int32Array -> I32). */
export interface TensorToWrite {
  shape: readonly number[];
  data: WeightData;
}

function stDtype(data: WeightData): 'F32' | 'I64' | 'I32' {
  if (data instanceof Float32Array) return 'F32';
  if (data instanceof BigInt64Array) return 'I64';
  return 'I32';
}

/**
 * Writes `tensors` as a safetensors file that `safetensors.torch.load_file` reads, atomically
 * (temp name in the same folder, renamed when complete). Tensors are laid out as the official
 * writer does (8-byte types first, then by name) so every tensor is naturally aligned;
 * `metadata` goes to `__metadata__` (values must be strings). Streams tensor by tensor: no
 * copy of the whole file in memory.
 */
export async function writeSafetensors(path: string, tensors: ReadonlyMap<string, TensorToWrite>, metadata?: Record<string, string>): Promise<void> {
  const items = [...tensors].map(([name, t]) => {
    const n = numel(t.shape);
    if (t.data.length !== n) throw new HfplError('E_ARG', `writeSafetensors: tensor ${name} has ${t.data.length} values for shape [${t.shape.join(', ')}]`);
    return { name, t, dtype: stDtype(t.data) };
  });
  items.sort((a, b) => b.t.data.BYTES_PER_ELEMENT - a.t.data.BYTES_PER_ELEMENT || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let off = 0;
  for (const { name, t, dtype } of items) {
    header[name] = { dtype, shape: t.shape.slice(), data_offsets: [off, off + t.data.byteLength] };
    off += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  const jsonBytes = Buffer.byteLength(json, 'utf8');
  json += ' '.repeat((8 - ((8 + jsonBytes) % 8)) % 8);
  const head = Buffer.alloc(8 + Buffer.byteLength(json, 'utf8'));
  head.writeBigUInt64LE(BigInt(head.length - 8), 0);
  head.write(json, 8, 'utf8');

  await writeStreamAtomic(path, async (fh) => {
    await writeAll(fh, head);
    for (const { t } of items) await writeAll(fh, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  });
}
