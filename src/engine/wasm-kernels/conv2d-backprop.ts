/**
 * Conv2D backprops for the wasm backend, built on its XNNPACK Conv2D plus cheap data movement.
 *
 * - dx, stride 1: a stride-1 convolution of dy with the spatially flipped, in/out-swapped
 *   filter, at the forward dilation.
 * - dx, stride s > 1: sub-pixel decomposition. Output row y = s*Y + p (phase p) only receives
 *   filter taps k with (p + padTop - k*d) divisible by s, from dy row Y + (p + padTop - k*d)/s.
 *   Each phase is one stride-1 convolution of dy with just its taps, copied into its interleaved
 *   positions: no zero-inserted dy, no wasted multiply-adds.
 * - dW: one matrix product of the transposed im2col of x, [KH*KW*Cin, N*Ho*Wo], with dy viewed
 *   as [N*Ho*Wo, Cout], which is dW's own memory layout.
 *
 * Both kernels accept an extra `dilations` attribute (TF.js's own attrs lack it) so the
 * registered Conv2D gradient can support dilated convolutions.
 */
import { backend_util, type NamedAttrMap, type NamedTensorInfoMap, type TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import {
  callWasm, conv2dWasm, disposeInfos, heapF32, pair, reshapeInfo, transposeWasm,
} from './wasm-util.js';

type PadAttr = 'valid' | 'same' | number | backend_util.ExplicitPadding;

/** Kernel args as TF.js passes them. */
export interface WasmKernelArgs {
  inputs: NamedTensorInfoMap;
  backend: BackendWasm;
  attrs: NamedAttrMap;
}

interface ConvAttrs {
  strides: number | [number, number];
  pad: PadAttr;
  dilations?: number | [number, number];
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  dataFormat?: 'NHWC' | 'NCHW';
}

function checkFormat(name: string, attrs: ConvAttrs): void {
  if (attrs.dataFormat != null && attrs.dataFormat !== 'NHWC') {
    throw new Error(`hfpl wasm ${name} supports dataFormat 'NHWC' only, got '${attrs.dataFormat}'`);
  }
}

/** [KH, KW, Ci, Co] -> [KH, KW, Co, Ci], rotated by 180 degrees (a small filter: plain loop). */
function flipSwapFilter(backend: BackendWasm, filter: TensorInfo): TensorInfo {
  const [kh, kw, ci, co] = filter.shape;
  const out = backend.makeOutput([kh, kw, co, ci], 'float32');
  const src = heapF32(backend, filter);
  const dst = heapF32(backend, out);
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const s0 = ((kh - 1 - i) * kw + (kw - 1 - j)) * ci * co;
      const d0 = (i * kw + j) * co * ci;
      for (let c = 0; c < ci; c++) {
        for (let o = 0; o < co; o++) dst[d0 + o * ci + c] = src[s0 + c * co + o];
      }
    }
  }
  return out;
}

/** Filter taps feeding output phase p along one axis: tap k reads dy at offset o (module comment). */
function phaseTaps(k: number, d: number, s: number, padBefore: number, p: number): Array<{ k: number; o: number }> {
  const taps: Array<{ k: number; o: number }> = [];
  for (let t = 0; t < k; t++) {
    const num = p + padBefore - t * d;
    if (((num % s) + s) % s === 0) taps.push({ k: t, o: num / s });
  }
  return taps;
}

/**
 * dx of a strided convolution by sub-pixel phases (module comment): one stride-1 XNNPACK
 * convolution per output phase (py, px) with exactly that phase's taps, each written into its
 * interleaved positions of dx with row copies on the heap.
 */
