import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../../src/engine/init.js';
import { multilabelSoftMarginLoss } from '../../src/losses/multilabel-soft-margin.js';
import { maxNorm } from '../../src/losses/max-norm.js';
import { maxNormForward } from '../../src/losses/max-norm-kernel.js';
import { Rng } from '../../src/engine/random.js';
import { expectClose, fixtures, flat, nhwc } from './fixture-utils.js';

for (const backend of ['wasm', 'cpu'] as const) {
  describe(`multilabelSoftMarginLoss and maxNorm on ${backend}`, () => {
    beforeAll(async () => { await initEngine({ backend }); });

    it('matches the reference case: value and gradient within 1e-4, memory flat', () => {
      const c = fixtures.multilabel_soft_margin;
      const x = tf.tensor2d(c.logits);
      const y = tf.tensor2d(c.labels);
      const before = tf.memory().numTensors;
      const { value, grad } = tf.valueAndGrad((z: tf.Tensor) => multilabelSoftMarginLoss(z, y))(x);
      expectClose(value.dataSync(), [c.loss]);
      expectClose(grad.dataSync(), flat(c.grad_logits));
      tf.dispose([value, grad]);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([x, y]);
    });

    it('averages over trailing axes with [N, K] labels broadcast, gradient exact at z = 0', () => {
      const x = tf.tensor3d([[[0, 2], [-1, 0]]]); // N 1, K 2, S 2
      const y = tf.tensor2d([[1, 0]]);
      const { value, grad } = tf.valueAndGrad((z: tf.Tensor) => multilabelSoftMarginLoss(z, y))(x);
      const sp = (v: number) => Math.log1p(Math.exp(v));
      // BCE(z, 1) = softplus(-z); BCE(z, 0) = softplus(z).
      expectClose(value.dataSync(), [(sp(0) + sp(-2) + sp(-1) + sp(0)) / 4]);
      const sg = (v: number) => 1 / (1 + Math.exp(-v));
      expectClose(grad.dataSync(), [(sg(0) - 1) / 4, (sg(2) - 1) / 4, sg(-1) / 4, sg(0) / 4]);
      tf.dispose([x, y, value, grad]);
    });

    it('rejects mismatched labels and out-of-range labels', () => {
      const x = tf.zeros([2, 3]);
      expect(() => multilabelSoftMarginLoss(x, tf.zeros([2, 4]))).toThrow('multilabelSoftMarginLoss: labels must have shape [2, 3], got [2, 4]');
      expect(() => multilabelSoftMarginLoss(x, tf.fill([2, 3], 2))).toThrow('multilabelSoftMarginLoss: labels values must lie in [0, 1], found 2 at flat index 0');
      expect(() => multilabelSoftMarginLoss(tf.zeros([3]), x)).toThrow('multilabelSoftMarginLoss: logits must have rank 2 to 8 [N, K, ...rest], got shape [3]');
    });

    it('maxNorm matches the reference case', () => {
      const c = fixtures.max_norm;
      const x = nhwc(c.input);
      const before = tf.memory().numTensors;
      const y = maxNorm(x);
      expect(tf.memory().numTensors).toBe(before + 1);
      const nchw = tf.transpose(y, [0, 3, 1, 2]);
      expectClose(nchw.dataSync(), flat(c.output));
      tf.dispose([x, y, nchw]);
      expect(() => maxNorm(tf.zeros([2, 3]) as never)).toThrow('maxNorm: p must have rank 4 [N, h, w, C], got shape [2, 3]');
    });

    it('maxNorm gradient (through relu, min and max) matches central differences', () => {
      const r = new Rng(9);
      const shape: [number, number, number, number] = [2, 3, 4, 2];
      const p = Float64Array.from({ length: 48 }, () => r.uniform(-0.5, 1.5));
      const wts = Float64Array.from({ length: 48 }, () => r.uniform(-1, 1));
      const x = tf.tensor4d(Float32Array.from(p), shape);
      const wt = tf.tensor4d(Float32Array.from(wts), shape);
      const grad = tf.grad((z: tf.Tensor) => tf.sum(tf.mul(maxNorm(z as tf.Tensor4D), wt)))(x);
      const f = (q: Float64Array): number => {
        const out = new Float64Array(48);
        maxNormForward(q, 2, 12, 2, out);
        return out.reduce((s, v, i) => s + v * wts[i], 0);
      };
      const fd = Array.from(p, (_, i) => {
        const e = 1e-4;
        const a = Float64Array.from(p);
        const b = Float64Array.from(p);
        a[i] += e;
        b[i] -= e;
        return (f(a) - f(b)) / (2 * e);
      });
      expectClose(grad.dataSync(), fd, 1e-3, 1e-5);
      tf.dispose([x, wt, grad]);
    });
  });
}
