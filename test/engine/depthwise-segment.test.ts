import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import type { NamedAttrMap } from '@tensorflow/tfjs-core';
import { expandFilter } from '../../src/engine/gradients/register.js';
import { depthwiseBackpropInputWasm, unsortedSegmentSumWasm } from '../../src/engine/wasm-kernels/register.js';
import { onBackend, randn, relErr, setupBackends } from './helpers.js';

type Pad = 'same' | 'valid' | [[0, 0], [number, number], [number, number], [0, 0]];
type Shape4 = [number, number, number, number];
const TOL = 1e-5;
const [N, H, W, C] = [2, 15, 14, 3];

interface Case { k: number; s: number; d: number; pad: Pad; m: number }
const cases: Case[] = [];
for (const k of [1, 3, 7]) {
  for (const [s, d] of [[1, 1], [2, 1], [1, 2]]) {
    for (const pad of ['same', 'valid', [[0, 0], [1, 2], [2, 0], [0, 0]]] as Pad[]) cases.push({ k, s, d, pad, m: k === 3 ? 2 : 1 });
  }
}

describe('wasm depthwise backprops and UnsortedSegmentSum', () => {
  beforeAll(setupBackends);

  it('uses hfpl kernels on wasm', () => {
    expect(tf.getKernel('DepthwiseConv2dNativeBackpropInput', 'wasm')?.kernelFunc).toBe(depthwiseBackpropInputWasm);
    expect(tf.getKernel('UnsortedSegmentSum', 'wasm')?.kernelFunc).toBe(unsortedSegmentSumWasm);
  });

  it.each(cases)('depthwise backprops match cpu: k$k s$s d$d multiplier $m pad $pad', (c) => {
    const xs: Shape4 = [N, H, W, C], fs: Shape4 = [c.k, c.k, C, c.m];
    const ys = tf.backend_util.computeConv2DInfo(xs, fs, c.s, c.d, c.pad, undefined, true).outShape as Shape4;
    const xv = randn(11, N * H * W * C), fv = randn(12, c.k * c.k * C * c.m), gv = randn(13, ys.reduce((a, b) => a * b));
    // cpu's own backprops ignore dilation: its reference for d > 1 uses the zero-expanded filter
    const ref = onBackend('cpu', () => {
      const x = tf.tensor4d(xv, xs), dy = tf.tensor4d(gv, ys), big = expandFilter(tf.tensor4d(fv, fs), c.d, c.d);
      const a = { strides: c.s, pad: c.pad, dilations: 1 };
      const dx = tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy, filter: big }, { ...a, inputShape: xs } as unknown as NamedAttrMap) as tf.Tensor;
      const dBig = tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x, dy }, { ...a, filterShape: big.shape } as unknown as NamedAttrMap) as tf.Tensor;
      return [dx, tf.stridedSlice(dBig, [0, 0, 0, 0], dBig.shape as Shape4, [c.d, c.d, 1, 1])];
    });
    const got = onBackend('wasm', () => {
      const x = tf.tensor4d(xv, xs), dy = tf.tensor4d(gv, ys), f = tf.tensor4d(fv, fs);
      const a = { strides: c.s, pad: c.pad, dilations: c.d };
      return [
        tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy, filter: f }, { ...a, inputShape: xs } as unknown as NamedAttrMap) as tf.Tensor,
        tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x, dy }, { ...a, filterShape: fs } as unknown as NamedAttrMap) as tf.Tensor,
      ];
    });
    expect(relErr(got[0], ref[0]), 'dx').toBeLessThan(TOL);
    expect(relErr(got[1], ref[1]), 'dW').toBeLessThan(TOL);
  });

  it('tf.grad of depthwiseConv2d (stride 2, batch 2) matches cpu', () => {
    const xv = randn(14, N * H * W * C), fv = randn(15, 9 * C * 2);
    const run = (): tf.Tensor[] => tf.grads((x: tf.Tensor, f: tf.Tensor) =>
      tf.sum(tf.square(tf.depthwiseConv2d(x as tf.Tensor4D, f as tf.Tensor4D, 2, 'same'))))([tf.tensor4d(xv, [N, H, W, C]), tf.tensor4d(fv, [3, 3, C, 2])]);
    const ref = onBackend('cpu', run), got = onBackend('wasm', run);
    expect(relErr(got[0], ref[0])).toBeLessThan(TOL);
    expect(relErr(got[1], ref[1])).toBeLessThan(TOL);
  });

  it('UnsortedSegmentSum matches cpu, drops out-of-range ids, and carries the gradient of tf.gather', () => {
    const xv = randn(16, 6 * 4 * 3);
    const ids = [2, 0, 2, -1, 4, 1];
    const seg = (): tf.Tensor[] => [tf.unsortedSegmentSum(tf.tensor3d(xv, [6, 4, 3]), tf.tensor1d(ids, 'int32'), 4)];
    const ref = onBackend('cpu', seg), got = onBackend('wasm', seg);
    expect(relErr(got[0], ref[0])).toBeLessThan(TOL);
    // hand-derived: segment 3 gets nothing, segment 2 = rows 0 + 2
    expect(Array.from(got[0].slice(36, 48))).toEqual(new Array(12).fill(0));
    expect(got[0][24]).toBeCloseTo(xv[0] + xv[24], 6);
    const gather = (): tf.Tensor[] => tf.grads((p: tf.Tensor) =>
      tf.sum(tf.mul(tf.gather(p, tf.tensor1d([3, 1, 3, 0], 'int32'), 1), tf.tensor3d(xv.slice(0, 5 * 4 * 2), [5, 4, 2]))))([tf.tensor3d(randn(17, 5 * 4 * 2), [5, 4, 2])]);
    const gr = onBackend('cpu', gather), gw = onBackend('wasm', gather);
    expect(relErr(gw[0], gr[0])).toBeLessThan(TOL);
  });
});
