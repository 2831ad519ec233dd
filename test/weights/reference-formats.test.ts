/**
 * Every weight file of the reference-nets fixture (written by torch.save, the legacy
 * serialiser, a safetensors writer checked against the official one, and MXNet's three
 * NDArray layouts) reads to the same tensors, matching manifest.json's keys, shapes and dtypes.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { convertMxnetToTorch, readStateDict, readWeights, stripPrefix, type WeightTensor } from '../../src/weights/index.js';
import { sharedPath } from '../shared-path.js';

const dir = sharedPath('fixtures/reference-nets');
const file = (name: string): string => `${dir}/${name}`;
const manifest = JSON.parse(readFileSync(file('manifest.json'), 'utf8')) as {
  state_dicts: Record<'seam' | 'aff', [string, number[], string][]>;
  mxnet_names: [string, number[]][];
};

function bytesOf(t: WeightTensor): Uint8Array {
  return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}

/** Same names (in any order), dtypes, shapes and bit-identical values. */
function expectSameTensors(a: ReadonlyMap<string, WeightTensor>, b: ReadonlyMap<string, WeightTensor>): void {
  expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
  for (const [k, ta] of a) {
    const tb = b.get(k)!;
    expect({ k, dtype: ta.dtype, shape: ta.shape }).toEqual({ k, dtype: tb.dtype, shape: tb.shape });
    expect(Buffer.compare(bytesOf(ta), bytesOf(tb)), k).toBe(0);
  }
}

describe.each(['seam', 'aff'] as const)('%s state dict', (net) => {
  test('the .pth (zip) matches manifest.json in keys, order, shapes and dtypes', async () => {
    const f = await readWeights(file(`${net}.pth`));
    expect(f.format).toBe('pth-zip');
    expect([...f.tensors.values()].map((t) => [t.name, t.shape, t.dtype])).toEqual(manifest.state_dicts[net]);
    const nbt = f.tensors.get('b2.bn_branch2a.num_batches_tracked')!;
    expect(nbt.data).toEqual(new BigInt64Array([1000n]));
    expect(nbt.shape).toEqual([]);
  });

  test('legacy .pth and .safetensors hold the identical tensors', async () => {
    const zip = await readWeights(file(`${net}.pth`));
    const legacy = await readWeights(file(`${net}-legacy.pth`));
    const st = await readWeights(file(`${net}.safetensors`));
    expect(legacy.format).toBe('pth-legacy');
    expect(st.format).toBe('safetensors');
    expect([...legacy.tensors.keys()]).toEqual([...zip.tensors.keys()]);
    expectSameTensors(legacy.tensors, zip.tensors);
    expectSameTensors(st.tensors, zip.tensors);
    expect(st.meta.net).toBe(net);
  });
});

test('seam-wrapped.pth: {state_dict: {module.<key>}, epoch: 3} unwraps to seam.pth', async () => {
  const wrapped = await readWeights(file('seam-wrapped.pth'));
  expect(wrapped.meta).toEqual({ epoch: 3 });
  expect([...wrapped.tensors.keys()][0]).toBe('state_dict.module.conv1a.weight');
  const plain = await readWeights(file('seam.pth'));
  const sd = stripPrefix(wrapped.tensors);
  expect([...sd.keys()]).toEqual([...plain.tensors.keys()]);
  expectSameTensors(sd, plain.tensors);
  expect(sd.get('conv1a.weight')!.name).toBe('conv1a.weight');
  expect((await readStateDict(file('seam-wrapped.pth'))).tensors.size).toBe(232);
});

describe('MXNet .params', () => {
  test('the V2, V1 and legacy layouts read to the same 193 named arrays, as manifest.json lists them', async () => {
    const v2 = await readWeights(file('resnet38d.params'));
    const v1 = await readWeights(file('resnet38d-v1magic.params'));
    const legacy = await readWeights(file('resnet38d-v1.params'));
    expect([v2.meta.layout, v1.meta.layout, legacy.meta.layout]).toEqual(['v2', 'v1', 'legacy']);
    expect([...v2.tensors.values()].map((t) => [t.name, t.shape])).toEqual(manifest.mxnet_names);
    expect(v2.format).toBe('mxnet');
    expectSameTensors(v1.tensors, v2.tensors);
    expectSameTensors(legacy.tensors, v2.tensors);
  });

  test("the reference's name conversion gives exactly the backbone part of seam.safetensors", async () => {
    const seam = (await readWeights(file('seam.safetensors'))).tensors;
    for (const name of ['resnet38d.params', 'resnet38d-v1magic.params', 'resnet38d-v1.params']) {
      const c = convertMxnetToTorch((await readWeights(file(name))).tensors);
      expect(c.dropped).toEqual(['arg:linear1000_weight', 'arg:linear1000_bias']);
      expect(c.unconverted).toEqual([]);
      expect(c.tensors.size).toBe(191);
      const backbone = new Map([...seam].filter(([k]) => !/^(fc8|f8_3|f8_4|f9)\./.test(k) && !k.endsWith('num_batches_tracked')));
      expectSameTensors(c.tensors, backbone);
    }
    const sd = await readStateDict(file('resnet38d-v1.params'));
    expect(sd.tensors.get('b4_5.bn_branch2b1.running_var')!.shape).toEqual([32]);
    expect(sd.dropped).toHaveLength(2);
  });
});
