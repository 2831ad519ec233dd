import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { batchNormTrain } from '../../src/engine/ops/batch-norm.js';
import { batchNormTrainBackward, batchNormTrainForward } from '../../src/engine/wasm-kernels/batch-norm.js';
import { onBackend, randn, relErr, setupBackends } from './helpers.js';

const TOL = 1e-5;

/** Plain-ops reference (tf.moments + tf.batchNorm, TF.js's own gradients), run on cpu. */
function plain(x: tf.Tensor4D, g: tf.Tensor1D, b: tf.Tensor1D): tf.Tensor4D {
  const { mean, variance } = tf.moments(x, [0, 1, 2]);
  return tf.batchNorm(x, mean, variance, b, g, 1e-5) as tf.Tensor4D;
}

describe('fused training batch norm (HfplBatchNormTrain + gradient)', () => {
  beforeAll(setupBackends);

  it('hand-derived case: one channel, values 1..4', () => {
    const y = new Float32Array(4), mean = new Float32Array(1), variance = new Float32Array(1);
    batchNormTrainForward(new Float32Array([1, 2, 3, 4]), new Float32Array([2]), new Float32Array([1]), 0, y, mean, variance);
    expect(mean[0]).toBeCloseTo(2.5, 6);
    expect(variance[0]).toBeCloseTo(1.25, 6);
    const s = 2 / Math.sqrt(1.25);
    [-1.5, -0.5, 0.5, 1.5].forEach((d, i) => expect(y[i]).toBeCloseTo(1 + s * d, 5));
    // gradient of sum(y): dbeta = 4, dgamma = sum(xhat) = 0, dx = 0 (a constant shift of y)
    const dx = new Float32Array(4), dg = new Float32Array(1), db = new Float32Array(1);
    batchNormTrainBackward(new Float32Array([1, 1, 1, 1]), new Float32Array([1, 2, 3, 4]), new Float32Array([2]), mean, variance, 0, dx, dg, db);
    expect(db[0]).toBeCloseTo(4, 6);
    expect(dg[0]).toBeCloseTo(0, 6);
    dx.forEach((v) => expect(v).toBeCloseTo(0, 5));
  });

  it.each([{ shape: [2, 9, 7, 5] }, { shape: [3, 16, 16, 32] }])('forward, statistics and gradients on wasm match plain ops on cpu: $shape', ({ shape }) => {
    const [n, h, w, c] = shape;
    const xv = randn(21, n * h * w * c).map((v) => 3 + 2 * v), gv = randn(22, c), bv = randn(23, c), wv = randn(24, n * h * w * c);
    const inputs = (): [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D] => [tf.tensor4d(xv, [n, h, w, c]), tf.tensor1d(gv), tf.tensor1d(bv)];
    const weight = (): tf.Tensor4D => tf.tensor4d(wv, [n, h, w, c]);
    const ref = onBackend('cpu', () => {
      const [x, g, b] = inputs();
      const { mean, variance } = tf.moments(x, [0, 1, 2]);
      const grads = tf.grads((a: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) =>
        tf.sum(tf.mul(plain(a as tf.Tensor4D, gg as tf.Tensor1D, bb as tf.Tensor1D), weight())))([x, g, b]);
      return [plain(x, g, b), mean, variance, ...grads];
    });
    const got = onBackend('wasm', () => {
      const [x, g, b] = inputs();
      const r = batchNormTrain(x, g, b);
      const grads = tf.grads((a: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) =>
        tf.sum(tf.mul(batchNormTrain(a as tf.Tensor4D, gg as tf.Tensor1D, bb as tf.Tensor1D).y, weight())))([x, g, b]);
      return [r.y, r.mean, r.variance, ...grads];
    });
    ['y', 'mean', 'variance', 'dx', 'dgamma', 'dbeta'].forEach((what, i) => expect(relErr(got[i], ref[i]), what).toBeLessThan(TOL));
  });

  it('the same fused kernel runs on the cpu backend and matches plain ops', () => {
    const xv = randn(25, 2 * 5 * 5 * 4);
    const ref = onBackend('cpu', () => plain(tf.tensor4d(xv, [2, 5, 5, 4]), tf.ones([4]), tf.zeros([4])));
    const got = onBackend('cpu', () => batchNormTrain(tf.tensor4d(xv, [2, 5, 5, 4]), tf.ones([4]), tf.zeros([4])).y);
    expect(tf.getKernel('HfplBatchNormTrain', 'cpu')).toBeDefined();
    expect(relErr(got[0], ref[0])).toBeLessThan(TOL);
  });

  // The wasm kernel runs SIMD passes for c % 4 == 0 (16 channels per sweep when c % 16 == 0):
  // the same bits as the typed-array loops, whatever the channel count and the row count.
  it.each([{ c: 4 }, { c: 12 }, { c: 16 }, { c: 48 }, { c: 128 }, { c: 5 }])('wasm kernel = typed-array loops bit for bit (forward and gradient): c $c', ({ c }) => {
    const rows = 37;
    const xv = randn(31, rows * c).map((v, i) => v * (1 + (i % c)) + (i % 3) * 50), gv = randn(32, c), bv = randn(33, c), dyv = randn(34, rows * c);
    const y = new Float32Array(rows * c), mean = new Float32Array(c), variance = new Float32Array(c);
    batchNormTrainForward(xv, gv, bv, 1e-5, y, mean, variance);
    const dx = new Float32Array(rows * c), dg = new Float32Array(c), db = new Float32Array(c);
    batchNormTrainBackward(dyv, xv, gv, mean, variance, 1e-5, dx, dg, db);
    const got = onBackend('wasm', () => {
      const x = tf.tensor4d(xv, [1, rows, 1, c]);
      const [yt, mt, vt] = tf.engine().runKernel('HfplBatchNormTrain', { x, gamma: tf.tensor1d(gv), beta: tf.tensor1d(bv) }, { varianceEpsilon: 1e-5 }) as tf.Tensor[];
      const grads = tf.engine().runKernel('HfplBatchNormTrainGrad', { dy: tf.tensor4d(dyv, [1, rows, 1, c]), x, gamma: tf.tensor1d(gv), mean: mt, variance: vt }, { varianceEpsilon: 1e-5 }) as tf.Tensor[];
      return [yt, mt, vt, ...grads];
    });
    [y, mean, variance, dx, dg, db].forEach((want, i) => expect(Array.from(got[i]), ['y', 'mean', 'variance', 'dx', 'dgamma', 'dbeta'][i]).toEqual(Array.from(want)));
  });
});