function backpropInputStrided(
  backend: BackendWasm, dy: TensorInfo, filter: TensorInfo, info: backend_util.Conv2DInfo,
): TensorInfo {
  const [n, h, w, ci] = info.inShape;
  const co = info.outChannels, kw = info.filterWidth;
  const [sh, sw] = [info.strideHeight, info.strideWidth];
  const [ho, wo] = [dy.shape[1], dy.shape[2]];
  const out = backend.makeOutput([n, h, w, ci], 'float32');
  const rowsH = Array.from({ length: sh }, (_, p) => phaseTaps(info.filterHeight, info.dilationHeight, sh, info.padInfo.top, p));
  const colsW = Array.from({ length: sw }, (_, p) => phaseTaps(kw, info.dilationWidth, sw, info.padInfo.left, p));
  // phases without taps stay zero
  if (rowsH.some((t) => t.length === 0) || colsW.some((t) => t.length === 0)) heapF32(backend, out).fill(0);
  for (let py = 0; py < sh; py++) {
    const th = rowsH[py];
    const yn = Math.ceil((h - py) / sh);
    for (let px = 0; px < sw; px++) {
      const tw = colsW[px];
      const xn = Math.ceil((w - px) / sw);
      if (yn <= 0 || xn <= 0) continue;
      if (th.length === 0 || tw.length === 0) continue;
      const hMin = Math.min(...th.map((t) => t.o)), lh = Math.max(...th.map((t) => t.o)) - hMin + 1;
      const wMin = Math.min(...tw.map((t) => t.o)), lw = Math.max(...tw.map((t) => t.o)) - wMin + 1;
      // phase filter U[jh, jw, co, ci] = W[kh, kw, ci, co]; zero where offsets skip (d > s)
      const u = backend.makeOutput([lh, lw, co, ci], 'float32');
      const ud = heapF32(backend, u);
      if (th.length * tw.length !== lh * lw) ud.fill(0);
      const wd = heapF32(backend, filter);
      for (const a of th) {
        for (const b of tw) {
          const src0 = (a.k * kw + b.k) * ci * co;
          const dst0 = ((a.o - hMin) * lw + (b.o - wMin)) * co * ci;
          for (let c = 0; c < ci; c++) {
            for (let o = 0; o < co; o++) ud[dst0 + o * ci + c] = wd[src0 + c * co + o];
          }
        }
      }
      const res = conv2dWasm(backend, dy, u, [1, 1], [1, 1], {
        top: -hMin, left: -wMin, bottom: yn + lh - 1 - ho + hMin, right: xn + lw - 1 - wo + wMin,
      }); // [N, yn, xn, Ci]
      disposeInfos(backend, u);
      const rv = heapF32(backend, res), ov = heapF32(backend, out);
      const heap = new Float32Array(rv.buffer);
      const rBase = rv.byteOffset / 4, oBase = ov.byteOffset / 4;
      for (let b = 0; b < n; b++) {
        for (let y = 0; y < yn; y++) {
          for (let x = 0; x < xn; x++) {
            const src = rBase + ((b * yn + y) * xn + x) * ci;
            const dst = oBase + ((b * h + y * sh + py) * w + x * sw + px) * ci;
            for (let c = 0; c < ci; c++) heap[dst + c] = heap[src + c];
          }
        }
      }
      disposeInfos(backend, res);
    }
  }
  return out;
}

/**
 * Conv2DBackpropInput for wasm: dx [N, H, W, Cin] from dy [N, Ho, Wo, Cout] and filter
 * [KH, KW, Cin, Cout]. Attrs as TF.js's, plus optional `dilations` (default 1).
 */
export function conv2dBackpropInputWasm(args: WasmKernelArgs): TensorInfo {
  const { inputs, backend } = args;
  const attrs = args.attrs as unknown as ConvAttrs & { inputShape: [number, number, number, number] };
  checkFormat('Conv2DBackpropInput', attrs);
  const dy = inputs.dy as TensorInfo;
  const filter = inputs.filter as TensorInfo;
  const info = backend_util.computeConv2DInfo(
    attrs.inputShape, filter.shape as [number, number, number, number], attrs.strides,
    pair(attrs.dilations), attrs.pad, attrs.dimRoundingMode,
  );
  if (info.strideHeight > 1 || info.strideWidth > 1) return backpropInputStrided(backend, dy, filter, info);
  const [dh, dw] = [info.dilationHeight, info.dilationWidth];
  const effH = (info.filterHeight - 1) * dh, effW = (info.filterWidth - 1) * dw;
  const top = effH - info.padInfo.top, left = effW - info.padInfo.left;
  const flipped = flipSwapFilter(backend, filter);
  const out = conv2dWasm(backend, dy, flipped, [1, 1], [dh, dw], {
    top,
    left,
    bottom: info.inHeight - info.outHeight + effH - top,
    right: info.inWidth - info.outWidth + effW - left,
  });
  disposeInfos(backend, flipped);
  return out;
}

/**
 * im2col transposed: rows (kh, kw, ci), columns (n, oh, ow), from xt = x as [Ci, N, H, W].
 * Row r = (kh * KW + kw) * Ci + ci holds x[n, oh*sh + kh*dh - top, ow*sw + kw*dw - left, ci].
 */
function im2colT(backend: BackendWasm, xt: TensorInfo, info: backend_util.Conv2DInfo): TensorInfo {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci, outHeight: ho, outWidth: wo } = info;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const { top, left } = info.padInfo;
  const m = n * ho * wo;
  const out = backend.makeOutput([kh * kw * ci, m], 'float32');
  // One view of the whole heap: rows move with copyWithin (a memmove, no view objects per row).
  const dv = heapF32(backend, out), sv = heapF32(backend, xt);
  const heap = new Float32Array(dv.buffer);
  const dBase = dv.byteOffset / 4, sBase = sv.byteOffset / 4;
  if (sh === 1 && sw === 1 && wo === w && sBase > w) {
    im2colTPlanes(heap, dBase, sBase, info);
    return out;
  }
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      // valid ow range for this kw: 0 <= ow*sw + j*dw - left < w
      const off = j * dw - left;
      const owLo = Math.max(0, Math.ceil(-off / sw));
      const owHi = Math.min(wo, Math.floor((w - 1 - off) / sw) + 1);
      for (let c = 0; c < ci; c++) {
        const rowBase = dBase + ((i * kw + j) * ci + c) * m;
        for (let b = 0; b < n; b++) {
          for (let oh = 0; oh < ho; oh++) {
            const d0 = rowBase + (b * ho + oh) * wo;
            const ih = oh * sh + i * dh - top;
            if (ih < 0 || ih >= h || owHi <= owLo) {
              heap.fill(0, d0, d0 + wo);
              continue;
            }
            const s0 = sBase + ((c * n + b) * h + ih) * w + off;
            if (owLo > 0) heap.fill(0, d0, d0 + owLo);
            if (sw === 1) heap.copyWithin(d0 + owLo, s0 + owLo, s0 + owHi);
            else for (let ow = owLo; ow < owHi; ow++) heap[d0 + ow] = heap[s0 + ow * sw];
            if (owHi < wo) heap.fill(0, d0 + owHi, d0 + wo);
          }
        }
      }
    }
  }
  return out;
}

