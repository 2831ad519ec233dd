import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../../src/engine/init.js';
import { Rng } from '../../src/engine/random.js';
import { backbonePresets, resolveBackboneConfig, ResidualBackbone } from '../../src/models/backbone.js';
import { CamNet, gapLogits } from '../../src/models/cam-net.js';
import { applyBnUpdates, BatchNorm2d, type BnUpdate } from '../../src/models/layers.js';
import { ParamStore } from '../../src/models/params.js';

beforeAll(async () => {
  await initEngine();
});

function input(n: number, h: number, w: number, seed = 1): tf.Tensor4D {
  const r = new Rng(seed);
  return tf.tensor4d(Float32Array.from({ length: n * h * w * 3 }, () => r.normal()), [n, h, w, 3]);
}

/** Parameter count of the reference ResNet-38 (resnet38d.py) without fc layers, BN running stats excluded. */
function resnet38ParamCount(): number {
  const bn = (c: number) => 2 * c;
  const conv = (k: number, i: number, o: number) => k * k * i * o;
  const basic = (i: number, m: number, o: number, stride: number) =>
    bn(i) + conv(3, i, m) + bn(m) + conv(3, m, o) + (i === o && stride === 1 ? 0 : conv(1, i, o));
  const bottleneck = (i: number, o: number) => bn(i) + conv(1, i, o / 4) + bn(o / 4) + conv(3, o / 4, o / 2) + bn(o / 2) + conv(1, o / 2, o) + conv(1, i, o);
  let n = conv(3, 3, 64);
  n += basic(64, 128, 128, 2) + 2 * basic(128, 128, 128, 1);
  n += basic(128, 256, 256, 2) + 2 * basic(256, 256, 256, 1);
  n += basic(256, 512, 512, 2) + 5 * basic(512, 512, 512, 1);
  n += basic(512, 512, 1024, 1) + 2 * basic(1024, 512, 1024, 1);
  n += bottleneck(1024, 2048) + bottleneck(2048, 4096) + bn(4096);
  return n;
}

describe('ResidualBackbone', () => {
  it('has output stride 8 (ceil) for the small and tiny presets', () => {
    for (const backbone of ['tiny', 'small'] as const) {
      const net = new CamNet({ numClasses: 6, backbone });
      const before = tf.memory().numTensors;
      const shape = tf.tidy(() => net.forward(input(2, 64, 70), { training: false }).cam.shape);
      expect(shape).toEqual([2, 8, 9, 7]);
      expect(tf.memory().numTensors).toBe(before);
      net.dispose();
    }
  });

  it('rejects a layout whose output stride is not 8, and unknown keys, naming them', () => {
    expect(() => resolveBackboneConfig({ ...backbonePresets.small, stemStride: 1 })).toThrow(/output stride is 4 .* must be 8/);
    expect(() => resolveBackboneConfig({ ...backbonePresets.small, depth: 3 } as never)).toThrow(/backbone config: .*depth/);
    expect(() => new CamNet({ numClasses: 0 })).toThrow(/model config: numClasses/);
  });

  it('builds the wide ResNet-38 layout with the reference parameter count and runs a forward pass', () => {
    const store = new ParamStore();
    const bb = new ResidualBackbone(store, backbonePresets.resnet38, new Rng(0));
    expect(store.countParams()).toBe(resnet38ParamCount());
    expect(bb.outChannels).toBe(4096);
    expect(bb.tapChannels).toEqual([512, 1024]); // b5 and b6 inputs, as SEAM's conv4/conv5
    const before = tf.memory().numTensors;
    const out = tf.tidy(() => {
      const o = bb.apply(input(1, 24, 24), { training: false }, true);
      return [o.features.shape, o.taps[0].shape, o.taps[1].shape, tf.min(o.features).dataSync()[0]];
    });
    expect(out.slice(0, 3)).toEqual([[1, 3, 3, 4096], [1, 3, 3, 512], [1, 3, 3, 1024]]);
    expect(out[3]).toBeGreaterThanOrEqual(0); // final BN + ReLU
    expect(bb.config.frozenBn).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
    store.dispose();
  }, 60_000);

  it('is deterministic for a seed and differs across seeds', () => {
    const a = new CamNet({ numClasses: 3, backbone: 'tiny' }, 5), b = new CamNet({ numClasses: 3, backbone: 'tiny' }, 5), c = new CamNet({ numClasses: 3, backbone: 'tiny' }, 6);
    const w = (n: CamNet) => n.store.params.get('backbone.s2.b1.conv2a.weight')!.variable.dataSync();
    expect(Array.from(w(a))).toEqual(Array.from(w(b)));
    expect(Array.from(w(a))).not.toEqual(Array.from(w(c)));
    // Roles for the parameter groups: the classifier is a new layer without bias.
    expect(a.store.params.get('head.fc8.weight')!.role).toBe('new');
    expect(a.store.params.has('head.fc8.bias')).toBe(false);
    [a, b, c].forEach((n) => n.dispose());
  });

  it('gapLogits averages over h and w', () => {
    const v = tf.tidy(() => gapLogits(tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8], [1, 2, 2, 2])).arraySync());
    expect(v).toEqual([[4, 5]]);
  });
});

describe('BatchNorm2d', () => {
  it('normalises with batch statistics in training and folds them into running statistics (momentum 0.1)', () => {
    const store = new ParamStore();
    const bn = new BatchNorm2d(store, 'bn', 2);
    // channel 0: values 1, 3 (mean 2, biased var 1); channel 1: 0, 4 (mean 2, var 4)
    const x = tf.tensor4d([1, 0, 3, 4], [1, 1, 2, 2]);
    const updates: BnUpdate[] = [];
    const y = tf.tidy(() => bn.apply(x, { training: true, bnUpdates: updates }).dataSync());
    const e = 1e-5;
    expect(Array.from(y)).toEqual([-1 / Math.sqrt(1 + e), -2 / Math.sqrt(4 + e), 1 / Math.sqrt(1 + e), 2 / Math.sqrt(4 + e)].map((v) => expect.closeTo(v, 5)));
    applyBnUpdates(updates);
    expect(Array.from(bn.runningMean.dataSync())).toEqual([expect.closeTo(0.2, 6), expect.closeTo(0.2, 6)]);
    expect(Array.from(bn.runningVar.dataSync())).toEqual([expect.closeTo(0.9 + 0.1 * 1, 6), expect.closeTo(0.9 + 0.1 * 4, 6)]);
    // eval mode uses the running statistics
    const ye = tf.tidy(() => bn.apply(x, { training: false }).dataSync());
    expect(ye[0]).toBeCloseTo((1 - 0.2) / Math.sqrt(1 + e), 5);
    // a frozen layer never uses batch statistics
    const fr = new BatchNorm2d(store, 'frozen', 2, true);
    const yf = tf.tidy(() => fr.apply(x, { training: true, bnUpdates: updates }).dataSync());
    expect(updates.length).toBe(0);
    expect(yf[0]).toBeCloseTo(1 / Math.sqrt(1 + e), 5);
    x.dispose();
    store.dispose();
  });
});
