import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../../src/engine/init.js';
import { Rng } from '../../src/engine/random.js';
import type { RgbImage } from '../../src/data/types.js';
import { inferCams, normaliseCams } from '../../src/infer/cam-inference.js';
import { averagePrecision, classificationMetrics } from '../../src/infer/cam-scores.js';
import { pseudoLabelFromCams } from '../../src/infer/pseudo-labels.js';
import { CamNet } from '../../src/models/cam-net.js';

beforeAll(async () => {
  await initEngine();
});

function randomImage(w: number, h: number, seed: number): RgbImage {
  const r = new Rng(seed);
  return { data: Uint8Array.from({ length: w * h * 3 }, () => r.int(0, 256)), width: w, height: h };
}

function hflip(img: RgbImage): RgbImage {
  const out = new Uint8Array(img.data.length);
  for (let y = 0; y < img.height; y++) for (let x = 0; x < img.width; x++) for (let c = 0; c < 3; c++) {
    out[(y * img.width + x) * 3 + c] = img.data[(y * img.width + (img.width - 1 - x)) * 3 + c];
  }
  return { ...img, data: out };
}

describe('normaliseCams', () => {
  it('is relu then per-class (v - min - 1e-5)_+ / (max - min + 1e-5)', () => {
    const x = tf.tensor3d([-1, 2, 1, 4, 3, 6], [1, 3, 2]); // class 0: -1, 1, 3; class 1: 2, 4, 6
    const v = tf.tidy(() => normaliseCams(x).dataSync());
    const n = (a: number, mn: number, mx: number) => Math.max(0, a - mn - 1e-5) / (mx - mn + 1e-5);
    const want = [n(0, 0, 3), n(2, 2, 6), n(1, 0, 3), n(4, 2, 6), n(3, 0, 3), n(6, 2, 6)];
    want.forEach((w, i) => expect(v[i]).toBeCloseTo(w, 6));
    x.dispose();
  });
});

describe('inferCams', () => {
  it('returns P x H x W maps in [0, 1) with max ~1, is flip-equivariant with flips, and keeps memory flat', () => {
    const net = new CamNet({ numClasses: 4, backbone: 'tiny' }, 3);
    // positive classifier weights on post-ReLU features: CAM sums > 0, so every map has max ~1
    const w = net.classifier.weight;
    tf.tidy(() => w.assign(tf.abs(w)));
    const img = randomImage(37, 29, 1);
    const before = tf.memory().numTensors;
    const r = inferCams(net, img, [1, 3], { scales: [0.5, 1, 1.5] });
    expect(tf.memory().numTensors).toBe(before);
    expect([r.height, r.width, r.labels, r.cams.length]).toEqual([29, 37, [1, 3], 2 * 29 * 37]);
    for (let p = 0; p < 2; p++) {
      const m = r.cams.subarray(p * 29 * 37, (p + 1) * 29 * 37);
      expect(Math.min(...m)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...m)).toBeGreaterThan(0.999);
      expect(Math.max(...m)).toBeLessThan(1);
    }
    expect(r.scores.length).toBe(4);
    // the sum over {image, flipped image} makes the CAMs of a flipped image the flipped CAMs
    const f = inferCams(net, hflip(img), [1, 3], { scales: [0.5, 1, 1.5] });
    let maxDiff = 0;
    for (let p = 0; p < 2; p++) for (let y = 0; y < 29; y++) for (let x = 0; x < 37; x++) {
      maxDiff = Math.max(maxDiff, Math.abs(r.cams[(p * 29 + y) * 37 + x] - f.cams[(p * 29 + y) * 37 + (36 - x)]));
    }
    expect(maxDiff).toBeLessThan(1e-4);
    // no labels: no maps, still scores
    const none = inferCams(net, img, [], { scales: [1], flip: false });
    expect(none.cams.length).toBe(0);
    expect(Array.from(none.scores)).toEqual(Array.from(r.scores));
    expect(() => inferCams(net, img, [5])).toThrow(/not class indices in 1\.\.4/);
    net.dispose();
  });
});

describe('pseudoLabelFromCams', () => {
  it('labels a pixel with its best class when that beats the background score', () => {
    // 2 classes (3 and 7) on 1 x 4 pixels
    const cams = Float32Array.from([0.1, 0.5, 0.9, 0.3, /* class 7 */ 0.2, 0.6, 0.4, 0.3]);
    expect(Array.from(pseudoLabelFromCams(cams, [3, 7], 1, 4, { threshold: 0.3 }).data)).toEqual([0, 7, 3, 0]);
    expect(Array.from(pseudoLabelFromCams(cams, [3, 7], 1, 4, { threshold: 0 }).data)).toEqual([7, 7, 3, 3]);
    // alpha: background (1 - max)^alpha; alpha 1: max 0.2 -> bg 0.8 wins; 0.6 > 0.4 -> 7; 0.9 -> 3; 0.3 < 0.7 -> 0
    expect(Array.from(pseudoLabelFromCams(cams, [3, 7], 1, 4, { alpha: 1 }).data)).toEqual([0, 7, 3, 0]);
    // large alpha shrinks the background: 0.2 vs 0.8^8 = 0.168 -> class 7
    expect(Array.from(pseudoLabelFromCams(cams, [3, 7], 1, 4, { alpha: 8 }).data)).toEqual([7, 7, 3, 3]);
    expect(Array.from(pseudoLabelFromCams(new Float32Array(0), [], 2, 1, { threshold: 0.1 }).data)).toEqual([0, 0]);
  });
});

describe('classification metrics', () => {
  it('computes AP by hand and exact-match accuracy', () => {
    // ranks: 0.9 (pos), 0.8 (neg), 0.7 (pos): AP = (1/1 + 2/3) / 2
    expect(averagePrecision([0.9, 0.8, 0.7], [true, false, true])).toBeCloseTo((1 + 2 / 3) / 2, 12);
    expect(averagePrecision([0.1, 0.2], [false, false])).toBeNaN();
    const m = classificationMetrics([[0.9, 0.2], [0.6, 0.7], [0.1, 0.4]], [[1], [2], [1]]);
    // class 1: scores 0.9 (pos), 0.6 (neg), 0.1 (pos): AP (1 + 2/3)/2; class 2: 0.7 (pos) first: AP 1
    expect(m.ap[0]).toBeCloseTo((1 + 2 / 3) / 2, 12);
    expect(m.ap[1]).toBe(1);
    expect(m.mAP).toBeCloseTo(((1 + 2 / 3) / 2 + 1) / 2, 12);
    expect(m.exactMatch).toBeCloseTo(1 / 3, 12); // image 0 only ({1}); image 1 predicts {1, 2}; image 2 predicts {}
  });
});
