import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../../src/engine/init.js';
import { featureSimilarityLoss, fslWindowRadius } from '../../src/losses/feature-similarity.js';
import { fslTargetFromCam } from '../../src/losses/max-norm.js';
import { fslPairSums, halfWindow } from '../../src/losses/fsl-kernel.js';
import { fslWasmKernel } from '../../src/losses/fsl-wasm.js';
import { expectClose, fixtures, flat, nhwc } from './fixture-utils.js';

interface FslCase { image: number[][][][]; pred: number[][][][]; mu: number; sigma: number; px: number; py: number; loss: number; grad_pred: number[][][][] }

function lossAndGrad(image: tf.Tensor4D, pred: tf.Tensor4D, opts: Parameters<typeof featureSimilarityLoss>[2]) {
  const { value, grad } = tf.valueAndGrad((p: tf.Tensor) => featureSimilarityLoss(image, p as tf.Tensor4D, opts))(pred);
  const nchw = tf.transpose(grad, [0, 3, 1, 2]);
  const out = { loss: value.dataSync()[0], grad: nchw.dataSync() };
  tf.dispose([value, grad, nchw]);
  return out;
}

for (const backend of ['wasm', 'cpu'] as const) {
  describe(`featureSimilarityLoss on ${backend}`, () => {
    beforeAll(async () => { await initEngine({ backend }); });

    it('matches every reference fsl case (dense): loss and gradient within 1e-4', () => {
      for (const c of fixtures.fsl as FslCase[]) {
        const [image, pred] = [nhwc(c.image), nhwc(c.pred)];
        const before = tf.memory().numTensors;
        const r = lossAndGrad(image, pred, { mu: c.mu, sigma: c.sigma, px: c.px, py: c.py, radius: 'dense' });
        expect(tf.memory().numTensors).toBe(before);
        expectClose([r.loss], [c.loss]);
        expectClose(r.grad, flat(c.grad_pred));
        tf.dispose([image, pred]);
      }
    });

    it('matches fsl_from_cam_logits: gradient flows through max_norm and the background max', () => {
      const c = fixtures.fsl_from_cam_logits;
      const image = nhwc(c.image);
      const cam = nhwc(c.cam_logits);
      const labels = tf.tensor2d(c.labels_fg);
      const before = tf.memory().numTensors;
      const { value, grad } = tf.valueAndGrad((z: tf.Tensor) =>
        featureSimilarityLoss(image, fslTargetFromCam(z as tf.Tensor4D, labels), { mu: c.mu, sigma: c.sigma, radius: 'dense' }))(cam);
      expectClose(value.dataSync(), [c.loss]);
      const nchw = tf.transpose(grad, [0, 3, 1, 2]);
      expectClose(nchw.dataSync(), flat(c.grad_cam_logits));
      tf.dispose([value, grad, nchw]);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([image, cam, labels]);
    });
  });
}

