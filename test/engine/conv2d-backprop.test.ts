import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import type { NamedAttrMap } from '@tensorflow/tfjs-core';
import { expandFilter } from '../../src/engine/gradients/register.js';
import { conv2dBackpropFilterWasm, conv2dBackpropInputWasm } from '../../src/engine/wasm-kernels/register.js';
import { onBackend, randn, relErr, setupBackends } from './helpers.js';

type Pad = 'same' | 'valid' | [[0, 0], [number, number], [number, number], [0, 0]];
const EXPLICIT: Pad = [[0, 0], [1, 2], [2, 0], [0, 0]];
const TOL = 1e-5;

interface Case { k: number; s: number; d: number; pad: Pad }
const cases: Case[] = [];
for (const k of [1, 3, 7]) {
  for (const [s, d] of [[1, 1], [2, 1], [1, 2]]) {
    for (const pad of ['same', 'valid', EXPLICIT] as Pad[]) cases.push({ k, s, d, pad });
  }
}
const name = (c: Case): string => `k${c.k} s${c.s} d${c.d} pad ${typeof c.pad === 'string' ? c.pad : 'explicit'}`;
const [N, H, W, CI, CO] = [2, 15, 14, 3, 5];

type Shape4 = [number, number, number, number];
function shapes(c: Case): { xs: Shape4; fs: Shape4; ys: Shape4 } {
  const xs: [number, number, number, number] = [N, H, W, CI];
  const fs: [number, number, number, number] = [c.k, c.k, CI, CO];
  const info = tf.backend_util.computeConv2DInfo(xs, fs, c.s, c.d, c.pad);
  return { xs, fs, ys: info.outShape as Shape4 };
}

/** The cpu backend's own backprops; a dilated conv goes through the zero-expanded filter. */
function cpuReference(c: Case, x: tf.Tensor4D, f: tf.Tensor4D, dy: tf.Tensor4D): tf.Tensor[] {
  const dBigShape = (t: tf.Tensor): [number, number, number, number] => t.shape as [number, number, number, number];
  const big = expandFilter(f, c.d, c.d);
  const base = { strides: c.s, pad: c.pad, dataFormat: 'NHWC' };
  const dx = tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: big }, { ...base, inputShape: x.shape } as unknown as NamedAttrMap) as tf.Tensor;
  const dBig = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { ...base, filterShape: big.shape } as unknown as NamedAttrMap) as tf.Tensor;
  return [dx, tf.stridedSlice(dBig, [0, 0, 0, 0], dBigShape(dBig), [c.d, c.d, 1, 1])];
}

