import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../../src/engine/init.js';
import { resolveAugmentOptions } from '../../src/data/augment.js';
import { applyBnUpdates, type BnUpdate } from '../../src/models/layers.js';
import { DeepLab } from '../../src/models/deeplab.js';
import { augmentLabels } from '../../src/train/label-batches.js';
import { resolveTrainSegConfig, segmentationBatchLoss } from '../../src/train/train-seg.js';
import { PolySgd, paramGroups } from '../../src/train/sgd.js';

describe('train-seg', () => {
  beforeAll(async () => { await initEngine(); });

  it('3 SGD steps on a fixed batch lower the cross-entropy', () => {
    const net = new DeepLab({ numClasses: 3, backbone: 'tiny' }, 0);
    const n = 2, S = 64;
    const labels = new Uint8Array(n * S * S).map((_, i) => (i % S < 20 ? 1 : i % S < 44 ? 2 : i % S < 50 ? 255 : 0));
    const images = tf.tidy(() => tf.add(tf.tile(tf.tensor4d(Array.from(labels, (v) => v / 2), [n, S, S, 1]), [1, 1, 1, 3]), tf.randomNormal([n, S, S, 3], 0, 0.3, 'float32', 9)) as tf.Tensor4D);
    const params = net.store.trainable();
    const opt = new PolySgd(paramGroups(params, { weightDecay: 5e-4, newLayerLrMult: 1 }), { lr: 0.02, momentum: 0.9, power: 0.9, maxSteps: 100 });
    const losses: number[] = [];
    for (let step = 0; step < 4; step++) {
      const bn: BnUpdate[] = [];
      const { value, grads } = tf.variableGrads(() => segmentationBatchLoss(net, images, labels, { training: true, bnUpdates: bn }).total, params.map((p) => p.variable));
      losses.push(value.dataSync()[0]);
      if (step < 3) opt.step(step, grads);
      applyBnUpdates(bn);
      tf.dispose([value, ...Object.values(grads)]);
    }
    expect(losses[0]).toBeGreaterThan(0.5);
    expect(losses[3]).toBeLessThan(losses[0]);
    const bad = new Uint8Array(n * S * S).fill(7);
    expect(() => segmentationBatchLoss(net, images, bad, { training: false })).toThrow(/label 7 is not a class of the 3-class model/);
    tf.dispose(images);
    opt.dispose();
    net.dispose();
  });

  it('augmentLabels applies the image geometry: flip, crop window, 255 padding', () => {
    const o = resolveAugmentOptions({ crop: 4, resizeLong: null, colorJitter: null });
    const map = { width: 3, height: 2, data: Uint8Array.from([1, 2, 3, 4, 5, 6]) };
    // Image 3 x 2 placed at container offset (1, 0), flipped.
    const p = { width: 3, height: 2, flip: true, order: [0, 1, 2, 3], brightness: 1, contrast: 1, saturation: 1, hue: 0, imgTop: 0, imgLeft: 0, contTop: 1, contLeft: 0, cropH: 2, cropW: 3 };
    expect([...augmentLabels(map, p, o.crop)]).toEqual([255, 255, 255, 255, 3, 2, 1, 255, 6, 5, 4, 255, 255, 255, 255, 255]);
    // Resized 2x (nearest), window at (1, 2) of the 6 x 4 image.
    const q = { ...p, width: 6, height: 4, flip: false, imgTop: 1, imgLeft: 2, contTop: 0, cropH: 3, cropW: 4 };
    expect([...augmentLabels(map, q, o.crop)]).toEqual([2, 2, 3, 3, 5, 5, 6, 6, 5, 5, 6, 6, 255, 255, 255, 255]);
  });

  it('config: cpu preset and option errors', () => {
    const c = resolveTrainSegConfig({ overrides: { head: 'largefov' } });
    expect([c.head, c.steps, c.data.crop]).toEqual(['largefov', 600, 128]);
    expect(() => resolveTrainSegConfig({ overrides: { head: 'psp' } })).toThrow(/option "head"/);
  });
});
