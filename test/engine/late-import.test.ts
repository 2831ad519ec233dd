// hfpl's kernels and gradients survive @tensorflow/tfjs-layers and the @tensorflow/tfjs umbrella
// loaded AFTER initEngine() (both re-register TF.js's gradient set, whose Conv2D gradient refuses
// dilation): a tfjs-layers model with a dilated convolution trains right away, its gradient equals
// a cpu reference computed without any dilated-conv gradient (the undilated convolution with the
// zero-expanded filter, TF.js's stock gradients), and the loss falls. The layer has an activation:
// a linear conv layer runs TF.js's fused conv op, whose own inline gradient refuses dilation
// whatever is registered (a TF.js 4.22 limitation, see README "Use as a library").
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initEngine } from '../../src/engine/init.js';
import { conv2dGradConfig, coreGradientConfigs } from '../../src/engine/gradients/register.js';
import { createRequire } from 'node:module';

const [H, W, CI, CO, K, D] = [10, 9, 2, 3, 3, 2];
const seeded = (seed: number, n: number): Float32Array => {
  let s = seed;
  return Float32Array.from({ length: n }, () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1);
};
const x = (): tf.Tensor4D => tf.tensor4d(seeded(1, 2 * H * W * CI), [2, H, W, CI]);
const target = (): tf.Tensor4D => tf.tensor4d(seeded(2, 2 * H * W * CO), [2, H, W, CO]);

/** [K, K, CI, CO] -> [(K-1)D+1, (K-1)D+1, CI, CO] with zeros between the taps, in plain JS. */
function expanded(w: Float32Array): tf.Tensor4D {
  const E = (K - 1) * D + 1;
  const out = new Float32Array(E * E * CI * CO);
  for (let i = 0; i < K; i++) for (let j = 0; j < K; j++) for (let c = 0; c < CI * CO; c++) out[((i * D) * E + j * D) * CI * CO + c] = w[(i * K + j) * CI * CO + c];
  return tf.tensor4d(out, [E, E, CI, CO]);
}

/** d loss / d filter on the cpu backend through the undilated expanded-filter convolution. */
function referenceGrad(w: Float32Array): Float32Array {
  const prev = tf.getBackend();
  tf.setBackend('cpu');
  try {
    return tf.tidy(() => {
      const e = expanded(w);
      const k = tf.tensor4d(w, [K, K, CI, CO]);
      // d/dk of loss(conv(x, E(k))) = taps of d/dE; E(k) is linear so use the chain rule by hand.
      const gE = tf.grad((f: tf.Tensor) => tf.mean(tf.square(tf.sub(tf.relu(tf.conv2d(x(), f as tf.Tensor4D, 1, 'same')), target()))))(e);
      const full = gE.dataSync() as Float32Array;
      const E = (K - 1) * D + 1;
      const g = new Float32Array(k.size);
      for (let i = 0; i < K; i++) for (let j = 0; j < K; j++) for (let c = 0; c < CI * CO; c++) g[(i * K + j) * CI * CO + c] = full[((i * D) * E + j * D) * CI * CO + c];
      return g;
    });
  } finally {
    tf.setBackend(prev);
  }
}

function relErr(a: Float32Array, b: Float32Array): number {
  let d = 0, m = 0;
  for (let i = 0; i < a.length; i++) { d = Math.max(d, Math.abs(a[i] - b[i])); m = Math.max(m, Math.abs(b[i])); }
  return d / m;
}

describe('tfjs-layers / tfjs loaded after initEngine()', () => {
  it('a dilated tfjs-layers conv trains: gradient equals the cpu reference, loss falls; kernels listed once', async () => {
    const info = await initEngine({ backend: 'wasm' });
    expect(info.backend).toBe('wasm');
    expect(new Set(info.kernels).size).toBe(info.kernels.length);
    expect(info.changes).toContain('imported @tensorflow/tfjs-backend-wasm');
    expect(info.changes.some((c) => c.startsWith('guarded wasm/Conv2D'))).toBe(true);

    const tfl = await import('@tensorflow/tfjs-layers');
    // The precondition: tfjs-layers replaced hfpl's Conv2D gradient with TF.js's.
    expect(tf.getGradient('Conv2D')).not.toBe(conv2dGradConfig);
    const model = tfl.sequential({
      layers: [tfl.layers.conv2d({
        inputShape: [H, W, CI], filters: CO, kernelSize: K, dilationRate: D, padding: 'same', useBias: false, activation: 'relu',
        kernelInitializer: tfl.initializers.glorotNormal({ seed: 3 }),
      })],
    });
    const kernel = model.trainableWeights[0].read() as tf.Variable;
    const loss = (): tf.Scalar => tf.tidy(() => tf.mean(tf.square(tf.sub(model.apply(x()) as tf.Tensor4D, target()))) as tf.Scalar);

    // The first step after the import: the guarded Conv2D kernel restored hfpl's gradient.
    const w0 = kernel.dataSync().slice() as Float32Array;
    const { grads, value } = tf.variableGrads(loss, [kernel]);
    expect(tf.getGradient('Conv2D')).toBe(conv2dGradConfig);
    const g = grads[kernel.name].dataSync() as Float32Array;
    expect(Math.max(...Array.from(g, Math.abs))).toBeGreaterThan(1e-3);
    expect(relErr(g, referenceGrad(w0))).toBeLessThan(1e-4);
    tf.dispose([value, ...Object.values(grads)]);

    const opt = tf.train.sgd(0.5);
    const losses: number[] = [];
    const counts: number[] = [];
    for (let s = 0; s < 5; s++) {
      const l = opt.minimize(loss, true) as tf.Scalar;
      losses.push(l.dataSync()[0]);
      l.dispose();
      counts.push(tf.memory().numTensors);
    }
    for (let s = 1; s < 5; s++) expect(losses[s], `step ${s}`).toBeLessThan(losses[s - 1]);
    expect(new Set(counts).size, `tensor counts ${counts.join(', ')}`).toBe(1);

    // The umbrella package, loaded later still, replaces the gradients again; the next step is right too.
    await import('@tensorflow/tfjs');
    expect(tf.getGradient('Conv2D')).not.toBe(conv2dGradConfig);
    expect(tf.getBackend()).toBe('wasm');
    const w1 = kernel.dataSync().slice() as Float32Array;
    const r = tf.variableGrads(loss, [kernel]);
    expect(relErr(r.grads[kernel.name].dataSync() as Float32Array, referenceGrad(w1))).toBeLessThan(1e-4);
    tf.dispose([r.value, ...Object.values(r.grads)]);
    // initEngine() again reports what it restored (nothing now: the guard already did) ...
    expect((await initEngine()).changes).toEqual([]);
    // ... and after another overwrite with no convolution run since, it restores and says so.
    const stock = coreGradientConfigs().find((c) => c.kernelName === 'Conv2D');
    if (stock) tf.registerGradient(stock);
    expect((await initEngine()).changes).toEqual(['restored gradient Conv2D']);
    expect(tf.getGradient('Conv2D')).toBe(conv2dGradConfig);
  });

  it('tfjs-layers and @tensorflow/tfjs (devDependencies, 4.22.0 exactly) share the one tfjs-core (one engine)', () => {
    const require = createRequire(import.meta.url);
    const core = require.resolve('@tensorflow/tfjs-core');
    for (const pkg of ['@tensorflow/tfjs-layers', '@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm']) {
      expect(createRequire(require.resolve(pkg)).resolve('@tensorflow/tfjs-core'), pkg).toBe(core);
    }
  });
});