describe('wasm Conv2D backprop kernels and the dilation-aware Conv2D gradient', () => {
  beforeAll(setupBackends);

  it('uses hfpl kernels on wasm', () => {
    expect(tf.getKernel('Conv2DBackpropInput', 'wasm')?.kernelFunc).toBe(conv2dBackpropInputWasm);
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')?.kernelFunc).toBe(conv2dBackpropFilterWasm);
  });

  it.each(cases)('kernels match the cpu backprops: k$k s$s d$d pad $pad', (c) => {
    const { xs, fs, ys } = shapes(c);
    const xv = randn(1, N * H * W * CI), fv = randn(2, c.k * c.k * CI * CO), gv = randn(3, ys.reduce((a, b) => a * b));
    const make = (): [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D] => [tf.tensor4d(xv, xs), tf.tensor4d(fv, fs), tf.tensor4d(gv, ys)];
    const ref = onBackend('cpu', () => cpuReference(c, ...make()));
    const got = onBackend('wasm', () => {
      const [x, f, dy] = make();
      const attrs = { strides: c.s, pad: c.pad, dataFormat: 'NHWC', dilations: c.d };
      return [
        tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: f }, { ...attrs, inputShape: xs } as unknown as NamedAttrMap) as tf.Tensor,
        tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { ...attrs, filterShape: fs } as unknown as NamedAttrMap) as tf.Tensor,
      ];
    });
    expect(relErr(got[0], ref[0]), `dx ${name(c)}`).toBeLessThan(TOL);
    expect(relErr(got[1], ref[1]), `dW ${name(c)}`).toBeLessThan(TOL);
  });

  it.each(cases.filter((c) => c.k === 3))('tf.grad of conv2d (and its forward) matches cpu: k$k s$s d$d pad $pad', (c) => {
    const { xs, fs } = shapes(c);
    const xv = randn(4, N * H * W * CI), fv = randn(5, 9 * CI * CO);
    const run = (): tf.Tensor[] => {
      const x = tf.tensor4d(xv, xs), f = tf.tensor4d(fv, fs);
      const loss = (a: tf.Tensor, b: tf.Tensor): tf.Scalar => {
        const y = tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.s, c.pad, 'NHWC', c.d);
        return tf.sum(tf.mul(y, tf.sin(tf.reshape(tf.range(0, y.size), y.shape))));
      };
      const [dx, df] = tf.grads(loss)([x, f]);
      return [tf.conv2d(x, f, c.s, c.pad, 'NHWC', c.d), dx, df];
    };
    const ref = onBackend('cpu', run);
    const got = onBackend('wasm', run);
    ['y', 'dx', 'dW'].forEach((what, i) => expect(relErr(got[i], ref[i]), `${what} ${name(c)}`).toBeLessThan(TOL));
  });

  it.each([1, 2])('fused conv2d with bias and relu (as tf.layers uses it), stride %i, batch 2: gradients match cpu', (s) => {
    const xv = randn(6, N * H * W * CI), fv = randn(7, 9 * CI * CO), bv = randn(8, CO);
    const run = (): tf.Tensor[] => {
      const x = tf.tensor4d(xv, [N, H, W, CI]), f = tf.tensor4d(fv, [3, 3, CI, CO]), b = tf.tensor1d(bv);
      const loss = (a: tf.Tensor, w: tf.Tensor, bias: tf.Tensor): tf.Scalar => {
        const y = tf.fused.conv2d({ x: a as tf.Tensor4D, filter: w as tf.Tensor4D, bias, strides: s, pad: 'same', activation: 'relu' });
        return tf.sum(tf.mul(y, tf.cos(tf.reshape(tf.range(0, y.size), y.shape))));
      };
      return tf.grads(loss)([x, f, b]);
    };
    const ref = onBackend('cpu', run);
    const got = onBackend('wasm', run);
    ['dx', 'dW', 'dbias'].forEach((what, i) => expect(relErr(got[i], ref[i]), what).toBeLessThan(TOL));
  });

  it.each([{ s: 2, d: 1 }, { s: 1, d: 2 }])('batch 1, 1-pixel-wide and single-channel edges match cpu: s$s d$d', ({ s, d }) => {
    for (const [xs, fs] of [[[1, 9, 8, 4], [3, 3, 4, 6]], [[1, 7, 1, 1], [3, 1, 1, 2]]] as Array<[Shape4, Shape4]>) {
      const c: Case = { k: fs[0], s, d, pad: 'same' };
      const ys = tf.backend_util.computeConv2DInfo(xs, fs, s, d, 'same').outShape as Shape4;
      const [xv, fv, gv] = [randn(40, xs.reduce((a, b) => a * b)), randn(41, fs.reduce((a, b) => a * b)), randn(42, ys.reduce((a, b) => a * b))];
      const ref = onBackend('cpu', () => {
        const f = tf.tensor4d(fv, fs);
        const big = expandFilter(f, d, 1);
        const base = { strides: s, pad: 'same', dataFormat: 'NHWC' };
        const dy = tf.tensor4d(gv, ys);
        const dx = tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: big }, { ...base, inputShape: xs } as unknown as NamedAttrMap) as tf.Tensor;
        const dBig = tf.engine().runKernel('Conv2DBackpropFilter', { x: tf.tensor4d(xv, xs), dy }, { ...base, filterShape: big.shape } as unknown as NamedAttrMap) as tf.Tensor;
        return [dx, tf.stridedSlice(dBig, [0, 0, 0, 0], dBig.shape as Shape4, [d, 1, 1, 1])];
      });
      const got = onBackend('wasm', () => {
        const attrs = { strides: s, pad: 'same', dataFormat: 'NHWC', dilations: [d, 1] };
        const dy = tf.tensor4d(gv, ys);
        return [
          tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: tf.tensor4d(fv, fs) }, { ...attrs, inputShape: xs } as unknown as NamedAttrMap) as tf.Tensor,
          tf.engine().runKernel('Conv2DBackpropFilter', { x: tf.tensor4d(xv, xs), dy }, { ...attrs, filterShape: fs } as unknown as NamedAttrMap) as tf.Tensor,
        ];
      });
      expect(relErr(got[0], ref[0]), `dx ${name(c)} ${xs}`).toBeLessThan(TOL);
      expect(relErr(got[1], ref[1]), `dW ${name(c)} ${xs}`).toBeLessThan(TOL);
    }
  });

  it('frees its intermediates: numTensors and wasm data ids unchanged after a backprop', () => {
    tf.setBackend('wasm');
    const x = tf.tensor4d(randn(9, N * H * W * CI), [N, H, W, CI]);
    const f = tf.tensor4d(randn(10, 9 * CI * CO), [3, 3, CI, CO]);
    const g = (): tf.Tensor[] => tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same')))([x, f]);
    tf.dispose(g());
    const before = tf.memory().numTensors;
    const ids = tf.engine().backend.numDataIds();
    tf.dispose(g());
    expect(tf.memory().numTensors).toBe(before);
    expect(tf.engine().backend.numDataIds()).toBe(ids);
    tf.dispose([x, f]);
  });
});
