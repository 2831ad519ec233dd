import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../../src/engine/init.js';
import { ParamStore, type Param } from '../../src/models/params.js';
import { PolySgd, paramGroups, polyLr } from '../../src/train/sgd.js';

beforeAll(async () => {
  await initEngine();
});

describe('poly learning rate', () => {
  it('is lr0 (1 - step / max)^power', () => {
    expect(polyLr(0.01, 0, 100)).toBe(0.01);
    expect(polyLr(0.01, 50, 100)).toBeCloseTo(0.01 * Math.pow(0.5, 0.9), 12);
    expect(polyLr(0.01, 100, 100)).toBe(0);
    expect(polyLr(0.01, 120, 100)).toBe(0);
  });
});

describe('parameter groups (METHOD 3.1)', () => {
  it('gives backbone weights 1x with decay, biases 2x, new weights 10x, new biases 20x, BN 1x without decay', () => {
    const s = new ParamStore();
    s.addParam('backbone.w', tf.zeros([1]), 'backbone', 'weight');
    s.addParam('backbone.b', tf.zeros([1]), 'backbone', 'bias');
    s.addParam('backbone.bn.gamma', tf.zeros([1]), 'backbone', 'bnGamma');
    s.addParam('head.w', tf.zeros([1]), 'new', 'weight');
    s.addParam('head.b', tf.zeros([1]), 'new', 'bias');
    const g = paramGroups(s.trainable(), { weightDecay: 5e-4, newLayerLrMult: 10 });
    const view = g.map((x) => [x.name, x.lrMult, x.weightDecay, x.params.map((p) => p.name)]);
    expect(view).toEqual([
      ['backbone-weights', 1, 5e-4, ['backbone.w']],
      ['backbone-biases', 2, 0, ['backbone.b']],
      ['bn', 1, 0, ['backbone.bn.gamma']],
      ['new-weights', 10, 5e-4, ['head.w']],
      ['new-biases', 20, 0, ['head.b']],
    ]);
    s.dispose();
  });
});

describe('PolySgd', () => {
  it('matches the PyTorch update (decay, momentum, poly lr, group multiplier) over two steps', () => {
    const s = new ParamStore();
    s.addParam('head.w', tf.tensor1d([1, -2]), 'new', 'weight');
    const p = s.params.get('head.w') as Param;
    const opt = new PolySgd(paramGroups([p], { weightDecay: 0.1, newLayerLrMult: 10 }), { lr: 0.01, momentum: 0.9, power: 0.9, maxSteps: 10 });
    const g1 = tf.tensor1d([0.5, 0.5]), g2 = tf.tensor1d([-1, 2]);
    opt.step(0, { [p.variable.name]: g1 });
    opt.step(1, { [p.variable.name]: g2 });
    // hand-derived (new-layer weights: 10x): d = g + 0.1 w; buf1 = d1; w1 = w0 - 10 lr(0) buf1; buf2 = 0.9 buf1 + d2; w2 = w1 - 10 lr(1) buf2
    const w0 = [1, -2], lr0 = 10 * 0.01, lr1 = 10 * 0.01 * Math.pow(0.9, 0.9);
    const b1 = [0.5 + 0.1 * w0[0], 0.5 + 0.1 * w0[1]];
    const w1 = [w0[0] - lr0 * b1[0], w0[1] - lr0 * b1[1]];
    const b2 = [0.9 * b1[0] + (-1 + 0.1 * w1[0]), 0.9 * b1[1] + (2 + 0.1 * w1[1])];
    const w2 = [w1[0] - lr1 * b2[0], w1[1] - lr1 * b2[1]];
    const got = p.variable.dataSync();
    expect(got[0]).toBeCloseTo(w2[0], 6);
    expect(got[1]).toBeCloseTo(w2[1], 6);
    const st = opt.state().get('head.w')!.dataSync();
    expect(st[0]).toBeCloseTo(b2[0], 6);
    // memory: the optimiser holds one buffer per parameter, nothing else
    const before = tf.memory().numTensors;
    opt.step(2, { [p.variable.name]: g1 });
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([g1, g2]);
    opt.dispose();
    s.dispose();
  });
});
