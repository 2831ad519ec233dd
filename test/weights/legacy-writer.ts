/**
 * Test helper: a checkpoint in PyTorch's legacy (pre-1.6) format as `_legacy_save` writes it —
 * pickles of the magic number, protocol 1001 and sys info, the object with 6-tuple persistent ids
 * `('storage', torch.FloatStorage, key, 'cpu', numel, None)`, the storage keys, then per key an
 * int64 element count and the raw data. Tensors passing the same `data` array share a storage.
 */
import { writeFileSync } from 'node:fs';
import { PickleWriter } from '../../src/weights/pickle-write.js';
import type { TorchTensorToWrite } from '../../src/weights/torch-write.js';

const STORAGE: Record<string, string> = { Float32Array: 'FloatStorage', BigInt64Array: 'LongStorage', Float64Array: 'DoubleStorage' };

export function writeTorchLegacy(path: string, tensors: ReadonlyMap<string, TorchTensorToWrite>): void {
  const keys = new Map<TorchTensorToWrite['data'], string>();
  const head = [
    new PickleWriter().proto().int(0x1950a86a20f9469cfc6cn).stop().bytes(),
    new PickleWriter().proto().int(1001).stop().bytes(),
  ];
  const sys = new PickleWriter().proto().emptyDict().mark().str('protocol_version').int(1001).str('little_endian').bool(true);
  sys.str('type_sizes').emptyDict().mark().str('short').int(2).str('int').int(4).str('long').int(4).setItems().setItems().stop();
  head.push(sys.bytes());
  const w = new PickleWriter().proto().global('collections', 'OrderedDict').emptyTuple().reduce().mark();
  for (const [name, t] of tensors) {
    if (!keys.has(t.data)) keys.set(t.data, String(94000000 + keys.size * 1024)); // addresses, as in real files
    const key = keys.get(t.data)!;
    const shape = [...t.shape];
    const strides = t.strides ?? shape.map((_, k) => shape.slice(k + 1).reduce((a, b) => a * b, 1));
    w.str(name).global('torch._utils', '_rebuild_tensor_v2').mark();
    w.mark().str('storage').global('torch', t.storage ?? STORAGE[t.data.constructor.name]).str(key).str('cpu').int(t.data.length).none().tuple().binPersId();
    w.int(t.storageOffset ?? 0).intTuple(shape).intTuple(strides).bool(false).global('collections', 'OrderedDict').emptyTuple().reduce().tuple().reduce();
  }
  head.push(w.setItems().stop().bytes());
  const sorted = [...keys.values()].sort();
  const kl = new PickleWriter().proto().byte(0x5d).mark();
  for (const k of sorted) kl.str(k);
  head.push(kl.byte(0x65).stop().bytes());
  const parts: Uint8Array[] = [...head];
  for (const k of sorted) {
    const data = [...keys].find(([, v]) => v === k)![0];
    const n = Buffer.alloc(8);
    n.writeBigInt64LE(BigInt(data.length));
    parts.push(n, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }
  writeFileSync(path, Buffer.concat(parts));
}
