/**
 * DepthwiseConv2dNative backprops for the wasm backend: direct loops over the wasm heap
 * (depthwise convolutions are cheap; channels are the contiguous inner loop). Both honour
 * strides, dilations, any padding and channel multipliers.
 */
import { backend_util, type TensorInfo } from '@tensorflow/tfjs-core';
import type { WasmKernelArgs } from './conv2d-backprop.js';
import { heapF32, pair } from './wasm-util.js';

type Shape4 = [number, number, number, number];

interface DwAttrs {
  strides: number | [number, number];
  dilations?: number | [number, number];
  pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/**
 * Visits every (output pixel, filter tap) pair with a valid input pixel: calls
 * `f(dyOffset, inOffset, filterOffset)` with element offsets of channel 0.
 */
function forEachTap(info: backend_util.Conv2DInfo, f: (dyOff: number, inOff: number, fOff: number) => void): void {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels } = info;
  const { filterHeight, filterWidth, strideHeight, strideWidth, dilationHeight, dilationWidth } = info;
  const { top, left } = info.padInfo;
  const m = outChannels / inChannels;
  for (let b = 0; b < batchSize; b++) {
    for (let oh = 0; oh < outHeight; oh++) {
      for (let ow = 0; ow < outWidth; ow++) {
        const dyOff = ((b * outHeight + oh) * outWidth + ow) * outChannels;
        for (let kh = 0; kh < filterHeight; kh++) {
          const ih = oh * strideHeight + kh * dilationHeight - top;
          if (ih < 0 || ih >= inHeight) continue;
          for (let kw = 0; kw < filterWidth; kw++) {
            const iw = ow * strideWidth + kw * dilationWidth - left;
            if (iw < 0 || iw >= inWidth) continue;
            f(dyOff, ((b * inHeight + ih) * inWidth + iw) * inChannels, (kh * filterWidth + kw) * inChannels * m);
          }
        }
      }
    }
  }
}

/** DepthwiseConv2dNativeBackpropInput for wasm: dx [N, H, W, C] from dy and filter [KH, KW, C, M]. */
export function depthwiseBackpropInputWasm(args: WasmKernelArgs): TensorInfo {
  const { inputs, backend } = args;
  const attrs = args.attrs as unknown as DwAttrs & { inputShape: Shape4 };
  const dy = inputs.dy as TensorInfo;
  const filter = inputs.filter as TensorInfo;
  const info = backend_util.computeConv2DInfo(
    attrs.inputShape, filter.shape as Shape4, attrs.strides, pair(attrs.dilations), attrs.pad, attrs.dimRoundingMode, true,
  );
  const out = backend.makeOutput(attrs.inputShape, 'float32');
  const dx = heapF32(backend, out);
  dx.fill(0);
  const g = heapF32(backend, dy);
  const w = heapF32(backend, filter);
  const c = info.inChannels, m = info.outChannels / info.inChannels;
  forEachTap(info, (dyOff, xOff, fOff) => {
    if (m === 1) {
      for (let i = 0; i < c; i++) dx[xOff + i] += g[dyOff + i] * w[fOff + i];
      return;
    }
    for (let i = 0; i < c; i++) {
      let s = 0;
      for (let q = 0; q < m; q++) s += g[dyOff + i * m + q] * w[fOff + i * m + q];
      dx[xOff + i] += s;
    }
  });
  return out;
}

/** DepthwiseConv2dNativeBackpropFilter for wasm: dW [KH, KW, C, M] from x and dy. */
export function depthwiseBackpropFilterWasm(args: WasmKernelArgs): TensorInfo {
  const { inputs, backend } = args;
  const attrs = args.attrs as unknown as DwAttrs & { filterShape: Shape4 };
  const x = inputs.x as TensorInfo;
  const dy = inputs.dy as TensorInfo;
  const info = backend_util.computeConv2DInfo(
    x.shape as Shape4, attrs.filterShape, attrs.strides, pair(attrs.dilations), attrs.pad, attrs.dimRoundingMode, true,
  );
  const out = backend.makeOutput(attrs.filterShape, 'float32');
  const dw = heapF32(backend, out);
  dw.fill(0);
  const g = heapF32(backend, dy);
  const xv = heapF32(backend, x);
  const c = info.inChannels, m = info.outChannels / info.inChannels;
  forEachTap(info, (dyOff, xOff, fOff) => {
    for (let i = 0; i < c; i++) {
      const xi = xv[xOff + i];
      for (let q = 0; q < m; q++) dw[fOff + i * m + q] += xi * g[dyOff + i * m + q];
    }
  });
  return out;
}
