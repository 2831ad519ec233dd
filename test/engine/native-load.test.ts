// The native path's contract when the addon is absent (a machine without libtorch): loading
// reports why and changes no kernel, so the engine stays on pure wasm; HFPL_NATIVE=0 wins over
// a built addon. Runs everywhere (no addon needed).
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';

describe('native loader without the addon', () => {
  it('returns native: false with the reason and leaves the wasm kernels in place', async () => {
    process.env.HFPL_NATIVE_ADDON = '/nonexistent/hfpl_native.node';
    try {
      await tf.setBackend('wasm');
      const { loadNativeKernels, nativeKernelsActive } = await import('../../src/engine/native/load.js');
      const conv = tf.getKernel('Conv2D', 'wasm');
      const status = loadNativeKernels({ threads: 1 });
      expect(status).toEqual({ native: false, reason: expect.stringMatching(/^native addon not built: no \/nonexistent\/hfpl_native\.node/) });
      expect(nativeKernelsActive()).toBe(false);
      expect(tf.getKernel('Conv2D', 'wasm')?.kernelFunc).toBe(conv?.kernelFunc);
      // The wasm convolution still computes: [1,2,2,1] * ones(1x1) = identity.
      const y = tf.conv2d(tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]), tf.ones([1, 1, 1, 1]) as tf.Tensor4D, 1, 'valid');
      expect(Array.from(y.dataSync())).toEqual([1, 2, 3, 4]);
    } finally {
      delete process.env.HFPL_NATIVE_ADDON;
    }
  });

  it('initEngine reports native: false and the reason under HFPL_NATIVE=0', async () => {
    process.env.HFPL_NATIVE = '0';
    try {
      const { initEngine } = await import('../../src/engine/init.js');
      const info = await initEngine({ backend: 'wasm' });
      expect(info).toMatchObject({ backend: 'wasm', native: false, nativeReason: 'HFPL_NATIVE=0' });
      expect(info.kernels).not.toContain('Conv2D');
    } finally {
      delete process.env.HFPL_NATIVE;
    }
  });
});
