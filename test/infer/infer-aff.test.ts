import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../../src/engine/init.js';
import { writeCamFile } from '../../src/eval/cam-files.js';
import { imageTensor, randomWalkLabels, runInferAff } from '../../src/infer/infer-aff.js';
import { AffinityNet } from '../../src/models/affinity-net.js';
import { sharedPath } from '../shared-path.js';

const VOC = sharedPath('data/voc-sample/');
const tmp = mkdtempSync(join(tmpdir(), 'hfpl-infer-aff-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A 52 x 37 test image (not a multiple of 8: exercises the padding and the crop back). */
function image(w = 52, h = 37) {
  const data = new Uint8Array(w * h * 3).map((_, i) => (i * 37) % 251);
  return { data, width: w, height: h };
}

describe('randomWalkLabels', () => {
  let net: AffinityNet;
  beforeAll(async () => {
    await initEngine();
    net = new AffinityNet({ backbone: 'tiny' }, 3);
  });
  afterAll(() => net.dispose());

  it('a class whose CAM is 1 everywhere (background (1 - 1)^6 = 0) labels every pixel; memory stays flat', () => {
    const img = image();
    const n = img.width * img.height;
    const before = tf.memory().numTensors;
    const cams = new Float32Array(2 * n);
    cams.fill(1, n); // class 4 at 0, class 9 at 1
    const m = randomWalkLabels(net, img, { id: 'x', labels: [4, 9], width: img.width, height: img.height, cams });
    expect([m.width, m.height]).toEqual([52, 37]);
    expect(m.data.every((v) => v === 9)).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('labels are background or the image classes; no classes gives all background', () => {
    const img = image();
    const n = img.width * img.height;
    const cams = new Float32Array(n).map((_, i) => (i % img.width) / img.width);
    const m = randomWalkLabels(net, img, { id: 'x', labels: [3], width: img.width, height: img.height, cams });
    expect(new Set(m.data).size).toBeGreaterThanOrEqual(1);
    expect([...new Set(m.data)].every((v) => v === 0 || v === 3)).toBe(true);
    const none = randomWalkLabels(net, img, { id: 'x', labels: [], width: img.width, height: img.height, cams: new Float32Array(0) });
    expect(none.data.every((v) => v === 0)).toBe(true);
  });

  it('CAMs of another size than the image are an E_DATA error', () => {
    expect(() => randomWalkLabels(net, image(), { id: 'im7', labels: [1], width: 10, height: 10, cams: new Float32Array(100) })).toThrow(/CAMs of im7 are 10x10, the image is 52x37/);
  });

  it('imageTensor pads to a multiple of 8 with zeros after normalisation', () => {
    const t = imageTensor(image(10, 9), [0, 0, 0], [1, 1, 1]);
    expect(t.shape).toEqual([1, 16, 16, 3]);
    const v = t.dataSync();
    expect(v[(15 * 16 + 15) * 3]).toBe(0);
    expect(v[0]).toBeCloseTo(0, 6); // pixel 0 channel 0 = 0 / 255
    expect(v[1]).toBeCloseTo(37 / 255, 6);
    t.dispose();
  });
});

describe('runInferAff input checks', () => {
  it('a listed id without a CAM file is an E_IO error naming the file, before any model is read', async () => {
    const cams = join(tmp, 'cams');
    await writeCamFile(cams, '2007_000032', new Float32Array(4), [1], 2, 2);
    await writeCamFile(cams, '2007_000243', new Float32Array(4), [1], 2, 2);
    await expect(runInferAff({ run: join(tmp, 'no-model'), data: VOC, split: 'train', cams, out: join(tmp, 'out') }))
      .rejects.toThrow(`${join(cams, '2007_000063.json')}: CAM file not found (id 2007_000063 is listed in split 'train')`);
  });
});
