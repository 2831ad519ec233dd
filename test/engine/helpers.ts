/** Shared helpers for the engine tests: seeded data and cpu/wasm comparisons. */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { Rng } from '../../src/engine/random.js';
import { registerWasmTrainingKernels } from '../../src/engine/wasm-kernels/register.js';
import { registerTrainingGradients } from '../../src/engine/gradients/register.js';

/** Initialises both backends once and registers hfpl's kernels and gradients. */
export async function setupBackends(): Promise<void> {
  tf.env().set('IS_TEST', true); // silences the cpu backend's Node banner
  await tf.setBackend('cpu');
  await tf.setBackend('wasm');
  await tf.ready();
  registerWasmTrainingKernels();
  registerTrainingGradients();
}

/** Seeded standard-normal values. */
export function randn(seed: number, n: number): Float32Array {
  const r = new Rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = r.normal();
  return out;
}

/** Runs `f` on `backend`; returns the values of the tensors it returns, and frees everything. */
export function onBackend(backend: 'cpu' | 'wasm', f: () => tf.Tensor | tf.Tensor[]): Float32Array[] {
  const prev = tf.getBackend();
  tf.setBackend(backend);
  try {
    return tf.tidy(() => {
      const out = f();
      return (Array.isArray(out) ? out : [out]).map((t) => t.dataSync() as Float32Array);
    });
  } finally {
    tf.setBackend(prev);
  }
}

/** max |a - b| / max |b| (relative to the reference's scale). */
export function relErr(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let d = 0, m = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return m === 0 ? d : d / m;
}
