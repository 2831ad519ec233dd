// The benchmark network trained 20 steps on the native (libtorch) path and on pure wasm from the
// same seed gives the same loss curve to float tolerance. Skipped, with the reason in the test
// name, when the addon is not built or HFPL_NATIVE=0.
import { expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initEngine } from '../../src/engine/init.js';
import { nativeKernelCounts, unloadNativeKernels, loadNativeKernels } from '../../src/engine/native/load.js';
import { trainBenchmarkNet } from '../../src/models/benchmark-net.js';

const info = await initEngine({ backend: 'wasm' });
const why = info.native ? '' : ` (skipped: ${info.nativeReason})`;

it.skipIf(!info.native)(`20 training steps: native and wasm loss curves agree${why}`, () => {
  const opts = { steps: 20, batch: 4, size: 32, seed: 3 };
  const before = tf.memory().numTensors;
  const c0 = nativeKernelCounts();
  const native = trainBenchmarkNet(opts).losses;
  const c1 = nativeKernelCounts();
  const afterNative = tf.memory().numTensors;
  unloadNativeKernels();
  let wasm: number[];
  try {
    wasm = trainBenchmarkNet(opts).losses;
  } finally {
    loadNativeKernels({ threads: 1 });
  }
  // The native kernels really ran: every convolution direction and both batch-norm kernels.
  for (const k of ['Conv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter', 'HfplBatchNormTrain', 'HfplBatchNormTrainGrad']) {
    expect(c1[k].native - (c0[k]?.native ?? 0), k).toBeGreaterThanOrEqual(20);
    expect(c1[k].fallback - (c0[k]?.fallback ?? 0), `${k} fallbacks`).toBe(0);
  }
  expect(info.nativeReason).toMatch(/^libtorch \d+\.\d+\.\d+, threads 1$/);
  expect(info.kernels).toEqual(expect.arrayContaining(['Conv2D', 'Conv2DBackpropFilter', 'HfplBatchNormTrainGrad', '_FusedMatMul']));
  expect(native).toHaveLength(20);
  // The curve moves (the comparison is not between two constants) ...
  expect(Math.abs(native[19] - native[0])).toBeGreaterThan(1e-3);
  // ... and both paths follow it to float tolerance.
  for (let s = 0; s < 20; s++) expect(Math.abs(native[s] - wasm[s]), `step ${s}`).toBeLessThan(1e-5 * Math.max(1, Math.abs(wasm[s])));
  // The native kernels keep no tensor the wasm ones do not (compared, since the tensor count
  // after a run is the benchmark network's business).
  expect(afterNative - before).toBe(tf.memory().numTensors - afterNative);
});