/**
 * `im2colT` for stride 1 and an output as wide as the input (the "same" 3x3 convolutions): per
 * tap (kh, kw), channel and image, row oh of the output plane is row oh + kh*dh - top of the
 * input shifted by off = kw*dw - left columns, so the valid rows are one contiguous copy of the
 * input plane shifted by (kh*dh - top) * W + off; the |off| columns that wrapped into the
 * neighbouring row are zeroed afterwards. One memmove per plane instead of one per row.
 * (Needs sBase > W: the shifted start may read up to |off| < W values before the plane.)
 */
function im2colTPlanes(heap: Float32Array, dBase: number, sBase: number, info: backend_util.Conv2DInfo): void {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci, outHeight: ho, outWidth: wo } = info;
  const { filterHeight: kh, filterWidth: kw, dilationHeight: dh, dilationWidth: dw } = info;
  const { top, left } = info.padInfo;
  const m = n * ho * wo;
  for (let i = 0; i < kh; i++) {
    const di = i * dh - top;
    const ohLo = Math.max(0, -di), ohHi = Math.min(ho, h - di);
    for (let j = 0; j < kw; j++) {
      const off = j * dw - left;
      // Columns whose source is outside the row: ow < -off (off < 0) or ow >= w - off (off > 0).
      const zLo = Math.min(wo, Math.max(0, -off)), zHi = Math.max(0, Math.min(wo, w - off));
      for (let c = 0; c < ci; c++) {
        const rowBase = dBase + ((i * kw + j) * ci + c) * m;
        for (let b = 0; b < n; b++) {
          const d0 = rowBase + b * ho * wo;
          if (ohHi <= ohLo) {
            heap.fill(0, d0, d0 + ho * wo);
            continue;
          }
          if (ohLo > 0) heap.fill(0, d0, d0 + ohLo * wo);
          const s0 = sBase + (c * n + b) * h * w + (ohLo + di) * w + off;
          heap.copyWithin(d0 + ohLo * wo, s0, s0 + (ohHi - ohLo) * wo);
          if (ohHi < ho) heap.fill(0, d0 + ohHi * wo, d0 + ho * wo);
          if (zLo > 0 || zHi < wo) {
            for (let oh = ohLo; oh < ohHi; oh++) {
              const r = d0 + oh * wo;
              if (zLo > 0) heap.fill(0, r, r + zLo);
              if (zHi < wo) heap.fill(0, r + zHi, r + wo);
            }
          }
        }
      }
    }
  }
}

/**
 * Conv2DBackpropFilter for wasm: dW [KH, KW, Cin, Cout] from x [N, H, W, Cin] and dy
 * [N, Ho, Wo, Cout], as one XNNPACK matrix product im2colT(x) [KH*KW*Cin, M] @ dy [M, Cout]
 * (M = N*Ho*Wo; dy needs no copy). Attrs as TF.js's, plus optional `dilations` (default 1).
 */
export function conv2dBackpropFilterWasm(args: WasmKernelArgs): TensorInfo {
  const { inputs, backend } = args;
  const attrs = args.attrs as unknown as ConvAttrs & { filterShape: [number, number, number, number] };
  checkFormat('Conv2DBackpropFilter', attrs);
  const x = inputs.x as TensorInfo;
  const dy = inputs.dy as TensorInfo;
  const info = backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number], attrs.filterShape, attrs.strides,
    pair(attrs.dilations), attrs.pad, attrs.dimRoundingMode,
  );
  const rows = info.filterHeight * info.filterWidth * info.inChannels;
  const m = info.batchSize * info.outHeight * info.outWidth;
  const xt = transposeWasm(backend, x, [3, 0, 1, 2]); // [Ci, N, H, W]
  const cols = im2colT(backend, xt, info);
  disposeInfos(backend, xt);
  const prod = callWasm(backend, 'BatchMatMul', { a: reshapeInfo(cols, [1, rows, m]), b: reshapeInfo(dy, [1, m, info.outChannels]) }, { transposeA: false, transposeB: false });
  disposeInfos(backend, cols);
  return reshapeInfo(prod, attrs.filterShape);
}

/** Marks kernel functions that honour a `dilations` attribute on the backprop kernels. */
export const DILATION_AWARE = 'hfplDilations';
Object.assign(conv2dBackpropInputWasm, { [DILATION_AWARE]: true });
Object.assign(conv2dBackpropFilterWasm, { [DILATION_AWARE]: true });
