import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../../src/engine/init.js';
import { affinityRadius, denseAffinity, indicesOfPairs, RefAffinityNet, type PairIndices } from '../../src/models/reference/affinity.js';
import { loadReferenceTensors } from '../../src/models/reference/load-reference.js';
import { maxDiff, nchwData, nhwcFixture, readRefNpy, fixtureStateDict } from './reference-helpers.js';

let net: RefAffinityNet;

beforeAll(async () => {
  await initEngine();
  const tensors = await fixtureStateDict('aff.safetensors');
  net = RefAffinityNet.fromShapes(new Map([...tensors].map(([k, v]) => [k, v.shape])), 'aff.safetensors');
  const r = loadReferenceTensors(net.refs, tensors, 'aff.safetensors');
  expect(r.loaded.length).toBe(net.refs.entries.size);
});

afterAll(() => net?.dispose());

describe('reference AffinityNet (resnet38_aff.py) on the scaled fixtures', () => {
  it('the radius rule: (min - 1) // 2 below 11, else 5', () => {
    expect(affinityRadius(8, 10)).toBe(3);
    expect(affinityRadius(12, 14)).toBe(5);
    expect(affinityRadius(56, 56)).toBe(5);
    expect(affinityRadius(10, 40)).toBe(4);
  });

  for (const [input, radius] of [['64x80', 3], ['96x112', 5]] as const) {
    it(`input ${input}: indices (radius ${radius}) exact, feat within 1e-4 * max + 1e-6, aff and dense within abs 1e-5`, () => {
      const x = nhwcFixture(`input-${input}.npy`);
      const before = tf.memory().numTensors;
      let o!: { feat: Float32Array; aff: Float32Array; pairs: PairIndices; hw: number[] };
      tf.tidy(() => {
        const r = net.forward(x);
        o = { feat: nchwData(r.feat), aff: r.aff.dataSync() as Float32Array, pairs: r.pairs, hw: [r.feat.shape[1], r.feat.shape[2]] };
      });
      expect(tf.memory().numTensors).toBe(before);
      x.dispose();
      expect(o.pairs.radius).toBe(radius);
      expect(Array.from(o.pairs.from)).toEqual(readRefNpy(`aff-${input}-ind_from.npy`).data);
      expect(Array.from(o.pairs.to)).toEqual(readRefNpy(`aff-${input}-ind_to.npy`).data);
      const feat = maxDiff(o.feat, readRefNpy(`aff-${input}-feat.npy`).data as Float32Array);
      const aff = maxDiff(o.aff, readRefNpy(`aff-${input}-aff.npy`).data as Float32Array);
      const area = o.hw[0] * o.hw[1];
      const dense = maxDiff(denseAffinity(o.aff, o.pairs, area), readRefNpy(`aff-${input}-dense.npy`).data as Float32Array);
      console.log(`aff-${input}: feat err ${feat.err.toExponential(2)} (max ${feat.scale.toFixed(2)}), aff err ${aff.err.toExponential(2)}, dense err ${dense.err.toExponential(2)}`);
      expect(feat.err).toBeLessThanOrEqual(1e-4 * feat.scale + 1e-6);
      expect(aff.err).toBeLessThanOrEqual(1e-5);
      expect(dense.err).toBeLessThanOrEqual(1e-5);
    });
  }

  it('indicesOfPairs on a hand-checked 3 x 4 grid, radius 2', () => {
    // offsets (0,1), (1,-1), (1,0), (1,1); from window rows [0,2), cols [1,3)
    const p = indicesOfPairs(2, 3, 4);
    expect(Array.from(p.from)).toEqual([1, 2, 5, 6]);
    expect(Array.from(p.to)).toEqual([2, 3, 6, 7, 4, 5, 8, 9, 5, 6, 9, 10, 6, 7, 10, 11]);
  });
});
