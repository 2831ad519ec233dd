/**
 * Writes a state dict as a PyTorch zip checkpoint that `torch.load` reads (the layout torch.save
 * uses: `archive/data.pkl` (an OrderedDict of `_rebuild_tensor_v2` calls with storage persistent
 * ids), `archive/data/<i>` raw little-endian storages, 64-byte aligned, `archive/version`).
 * Stored (uncompressed) records, no zip64: files up to 4 GB. Atomic (temp name, then renamed).
 */
import * as zlib from 'node:zlib';
import { HfplError } from '../errors.js';
import { writeStreamAtomic } from '../util/atomic-write.js';
import { writeAll } from './file-source.js';
import { PickleWriter } from './pickle-write.js';
import { numel, type WeightData } from './types.js';

/** A tensor to write, optionally as a view (storage offset + strides) into `data` as its storage. */
export interface TorchTensorToWrite {
  shape: readonly number[];
  /** The storage: Float32Array, BigInt64Array, Int32Array, Float64Array or Uint8Array (raw bytes of any dtype with `storage`). */
  data: WeightData | Float64Array | Uint8Array | Uint16Array;
  /** Storage class name (e.g. 'HalfStorage' for float16 bits in a Uint16Array); default from the array type. */
  storage?: string;
  /** View of `data`: element offset (default 0). */
  storageOffset?: number;
  /** View of `data`: strides (default C order of `shape`). */
  strides?: readonly number[];
}

const STORAGE: Record<string, string> = { Float32Array: 'FloatStorage', BigInt64Array: 'LongStorage', Int32Array: 'IntStorage', Float64Array: 'DoubleStorage', Uint8Array: 'ByteStorage' };

