/**
 * PyTorch checkpoints: the zip format (torch >= 1.6: `<stem>/data.pkl` + `<stem>/data/<key>`)
 * and the legacy format (before 1.6: magic number, protocol 1001, sys info, the object pickle,
 * the sorted storage keys, then per key an int64 element count and the raw data;
 * torch/serialization.py `_legacy_save`). Tensors are read from the file straight into their
 * final arrays; the pickled object is flattened into names (nested dicts joined with '.').
 */
import { HfplError } from '../errors.js';
import type { FileSource } from './file-source.js';
import { PickleEndOfData, unpickle } from './pickle.js';
import { ELEMENT_SIZE, readTensorData } from './tensor-data.js';
import { resolveTorchGlobal, storageFromPid, TensorRef, type StorageRef } from './torch-globals.js';
import { type WeightFile, type WeightTensor } from './types.js';
import { openZipRecord, readZipDirectory, readZipRecord } from './zip.js';

/** Flattens the unpickled object: tensors by dotted name, scalar/string leaves into `meta`. */
export function flattenObject(root: unknown, file = 'checkpoint'): { refs: Map<string, TensorRef>; meta: Record<string, unknown>; containers: string[] } {
  const refs = new Map<string, TensorRef>();
  const meta: Record<string, unknown> = {};
  const onPath = new Set<unknown>();
  const join = (prefix: string, k: unknown): string => (prefix === '' ? String(k) : `${prefix}.${String(k)}`);
  const hasTensor = (v: unknown, depth: number): boolean =>
    v instanceof TensorRef || (depth < 8 && ((v instanceof Map && [...v.values()].some((x) => hasTensor(x, depth + 1))) || (Array.isArray(v) && v.some((x) => hasTensor(x, depth + 1)))));
  const walk = (v: unknown, prefix: string, depth = 0): void => {
    if (depth > 64) throw new HfplError('E_DATA', `${file}: corrupt checkpoint: objects nested more than 64 deep at ${prefix}`);
    if (v instanceof TensorRef) {
      refs.set(prefix === '' ? 'tensor' : prefix, v);
      return;
    }
    if (v !== null && typeof v === 'object') {
      if (onPath.has(v)) return;
      onPath.add(v);
      if (v instanceof Map) for (const [k, x] of v) walk(x, join(prefix, k), depth + 1);
      else if (Array.isArray(v) && hasTensor(v, 0)) v.forEach((x, i) => walk(x, join(prefix, i), depth + 1));
      else if (Array.isArray(v)) meta[prefix] = v.length <= 64 && v.every((x) => x === null || typeof x !== 'object') ? v : `[list of ${v.length}]`;
      else if (v instanceof Uint8Array) meta[prefix] = `[${v.length} bytes]`;
      onPath.delete(v);
      return;
    }
    meta[prefix] = typeof v === 'bigint' ? v.toString() : v;
  };
  walk(root, '');
  const containers = root instanceof Map ? [...root].filter(([, v]) => !(v instanceof TensorRef) && hasTensor(v, 0)).map(([k]) => String(k)) : [];
  return { refs, meta, containers };
}

function refuse(e: unknown): never {
  throw e;
}

/** Reads a checkpoint written by torch.save's zip serialisation. */
export async function readTorchZip(src: FileSource): Promise<WeightFile> {
  const entries = await readZipDirectory(src);
  const pkl = [...entries.keys()].find((n) => n === 'data.pkl' || n.endsWith('/data.pkl'));
  if (!pkl) throw new HfplError('E_DATA', `${src.path}: a zip without data.pkl (not a PyTorch checkpoint)`);
  const prefix = pkl.slice(0, pkl.length - 'data.pkl'.length);
  const order = entries.get(`${prefix}byteorder`);
  if (order && new TextDecoder().decode(await readZipRecord(src, order)).trim() !== 'little') {
    throw new HfplError('E_DATA', `${src.path}: saved on a big-endian machine (byteorder record); hfpl reads little-endian checkpoints only`);
  }
  const storages = new Map<string, StorageRef>();
  const { value } = unpickle(await readZipRecord(src, entries.get(pkl)!), 0, {
    file: src.path,
    resolveGlobal: resolveTorchGlobal,
    persistentLoad: (pid) => storageFromPid(pid, storages),
  });
  const { refs, meta, containers } = flattenObject(value, src.path);
  const tensors = new Map<string, WeightTensor>();
  for (const [name, r] of refs) {
    const e = entries.get(`${prefix}data/${r.storage.key}`);
    if (!e) throw new HfplError('E_DATA', `${src.path}: truncated or corrupt: storage record ${prefix}data/${r.storage.key} of tensor ${name} is missing`);
    const es = ELEMENT_SIZE[r.storage.dtype];
    if (e.size < r.storage.numel * es) {
      throw new HfplError('E_DATA', `${src.path}: corrupt: storage ${r.storage.key} holds ${e.size} bytes, its id says ${r.storage.numel} x ${es}`);
    }
    const { source, offset } = await openZipRecord(src, e);
    const data = await readTensorData(source, offset, r.storage.dtype, r.shape, `tensor ${name}`, {
      storageOffset: r.storageOffset,
      strides: r.strides,
      storageNumel: Math.floor(e.size / es),
    });
    tensors.set(name, { name, dtype: r.storage.dtype, shape: r.shape.slice(), data });
  }
  return { format: 'pth-zip', tensors, meta, containers };
}

