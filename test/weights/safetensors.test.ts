/** safetensors: hfpl's writer round-trips through its reader, in the official layout. */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { readWeights, writeSafetensors, type TensorToWrite } from '../../src/weights/index.js';
import { sharedPath } from '../shared-path.js';

const dir = mkdtempSync(join(tmpdir(), 'hfpl-test-st-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('round trip: names, shapes, dtypes, values and metadata; 8-byte types first, header padded to 8', async () => {
  const path = join(dir, 'rt.safetensors');
  const tensors = new Map<string, TensorToWrite>([
    ['conv.weight', { shape: [2, 1, 1, 3], data: Float32Array.from([1.5, -2, 3e-8, 0, -0, 1e30]) }],
    ['bn.num_batches_tracked', { shape: [], data: BigInt64Array.from([1007n]) }],
    ['idx', { shape: [3], data: Int32Array.from([-1, 0, 9]) }],
    ['empty', { shape: [0, 4], data: new Float32Array(0) }],
  ]);
  await writeSafetensors(path, tensors, { format: 'pt', note: 'ü' });
  expect(readdirSync(dir)).toEqual(['rt.safetensors']);
  const bytes = readFileSync(path);
  const n = Number(bytes.readBigUInt64LE(0));
  expect((8 + n) % 8).toBe(0);
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8'));
  expect(header.__metadata__).toEqual({ format: 'pt', note: 'ü' });
  expect(header['bn.num_batches_tracked']).toEqual({ dtype: 'I64', shape: [], data_offsets: [0, 8] });
  expect(header['conv.weight']).toEqual({ dtype: 'F32', shape: [2, 1, 1, 3], data_offsets: [8, 32] });
  expect(bytes.length).toBe(8 + n + 8 + 24 + 0 + 12);

  const f = await readWeights(path);
  expect(f.format).toBe('safetensors');
  expect(f.meta).toEqual({ format: 'pt', note: 'ü' });
  for (const [k, t] of tensors) {
    const r = f.tensors.get(k)!;
    expect(r.shape).toEqual(t.shape);
    expect(r.data).toEqual(t.data);
  }
  expect(Object.is((f.tensors.get('conv.weight')!.data as Float32Array)[4], -0)).toBe(true);
});

test('F16, BF16 and F64 entries are read as float32', async () => {
  const header = JSON.stringify({
    h: { dtype: 'F16', shape: [2], data_offsets: [0, 4] },
    b: { dtype: 'BF16', shape: [1], data_offsets: [4, 6] },
    d: { dtype: 'F64', shape: [1], data_offsets: [8, 16] },
  });
  const head = Buffer.alloc(8);
  head.writeBigUInt64LE(BigInt(header.length));
  const data = Buffer.alloc(16);
  data.writeUInt16LE(0x3c00, 0);
  data.writeUInt16LE(0xb800, 2); // -0.5
  data.writeUInt16LE(0x4049, 4); // bf16 3.140625
  data.writeDoubleLE(2.5, 8);
  const path = join(dir, 'half.safetensors');
  writeFileSync(path, Buffer.concat([head, Buffer.from(header), data]));
  const f = await readWeights(path);
  expect(Array.from(f.tensors.get('h')!.data as Float32Array)).toEqual([1, -0.5]);
  expect(Array.from(f.tensors.get('b')!.data as Float32Array)).toEqual([3.140625]);
  expect(Array.from(f.tensors.get('d')!.data as Float32Array)).toEqual([2.5]);
  expect([...f.tensors.values()].map((t) => t.dtype)).toEqual(['float16', 'bfloat16', 'float64']);
});

test('writer refuses a tensor whose data does not fit its shape, leaving no file', async () => {
  const path = join(dir, 'bad.safetensors');
  await expect(writeSafetensors(path, new Map([['w', { shape: [2, 2], data: new Float32Array(3) }]]))).rejects.toThrow('writeSafetensors: tensor w has 3 values for shape [2, 2]');
  expect(readdirSync(dir)).not.toContain('bad.safetensors');
});

test.each(['seam', 'aff'])('%s.safetensors (written like the official writer) read and written back is byte-identical', async (net) => {
  const src = sharedPath(`fixtures/reference-nets/${net}.safetensors`);
  const f = await readWeights(src);
  const out = join(dir, `${net}.safetensors`);
  await writeSafetensors(out, f.tensors, f.meta as Record<string, string>);
  expect(Buffer.compare(readFileSync(out), readFileSync(src))).toBe(0);
});
