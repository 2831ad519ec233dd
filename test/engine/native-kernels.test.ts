// Native (libtorch) kernels against float64 loop references on the foundation's convolution
// matrix: strides 1 and 2, dilations 1 and 2, 'same'/'valid'/explicit padding, kernel sizes
// 1, 3, 7, batch 2, regular and depthwise, forward / backprop input / backprop filter, fused
// convolutions, matmuls and training batch norm. Tolerance: max |native - ref| <= 1e-5 max |ref|.
// Skipped (with the reason in the test name) when the addon is not built or HFPL_NATIVE=0.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { backend_util } from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { batchNormTrainBackward, batchNormTrainForward } from '../../src/engine/wasm-kernels/batch-norm.js';
import { Rng } from '../../src/engine/random.js';
import { loadNativeKernels, nativeKernelCounts } from '../../src/engine/native/load.js';
import { loadAddon } from '../../src/engine/native/addon.js';
import { registerWasmTrainingKernels } from '../../src/engine/wasm-kernels/register.js';

await tf.setBackend('wasm');
registerWasmTrainingKernels();
const status = process.env.HFPL_NATIVE === '0' ? { native: false, reason: 'HFPL_NATIVE=0' } : loadNativeKernels({ threads: 1 });
const native = status.native;
const why = native ? '' : ` (skipped: ${status.reason})`;
const rng = new Rng(7);

function rand(shape: number[]): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Float32Array.from({ length: n }, () => rng.uniform() * 2 - 1), shape);
}

/** max |a - b| / max |b| (b the reference). */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0, s = 0;
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    s = Math.max(s, Math.abs(b[i]));
  }
  return a.length === b.length ? d / Math.max(s, 1e-30) : Infinity;
}

/** Runs f and checks every call of the named kernels was served natively (no wasm fallback). */
function allNative(names: string[], f: () => void): void {
  const before = nativeKernelCounts();
  f();
  const after = nativeKernelCounts();
  for (const name of names) {
    expect(after[name]?.fallback ?? 0, `${name} fell back to wasm`).toBe(before[name]?.fallback ?? 0);
    expect(after[name]?.native ?? 0, `${name} native calls`).toBeGreaterThan(before[name]?.native ?? 0);
  }
}

type Info = backend_util.Conv2DInfo;

/** Calls f(xIndex, wIndex, yIndex) for every multiply-add of the convolution (TF.js geometry). */
function taps(c: Info, depthwise: boolean, f: (xi: number, wi: number, yi: number) => void): void {
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW, outChannels: O } = c;
  const mult = O / C;
  for (let n = 0; n < N; n++) for (let oy = 0; oy < OH; oy++) for (let ox = 0; ox < OW; ox++) {
    for (let i = 0; i < c.filterHeight; i++) for (let j = 0; j < c.filterWidth; j++) {
      const iy = oy * c.strideHeight - c.padInfo.top + i * c.dilationHeight;
      const ix = ox * c.strideWidth - c.padInfo.left + j * c.dilationWidth;
      if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
      const xb = ((n * H + iy) * W + ix) * C, yb = ((n * OH + oy) * OW + ox) * O, wb = (i * c.filterWidth + j) * C;
      for (let ch = 0; ch < C; ch++) {
        if (depthwise) for (let m = 0; m < mult; m++) f(xb + ch, (wb + ch) * mult + m, yb + ch * mult + m);
        else for (let o = 0; o < O; o++) f(xb + ch, (wb + ch) * O + o, yb + o);
      }
    }
  }
}

const geometries: Array<{ k: number; s: number; d: number }> = [];
for (const k of [1, 3, 7]) for (const [s, d] of [[1, 1], [2, 1], [1, 2]]) geometries.push({ k, s, d });
const pads: Array<'same' | 'valid' | backend_util.ExplicitPadding> = ['same', 'valid', [[0, 0], [1, 2], [3, 0], [0, 0]]];
const cases = geometries.flatMap((g) => pads.map((pad) => ({ ...g, pad })));