/** The legacy magic number, as the first pickle holds it. */
const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;

/** True when the file starts like a legacy torch.save file: PROTO 2, LONG1 of 10 bytes (the magic number). */
export function isLegacyTorchMagic(head: Uint8Array): boolean {
  return head.length >= 4 && head[0] === 0x80 && head[1] === 0x02 && head[2] === 0x8a && head[3] === 0x0a;
}

/** Reads a checkpoint in the pre-1.6 (non-zip) format. */
export async function readTorchLegacy(src: FileSource): Promise<WeightFile> {
  // The five pickles sit at the start and are small next to the storages: read a prefix that
  // holds them, growing it while a pickle runs past its end.
  let len = Math.min(src.size, 1 << 20);
  for (;;) {
    const head = await src.read(0, len, 'pickle header');
    try {
      return await readLegacyWith(src, head);
    } catch (e) {
      if (!(e instanceof PickleEndOfData) || len >= src.size) refuse(e);
      len = Math.min(src.size, len * 4);
    }
  }
}

async function readLegacyWith(src: FileSource, head: Uint8Array): Promise<WeightFile> {
  const plain = { file: src.path, resolveGlobal: () => undefined };
  const magic = unpickle(head, 0, plain);
  if (magic.value !== LEGACY_MAGIC) throw new HfplError('E_DATA', `${src.path}: not a PyTorch checkpoint (wrong magic number)`);
  const proto = unpickle(head, magic.end, plain);
  if (proto.value !== 1001) throw new HfplError('E_DATA', `${src.path}: legacy PyTorch protocol ${String(proto.value)} (hfpl reads 1001)`);
  const sys = unpickle(head, proto.end, plain);
  if (sys.value instanceof Map && sys.value.get('little_endian') === false) {
    throw new HfplError('E_DATA', `${src.path}: saved on a big-endian machine; hfpl reads little-endian checkpoints only`);
  }
  const storages = new Map<string, StorageRef>();
  const obj = unpickle(head, sys.end, { file: src.path, resolveGlobal: resolveTorchGlobal, persistentLoad: (pid) => storageFromPid(pid, storages) });
  const keys = unpickle(head, obj.end, plain);
  if (!Array.isArray(keys.value) || keys.value.some((k) => typeof k !== 'string')) throw new HfplError('E_DATA', `${src.path}: corrupt: the storage key list is not a list of strings`);

  // Storage data: for each key in list order, int64 element count then the raw elements.
  const dtypeOf = new Map<string, StorageRef['dtype']>();
  for (const s of storages.values()) dtypeOf.set(s.key, s.dtype);
  const where = new Map<string, { pos: number; numel: number }>();
  let pos = keys.end;
  for (const key of keys.value as string[]) {
    const dtype = dtypeOf.get(key);
    if (!dtype) throw new HfplError('E_DATA', `${src.path}: corrupt: storage ${key} is listed but no tensor uses it`);
    const count = Number(new DataView((await src.read(pos, 8, `size of storage ${key}`)).buffer).getBigInt64(0, true));
    if (count < 0) throw new HfplError('E_DATA', `${src.path}: corrupt: storage ${key} has size ${count}`);
    where.set(key, { pos: pos + 8, numel: count });
    pos += 8 + count * ELEMENT_SIZE[dtype];
    if (pos > src.size) throw new HfplError('E_DATA', `${src.path}: truncated: storage ${key} ends at byte ${pos} but the file has ${src.size}`);
  }

  const { refs, meta, containers } = flattenObject(obj.value, src.path);
  const tensors = new Map<string, WeightTensor>();
  for (const [name, r] of refs) {
    const w = where.get(r.storage.key);
    if (!w) throw new HfplError('E_DATA', `${src.path}: corrupt: storage ${r.storage.key} of tensor ${name} is not in the file`);
    const data = await readTensorData(src, w.pos, r.storage.dtype, r.shape, `tensor ${name}`, {
      storageOffset: r.storage.viewOffset + r.storageOffset,
      strides: r.strides,
      storageNumel: w.numel,
    });
    tensors.set(name, { name, dtype: r.storage.dtype, shape: r.shape.slice(), data });
  }
  return { format: 'pth-legacy', tensors, meta, containers };
}
