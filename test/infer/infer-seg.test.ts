import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../../src/engine/init.js';
import { segmentImage, segmentationProbs } from '../../src/infer/infer-seg.js';
import { argmaxLabels } from '../../src/infer/crf/dense-crf.js';
import { DeepLab } from '../../src/models/deeplab.js';

function image(w: number, h: number) {
  const data = new Uint8Array(w * h * 3).map((_, i) => (i * 53 + (i % 7) * 11) % 256);
  return { data, width: w, height: h };
}

/** Mirror of an L x H x W map along W. */
function flipMaps(p: Float32Array, L: number, h: number, w: number): Float32Array {
  const out = new Float32Array(p.length);
  for (let c = 0; c < L; c++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out[(c * h + y) * w + x] = p[(c * h + y) * w + (w - 1 - x)];
  return out;
}

describe('segmentation inference', () => {
  let net: DeepLab;
  beforeAll(async () => {
    await initEngine();
    net = new DeepLab({ numClasses: 4, backbone: 'tiny' }, 5);
  });
  afterAll(() => net.dispose());

  it('multi-scale probabilities: L x H x W, each pixel sums to 1; memory stays flat', () => {
    const img = image(30, 21);
    const before = tf.memory().numTensors;
    const p = segmentationProbs(net, img, { scales: [0.5, 1, 1.25] });
    expect(tf.memory().numTensors).toBe(before);
    expect(p.length).toBe(4 * 21 * 30);
    const n = 21 * 30;
    let worst = 0;
    for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(p[i] + p[n + i] + p[2 * n + i] + p[3 * n + i] - 1));
    expect(worst).toBeLessThan(1e-5);
  });

  it('with flip, the prediction of the mirrored image is the mirrored prediction', () => {
    const w = 48, h = 40, img = image(w, h);
    const mirrored = { ...img, data: new Uint8Array(img.data.length) };
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let c = 0; c < 3; c++) mirrored.data[(y * w + x) * 3 + c] = img.data[(y * w + w - 1 - x) * 3 + c];
    const a = segmentationProbs(net, img, { scales: [1] });
    const b = segmentationProbs(net, mirrored, { scales: [1] });
    const fa = flipMaps(a, 4, h, w);
    let worst = 0;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(fa[i] - b[i]));
    expect(worst).toBeLessThan(1e-5);
  });

  it('labels: argmax of the probabilities; a 0-iteration CRF changes nothing; the 1-iteration CRF keeps the size', () => {
    const img = image(33, 25);
    const plain = segmentImage(net, img, { scales: [1], crf: false });
    expect([...plain.data]).toEqual([...argmaxLabels(segmentationProbs(net, img, { scales: [1] }), 33, 25).data]);
    expect([...segmentImage(net, img, { scales: [1], crf: { iterations: 0 } }).data]).toEqual([...plain.data]);
    const crf = segmentImage(net, img, { scales: [1], crf: true });
    expect([crf.width, crf.height]).toEqual([33, 25]);
    // The CRF is on by default (reference TEST_CRF True, voc12/config_voc2012.py:45).
    expect([...segmentImage(net, img, { scales: [1] }).data]).toEqual([...crf.data]);
    expect(crf.data.every((v) => v < 4)).toBe(true);
    expect(() => segmentationProbs(net, img, { scales: [] })).toThrow(/scales must be positive numbers/);
  });
});
