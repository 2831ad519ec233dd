/** The MXNet writer reproduces the fixture's three layouts byte for byte; names invert exactly; bad arrays are refused. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { HfplError } from '../../src/errors.js';
import { mxnetToTorchName, readWeights } from '../../src/weights/index.js';
import type { MxnetLayout } from '../../src/weights/mxnet.js';
import { torchToMxnetName, writeMxnetParams } from '../../src/weights/mxnet-write.js';
import { sharedPath } from '../shared-path.js';

const dir = mkdtempSync(join(tmpdir(), 'hfpl-test-mx-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const ref = (n: string): string => sharedPath(`fixtures/reference-nets/${n}`);

test.each([
  ['v2', 'resnet38d.params'],
  ['v1', 'resnet38d-v1magic.params'],
  ['legacy', 'resnet38d-v1.params'],
] as [MxnetLayout, string][])('layout %s: read + write gives back %s byte for byte', async (layout, name) => {
  const f = await readWeights(ref(name));
  const out = join(dir, name);
  await writeMxnetParams(out, f.tensors as Map<string, { shape: number[]; data: Float32Array }>, layout);
  expect(Buffer.compare(readFileSync(out), readFileSync(ref(name)))).toBe(0);
});

test('torchToMxnetName inverts the reference conversion on every backbone name', async () => {
  const f = await readWeights(ref('resnet38d.params'));
  let n = 0;
  for (const k of f.tensors.keys()) {
    const t = mxnetToTorchName(k);
    if (t === null) continue;
    expect(torchToMxnetName(t!)).toBe(k);
    n++;
  }
  expect(n).toBe(191);
  expect(torchToMxnetName('fc8.weight')).toBeUndefined();
});

test('a sparse array and an unknown type flag are refused with one line', async () => {
  const path = join(dir, 'one.params');
  await writeMxnetParams(path, new Map([['arg:w', { shape: [2], data: Float32Array.from([1, 2]) }]]), 'v2');
  const b = readFileSync(path);
  const sparse = Buffer.from(b);
  sparse.writeInt32LE(1, 28); // storage type after the V2 magic at byte 24
  writeFileSync(path, sparse);
  await expect(readWeights(path)).rejects.toThrow(`${path}: truncated or corrupt MXNet .params file: array 0 has storage type 1 (only dense arrays are supported)`);
  const flag = Buffer.from(b);
  flag.writeInt32LE(9, 24 + 4 + 4 + 4 + 8 + 8); // type flag after magic, stype, ndim, dims, context
  writeFileSync(path, flag);
  const e = await readWeights(path).catch((x: unknown) => x);
  expect(e).toBeInstanceOf(HfplError);
  expect((e as HfplError).message).toMatch(/array 0 has type flag 9 \(known: /);
});
