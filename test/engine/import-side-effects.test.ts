// Importing hfpl changes nothing in a TF.js process (issue 17): no backend package loaded, no
// kernel or gradient registered, no backend chosen. Without initEngine(), forward use of a loss
// works and training stops with one E_ENGINE error naming initEngine(); initEngine() then
// registers what training needs and lists it in `changes`. Runs first thing in its own worker
// process (vitest forks), so the registries start empty.
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';

const backendName = (): string | null => (tf.engine() as unknown as { backendName?: string | null }).backendName ?? null;

describe('importing hfpl', () => {
  it('registers no backend, kernel or gradient and leaves the backend unset', async () => {
    expect(tf.findBackendFactory('wasm')).toBeNull();
    expect(tf.findBackendFactory('cpu')).toBeNull();
    await import('../../src/index.js');
    expect(tf.findBackendFactory('wasm')).toBeNull();
    expect(tf.findBackendFactory('cpu')).toBeNull();
    expect(tf.getKernelsForBackend('wasm')).toHaveLength(0);
    expect(tf.getKernelsForBackend('cpu')).toHaveLength(0);
    expect(tf.getGradient('Conv2D')).toBeUndefined();
    expect(tf.getGradient('Add')).toBeUndefined();
    expect(backendName()).toBeNull();
  });

  it('without initEngine(): forward use works, training throws one error naming initEngine()', async () => {
    const hfpl = await import('../../src/index.js');
    await import('@tensorflow/tfjs-backend-cpu'); // the user's own backend
    tf.env().set('IS_TEST', true);
    await tf.setBackend('cpu');
    const z = tf.variable(tf.tensor2d([[0, 2]]));
    const y = tf.tensor2d([[1, 0]]);
    // Forward only: no engine needed. (log 2 + 2.1269280110429727) / 2, see multilabel tests.
    expect(hfpl.multilabelSoftMarginLoss(z, y).dataSync()[0]).toBeCloseTo((Math.log(2) + 2.1269280110429727) / 2, 6);
    let err: unknown;
    try {
      tf.variableGrads(() => hfpl.multilabelSoftMarginLoss(z, y));
    } catch (e) {
      err = e;
    }
    expect(hfpl.isHfplError(err)).toBe(true);
    expect((err as { code: string }).code).toBe('E_ENGINE');
    expect((err as Error).message).toBe('multilabelSoftMarginLoss: training with hfpl needs `await initEngine()` first ' +
      '(importing hfpl registers nothing; initEngine() picks the backend and registers the kernels and gradients training needs)');

    const info = await hfpl.initEngine({ backend: 'cpu' });
    // The cpu backend was the user's: initEngine imports no package and does not switch.
    expect(info.changes.some((c) => c.startsWith('imported'))).toBe(false);
    expect(info.changes.some((c) => c.startsWith('set the TF.js backend'))).toBe(false);
    expect(info.changes).toContain("registered 101 TF.js gradients and hfpl's Conv2D, HfplBatchNormTrain");
    expect(tf.findBackendFactory('wasm')).toBeNull();
    const { grads } = tf.variableGrads(() => hfpl.multilabelSoftMarginLoss(z, y));
    // d/dz mean BCE = (sigmoid(z) - y) / 2.
    const g = Array.from(grads[z.name].dataSync());
    expect(g[0]).toBeCloseTo((0.5 - 1) / 2, 6);
    expect(g[1]).toBeCloseTo(1 / (1 + Math.exp(-2)) / 2, 6);
    // A second call changes nothing.
    expect((await hfpl.initEngine({ backend: 'cpu' })).changes).toEqual([]);
  });
});
