import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../../src/engine/init.js';
import { DeepLab, segmentationLoss } from '../../src/models/deeplab.js';

describe('DeepLab', () => {
  beforeAll(async () => { await initEngine(); });

  it('ASPP and LargeFOV heads give stride-8 logits of 1 + K classes; memory stays flat', () => {
    for (const head of ['aspp', 'largefov'] as const) {
      const net = new DeepLab({ numClasses: 7, head, backbone: 'tiny', headWidth: 32 }, 2);
      const before = tf.memory().numTensors;
      const x = tf.randomNormal([1, 64, 40, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
      const y = net.forward(x, { training: false });
      expect(y.shape, head).toEqual([1, 8, 5, 7]);
      tf.dispose([x, y]);
      expect(tf.memory().numTensors).toBe(before);
      net.dispose();
    }
  });

  it('cross-entropy ignoring 255 equals the hand computation', () => {
    // 3 pixels, 3 classes; labels 0, 2, 255 (ignored).
    const z = [[1, 2, 0.5], [0, -1, 3], [5, 5, 5]];
    const logits = tf.tensor4d(z.flat(), [1, 1, 3, 3]);
    const labels = tf.tensor3d([0, 2, 255], [1, 1, 3], 'int32');
    const ce = (row: number[], c: number) => Math.log(row.reduce((s, v) => s + Math.exp(v), 0)) - row[c];
    const want = (ce(z[0], 0) + ce(z[1], 2)) / 2;
    const loss = segmentationLoss(logits, labels);
    expect(loss.dataSync()[0]).toBeCloseTo(want, 5);
    expect(want).toBeCloseTo(0.7651, 4); // (1.4644 + 0.0659) / 2, by hand
    const none = segmentationLoss(logits, tf.tensor3d([255, 255, 255], [1, 1, 3], 'int32'));
    expect(none.dataSync()[0]).toBe(0);
    tf.dispose([logits, labels, loss, none]);
  });
});