describe.each([false, true])('native convolutions (depthwise: %s)', (depthwise) => {
  const [N, H, W, C, O] = [2, 16, 13, 3, depthwise ? 6 : 5];
  it.skipIf(!native)(`forward, backprop input and filter equal the loop reference on ${cases.length} geometries${why}`, () => {
    const before = tf.memory().numTensors;
    const names = depthwise
      ? ['DepthwiseConv2dNative', 'DepthwiseConv2dNativeBackpropInput', 'DepthwiseConv2dNativeBackpropFilter']
      : ['Conv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter'];
    allNative(names, () => { for (const { k, s, d, pad } of cases) {
      const fShape = [k, k, C, depthwise ? O / C : O];
      const ci = backend_util.computeConv2DInfo([N, H, W, C], fShape as [number, number, number, number], s, d, pad, undefined, depthwise);
      tf.tidy(() => {
        const x = rand([N, H, W, C]), w = rand(fShape), dy = rand(ci.outShape);
        const [xv, wv, dyv] = [x.dataSync(), w.dataSync(), dy.dataSync()];
        const y = new Float64Array(dy.size), dx = new Float64Array(x.size), dw = new Float64Array(w.size);
        taps(ci, depthwise, (xi, wi, yi) => {
          y[yi] += xv[xi] * wv[wi];
          dx[xi] += dyv[yi] * wv[wi];
          dw[wi] += xv[xi] * dyv[yi];
        });
        const attrs = { strides: s, pad, dilations: d, dataFormat: 'NHWC' };
        const e = tf.engine();
        const got = depthwise
          ? [tf.depthwiseConv2d(x as tf.Tensor4D, w as tf.Tensor4D, s, pad, 'NHWC', d),
            e.runKernel('DepthwiseConv2dNativeBackpropInput', { dy, filter: w }, { ...attrs, inputShape: x.shape }),
            e.runKernel('DepthwiseConv2dNativeBackpropFilter', { x, dy }, { ...attrs, filterShape: w.shape })]
          : [tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, s, pad, 'NHWC', d),
            e.runKernel('Conv2DBackpropInput', { dy, filter: w }, { ...attrs, inputShape: x.shape }),
            e.runKernel('Conv2DBackpropFilter', { x, dy }, { ...attrs, filterShape: w.shape })];
        const [gy, gdx, gdw] = (got as tf.Tensor[]).map((t) => t.dataSync());
        const errs = { fwd: relErr(gy, y), dx: relErr(gdx, dx), dw: relErr(gdw, dw) };
        for (const key of ['fwd', 'dx', 'dw'] as const) {
          expect(errs[key], `${key} k=${k} s=${s} d=${d} pad=${JSON.stringify(pad)}`).toBeLessThan(1e-5);
        }
      });
    } });
    expect(tf.memory().numTensors).toBe(before);
  });
});

const activations: Array<{ name: 'relu' | 'relu6' | 'prelu' | 'leakyrelu' | 'sigmoid' | 'elu' | 'linear'; f: (v: number, a: number) => number }> = [
  { name: 'linear', f: (v) => v },
  { name: 'relu', f: (v) => Math.max(0, v) },
  { name: 'relu6', f: (v) => Math.min(6, Math.max(0, v)) },
  { name: 'leakyrelu', f: (v) => (v < 0 ? 0.3 * v : v) },
  { name: 'prelu', f: (v, a) => (v < 0 ? a * v : v) },
  { name: 'sigmoid', f: (v) => 1 / (1 + Math.exp(-v)) },
  { name: 'elu', f: (v) => (v < 0 ? Math.exp(v) - 1 : v) },
];

describe('native fused convolutions and matmuls', () => {
  it.skipIf(!native)(`FusedConv2D / FusedDepthwiseConv2D: bias then each activation${why}`, () => {
    allNative(['FusedConv2D', 'FusedDepthwiseConv2D'], () => { for (const depthwise of [false, true]) for (const act of activations) {
      tf.tidy(() => {
        const [N, H, W, C] = [2, 9, 8, 4];
        const fShape = [3, 3, C, depthwise ? 2 : 6];
        const O = depthwise ? C * 2 : 6;
        const x = rand([N, H, W, C]), w = rand(fShape), bias = rand([O]), alpha = rand([O]);
        const ci = backend_util.computeConv2DInfo([N, H, W, C], fShape as [number, number, number, number], 2, 1, 'same', undefined, depthwise);
        const [xv, wv, bv, av] = [x.dataSync(), w.dataSync(), bias.dataSync(), alpha.dataSync()];
        const y = new Float64Array(ci.outShape.reduce((a, b) => a * b, 1));
        taps(ci, depthwise, (xi, wi, yi) => { y[yi] += xv[xi] * wv[wi]; });
        const ref = y.map((v, i) => act.f(v + bv[i % O], av[i % O]));
        const opts = { x: x as tf.Tensor4D, filter: w as tf.Tensor4D, strides: 2 as const, pad: 'same' as const, bias, activation: act.name,
          preluActivationWeights: act.name === 'prelu' ? alpha : undefined, leakyreluAlpha: 0.3 };
        const got = depthwise ? tf.fused.depthwiseConv2d(opts) : tf.fused.conv2d(opts);
        expect(relErr(got.dataSync(), ref), `${act.name} depthwise=${depthwise}`).toBeLessThan(1e-5);
      });
    } });
  });

  it.skipIf(!native)(`BatchMatMul / _FusedMatMul with transposes and batch broadcast${why}`, () => {
    const shapes: Array<[number[], number[], boolean, boolean]> = [
      [[3, 4, 5], [3, 5, 6], false, false], [[3, 5, 4], [3, 5, 6], true, false],
      [[3, 4, 5], [1, 6, 5], false, true], [[1, 5, 4], [2, 3, 6, 5], true, true], [[7, 5], [5, 2], false, false],
    ];
    allNative(['BatchMatMul', '_FusedMatMul'], () => { for (const [as, bs, ta, tb] of shapes) for (const act of [activations[0], activations[1], activations[4]]) {
      tf.tidy(() => {
        const a = rand(as), b = rand(bs);
        const m = ta ? as[as.length - 1] : as[as.length - 2], k = ta ? as[as.length - 2] : as[as.length - 1];
        const n = tb ? bs[bs.length - 2] : bs[bs.length - 1];
        const batch = Math.max(a.size / (m * k), b.size / (k * n));
        const bias = rand([n]), alpha = rand([n]);
        const [av, bv, biasv, alv] = [a.dataSync(), b.dataSync(), bias.dataSync(), alpha.dataSync()];
        const ref = new Float64Array(batch * m * n);
        const aBatch = a.size / (m * k), bBatch = b.size / (k * n);
        for (let q = 0; q < batch; q++) for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
          let s = 0;
          for (let t = 0; t < k; t++) {
            const ai = (q % aBatch) * m * k + (ta ? t * m + i : i * k + t);
            const bi = (q % bBatch) * k * n + (tb ? j * k + t : t * n + j);
            s += av[ai] * bv[bi];
          }
          ref[(q * m + i) * n + j] = act.f(s + biasv[j], alv[j]);
        }
        const got = tf.fused.matMul({ a, b, transposeA: ta, transposeB: tb, bias, activation: act.name,
          preluActivationWeights: act.name === 'prelu' ? alpha : undefined });
        expect(relErr(got.dataSync(), ref), `${as} x ${bs} ${act.name}`).toBeLessThan(1e-5);
        const plain = tf.matMul(a, b, ta, tb).dataSync();
        const plainRef = ref.map((_, i) => { const j = i % n; return act.name === 'linear' ? ref[i] - biasv[j] : NaN; });
        if (act.name === 'linear') expect(relErr(plain, plainRef)).toBeLessThan(1e-5);
      });
    } });
  });
});

