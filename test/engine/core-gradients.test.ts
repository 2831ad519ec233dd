import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { coreGradientConfigs } from '../../src/engine/gradients/register.js';
import { setupBackends } from './helpers.js';

describe("TF.js's own gradients, loaded for Node", () => {
  beforeAll(setupBackends);

  it('loads all 101 gradient configs of tfjs-core 4.22 (as its register_all_gradients.js)', () => {
    const names = coreGradientConfigs().map((c) => c.kernelName);
    expect(names).toHaveLength(101);
    for (const k of ['Sum', 'Relu', 'Conv2D', 'GatherV2', 'Softplus', 'FusedBatchNorm', 'MaxPool', 'ResizeBilinear']) expect(names).toContain(k);
  });

  it('differentiates through them: d/dx sum(relu(x) * x^2 + mean(x)) by hand', () => {
    const x = tf.tensor1d([-2, -0.5, 1, 3]);
    const g = tf.grad((v: tf.Tensor) => tf.add(tf.sum(tf.mul(tf.relu(v), tf.square(v))), tf.mean(v)))(x);
    // x > 0: 3x^2 + 1/4; x < 0: 1/4
    expect(Array.from(g.dataSync())).toEqual([0.25, 0.25, 3.25, 27.25]);
    tf.dispose([x, g]);
  });
});
