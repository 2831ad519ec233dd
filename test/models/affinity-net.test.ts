import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../../src/engine/init.js';
import { AffinityNet, elu, pairAffinities } from '../../src/models/affinity-net.js';
import { pairOffsets } from '../../src/infer/aff-labels.js';

describe('AffinityNet', () => {
  beforeAll(async () => { await initEngine(); });

  it('tiny preset: 96 x 80 input gives 12 x 10 features of the projected width; memory stays flat', () => {
    const net = new AffinityNet({ backbone: 'tiny' }, 1);
    try {
      // tiny: one stride-8 stage (tap 64 ch -> 16, features 128 ch -> 16), mixed to 32.
      expect(net.featureChannels).toBe(32);
      const before = tf.memory().numTensors;
      const x = tf.randomNormal([2, 96, 80, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
      const f = net.forward(x, { training: false });
      expect(f.shape).toEqual([2, 12, 10, 32]);
      const a = pairAffinities(f, 5);
      expect(a.shape).toEqual([2, 34, (12 - 4) * (10 - 8)]);
      const v = a.dataSync();
      expect(Math.min(...v)).toBeGreaterThan(0);
      expect(Math.max(...v)).toBeLessThanOrEqual(1);
      tf.dispose([x, f, a]);
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      net.dispose();
    }
  });

  it('pair affinity is exp(-mean |f_i - f_j|) at the documented positions', () => {
    // 1 x 5 x 9 x 2 features with f(y, x) = (y, x / 2): window row 0, columns 4, so P = 1.
    const data: number[] = [];
    for (let y = 0; y < 5; y++) for (let x = 0; x < 9; x++) data.push(y, x / 2);
    const f = tf.tensor4d(data, [1, 5, 9, 2]);
    const a = pairAffinities(f, 5);
    expect(a.shape).toEqual([1, 34, 1]);
    const got = a.dataSync();
    pairOffsets(5).forEach(([dy, dx], d) => {
      expect(got[d]).toBeCloseTo(Math.exp(-(Math.abs(dy) + Math.abs(dx) / 2) / 2), 6);
    });
    tf.dispose([f, a]);
  });

  it('identical features give affinity exactly 1; elu matches its definition', () => {
    const f = tf.ones([1, 6, 10, 4]) as tf.Tensor4D;
    const a = pairAffinities(f, 5);
    expect([...a.dataSync()].every((v) => v === 1)).toBe(true);
    const e = elu(tf.tensor4d([-2, -0.5, 0, 1.5], [1, 1, 4, 1]));
    const ev = e.dataSync();
    [Math.exp(-2) - 1, Math.exp(-0.5) - 1, 0, 1.5].forEach((w, i) => expect(ev[i]).toBeCloseTo(w, 6));
    tf.dispose([f, a, e]);
  });

  it('rejects an unknown config key', () => {
    expect(() => new AffinityNet({ backbone: 'tiny', width: 3 } as never)).toThrow(/affinity model config: \(root\)/);
  });
});