describe('native training batch norm', () => {
  let x: tf.Tensor;
  beforeAll(() => { x = tf.tidy(() => tf.add(tf.mul(rand([2, 5, 7, 6]), 3), 0.5)); });
  it.skipIf(!native)(`HfplBatchNormTrain and its gradient equal the typed-array reference${why}`, () => {
    const c = 6, eps = 1e-3;
    allNative(['HfplBatchNormTrain', 'HfplBatchNormTrainGrad'], () => tf.tidy(() => {
      const gamma = rand([c]), beta = rand([c]), dy = rand(x.shape);
      const e = tf.engine();
      const [y, mean, variance] = e.runKernel('HfplBatchNormTrain', { x, gamma, beta }, { varianceEpsilon: eps }) as tf.Tensor[];
      const [dx, dg, db] = e.runKernel('HfplBatchNormTrainGrad', { dy, x, gamma, mean, variance }, { varianceEpsilon: eps }) as tf.Tensor[];
      const ry = new Float32Array(x.size), rm = new Float32Array(c), rv = new Float32Array(c);
      batchNormTrainForward(x.dataSync() as Float32Array, gamma.dataSync() as Float32Array, beta.dataSync() as Float32Array, eps, ry, rm, rv);
      const rdx = new Float32Array(x.size), rdg = new Float32Array(c), rdb = new Float32Array(c);
      batchNormTrainBackward(dy.dataSync() as Float32Array, x.dataSync() as Float32Array, gamma.dataSync() as Float32Array, rm, rv, eps, rdx, rdg, rdb);
      expect(relErr(y.dataSync(), ry)).toBeLessThan(1e-5);
      expect(relErr(mean.dataSync(), rm)).toBeLessThan(1e-5);
      expect(relErr(variance.dataSync(), rv)).toBeLessThan(1e-5);
      expect(relErr(dx.dataSync(), rdx)).toBeLessThan(1e-5);
      expect(relErr(dg.dataSync(), rdg)).toBeLessThan(1e-5);
      expect(relErr(db.dataSync(), rdb)).toBeLessThan(1e-5);
    }));
  });
});

describe('native addon guards', () => {
  it.skipIf(!native)(`rejects buffers outside the heap and bad sizes with an error, not a crash${why}`, () => {
    const { addon } = loadAddon();
    if (!addon) throw new Error('unreachable');
    const heap = new Uint8Array(1024);
    // BN forward over rows x c = 16 x 16 floats = 1024 bytes: x at 0 fits, y at 512 overflows.
    const params = Float64Array.from([0, 0, 64, 512, 128, 192, 16, 16, 1e-5]);
    expect(() => addon.batchNormForward(heap, params)).toThrow(/hfpl native: buffer 3 .*outside the wasm heap/);
    params[6] = -2;
    expect(() => addon.batchNormForward(heap, params)).toThrow(/parameter 6 must be a positive integer/);
    expect(() => addon.conv2d(heap, new Float64Array(3))).toThrow(/params must be a Float64Array/);
  });
});
