/**
 * Native (libtorch) versions of TF.js's 2-D convolution kernels for the wasm backend: regular and
 * depthwise, forward (plain and fused), backprop input and backprop filter. Geometry comes from
 * `backend_util.computeConv2DInfo`, so strides, dilations, 'same'/'valid'/explicit padding and
 * dimRoundingMode follow TF.js exactly. A kernel returns null for a case it does not handle
 * (NCHW data, non-float32 tensors, unusual bias/prelu shapes); the caller then runs the wasm one.
 */
import { backend_util, type NamedAttrMap, type TensorInfo } from '@tensorflow/tfjs-core';
import type { NativeAddon } from './addon.js';
import { heapOf, offsetOf, sizeOf, type WasmBackendLike } from './heap.js';

type Shape4 = [number, number, number, number];
type Pad = 'same' | 'valid' | number | backend_util.ExplicitPadding;
type Rounding = 'floor' | 'round' | 'ceil' | undefined;

/** Arguments TF.js passes to a kernel function. */
export interface KernelArgs {
  inputs: Record<string, TensorInfo | undefined>;
  attrs?: NamedAttrMap;
  backend: WasmBackendLike;
}

/** A native kernel: its output, or null to let the wasm kernel handle this case. */
export type NativeKernelFunc = (args: KernelArgs, addon: NativeAddon) => TensorInfo | TensorInfo[] | null;

/** Fused activation codes shared with native/src/kernels.h (TF.js wasm FusableActivation order). */
export const ACTIVATIONS: Readonly<Record<string, number>> = {
  linear: 0, relu: 1, relu6: 2, prelu: 3, leakyrelu: 4, sigmoid: 5, elu: 6,
};

const MODE = { forward: 0, backpropInput: 1, backpropFilter: 2 } as const;
const params = new Float64Array(27);

/** Offsets of the optional fused inputs, or null when their shapes are not supported. */
export interface Fusion {
  bias: number;
  activation: number;
  alpha: number;
  prelu: number;
  preluSize: number;
}

/** Size of a tensor broadcast along the last axis only (shape [.., 1, n]); -1 otherwise. */
function lastAxisSize(t: TensorInfo): number {
  const n = t.shape.length === 0 ? 1 : t.shape[t.shape.length - 1];
  return sizeOf(t.shape) === n ? n : -1;
}

/** Reads FusedConv2D / _FusedMatMul's bias, activation and prelu weights for `channels` outputs. */
export function readFusion(args: KernelArgs, channels: number, biasScalarOk: boolean): Fusion | null {
  const { bias, preluActivationWeights: prelu } = args.inputs;
  const attrs = args.attrs ?? {};
  const activation = ACTIVATIONS[String(attrs.activation ?? 'linear')];
  if (activation === undefined) return null;
  const fusion: Fusion = { bias: -1, activation, alpha: Number(attrs.leakyreluAlpha ?? 0.2), prelu: -1, preluSize: 0 };
  if (bias) {
    const n = lastAxisSize(bias);
    if (bias.dtype !== 'float32' || !(n === channels || (biasScalarOk && n === 1))) return null;
    fusion.bias = offsetOf(args.backend, bias);
  }
  if (activation === ACTIVATIONS.prelu) {
    if (!prelu || prelu.dtype !== 'float32') return null;
    const n = lastAxisSize(prelu);
    if (n !== channels && n !== 1) return null;
    fusion.prelu = offsetOf(args.backend, prelu);
    fusion.preluSize = n;
  }
  return fusion;
}

function callConv(addon: NativeAddon, backend: WasmBackendLike, mode: number, info: backend_util.Conv2DInfo,
  groups: number, x: number, filter: number, y: number, f?: Fusion): void {
  const p = info.padInfo;
  params.set([
    mode, x, filter, y,
    info.batchSize, info.inHeight, info.inWidth, info.inChannels,
    info.filterHeight, info.filterWidth, info.outChannels, groups,
    info.outHeight, info.outWidth,
    info.strideHeight, info.strideWidth, info.dilationHeight, info.dilationWidth,
    p.top, p.bottom, p.left, p.right,
    f?.bias ?? -1, f?.activation ?? 0, f?.alpha ?? 0, f?.prelu ?? -1, f?.preluSize ?? 0,
  ]);
  addon.conv2d(heapOf(backend), params);
}

