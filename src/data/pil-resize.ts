/**
 * PIL's bicubic resize of uint8 RGB images, byte for byte (Pillow 9 `src/libImaging/Resample.c`),
 * which the reference's multi-scale CAM inference uses (`voc12/data.py`, `Image.CUBIC`):
 * cubic filter a = -0.5 with support 2 widened by the scale when shrinking (antialiasing),
 * coefficients normalised in double then rounded to 22-bit fixed point, two separable passes
 * (horizontal first) each rounding and clipping to uint8.
 */
import { HfplError } from '../errors.js';
import type { RgbImage } from './types.js';

const PRECISION_BITS = 32 - 8 - 2;
const ONE = 2 ** PRECISION_BITS;

function bicubic(x: number): number {
  const a = -0.5;
  if (x < 0) x = -x;
  if (x < 1) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
  return 0;
}

interface Coeffs {
  ksize: number;
  /** Per output sample: first input index, count. */
  bounds: Int32Array;
  /** ksize fixed-point weights per output sample. */
  kk: Int32Array;
}

/** `precompute_coeffs` + `normalize_coeffs_8bpc` for one axis (box = the whole input). */
function coefficients(inSize: number, outSize: number): Coeffs {
  const scale = inSize / outSize;
  const filterscale = scale < 1 ? 1 : scale;
  const support = 2.0 * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const kk = new Int32Array(outSize * ksize);
  const k = new Float64Array(ksize);
  const ss = 1.0 / filterscale;
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    let xmin = Math.trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      const w = bicubic((x + xmin - center + 0.5) * ss);
      k[x] = w;
      ww += w;
    }
    for (let x = 0; x < xmax; x++) {
      const v = ww !== 0 ? k[x] / ww : k[x];
      kk[xx * ksize + x] = v < 0 ? Math.trunc(-0.5 + v * ONE) : Math.trunc(0.5 + v * ONE);
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  return { ksize, bounds, kk };
}

function clip8(v: number): number {
  if (v >= ONE * 256) return 255;
  if (v <= 0) return 0;
  return Math.floor(v / ONE);
}

/** One pass along an axis: `stride`/`step` address input samples of output (line, i). */
function pass(src: Uint8Array, w: number, h: number, outW: number, outH: number, horizontal: boolean): Uint8Array {
  const co = coefficients(horizontal ? w : h, horizontal ? outW : outH);
  const out = new Uint8Array(outW * outH * 3);
  const { ksize, bounds, kk } = co;
  for (let y = 0; y < outH; y++) {
    for (let x = 0; x < outW; x++) {
      const i = horizontal ? x : y;
      const min = bounds[i * 2], n = bounds[i * 2 + 1], kb = i * ksize;
      let s0 = ONE / 2, s1 = ONE / 2, s2 = ONE / 2;
      for (let t = 0; t < n; t++) {
        const p = horizontal ? (y * w + min + t) * 3 : ((min + t) * w + x) * 3;
        const c = kk[kb + t];
        s0 += src[p] * c;
        s1 += src[p + 1] * c;
        s2 += src[p + 2] * c;
      }
      const o = (y * outW + x) * 3;
      out[o] = clip8(s0);
      out[o + 1] = clip8(s1);
      out[o + 2] = clip8(s2);
    }
  }
  return out;
}

/**
 * `Image.resize((width, height), Image.BICUBIC)` of Pillow 9 on an RGB image: the same bytes.
 * An unchanged axis is not resampled (Pillow skips that pass); equal sizes return a copy.
 */
export function resizeBicubicPil(img: RgbImage, width: number, height: number): RgbImage {
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) {
    throw new HfplError('E_ARG', `resize target must be positive integers, got ${width} x ${height}`);
  }
  let data: Uint8Array = Uint8Array.from(img.data);
  let w = img.width;
  if (width !== img.width) {
    data = pass(data, img.width, img.height, width, img.height, true);
    w = width;
  }
  if (height !== img.height) data = pass(data, w, img.height, w, height, false);
  return { width, height, data: data as RgbImage['data'] };
}

/** Python 3's `round` (half to even), as the reference uses for the scaled sizes. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
