/**
 * A Conv2D gradient that supports dilation (TF.js 4.22's refuses dilation > 1, yet every
 * output-stride-8 backbone is dilated).
 *
 * When the backend's backprop kernels honour a `dilations` attribute (hfpl's wasm kernels, marked
 * with `hfplDilations`), the gradient passes it through. Otherwise a dilated convolution is
 * differentiated as the undilated convolution with the zero-expanded filter of size (K-1)*d+1:
 * dx uses that filter, and dW is every d-th tap of its filter gradient. This is exact on any
 * backend, at d^2 the cost.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { GradConfig, NamedAttrMap } from '@tensorflow/tfjs-core';

type Pad = 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;

interface Conv2DAttrs {
  strides: [number, number] | number;
  pad: Pad;
  dataFormat: 'NHWC' | 'NCHW';
  dilations: [number, number] | number;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

function pair(v: number | [number, number] | undefined): [number, number] {
  if (v == null) return [1, 1];
  return typeof v === 'number' ? [v, v] : [v[0], v[1]];
}

/** True when the current backend's kernel `name` honours a `dilations` attribute. */
export function kernelSupportsDilations(name: string): boolean {
  const k = tf.getKernel(name, tf.getBackend());
  return Boolean(k && (k.kernelFunc as unknown as Record<string, unknown>).hfplDilations);
}

/** [KH, KW, Ci, Co] -> [(KH-1)dh+1, (KW-1)dw+1, Ci, Co] with zeros between taps. */
export function expandFilter(filter: tf.Tensor4D, dh: number, dw: number): tf.Tensor4D {
  const [kh, kw, ci, co] = filter.shape;
  return tf.tidy(() => {
    const r = tf.reshape(filter, [kh, 1, kw, 1, ci, co]);
    const p = tf.pad(r, [[0, 0], [0, dh - 1], [0, 0], [0, dw - 1], [0, 0], [0, 0]]);
    const e = tf.reshape(p, [kh * dh, kw * dw, ci, co]);
    return tf.slice(e, [0, 0, 0, 0], [(kh - 1) * dh + 1, (kw - 1) * dw + 1, ci, co]) as tf.Tensor4D;
  });
}

function backpropInput(xShape: number[], dy: tf.Tensor, filter: tf.Tensor, a: Conv2DAttrs, dilations: [number, number]): tf.Tensor {
  const attrs = { strides: a.strides, pad: a.pad, dataFormat: a.dataFormat, dimRoundingMode: a.dimRoundingMode, inputShape: xShape, dilations };
  return tf.engine().runKernel('Conv2DBackpropInput', { dy, filter }, attrs as unknown as NamedAttrMap) as tf.Tensor;
}

function backpropFilter(x: tf.Tensor, dy: tf.Tensor, filterShape: number[], a: Conv2DAttrs, dilations: [number, number]): tf.Tensor {
  const attrs = { strides: a.strides, pad: a.pad, dataFormat: a.dataFormat, dimRoundingMode: a.dimRoundingMode, filterShape, dilations };
  return tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, attrs as unknown as NamedAttrMap) as tf.Tensor;
}

/** Gradient config for the `Conv2D` kernel (see module comment). */
export const conv2dGradConfig: GradConfig = {
  kernelName: 'Conv2D',
  inputsToSave: ['x', 'filter'],
  gradFunc: (dy, saved, attrs) => {
    const [x, filter] = saved as [tf.Tensor4D, tf.Tensor4D];
    const a = attrs as unknown as Conv2DAttrs;
    const g = dy as tf.Tensor4D;
    const [dh, dw] = pair(a.dilations);
    if ((dh === 1 && dw === 1) || (kernelSupportsDilations('Conv2DBackpropInput') && kernelSupportsDilations('Conv2DBackpropFilter'))) {
      return {
        x: () => backpropInput(x.shape, g, filter, a, [dh, dw]),
        filter: () => backpropFilter(x, g, filter.shape, a, [dh, dw]),
      };
    }
    return {
      x: () => tf.tidy(() => backpropInput(x.shape, g, expandFilter(filter, dh, dw), a, [1, 1])),
      filter: () => tf.tidy(() => {
        const big = expandFilter(filter, dh, dw);
        const dBig = backpropFilter(x, g, big.shape, a, [1, 1]);
        return tf.stridedSlice(dBig, [0, 0, 0, 0], dBig.shape, [dh, dw, 1, 1]);
      }),
    };
  },
};
