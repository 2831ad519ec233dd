import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../../src/engine/init.js';
import { detach } from '../../src/models/detach.js';
import { pcmInputCam, SeamNet } from '../../src/models/seam-net.js';

beforeAll(async () => {
  await initEngine();
});

describe('SEAM network', () => {
  it('pcmInputCam: relu / spatial max, background 1 - max fg, non-maximal foreground zeroed', () => {
    // one image, 2 pixels, channels [bg, c1, c2]
    const cam = tf.tensor4d([0.5, 2, 1, -1, 1, 4], [1, 1, 2, 3]);
    const v = tf.tidy(() => pcmInputCam(cam).dataSync());
    const n = (x: number, m: number) => Math.max(0, x - 1e-5) / (m + 1e-5);
    // fg maxima over pixels: c1 max 2, c2 max 4
    const p0 = [n(2, 2), n(1, 4)], p1 = [n(1, 2), n(4, 4)];
    const expected = [1 - p0[0], p0[0], 0, 1 - p1[1], 0, p1[1]];
    expected.forEach((e, i) => expect(v[i]).toBeCloseTo(e, 5));
    cam.dispose();
  });

  it('PCM with identical features everywhere averages the CAM over pixels', () => {
    const net = new SeamNet({ numClasses: 2, backbone: 'tiny' });
    const cam = tf.tensor4d([1, 0, 0, 0, 1, 0, 0, 0, 1, 3, 3, 3], [1, 2, 2, 3]);
    const f = tf.ones([1, 2, 2, 195]) as tf.Tensor4D;
    const out = tf.tidy(() => net.pcm(cam, f).dataSync());
    // aff = relu(f_i . f_j) = 1 for all pairs if the f9 output is non-zero; normalised over i: 1/4.
    const avg = [(1 + 0 + 0 + 3) / 4, (0 + 1 + 0 + 3) / 4, (0 + 0 + 1 + 3) / 4];
    for (let p = 0; p < 4; p++) for (let c = 0; c < 3; c++) expect(out[p * 3 + c]).toBeCloseTo(avg[c] * (4 / (4 + 1e-5)), 4);
    tf.dispose([cam, f]);
    net.dispose();
  });

  it('forwardSeam returns CAM and refined CAM at stride 8 and keeps memory flat', () => {
    const net = new SeamNet({ numClasses: 3, backbone: 'tiny' });
    expect(net.config.head).toBe('seam');
    const x = tf.randomNormal([2, 40, 40, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
    const before = tf.memory().numTensors;
    const shapes = tf.tidy(() => {
      const o = net.forwardSeam(x, { training: false });
      return [o.cam.shape, o.camRv.shape];
    });
    expect(shapes).toEqual([[2, 5, 5, 4], [2, 5, 5, 4]]);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    net.dispose();
  });

  it('detach passes values and blocks gradients', () => {
    const x = tf.tensor1d([1, 2, 3]);
    const g = tf.tidy(() => tf.grad((t: tf.Tensor) => tf.sum(tf.add(tf.mul(t, t), detach(tf.mul(t, 5)))))(x).dataSync());
    expect(Array.from(g)).toEqual([2, 4, 6]);
    const v = tf.tidy(() => detach(tf.mul(x, 5)).dataSync());
    expect(Array.from(v)).toEqual([5, 10, 15]);
    x.dispose();
  });
});