describe('featureSimilarityLoss kernel and window', () => {
  beforeAll(async () => { await initEngine(); });

  it('SIMD and portable paths agree, also for px = 2 and py = 3 (portable only)', () => {
    expect(fslWasmKernel(3, 1, 1)).not.toBeNull(); // the SIMD module compiles here
    expect(fslWasmKernel(3, 2, 6)).not.toBeNull();
    const c = (fixtures.fsl as FslCase[])[1];
    const image = nhwc(c.image);
    const pred = nhwc(c.pred);
    const [n, h, w, cx] = image.shape;
    const inp = { image: image.dataSync() as Float32Array, pred: pred.dataSync() as Float32Array, n, h, w, cx, c: pred.shape[3] };
    for (const px of [1, 2]) {
      const p = { mu: 2.5, sigma: 3, px, py: 2, radius: Infinity };
      const win = halfWindow(h, w, p.sigma, p.radius);
      const g1 = new Float32Array(inp.pred.length);
      const g2 = new Float32Array(inp.pred.length);
      const s1 = fslPairSums(inp, p, win, 0, n, g1);
      const s2 = fslPairSums(inp, p, win, 0, n, g2, 'js');
      expectClose([s1], [s2], 1e-5);
      expectClose(g1, g2, 1e-4, 1e-6);
    }
    // py = 3 against a direct double loop over ordered pairs.
    const p3 = { mu: 1, sigma: 2, px: 1, py: 3, radius: Infinity };
    const g3 = new Float32Array(inp.pred.length);
    const s3 = fslPairSums(inp, p3, halfWindow(h, w, 2, Infinity), 0, 1, g3); // image 0 only
    let ref = 0;
    const img = inp.image;
    const q = inp.pred;
    for (let i = 0; i < h * w; i++) {
      for (let j = 0; j < h * w; j++) {
        let d = 0;
        for (let t = 0; t < 3; t++) d += Math.abs(Math.min(1, Math.max(0, img[i * 3 + t])) - Math.min(1, Math.max(0, img[j * 3 + t])));
        d = Math.min(1, d / 3);
        const wx = Math.tanh(1 + Math.log((d + 1e-5) / (1 - d + 1e-5)));
        const dist2 = (Math.floor(i / w) - Math.floor(j / w)) ** 2 + ((i % w) - (j % w)) ** 2;
        const g = Math.exp(-0.5 * dist2 / 4) / (2 * Math.PI * 4);
        let dq = 0;
        for (let t = 0; t < inp.c; t++) dq += Math.abs(q[i * inp.c + t] - q[j * inp.c + t]) ** 3;
        ref += g * wx * 0.5 * dq;
      }
    }
    expectClose([s3], [ref], 1e-6);
    // Its gradient against central differences of the pair sum (image 0).
    for (const at of [0, 7, 33, 101]) {
      const e = 1e-3;
      const shifted = (d: number): number => {
        const q2 = Float32Array.from(inp.pred);
        q2[at] += d;
        return fslPairSums({ ...inp, pred: q2 }, p3, halfWindow(h, w, 2, Infinity), 0, 1, new Float32Array(q2.length));
      };
      expectClose([g3[at]], [(shifted(e) - shifted(-e)) / (2 * e)], 1e-3, 1e-6);
    }
    tf.dispose([image, pred]);
  });

  it('works inside tf.variableGrads (a trainable CAM through fslTargetFromCam)', () => {
    const c = fixtures.fsl_from_cam_logits;
    const image = nhwc(c.image);
    const cam = nhwc(c.cam_logits);
    const v = tf.variable(cam, true, 'fslCam');
    const labels = tf.tensor2d(c.labels_fg);
    const { value, grads } = tf.variableGrads(() => featureSimilarityLoss(image, fslTargetFromCam(v, labels), { radius: 'dense' }), [v]);
    expectClose(value.dataSync(), [c.loss]);
    const nchw = tf.transpose(grads.fslCam, [0, 3, 1, 2]);
    expectClose(nchw.dataSync(), flat(c.grad_cam_logits));
    tf.dispose([image, cam, v, labels, value, grads.fslCam, nchw]);
  });

  it('is zero for a constant prediction and the image gets no gradient', () => {
    const image = tf.randomUniform([1, 6, 7, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
    const pred = tf.fill([1, 6, 7, 2], 0.3) as tf.Tensor4D;
    const { value, grads } = tf.valueAndGrads((x: tf.Tensor, p: tf.Tensor) => featureSimilarityLoss(x as tf.Tensor4D, p as tf.Tensor4D))([image, pred]);
    expect(Math.abs(value.dataSync()[0])).toBe(0);
    expect(grads[0].dataSync().every((v) => v === 0)).toBe(true);
    expect(grads[1].dataSync().every((v) => v === 0)).toBe(true);
    tf.dispose([image, pred, value, ...grads]);
  });

  it('rejects bad shapes, dtypes, ranges and options with a message naming the argument', () => {
    const img = tf.zeros([1, 4, 4, 3]) as tf.Tensor4D;
    const pred = tf.zeros([1, 4, 5, 2]) as tf.Tensor4D;
    expect(() => featureSimilarityLoss(img, pred)).toThrow('featureSimilarityLoss: pred dimension 2 must be 4 (width of image), got shape [1, 4, 5, 2]');
    expect(() => featureSimilarityLoss(tf.zeros([4, 4, 3]) as never, pred)).toThrow('featureSimilarityLoss: image must have rank 4 [N, h, w, 3], got shape [4, 4, 3]');
    expect(() => featureSimilarityLoss(img, tf.zeros([1, 4, 4, 2], 'int32') as tf.Tensor4D)).toThrow('pred must have dtype float32, got int32');
    expect(() => featureSimilarityLoss(tf.fill([1, 4, 4, 3], 255) as tf.Tensor4D, tf.zeros([1, 4, 4, 2]) as tf.Tensor4D))
      .toThrow('featureSimilarityLoss: image values must lie in [0, 1] (RGB scaled to [0, 1]), found 255 at flat index 0');
    expect(() => featureSimilarityLoss(img, pred, { sigma: -1 })).toThrow('featureSimilarityLoss: option sigma must be > 0 (pixels), got -1');
    expect(() => featureSimilarityLoss(img, pred, { radius: 'all' as never })).toThrow("option radius must be 'dense' or a number > 0 (pixels), got \"all\"");
    expect(fslWindowRadius(5)).toBe(22.5);
    tf.dispose([img, pred]);
  });
});
