// Loss argument errors name the likely mistake (issue 17): 1 + K vs K channels, NCHW vs NHWC,
// image size vs CAM size, [0, 255] or normalised images, class indices for labels; and int32 /
// bool labels (what tf.oneHot and comparisons return) give the float32 labels' values and gradients.
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initEngine } from '../../src/engine/init.js';
import { multilabelSoftMarginLoss } from '../../src/losses/multilabel-soft-margin.js';
import { importanceSamplingLoss } from '../../src/losses/importance-sampling.js';
import { featureSimilarityLoss } from '../../src/losses/feature-similarity.js';
import { fslTargetFromCam } from '../../src/losses/max-norm.js';
import { adaptiveMinPoolingLoss } from '../../src/losses/seam.js';
import { affinityPairLoss } from '../../src/losses/affinity.js';

const ramp = (shape: number[], scale = 0.1): tf.Tensor => tf.tidy(() => tf.reshape(tf.mul(tf.sin(tf.range(0, shape.reduce((a, b) => a * b), 1)), scale * 10), shape));

await initEngine({ backend: 'cpu' });

describe('argument errors name the likely mistake', () => {
  const labels = tf.tensor2d([[1, 0]]);

  it('importanceSamplingLoss: all 1 + K channels, or NCHW logits', () => {
    expect(() => importanceSamplingLoss(ramp([1, 4, 4, 3]) as tf.Tensor4D, labels)).toThrow(
      'importanceSamplingLoss: labels dimension 1 must be 3 (channels of logits), got shape [1, 2]; logits has 1 + K = 3 channels for K = 2 labels: ' +
      "the binomial form takes the K foreground channels, drop the background channel 0 (tf.slice(cam, [0, 0, 0, 1], [-1, -1, -1, -1])) or use form: 'multinomial'");
    expect(() => importanceSamplingLoss(ramp([1, 2, 5, 6]) as tf.Tensor4D, labels)).toThrow(
      'importanceSamplingLoss: labels dimension 1 must be 6 (channels of logits), got shape [1, 2]; logits looks NCHW [N, C, h, w] (dimension 1 is 2): ' +
      'hfpl takes NHWC [N, h, w, C], use tf.transpose(logits, [0, 2, 3, 1])');
    expect(() => importanceSamplingLoss(ramp([1, 4, 4, 2]) as tf.Tensor4D, labels, { form: 'multinomial' })).toThrow(
      'labels dimension 1 must be 1 (foreground channels of logits (all but channel 0)), got shape [1, 2]; logits has 2 channels = K: ' +
      'the multinomial form takes 1 + K channels with the background at channel 0');
    expect(() => importanceSamplingLoss(ramp([1, 4, 4, 2]) as tf.Tensor4D, tf.tensor2d([[3, 0]]))).toThrow(
      'importanceSamplingLoss: labels values must lie in [0, 1], found 3 at flat index 0 (image labels are multi-hot 0/1 per class, e.g. tf.oneHot(classIds, K) or a sum of those clipped to 1)');
  });

  it('fslTargetFromCam / adaptiveMinPoolingLoss: K channels without the background, or NCHW', () => {
    expect(() => fslTargetFromCam(ramp([1, 4, 4, 2]) as tf.Tensor4D, labels)).toThrow(
      'fslTargetFromCam: labels dimension 1 must be 1 (foreground channels of camLogits), got shape [1, 2]; camLogits has K = 2 channels: ' +
      'it takes all 1 + K CAM channels with the background at channel 0 (the ISL takes the K foreground ones)');
    expect(() => fslTargetFromCam(ramp([1, 3, 5, 6]) as tf.Tensor4D, labels)).toThrow(
      'fslTargetFromCam: labels dimension 1 must be 5 (foreground channels of camLogits), got shape [1, 2]; camLogits looks NCHW [N, C, h, w] (dimension 1 is 3): ' +
      'hfpl takes NHWC [N, h, w, C], use tf.transpose(camLogits, [0, 2, 3, 1])');
    expect(() => adaptiveMinPoolingLoss(ramp([1, 4, 4, 2]) as tf.Tensor4D, labels)).toThrow(
      'adaptiveMinPoolingLoss: labels dimension 1 must be 1 (foreground channels of refined), got shape [1, 2]; refined has K = 2 channels: ' +
      'it takes all 1 + K CAM channels with the background at channel 0');
  });

  it('featureSimilarityLoss: image size vs CAM size, NCHW image, [0, 255] or normalised values, int32 pixels', () => {
    const pred = tf.fill([1, 4, 4, 3], 0.5) as tf.Tensor4D;
    expect(() => featureSimilarityLoss(tf.fill([1, 8, 8, 3], 0.5) as tf.Tensor4D, pred)).toThrow(
      'featureSimilarityLoss: pred dimension 1 must be 8 (height of image), got shape [1, 4, 4, 3]; the image is 8 x 8 but the CAM is 4 x 4: ' +
      'resize the image to the CAM size, tf.image.resizeBilinear(image, [4, 4], true)');
    expect(() => featureSimilarityLoss(tf.fill([1, 3, 4, 4], 0.5) as tf.Tensor4D, pred)).toThrow(
      'featureSimilarityLoss: image must be NHWC [N, h, w, 3], got shape [1, 3, 4, 4]; image looks NCHW [N, C, h, w] (dimension 1 is 3): ' +
      'hfpl takes NHWC [N, h, w, C], use tf.transpose(image, [0, 2, 3, 1])');
    expect(() => featureSimilarityLoss(tf.fill([1, 4, 4, 3], 255) as tf.Tensor4D, pred)).toThrow(
      'featureSimilarityLoss: image values must lie in [0, 1] (RGB scaled to [0, 1]), found 255 at flat index 0: it looks like [0, 255] pixels, divide by 255');
    expect(() => featureSimilarityLoss(tf.fill([1, 4, 4, 3], -1.5) as tf.Tensor4D, pred)).toThrow(
      'featureSimilarityLoss: image values must lie in [0, 1] (RGB scaled to [0, 1]), found -1.5 at flat index 0: it looks normalised (mean/std); the FSL takes the raw RGB in [0, 1]');
    expect(() => featureSimilarityLoss(tf.fill([1, 4, 4, 3], 200, 'int32') as tf.Tensor4D, pred)).toThrow(
      "featureSimilarityLoss: image must have dtype float32, got int32 (RGB in [0, 1]: tf.div(tf.cast(image, 'float32'), 255) for a [0, 255] image)");
  });

  it('multilabelSoftMarginLoss: 1 + K logits, or an unpooled NHWC CAM', () => {
    expect(() => multilabelSoftMarginLoss(ramp([2, 4]), tf.zeros([2, 3]))).toThrow(
      'multilabelSoftMarginLoss: labels must have shape [2, 4], got [2, 3]; logits has 1 + K = 4 classes for K = 3 labels: drop the background logit 0, tf.slice(logits, [0, 1], [-1, -1])');
    expect(() => multilabelSoftMarginLoss(ramp([2, 4, 4, 3]), tf.zeros([2, 3]))).toThrow(
      'multilabelSoftMarginLoss: labels must have shape [2, 4, 4, 3] or [2, 4], got [2, 3]; logits looks like an NHWC CAM [N, h, w, C]: pool it to [N, C] first, tf.mean(cam, [1, 2])');
  });
});

