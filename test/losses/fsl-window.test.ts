import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../../src/engine/init.js';
import { Rng } from '../../src/engine/random.js';
import { featureSimilarityLoss, type FeatureSimilarityOptions } from '../../src/losses/feature-similarity.js';
import { fixtures, nhwc } from './fixture-utils.js';

/** Loss and gradient wrt pred. */
function run(image: tf.Tensor4D, pred: tf.Tensor4D, opts: FeatureSimilarityOptions): { loss: number; grad: Float32Array } {
  const { value, grad } = tf.valueAndGrad((p: tf.Tensor) => featureSimilarityLoss(image, p as tf.Tensor4D, opts))(pred);
  const out = { loss: value.dataSync()[0], grad: grad.dataSync() as Float32Array };
  tf.dispose([value, grad]);
  return out;
}

/** Relative error of the windowed loss and gradient (L2) against dense. */
function windowError(image: tf.Tensor4D, pred: tf.Tensor4D, opts: FeatureSimilarityOptions = {}): { loss: number; grad: number } {
  const d = run(image, pred, { ...opts, radius: 'dense' });
  const w = run(image, pred, opts);
  let num = 0;
  let den = 0;
  for (let i = 0; i < d.grad.length; i++) {
    num += (w.grad[i] - d.grad[i]) ** 2;
    den += d.grad[i] ** 2;
  }
  return { loss: Math.abs(w.loss - d.loss) / Math.abs(d.loss), grad: Math.sqrt(num / den) };
}

/** Voronoi label map with `k` random sites. */
function voronoi(r: Rng, h: number, w: number, k: number): Int32Array {
  const sites = Array.from({ length: k }, () => [r.uniform(0, h), r.uniform(0, w)]);
  const lab = new Int32Array(h * w);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let best = 0;
      let bd = Infinity;
      sites.forEach(([sy, sx], i) => {
        const d = (y - sy) ** 2 + (x - sx) ** 2;
        if (d < bd) { bd = d; best = i; }
      });
      lab[y * w + x] = best;
    }
  }
  return lab;
}

describe('windowed featureSimilarityLoss against dense (default radius 4.5 sigma)', () => {
  beforeAll(async () => { await initEngine({ backend: 'wasm' }); });
  const [h, w, c] = [112, 112, 4];

  it('fixture cases: within 1e-3 relative', () => {
    for (const fc of fixtures.fsl) {
      const [image, pred] = [nhwc(fc.image), nhwc(fc.pred)];
      const e = windowError(image, pred, { mu: fc.mu, sigma: fc.sigma });
      expect(e.loss).toBeLessThan(1e-3);
      expect(e.grad).toBeLessThan(1e-3);
      tf.dispose([image, pred]);
    }
  });

  it('112 x 112 random input: within 1e-3 relative', () => {
    const r = new Rng(21);
    const image = tf.tensor4d(Float32Array.from({ length: h * w * 3 }, () => r.next()), [1, h, w, 3]);
    const pred = tf.tensor4d(Float32Array.from({ length: h * w * c }, () => r.next()), [1, h, w, c]);
    const e = windowError(image, pred);
    expect(e.loss).toBeLessThan(1e-3);
    expect(e.grad).toBeLessThan(1e-3);
    tf.dispose([image, pred]);
  });

  it('112 x 112 piecewise-constant inputs (aligned and unaligned regions): within 1e-3 relative', () => {
    const r = new Rng(22);
    const lab = voronoi(r, h, w, 8);
    const colours = Array.from({ length: 8 }, () => [r.next(), r.next(), r.next()]);
    const values = Array.from({ length: 8 }, () => Array.from({ length: c }, () => r.next()));
    const img = new Float32Array(h * w * 3);
    const aligned = new Float32Array(h * w * c);
    const onehot = new Float32Array(h * w * c);
    const lab2 = voronoi(r, h, w, 6);
    for (let i = 0; i < h * w; i++) {
      img.set(colours[lab[i]], i * 3);
      aligned.set(values[lab[i]], i * c);
      onehot[i * c + (lab2[i] % c)] = 1;
    }
    const image = tf.tensor4d(img, [1, h, w, 3]);
    for (const p of [aligned, onehot]) {
      const pred = tf.tensor4d(p, [1, h, w, c]);
      const e = windowError(image, pred);
      expect(e.loss).toBeLessThan(1e-3);
      expect(e.grad).toBeLessThan(1e-3);
      pred.dispose();
    }
    image.dispose();
  });
});