function convInfo(attrs: NamedAttrMap, xShape: number[], filterShape: number[], depthwise: boolean): backend_util.Conv2DInfo | null {
  if ((attrs.dataFormat ?? 'NHWC') !== 'NHWC') return null;
  if (xShape.length !== 4 || filterShape.length !== 4) return null;
  const info = backend_util.computeConv2DInfo(xShape as Shape4, filterShape as Shape4,
    attrs.strides as number | [number, number], (attrs.dilations ?? 1) as number | [number, number],
    attrs.pad as Pad, attrs.dimRoundingMode as Rounding, depthwise, 'channelsLast');
  return sizeOf(info.outShape) === 0 || sizeOf(xShape) === 0 ? null : info;
}

const float = (...ts: (TensorInfo | undefined)[]): boolean => ts.every((t) => t !== undefined && t.dtype === 'float32');

/** Conv2D, DepthwiseConv2dNative and their fused variants (forward). */
export function convForward(depthwise: boolean, fused: boolean): NativeKernelFunc {
  return (args, addon) => {
    const { x, filter } = args.inputs;
    if (!x || !filter || !float(x, filter)) return null;
    const info = convInfo(args.attrs ?? {}, x.shape, filter.shape, depthwise);
    if (!info) return null;
    const fusion = fused ? readFusion(args, info.outChannels, false) : undefined;
    if (fusion === null) return null;
    const { backend } = args;
    const out = backend.makeOutput(info.outShape, 'float32');
    callConv(addon, backend, MODE.forward, info, depthwise ? info.inChannels : 1,
      offsetOf(backend, x), offsetOf(backend, filter), offsetOf(backend, out), fusion);
    return out;
  };
}

/** Conv2DBackpropInput and DepthwiseConv2dNativeBackpropInput: dx from dy and the filter. */
export function convBackpropInput(depthwise: boolean): NativeKernelFunc {
  return (args, addon) => {
    const { dy, filter } = args.inputs;
    const attrs = args.attrs ?? {};
    const inputShape = attrs.inputShape as number[] | undefined;
    if (!dy || !filter || !inputShape || !float(dy, filter)) return null;
    const info = convInfo(attrs, inputShape, filter.shape, depthwise);
    if (!info || info.outShape.some((d, k) => d !== dy.shape[k])) return null;
    const p = info.padInfo;
    if (Math.min(p.top, p.bottom, p.left, p.right) < 0) return null; // crops: wasm handles them
    const { backend } = args;
    const dx = backend.makeOutput(inputShape, 'float32');
    callConv(addon, backend, MODE.backpropInput, info, depthwise ? info.inChannels : 1,
      offsetOf(backend, dx), offsetOf(backend, filter), offsetOf(backend, dy));
    return dx;
  };
}

/** Conv2DBackpropFilter and DepthwiseConv2dNativeBackpropFilter: dW from x and dy. */
export function convBackpropFilter(depthwise: boolean): NativeKernelFunc {
  return (args, addon) => {
    const { x, dy } = args.inputs;
    const attrs = args.attrs ?? {};
    const filterShape = attrs.filterShape as number[] | undefined;
    if (!x || !dy || !filterShape || !float(x, dy)) return null;
    const info = convInfo(attrs, x.shape, filterShape, depthwise);
    if (!info || info.outShape.some((d, k) => d !== dy.shape[k])) return null;
    const { backend } = args;
    const dw = backend.makeOutput(filterShape, 'float32');
    callConv(addon, backend, MODE.backpropFilter, info, depthwise ? info.inChannels : 1,
      offsetOf(backend, x), offsetOf(backend, dw), offsetOf(backend, dy));
    return dw;
  };
}
