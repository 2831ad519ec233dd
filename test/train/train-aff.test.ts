import * as tf from '@tensorflow/tfjs-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeLabelPng } from '../../src/data/label-png.js';
import { initEngine } from '../../src/engine/init.js';
import { applyBnUpdates, type BnUpdate } from '../../src/models/layers.js';
import { AffinityNet } from '../../src/models/affinity-net.js';
import { affinityBatchLoss, crfPairSamples, resolveTrainAffConfig } from '../../src/train/train-aff.js';
import { LabelBatchLoader } from '../../src/train/label-batches.js';
import { PolySgd, paramGroups } from '../../src/train/sgd.js';
import { sharedPath } from '../shared-path.js';

/** Fixed batch: 2 images 96 x 96, columns < 48 class 1, 48-55 ignored, the rest background. */
function fixedBatch(): { images: tf.Tensor4D; labels: Uint8Array } {
  const n = 2, S = 96;
  const labels = new Uint8Array(n * S * S);
  for (let b = 0; b < n; b++) for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) labels[(b * S + y) * S + x] = x < 48 ? 1 : x < 56 ? 255 : 0;
  const images = tf.tidy(() => {
    const cls = tf.tensor4d(Array.from(labels, (v) => (v === 1 ? 1 : v === 0 ? -1 : 0)), [n, S, S, 1]);
    return tf.add(tf.tile(cls, [1, 1, 1, 3]), tf.randomNormal([n, S, S, 3], 0, 0.5, 'float32', 5)) as tf.Tensor4D;
  });
  return { images, labels };
}

const VOC = sharedPath('data/voc-sample/');
const tmp = mkdtempSync(join(tmpdir(), 'hfpl-train-aff-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('train-aff', () => {
  beforeAll(async () => { await initEngine(); });

  it('3 SGD steps on a fixed batch lower the pair loss; memory stays flat', () => {
    const net = new AffinityNet({ backbone: 'tiny' }, 0);
    const { images, labels } = fixedBatch();
    const params = net.store.trainable();
    const opt = new PolySgd(paramGroups(params, { weightDecay: 5e-4, newLayerLrMult: 1 }), { lr: 0.05, momentum: 0.9, power: 0.9, maxSteps: 100 });
    const before = tf.memory().numTensors;
    const losses: number[] = [];
    for (let step = 0; step < 4; step++) {
      const bn: BnUpdate[] = [];
      const { value, grads } = tf.variableGrads(() => affinityBatchLoss(net, images, labels, 5, { training: true, bnUpdates: bn }).total, params.map((p) => p.variable));
      losses.push(value.dataSync()[0]);
      if (step < 3) opt.step(step, grads);
      applyBnUpdates(bn);
      tf.dispose([value, ...Object.values(grads)]);
    }
    // Momentum buffers are the only new tensors.
    expect(tf.memory().numTensors - before).toBe(opt.buffers.size);
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses[0]).toBeGreaterThan(0.1);
    expect(losses[3]).toBeLessThan(losses[0]);
    tf.dispose(images);
    opt.dispose();
    net.dispose();
  });

  it('config: presets, overrides and errors naming the option', () => {
    const c = resolveTrainAffConfig({ overrides: { steps: 7, radius: 4 } });
    expect([c.steps, c.radius, c.data.crop, c.optim.lr]).toEqual([7, 4, 128, 0.02]);
    // The reference (arvijj/hfpl train_aff_voc.py:25, :52-69, :81-86; tool/torchutils.py:12-13).
    const ref = resolveTrainAffConfig({ preset: 'reference' });
    expect([ref.optim.lr, ref.optim.momentum, ref.optim.newLayerLrMult, ref.optim.weightDecay, ref.optim.power]).toEqual([0.01, 5e-4, 10, 5e-4, 0.9]);
    expect([ref.data.resizeLong, ref.data.crop, ref.targets, ref.radius, ref.batchSize]).toEqual([null, 448, 'pooled', 5, 8]);
    expect(c.data.resizeLong).toBeNull();
    expect(() => resolveTrainAffConfig({ overrides: { data: { crop: 100 } } })).toThrow(/option "data.crop": must be a multiple of 8 \(got 100\)/);
    expect(() => resolveTrainAffConfig({ overrides: { radus: 5 } })).toThrow(/unknown option "radus"/);
    expect(() => resolveTrainAffConfig({ preset: 'gpu' })).toThrow(/preset "gpu" is unknown: must be one of reference, cpu/);
  });

  it('bad input: a missing CRF map is E_IO naming it; a CRF map of another size than its image is E_DATA', async () => {
    const lo = join(tmp, 'alpha1'), hi = join(tmp, 'alpha24');
    const blank = (w: number, h: number) => ({ width: w, height: h, data: new Uint8Array(w * h) });
    await writeLabelPng(join(lo, '2007_000032.png'), blank(500, 281));
    await writeLabelPng(join(hi, '2007_000032.png'), blank(500, 281));
    expect(() => crfPairSamples(VOC, 'train', lo, hi)).toThrow(`${join(lo, '2007_000063.png')}: CRF label map not found (id 2007_000063 is listed in split 'train')`);
    for (const id of ['2007_000063', '2007_000243']) {
      await writeLabelPng(join(lo, `${id}.png`), blank(50, 50));
      await writeLabelPng(join(hi, `${id}.png`), blank(50, 50));
    }
    const { samples } = crfPairSamples(VOC, 'train', lo, hi);
    const loader = new LabelBatchLoader(samples, { batchSize: 1, augment: { crop: 64, resizeLong: null } });
    await expect(loader.sample(0, 1)).rejects.toThrow(/2007_000063: label map is 50x50, image .*2007_000063\.jpg is 500x375/);
  });
});
