import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../../src/engine/init.js';
import { Rng } from '../../src/engine/random.js';
import { importanceSamplingLoss, importanceWeights, sampleRows } from '../../src/losses/importance-sampling.js';
import { expectClose, fixtures, flat, nhwc } from './fixture-utils.js';

/** Pearson chi-square of observed counts against probabilities p (sum 1) over m draws. */
function chiSquare(counts: number[], p: number[], m: number): number {
  return counts.reduce((s, o, i) => s + (o - m * p[i]) ** 2 / (m * p[i]), 0);
}
// chi-square 0.999 quantile for 23 degrees of freedom (24 cells).
const CHI2_23_999 = 49.73;

for (const backend of ['wasm', 'cpu'] as const) {
  describe(`importanceSamplingLoss on ${backend}`, () => {
    beforeAll(async () => { await initEngine({ backend }); });

    it('matches the reference case with given indices (duplicates accumulate in the gradient)', () => {
      const c = fixtures.isl_given_indices;
      const logits = nhwc(c.logits);
      const labels = tf.tensor2d(c.labels);
      const indices = tf.tensor3d(c.indices, undefined, 'int32');
      const before = tf.memory().numTensors;
      const { value, grad } = tf.valueAndGrad((z: tf.Tensor) => importanceSamplingLoss(z as tf.Tensor4D, labels, { indices }))(logits);
      expectClose(value.dataSync(), [c.loss]);
      const nchw = tf.transpose(grad, [0, 3, 1, 2]);
      expectClose(nchw.dataSync(), flat(c.grad_logits));
      tf.dispose([value, grad, nchw]);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([logits, labels, indices]);
    });

    it('multinomial form: gathers softmax probabilities turned into logits (hand-derived)', () => {
      // One image, 1 x 2 pixels, background + 1 class; every sample at pixel 1.
      const logits = tf.tensor4d([[[[0, 1], [1, 0]]]]);
      const labels = tf.tensor2d([[1]]);
      const indices = tf.tensor3d([[[1, 1]]], undefined, 'int32');
      const loss = importanceSamplingLoss(logits, labels, { form: 'multinomial', indices });
      const p = (1 / (1 + Math.E)) * (1 - 1e-3);
      const zl = Math.log(p + 1e-3) - Math.log(1 - p);
      expectClose(loss.dataSync(), [Math.log1p(Math.exp(-zl))]);
      tf.dispose([logits, labels, indices, loss]);
    });

    it('is reproducible for a seed and keeps memory flat', () => {
      const logits = tf.randomNormal([2, 5, 6, 3], 0, 2, 'float32', 1) as tf.Tensor4D;
      const labels = tf.tensor2d([[1, 0, 1], [0, 1, 0]]);
      const before = tf.memory().numTensors;
      const a = importanceSamplingLoss(logits, labels, { seed: 3 });
      const b = importanceSamplingLoss(logits, labels, { seed: 3 });
      const c = importanceSamplingLoss(logits, labels, { seed: 4, numSamples: 50 });
      expect(a.dataSync()[0]).toBe(b.dataSync()[0]);
      expect(c.dataSync()[0]).not.toBe(a.dataSync()[0]);
      tf.dispose([a, b, c]);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([logits, labels]);
    });

    it('rejects bad indices, labels and options, naming them', () => {
      const logits = tf.zeros([1, 2, 3, 2]) as tf.Tensor4D;
      const labels = tf.tensor2d([[1, 0]]);
      expect(() => importanceSamplingLoss(logits, labels, { indices: tf.tensor3d([[[6], [0]]], undefined, 'int32') }))
        .toThrow('importanceSamplingLoss: indices values must lie in [0, 5], found 6 at flat index 0');
      expect(() => importanceSamplingLoss(logits, labels, { indices: tf.zeros([1, 2, 3]) as tf.Tensor3D }))
        .toThrow('importanceSamplingLoss: option indices must be an int32 tensor [1, 2, S], got float32 [1, 2, 3]');
      expect(() => importanceSamplingLoss(logits, tf.tensor2d([[1, 0, 0]]))).toThrow('labels dimension 1 must be 2 (channels of logits), got shape [1, 3]');
      expect(() => importanceSamplingLoss(logits, labels, { form: 'multinomial', numSamples: 10 }))
        .toThrow('labels dimension 1 must be 1 (foreground channels of logits (all but channel 0)), got shape [1, 2]');
      expect(() => importanceSamplingLoss(logits, labels, { numSamples: 0 })).toThrow('importanceSamplingLoss: option numSamples must be a positive integer, got 0');
      expect(() => importanceSamplingLoss(logits, labels, { form: 'gauss' as never })).toThrow("option form must be 'binomial' or 'multinomial', got \"gauss\"");
    });
  });
}

describe('importance sampler statistics (fixed seeds)', () => {
  const hw = 24;
  const m = 48_000;
  const z = Float32Array.from({ length: hw }, (_, i) => -4 + (8 * i) / (hw - 1));

  function counts(idx: Int32Array): number[] {
    const c = new Array<number>(hw).fill(0);
    for (const i of idx) c[i]++;
    return c;
  }

  it('binomial frequencies follow sigmoid(z) + 1e-5 normalised; a uniform sampler fails the same test', () => {
    const wts = importanceWeights(z, 1, hw, 1, 'binomial');
    const tot = wts.reduce((a, b) => a + b, 0);
    const p = Array.from(wts, (v) => v / tot);
    expectClose(Array.from(wts), Array.from(z, (v) => 1 / (1 + Math.exp(-v)) + 1e-5), 1e-12, 0);
    const chi = chiSquare(counts(sampleRows(wts, 1, hw, m, new Rng(11))), p, m);
    expect(chi).toBeLessThan(CHI2_23_999);
    const uniform = sampleRows(new Float64Array(hw).fill(1), 1, hw, m, new Rng(11));
    expect(chiSquare(counts(uniform), p, m)).toBeGreaterThan(CHI2_23_999);
  });

  it('multinomial frequencies follow the softmax over channels, per class', () => {
    // Channels: background, class A (rising), class B (falling).
    const logits = new Float32Array(hw * 3);
    for (let i = 0; i < hw; i++) logits.set([0.5, z[i] / 2, -z[i] / 2], i * 3);
    const wts = importanceWeights(logits, 1, hw, 3, 'multinomial');
    const idx = sampleRows(wts, 2, hw, m, new Rng(5));
    for (const cls of [1, 2]) {
      const sm = Array.from({ length: hw }, (_, i) => {
        const e = [0, 1, 2].map((c) => Math.exp(logits[i * 3 + c]));
        return e[cls] / (e[0] + e[1] + e[2]);
      });
      const tot = sm.reduce((a, b) => a + b, 0);
      const p = sm.map((v) => v / tot);
      const chi = chiSquare(counts(idx.subarray((cls - 1) * m, cls * m)), p, m);
      expect(chi).toBeLessThan(CHI2_23_999);
    }
  });
});