describe('int32 and bool labels are cast', () => {
  const intLabels = (): tf.Tensor2D => tf.oneHot(tf.tensor1d([1, 0], 'int32'), 3) as tf.Tensor2D; // int32 [[0,1,0],[1,0,0]]
  const floatLabels = (): tf.Tensor2D => tf.tensor2d([[0, 1, 0], [1, 0, 0]]);

  /** Loss value and gradient wrt `x` of f(x, labels). */
  function valueAndGrad(x: tf.Tensor, labels: tf.Tensor, f: (x: tf.Tensor, y: tf.Tensor) => tf.Scalar): number[] {
    return tf.tidy(() => {
      const { value, grad } = tf.valueAndGrad((t: tf.Tensor) => f(t, labels))(x);
      return [value.dataSync()[0], ...Array.from(grad.dataSync())];
    });
  }

  const cases: Array<[string, number[], (x: tf.Tensor, y: tf.Tensor) => tf.Scalar]> = [
    ['multilabelSoftMarginLoss', [2, 3], (x, y) => multilabelSoftMarginLoss(x, y)],
    ['importanceSamplingLoss', [2, 3, 3, 3], (x, y) => importanceSamplingLoss(x as tf.Tensor4D, y as tf.Tensor2D, { seed: 5 })],
    ['fslTargetFromCam', [2, 3, 3, 4], (x, y) => tf.sum(tf.mul(fslTargetFromCam(x as tf.Tensor4D, y as tf.Tensor2D), ramp([2, 3, 3, 4])))],
    ['adaptiveMinPoolingLoss', [2, 3, 3, 4], (x, y) => adaptiveMinPoolingLoss(tf.add(x, 2) as tf.Tensor4D, y as tf.Tensor2D)],
  ];
  for (const [name, shape, f] of cases) {
    it(`${name}: int32 (tf.oneHot) and bool labels give the float32 value and gradient`, () => {
      const x = ramp(shape);
      const want = valueAndGrad(x, floatLabels(), f);
      const il = intLabels();
      expect(il.dtype).toBe('int32');
      const before = tf.memory().numTensors;
      const got = valueAndGrad(x, il, f);
      expect(tf.memory().numTensors).toBe(before); // the casts are freed
      const asBool = valueAndGrad(x, tf.cast(floatLabels(), 'bool'), f);
      expect(want.some((v, i) => i > 0 && v !== 0)).toBe(true);
      expect(got).toEqual(want);
      expect(asBool).toEqual(want);
    });
  }

  it('affinityPairLoss: int32 masks give the float32 value', () => {
    const aff = tf.tensor1d([0.2, 0.9, 0.5, 0.7]);
    const m = [[1, 0, 0, 1], [0, 1, 0, 0], [0, 0, 1, 0]];
    const f = affinityPairLoss(aff, tf.tensor1d(m[0]), tf.tensor1d(m[1]), tf.tensor1d(m[2])).dataSync()[0];
    const i = affinityPairLoss(aff, tf.tensor1d(m[0], 'int32'), tf.tensor1d(m[1], 'int32'), tf.tensor1d(m[2], 'int32')).dataSync()[0];
    expect(i).toBe(f);
    expect(f).toBeGreaterThan(0);
  });
});
