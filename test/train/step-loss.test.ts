import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../../src/engine/init.js';
import { CamNet } from '../../src/models/cam-net.js';
import { SeamNet } from '../../src/models/seam-net.js';
import { camStepLoss, foreground } from '../../src/train/cam-step.js';
import { importanceSamplingLoss } from '../../src/losses/importance-sampling.js';
import { resolveTrainCamConfig } from '../../src/train/config.js';
import { seamStepLoss } from '../../src/train/seam-step.js';

beforeAll(async () => {
  await initEngine();
});

const inputs = () => ({
  images: tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 1) as tf.Tensor4D,
  raw: tf.randomUniform([2, 32, 32, 3], 0, 1, 'float32', 2) as tf.Tensor4D,
  labels: tf.tensor2d([[1, 0, 1], [0, 1, 0]]),
  islSeed: 5,
});

describe('training objectives', () => {
  it('CAM: total = (1 - w) L_GAP + w L_ISL + f L_FSL, and 0 weights turn the terms off', () => {
    const net = new CamNet({ numClasses: 3, backbone: 'tiny' });
    const inp = inputs();
    // A fresh context per pass: the same dropout seed then draws the same masks.
    const ctx = () => ({ training: true, dropoutSeed: 3 });
    const both = tf.tidy(() => {
      const l = camStepLoss(net, inp, resolveTrainCamConfig({ overrides: { islWeight: 0.2, fslWeight: 0.5 } }), ctx());
      return [l.total.dataSync()[0], l.parts.gap.dataSync()[0], l.parts.isl.dataSync()[0], l.parts.fsl.dataSync()[0]];
    });
    expect(both[0]).toBeCloseTo(0.8 * both[1] + 0.2 * both[2] + 0.5 * both[3], 5);
    const off = tf.tidy(() => {
      const l = camStepLoss(net, inp, resolveTrainCamConfig({ overrides: { islWeight: 0, fslWeight: 0 } }), ctx());
      return [l.total.dataSync()[0], Object.keys(l.parts).join(',')];
    });
    expect(off).toEqual([expect.closeTo(both[1] as number, 6), 'gap']);
    tf.dispose([inp.images, inp.raw, inp.labels]);
    net.dispose();
  });

  it('CAM: the multinomial ISL takes all 1 + K logits (background at 0), the binomial one the K foreground channels', () => {
    const net = new CamNet({ numClasses: 3, backbone: 'tiny' });
    const inp = inputs();
    const ctx = () => ({ training: true, dropoutSeed: 3 });
    for (const form of ['binomial', 'multinomial'] as const) {
      const [isl, direct] = tf.tidy(() => {
        const l = camStepLoss(net, inp, resolveTrainCamConfig({ overrides: { islWeight: 0.2, fslWeight: 0, isl: { form } } }), ctx());
        const { cam } = net.forward(inp.images, ctx());
        const d = importanceSamplingLoss(form === 'multinomial' ? cam : foreground(cam), inp.labels, { numSamples: 10, form, seed: inp.islSeed });
        return [l.parts.isl.dataSync()[0], d.dataSync()[0]];
      });
      expect(isl).toBeCloseTo(direct, 6);
    }
    tf.dispose([inp.images, inp.raw, inp.labels]);
    net.dispose();
  });

  it('SEAM: every term is finite, the total is their weighted sum, and the PCM layers get gradients', () => {
    const net = new SeamNet({ numClasses: 3, backbone: 'tiny' });
    const inp = inputs();
    const cfg = resolveTrainCamConfig({ overrides: { baseline: 'seam' } });
    const before = tf.memory().numTensors;
    const vars = net.store.trainable().map((p) => p.variable);
    let parts: Record<string, number> = {};
    const { value, grads } = tf.variableGrads(() => {
      const l = seamStepLoss(net, inp, cfg, { training: true });
      parts = Object.fromEntries(Object.entries(l.parts).map(([k, v]) => [k, v.dataSync()[0]]));
      return l.total;
    }, vars);
    expect(Object.keys(parts).sort()).toEqual(['ecr', 'er', 'fsl', 'gap1', 'gap2', 'isl1', 'minPool']);
    for (const v of Object.values(parts)) expect(Number.isFinite(v)).toBe(true);
    const cls1 = 0.8 * parts.gap1 + 0.2 * parts.isl1;
    expect(value.dataSync()[0]).toBeCloseTo(0.5 * (cls1 + parts.gap2) + parts.minPool + parts.er + parts.ecr + parts.fsl, 5);
    const f9 = net.store.params.get('head.f9.weight')!.variable.name;
    expect(tf.tidy(() => tf.max(tf.abs(grads[f9])).dataSync()[0])).toBeGreaterThan(0);
    tf.dispose([value, ...Object.values(grads)]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([inp.images, inp.raw, inp.labels]);
    net.dispose();
  });
});
