import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { BenchmarkNet } from '../../src/models/benchmark-net.js';
import { randn, setupBackends } from './helpers.js';

describe('benchmark network training on wasm', () => {
  beforeAll(setupBackends);

  it('has no leaks (numTensors and wasm data ids equal after 1 and 20 steps) its loss falls, and dispose frees everything', () => {
    tf.setBackend('wasm');
    const start = tf.memory().numTensors;
    const x = tf.tensor4d(randn(31, 2 * 32 * 32 * 3), [2, 32, 32, 3]);
    const y = tf.tensor2d(Array.from({ length: 40 }, (_, i) => (i % 7 === 0 ? 1 : 0)), [2, 20]);
    const net = new BenchmarkNet({ seed: 3 });
    const losses = [net.step(x, y)];
    const afterOne = tf.memory().numTensors;
    const idsAfterOne = tf.engine().backend.numDataIds();
    for (let s = 1; s < 20; s++) losses.push(net.step(x, y));
    expect(tf.memory().numTensors).toBe(afterOne);
    expect(tf.engine().backend.numDataIds()).toBe(idsAfterOne);
    // SGD on one fixed batch must fit it: the loss falls (to well under its start)
    expect(losses[19]).toBeLessThan(0.7 * losses[0]);
    net.dispose();
    tf.dispose([x, y]);
    expect(tf.memory().numTensors).toBe(start);
  });
});
