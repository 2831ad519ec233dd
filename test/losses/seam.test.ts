import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../../src/engine/init.js';
import { Rng } from '../../src/engine/random.js';
import { adaptiveMinPoolingLoss, equivariantCrossRegularizationLoss, equivariantRegularizationLoss } from '../../src/losses/seam.js';
import { affinityPairLoss } from '../../src/losses/affinity.js';
import { expectClose } from './fixture-utils.js';

const [N, H, W, C] = [2, 3, 4, 3];
const L = H * W * C;
function randomArray(seed: number, n: number, lo = 0, hi = 1): number[] {
  const r = new Rng(seed);
  return Array.from({ length: n }, () => r.uniform(lo, hi));
}

for (const backend of ['wasm', 'cpu'] as const) {
  describe(`SEAM and AffinityNet losses on ${backend}`, () => {
    beforeAll(async () => { await initEngine({ backend }); });

    it('equivariant regularisation: mean |cam1 - cam2| over foreground channels, with its gradient', () => {
      const a = randomArray(1, N * L);
      const b = randomArray(2, N * L);
      const [t1, t2] = [tf.tensor4d(a, [N, H, W, C]), tf.tensor4d(b, [N, H, W, C])];
      const before = tf.memory().numTensors;
      const { value, grad } = tf.valueAndGrad((x: tf.Tensor) => equivariantRegularizationLoss(x as tf.Tensor4D, t2))(t1);
      let s = 0;
      const g: number[] = [];
      const cnt = N * H * W * (C - 1);
      a.forEach((v, i) => {
        const fg = i % C !== 0;
        if (fg) s += Math.abs(v - b[i]);
        g.push(fg ? Math.sign(v - b[i]) / cnt : 0);
      });
      expectClose(value.dataSync(), [s / cnt]);
      expectClose(grad.dataSync(), g);
      tf.dispose([value, grad]);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([t1, t2]);
    });

    it('equivariant cross regularisation: top 20% of |max_onehot(cam) - refined| per image', () => {
      const cam = randomArray(3, N * L);
      const ref = randomArray(4, N * L);
      const [tc, tr] = [tf.tensor4d(cam, [N, H, W, C]), tf.tensor4d(ref, [N, H, W, C])];
      const before = tf.memory().numTensors;
      const { value, grads } = tf.valueAndGrads((c: tf.Tensor, r: tf.Tensor) =>
        equivariantCrossRegularizationLoss(c as tf.Tensor4D, r as tf.Tensor4D))([tc, tr]);
      const k = Math.floor(L * 0.2);
      let total = 0;
      const gRef = new Array<number>(N * L).fill(0);
      const tArr = new Array<number>(N * L).fill(0);
      for (let n = 0; n < N; n++) {
        const d: [number, number][] = [];
        for (let p = 0; p < H * W; p++) {
          const base = n * L + p * C;
          const fg = cam.slice(base + 1, base + C);
          const m = Math.max(...fg);
          const target = [1 - m, ...fg.map((v) => (v === m ? v : 0))];
          for (let c = 0; c < C; c++) {
            d.push([Math.abs(target[c] - ref[base + c]), base + c]);
            tArr[base + c] = target[c];
          }
        }
        d.sort((x, y) => y[0] - x[0]);
        for (let j = 0; j < k; j++) {
          total += d[j][0];
          const at = d[j][1];
          gRef[at] = Math.sign(ref[at] - tArr[at]) / (N * k); // d|t - r|/dr
        }
      }
      expectClose(value.dataSync(), [total / (N * k)]);
      // Gradient wrt refined: sign(r - t) / (N k) on the top-k entries; none wrt cam (detached).
      expectClose(grads[1].dataSync(), gRef);
      expect(grads[0].dataSync().every((v) => v === 0)).toBe(true);
      tf.dispose([value, ...grads]);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([tc, tr]);
    });

    it('adaptive min-pooling: relu of the h w / 4 smallest label-masked foreground maxima', () => {
      const x = randomArray(5, N * L, -1, 1);
      const labels = [[1, 0], [1, 1]];
      const [tx, tl] = [tf.tensor4d(x, [N, H, W, C]), tf.tensor2d(labels)];
      const before = tf.memory().numTensors;
      const { value, grad } = tf.valueAndGrad((r: tf.Tensor) => adaptiveMinPoolingLoss(r as tf.Tensor4D, tl))(tx);
      const k = Math.floor((H * W) / 4);
      let s = 0;
      const g = new Array<number>(N * L).fill(0);
      for (let n = 0; n < N; n++) {
        const m: [number, number][] = [];
        for (let p = 0; p < H * W; p++) {
          let best = -Infinity;
          let at = -1;
          for (let c = 1; c < C; c++) {
            const v = x[n * L + p * C + c] * labels[n][c - 1];
            if (v > best) { best = v; at = labels[n][c - 1] ? n * L + p * C + c : -1; }
          }
          m.push([best, at]);
        }
        m.sort((a, b) => a[0] - b[0]);
        for (let j = 0; j < k; j++) {
          s += Math.max(0, m[j][0]);
          if (m[j][0] > 0 && m[j][1] >= 0) g[m[j][1]] = 1 / (k * N);
        }
      }
      expectClose(value.dataSync(), [s / (k * N)]);
      expectClose(grad.dataSync(), g);
      tf.dispose([value, grad]);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([tx, tl]);
    });

    it('affinity pair loss: bg / 4 + fg / 4 + neg / 2 with its gradient', () => {
      const aff = randomArray(6, 12, 0.05, 1);
      const bg = [1, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0];
      const fg = [0, 1, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0];
      const ng = [0, 0, 1, 0, 0, 1, 0, 1, 0, 0, 0, 0];
      const t = (a: number[]) => tf.tensor2d(a, [3, 4]);
      const [ta, tb, tfg, tn] = [t(aff), t(bg), t(fg), t(ng)];
      const before = tf.memory().numTensors;
      const { value, grad } = tf.valueAndGrad((a: tf.Tensor) => affinityPairLoss(a, tb, tfg, tn))(ta);
      const cnt = (m: number[]) => m.reduce((x, y) => x + y, 0) + 1e-5;
      const term = (m: number[], f: (a: number) => number) => aff.reduce((s, a, i) => s - m[i] * Math.log(f(a)), 0) / cnt(m);
      const ref = term(bg, (a) => a + 1e-5) / 4 + term(fg, (a) => a + 1e-5) / 4 + term(ng, (a) => 1 + 1e-5 - a) / 2;
      expectClose(value.dataSync(), [ref]);
      const g = aff.map((a, i) => -bg[i] / (a + 1e-5) / cnt(bg) / 4 - fg[i] / (a + 1e-5) / cnt(fg) / 4 + ng[i] / (1 + 1e-5 - a) / cnt(ng) / 2);
      expectClose(grad.dataSync(), g);
      tf.dispose([value, grad]);
      expect(tf.memory().numTensors).toBe(before);
      expect(() => equivariantCrossRegularizationLoss(tf.zeros([1, 2, 2, 3]) as tf.Tensor4D, tf.zeros([1, 2, 2, 3]) as tf.Tensor4D, { topFraction: 2 }))
        .toThrow('equivariantCrossRegularizationLoss: option topFraction must be a number in (0, 1], got 2');
      expect(() => equivariantRegularizationLoss(tf.zeros([1, 2, 2, 3]) as tf.Tensor4D, tf.zeros([1, 2, 3, 3]) as tf.Tensor4D))
        .toThrow('equivariantRegularizationLoss: cam2 must have the shape of cam1 [1, 2, 2, 3], got [1, 2, 3, 3]');
      expect(() => adaptiveMinPoolingLoss(tf.zeros([1, 2, 2, 3]) as tf.Tensor4D, tf.zeros([1, 3]) as tf.Tensor2D))
        .toThrow('adaptiveMinPoolingLoss: labels dimension 1 must be 2 (foreground channels of refined), got shape [1, 3]');
      expect(() => affinityPairLoss(ta, tb, tfg, tf.zeros([4, 3]))).toThrow('affinityPairLoss: labelNeg must have the shape of aff [3, 4], got [4, 3]');
      tf.dispose([ta, tb, tfg, tn]);
    });
  });
}
