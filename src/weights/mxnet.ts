/**
 * MXNet NDArray lists (`.params`, `mx.nd.save` / `mx.model.save_checkpoint`), little-endian
 * (apache/mxnet src/ndarray/ndarray.cc NDArray::Save/Load, dmlc serializer):
 *
 *     u64 0x112, u64 reserved, u64 count, count x NDArray, u64 count, count x (u64 len, utf-8 name)
 *
 * Each NDArray starts with a u32 that tells its layout apart, exactly as NDArray::Load does:
 * 0xF993FAC9 (V2, MXNet >= 1.0): i32 storage type (0 = dense), i32 ndim, i64 dims;
 * 0xF993FAC8 (V1, 0.10.1-0.12): i32 ndim, i64 dims; anything else (legacy): that u32 is ndim,
 * then u32 dims. Then i32 dev_type, i32 dev_id, i32 type flag, the data. An array with no
 * dimensions is empty and has nothing after its shape.
 */
import { HfplError } from '../errors.js';
import type { FileSource } from './file-source.js';
import { ELEMENT_SIZE, readTensorData } from './tensor-data.js';
import { numel, type WeightDtype, type WeightFile, type WeightTensor } from './types.js';

const LIST_MAGIC = 0x112n;
const V2_MAGIC = 0xf993fac9, V1_MAGIC = 0xf993fac8;

/** mshadow type flags -> dtype (mshadow/base.h). */
const TYPE_FLAGS: Readonly<Record<number, WeightDtype>> = { 0: 'float32', 1: 'float64', 2: 'float16', 3: 'uint8', 4: 'int32', 5: 'int8', 6: 'int64', 7: 'bool', 12: 'bfloat16' };

/** Which per-array layout a `.params` file uses (reported in `meta.layout`). */
export type MxnetLayout = 'v2' | 'v1' | 'legacy';

/** True when the file starts with the NDArray list magic 0x112. */
export function isMxnetMagic(head: Uint8Array): boolean {
  return head.length >= 16 && new DataView(head.buffer, head.byteOffset, head.byteLength).getBigUint64(0, true) === LIST_MAGIC && head.subarray(8, 16).every((b) => b === 0);
}

/** Reads every array of an MXNet `.params` file under its stored name (`arg:`/`aux:` prefixes kept). */
export async function readMxnetParams(src: FileSource): Promise<WeightFile> {
  let pos = 0;
  const bad = (what: string): never => {
    throw new HfplError('E_DATA', `${src.path}: truncated or corrupt MXNet .params file: ${what}`);
  };
  const take = async (n: number, what: string): Promise<DataView> => {
    if (pos + n > src.size) bad(`${what} at byte ${pos} runs past the end (${src.size} bytes)`);
    const b = await src.read(pos, n, what);
    pos += n;
    return new DataView(b.buffer);
  };
  const u64 = async (what: string): Promise<number> => {
    const v = (await take(8, what)).getBigUint64(0, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) bad(`${what} ${v} is too large`);
    return Number(v);
  };
  const i32 = async (what: string): Promise<number> => (await take(4, what)).getInt32(0, true);

  const head = await take(24, 'list header');
  if (head.getBigUint64(0, true) !== LIST_MAGIC) bad('no 0x112 list magic');
  const count = Number(head.getBigUint64(16, true));
  if (count > 1e7) bad(`array count ${count}`);
  const arrays: { dtype: WeightDtype; shape: number[]; data: WeightTensor['data'] }[] = [];
  const layouts = new Set<MxnetLayout>();
  for (let i = 0; i < count; i++) {
    const what = `array ${i}`;
    const tag = (await take(4, what)).getUint32(0, true);
    let shape: number[];
    if (tag === V2_MAGIC || tag === V1_MAGIC) {
      layouts.add(tag === V2_MAGIC ? 'v2' : 'v1');
      if (tag === V2_MAGIC) {
        const stype = await i32(`${what} storage type`);
        if (stype !== 0) bad(`${what} has storage type ${stype} (only dense arrays are supported)`);
      }
      const ndim = await i32(`${what} ndim`);
      if (ndim < 0 || ndim > 32) bad(`${what} has ndim ${ndim}`);
      const dims = await take(8 * ndim, `${what} shape`);
      shape = Array.from({ length: ndim }, (_, k) => Number(dims.getBigInt64(8 * k, true)));
    } else {
      layouts.add('legacy');
      if (tag > 32) bad(`${what} starts with ${tag}: neither a layout magic nor a plausible ndim`);
      const dims = await take(4 * tag, `${what} shape`);
      shape = Array.from({ length: tag }, (_, k) => dims.getUint32(4 * k, true));
    }
    if (shape.some((d) => d < 0)) bad(`${what} has shape [${shape.join(', ')}]`);
    if (shape.length === 0) {
      arrays.push({ dtype: 'float32', shape: [0], data: new Float32Array(0) });
      continue;
    }
    const ctx = await take(8, `${what} context`);
    if (ctx.getInt32(0, true) < 1) bad(`${what} has device type ${ctx.getInt32(0, true)}`);
    const flag = await i32(`${what} type flag`);
    const dtype = TYPE_FLAGS[flag];
    if (!dtype) bad(`${what} has type flag ${flag} (known: ${Object.keys(TYPE_FLAGS).join(', ')})`);
    const data = await readTensorData(src, pos, dtype, shape, what);
    pos += numel(shape) * ELEMENT_SIZE[dtype];
    arrays.push({ dtype, shape, data });
  }
  const nNames = await u64('name count');
  if (nNames !== 0 && nNames !== count) bad(`${nNames} names for ${count} arrays`);
  const dec = new TextDecoder('utf-8');
  const tensors = new Map<string, WeightTensor>();
  for (let i = 0; i < count; i++) {
    let name = String(i);
    if (nNames > 0) {
      const len = await u64(`name ${i} length`);
      if (len > 1 << 16) bad(`name ${i} is ${len} bytes long`);
      name = dec.decode(new Uint8Array((await take(len, `name ${i}`)).buffer));
    }
    if (tensors.has(name)) bad(`name ${name} appears twice`);
    tensors.set(name, { name, ...arrays[i] });
  }
  if (pos !== src.size) bad(`${src.size - pos} unexpected bytes after the names`);
  return { format: 'mxnet', tensors, meta: { layout: [...layouts].join('+') } };
}