let crcTable: Int32Array | null = null;
function crc32(b: Uint8Array): number {
  const native = (zlib as { crc32?: (d: Uint8Array) => number }).crc32;
  if (native) return native(b) >>> 0;
  if (!crcTable) {
    crcTable = new Int32Array(256);
    for (let i = 0; i < 256; i++) {
      let c = i;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[i] = c;
    }
  }
  let c = -1;
  for (let i = 0; i < b.length; i++) c = crcTable[(c ^ b[i]) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

function cStrides(shape: readonly number[]): number[] {
  const s: number[] = [];
  let acc = 1;
  for (let k = shape.length - 1; k >= 0; k--) {
    s[k] = acc;
    acc *= shape[k];
  }
  return s;
}

/** The data.pkl of a state dict: OrderedDict{name: _rebuild_tensor_v2(storage i, offset, size, stride, False, OrderedDict())}. */
export function stateDictPickle(tensors: ReadonlyMap<string, TorchTensorToWrite>): Uint8Array {
  const w = new PickleWriter().proto().global('collections', 'OrderedDict').emptyTuple().reduce().mark();
  let i = 0;
  for (const [name, t] of tensors) {
    const storage = t.storage ?? STORAGE[t.data.constructor.name];
    if (!storage) throw new HfplError('E_ARG', `writeTorchZip: tensor ${name} is a ${t.data.constructor.name}`);
    w.str(name).global('torch._utils', '_rebuild_tensor_v2').mark();
    w.mark().str('storage').global('torch', storage).str(String(i++)).str('cpu').int(t.data.length).tuple().binPersId();
    w.int(t.storageOffset ?? 0).intTuple(t.shape).intTuple(t.strides ?? cStrides(t.shape)).bool(false);
    w.global('collections', 'OrderedDict').emptyTuple().reduce();
    w.tuple().reduce();
  }
  return w.setItems().stop().bytes();
}

interface ZipRecord {
  name: string;
  data: Uint8Array;
}

/**
 * Writes `tensors` (each `data` is one storage; a view when `storageOffset`/`strides` are given)
 * as a torch.save-style zip at `path`. Streams record by record.
 */
export async function writeTorchZip(path: string, tensors: ReadonlyMap<string, TorchTensorToWrite>, stem = 'archive'): Promise<void> {
  for (const [name, t] of tensors) {
    if (t.strides === undefined && (t.storageOffset ?? 0) === 0 && numel(t.shape) !== t.data.length) {
      throw new HfplError('E_ARG', `writeTorchZip: tensor ${name} has ${t.data.length} values for shape [${t.shape.join(', ')}]`);
    }
  }
  const storages = [...tensors.values()].map((t) => new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  await writeTorchArchive(path, stateDictPickle(tensors), storages, stem);
}

/**
 * Writes a torch.save-layout zip from a ready data.pkl whose persistent ids name storages
 * '0', '1', ... (`storages[i]` is the raw bytes of storage i).
 */
export async function writeTorchArchive(path: string, pkl: Uint8Array, storages: readonly Uint8Array[], stem = 'archive'): Promise<void> {
  const enc = new TextEncoder();
  const records: ZipRecord[] = [{ name: `${stem}/data.pkl`, data: pkl }];
  storages.forEach((data, i) => records.push({ name: `${stem}/data/${i}`, data }));
  records.push({ name: `${stem}/version`, data: enc.encode('3\n') });
  records.push({ name: `${stem}/byteorder`, data: enc.encode('little') });

  await writeStreamAtomic(path, async (fh) => {
    const central: Uint8Array[] = [];
    let pos = 0;
    for (const r of records) {
      const name = enc.encode(r.name);
      // Pad the local header's extra field so the data starts on a 64-byte boundary (as torch does).
      const base = pos + 30 + name.length + 4;
      const pad = (64 - (base % 64)) % 64;
      const crc = crc32(r.data);
      if (pos > 0xfffffff0 || r.data.length > 0xfffffff0) throw new HfplError('E_ARG', `writeTorchZip: ${path} would need zip64 (over 4 GB); write safetensors instead`);
      const local = Buffer.alloc(30 + name.length + 4 + pad);
      local.writeUInt32LE(0x04034b50, 0);
      local.writeUInt16LE(20, 4);
      local.writeUInt16LE(0, 6);
      local.writeUInt16LE(0, 8);
      local.writeUInt32LE(0, 10);
      local.writeUInt32LE(crc, 14);
      local.writeUInt32LE(r.data.length, 18);
      local.writeUInt32LE(r.data.length, 22);
      local.writeUInt16LE(name.length, 26);
      local.writeUInt16LE(4 + pad, 28);
      local.set(name, 30);
      local.writeUInt16LE(0x4246, 30 + name.length); // "FB": torch's padding extra field
      local.writeUInt16LE(pad, 32 + name.length);
      const cen = Buffer.alloc(46 + name.length);
      cen.writeUInt32LE(0x02014b50, 0);
      cen.writeUInt16LE(20, 4);
      cen.writeUInt16LE(20, 6);
      cen.writeUInt32LE(crc, 16);
      cen.writeUInt32LE(r.data.length, 20);
      cen.writeUInt32LE(r.data.length, 24);
      cen.writeUInt16LE(name.length, 28);
      cen.writeUInt32LE(pos, 42);
      cen.set(name, 46);
      central.push(cen);
      await writeAll(fh, local);
      await writeAll(fh, r.data);
      pos += local.length + r.data.length;
    }
    const cdSize = central.reduce((a, c) => a + c.length, 0);
    for (const c of central) await writeAll(fh, c);
    const end = Buffer.alloc(22);
    end.writeUInt32LE(0x06054b50, 0);
    end.writeUInt16LE(records.length, 8);
    end.writeUInt16LE(records.length, 10);
    end.writeUInt32LE(cdSize, 12);
    end.writeUInt32LE(pos, 16);
    await writeAll(fh, end);
  });
}

const LEGACY_STORAGE: Record<string, string> = { Float32Array: 'FloatStorage', BigInt64Array: 'LongStorage', Int32Array: 'IntStorage', Float64Array: 'DoubleStorage', Uint8Array: 'ByteStorage' };

/**
 * Writes `tensors` in PyTorch's legacy (pre-1.6) format as `_legacy_save` does: pickles of the
 * magic number, protocol 1001 and sys info, the OrderedDict with 6-tuple persistent ids
 * `('storage', torch.FloatStorage, key, 'cpu', numel, None)`, the sorted storage keys, then per
 * key an int64 element count and the raw data. Tensors passing the same `data` array share a
 * storage. For tests and benches of the legacy reader (torch.load reads the result). Atomic.
 */
export async function writeTorchLegacy(path: string, tensors: ReadonlyMap<string, TorchTensorToWrite>): Promise<void> {
  const keys = new Map<TorchTensorToWrite['data'], string>();
  const head = [new PickleWriter().proto().int(0x1950a86a20f9469cfc6cn).stop().bytes(), new PickleWriter().proto().int(1001).stop().bytes()];
  const sys = new PickleWriter().proto().emptyDict().mark().str('protocol_version').int(1001).str('little_endian').bool(true);
  sys.str('type_sizes').emptyDict().mark().str('short').int(2).str('int').int(4).str('long').int(4).setItems().setItems().stop();
  head.push(sys.bytes());
  const w = new PickleWriter().proto().global('collections', 'OrderedDict').emptyTuple().reduce().mark();
  for (const [name, t] of tensors) {
    if (!keys.has(t.data)) keys.set(t.data, String(94000000 + keys.size * 1024)); // addresses, as in real files
    const storage = t.storage ?? LEGACY_STORAGE[t.data.constructor.name];
    if (!storage) throw new HfplError('E_ARG', `writeTorchLegacy: tensor ${name} is a ${t.data.constructor.name}`);
    w.str(name).global('torch._utils', '_rebuild_tensor_v2').mark();
    w.mark().str('storage').global('torch', storage).str(keys.get(t.data)!).str('cpu').int(t.data.length).none().tuple().binPersId();
    w.int(t.storageOffset ?? 0).intTuple(t.shape).intTuple(t.strides ?? cStrides(t.shape)).bool(false);
    w.global('collections', 'OrderedDict').emptyTuple().reduce().tuple().reduce();
  }
  head.push(w.setItems().stop().bytes());
  const sorted = [...keys].sort((a, b) => (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  const kl = new PickleWriter().proto().byte(0x5d).mark();
  for (const [, k] of sorted) kl.str(k);
  head.push(kl.byte(0x65).stop().bytes());

  await writeStreamAtomic(path, async (fh) => {
    for (const h of head) await writeAll(fh, h);
    for (const [data] of sorted) {
      const n = Buffer.alloc(8);
      n.writeBigInt64LE(BigInt(data.length));
      await writeAll(fh, n);
      await writeAll(fh, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    }
  });
}
