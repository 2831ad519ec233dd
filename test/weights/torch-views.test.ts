/**
 * PyTorch zip checkpoints (written with hfpl's own torch.save-layout writer, which torch.load
 * reads) with views, zero strides and every storage dtype read back to hand-derived values.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { readWeights, writeTorchZip, type TorchTensorToWrite } from '../../src/weights/index.js';
import { writeTorchLegacy } from '../../src/weights/torch-write.js';

const dir = mkdtempSync(join(tmpdir(), 'hfpl-test-weights-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const base = Float32Array.from({ length: 24 }, (_, i) => i); // a 4 x 6 storage: value = 6 * row + col

test('views: transpose, slice with offset, a shared row and zero strides are materialised in C order', async () => {
  const path = join(dir, 'views.pth');
  const t = new Map<string, TorchTensorToWrite>([
    ['t', { shape: [6, 4], data: base, strides: [1, 6] }],
    ['slice', { shape: [2, 3], data: base, storageOffset: 8, strides: [6, 1] }], // base[1:3, 2:5]
    ['row', { shape: [6], data: base, storageOffset: 12, strides: [1] }],
    ['expand', { shape: [3, 2], data: Float32Array.from([7, -1]), strides: [0, 1] }],
  ]);
  await writeTorchZip(path, t);
  const f = await readWeights(path);
  expect(f.format).toBe('pth-zip');
  const get = (k: string): number[] => Array.from(f.tensors.get(k)!.data as Float32Array);
  expect(get('t')).toEqual([0, 6, 12, 18, 1, 7, 13, 19, 2, 8, 14, 20, 3, 9, 15, 21, 4, 10, 16, 22, 5, 11, 17, 23]);
  expect(get('slice')).toEqual([8, 9, 10, 14, 15, 16]);
  expect(get('row')).toEqual([12, 13, 14, 15, 16, 17]);
  expect(get('expand')).toEqual([7, -1, 7, -1, 7, -1]);
  expect(f.tensors.get('t')!.shape).toEqual([6, 4]);
});

test('float16, bfloat16 and float64 storages convert to float32; int64, int32, uint8 and bool keep their values', async () => {
  const path = join(dir, 'dtypes.pth');
  const t = new Map<string, TorchTensorToWrite>([
    // half: 1, -2, 65504 (max), 2^-24 (smallest subnormal), +inf, 0.333251953125 (0x3555)
    ['h', { shape: [6], data: Uint16Array.from([0x3c00, 0xc000, 0x7bff, 0x0001, 0x7c00, 0x3555]), storage: 'HalfStorage' }],
    // bfloat16: 1, -3, 2^-126... 0x0080 = 2^-126
    ['bf', { shape: [3], data: Uint16Array.from([0x3f80, 0xc040, 0x0080]), storage: 'BFloat16Storage' }],
    ['d', { shape: [2], data: Float64Array.from([0.1, -1e300]) }],
    ['l', { shape: [], data: BigInt64Array.from([-(2n ** 62n)]) }],
    ['i', { shape: [2], data: Int32Array.from([-2147483648, 5]) }],
    ['u8', { shape: [3], data: Uint8Array.from([0, 200, 255]) }],
    ['b', { shape: [2], data: Uint8Array.from([1, 0]), storage: 'BoolStorage' }],
  ]);
  await writeTorchZip(path, t);
  const f = await readWeights(path);
  const v = (k: string) => f.tensors.get(k)!;
  expect(v('h').dtype).toBe('float16');
  expect(Array.from(v('h').data as Float32Array)).toEqual([1, -2, 65504, 2 ** -24, Infinity, 0.333251953125]);
  expect(Array.from(v('bf').data as Float32Array)).toEqual([1, -3, 2 ** -126]);
  expect(v('d').dtype).toBe('float64');
  expect(Array.from(v('d').data as Float32Array)).toEqual([Math.fround(0.1), -Infinity]);
  expect(v('l').data).toEqual(BigInt64Array.from([-(2n ** 62n)]));
  expect(v('l').shape).toEqual([]);
  expect(Array.from(v('i').data as Int32Array)).toEqual([-2147483648, 5]);
  expect([v('u8').dtype, ...v('u8').data]).toEqual(['uint8', 0, 200, 255]);
  expect([v('b').dtype, ...v('b').data]).toEqual(['bool', 1, 0]);
});

test('legacy format: views into one shared storage (offsets, strides, zero strides), float64 and int64', async () => {
  const path = join(dir, 'views-legacy.pth');
  const shared = Float32Array.from(base);
  await writeTorchLegacy(
    path,
    new Map<string, TorchTensorToWrite>([
      ['t', { shape: [6, 4], data: shared, strides: [1, 6] }],
      ['slice', { shape: [2, 3], data: shared, storageOffset: 8, strides: [6, 1] }],
      ['expand', { shape: [2, 3], data: shared, storageOffset: 20, strides: [0, 1] }],
      ['d', { shape: [2], data: Float64Array.from([0.5, -3]) }],
      ['n', { shape: [], data: BigInt64Array.from([1007n]) }],
    ]),
  );
  const f = await readWeights(path);
  expect(f.format).toBe('pth-legacy');
  const get = (k: string): number[] => Array.from(f.tensors.get(k)!.data as Float32Array);
  expect(get('t')).toEqual([0, 6, 12, 18, 1, 7, 13, 19, 2, 8, 14, 20, 3, 9, 15, 21, 4, 10, 16, 22, 5, 11, 17, 23]);
  expect(get('slice')).toEqual([8, 9, 10, 14, 15, 16]);
  expect(get('expand')).toEqual([20, 21, 22, 20, 21, 22]);
  expect(get('d')).toEqual([0.5, -3]);
  expect(f.tensors.get('n')!.data).toEqual(BigInt64Array.from([1007n]));
});
