import { fslWasmKernel, type FslWasmKernel } from './fsl-wasm.js';

/**
 * Typed-array kernel of the feature-similarity loss (METHOD 1): one pass over a window of pixel
 * offsets per image, each unordered pair (i, j) visited once (K_ij = G_ij w_ij is symmetric),
 * no per-pair storage. The pass returns the pair sum and its gradient
 * d/dq_i sum_(i,j ordered) K_ij 0.5 |q_i - q_j|^2 = 2 sum_j K_ij (q_i - q_j), so the TF.js op
 * (feature-similarity.ts) needs nothing else for its backward. py = 2 with at most 4 image
 * channels and px in {1, 2} runs in WebAssembly SIMD (fsl-wasm.ts); anything else in plain JS.
 * Prediction channels that are zero everywhere (label-masked classes) are skipped exactly.
 */

/** Resolved parameters of one FSL evaluation. */
export interface FslParams {
  mu: number;
  sigma: number;
  px: number;
  py: number;
  /** Offsets with dy^2 + dx^2 <= radius^2 are summed; Infinity sums all pairs (dense). */
  radius: number;
}

/** Flat NHWC inputs of one FSL evaluation. */
export interface FslInputs {
  image: Float32Array; // N*h*w*cx, any range (clamped to [0, 1] here)
  pred: Float32Array; // N*h*w*c
  n: number;
  h: number;
  w: number;
  cx: number;
  c: number;
}

/** Offsets of the upper half window (dy > 0, or dy = 0 and dx > 0) with their Gaussian weight. */
export interface HalfWindow {
  dy: Int32Array;
  dx: Int32Array;
  g: Float64Array;
}

/** The half window of offsets for an h x w map (METHOD 1: G = exp(-|p|^2 / 2 sigma^2) / (2 pi sigma^2)). */
export function halfWindow(h: number, w: number, sigma: number, radius: number): HalfWindow {
  const dys: number[] = [];
  const dxs: number[] = [];
  const gs: number[] = [];
  const r2 = radius * radius;
  const norm = 1 / (2 * Math.PI * sigma * sigma);
  for (let dy = 0; dy < h; dy++) {
    for (let dx = -(w - 1); dx < w; dx++) {
      if (dy === 0 && dx <= 0) continue;
      const d2 = dy * dy + dx * dx;
      if (d2 > r2) continue;
      dys.push(dy);
      dxs.push(dx);
      gs.push(Math.exp((-0.5 * d2) / (sigma * sigma)) * norm);
    }
  }
  return { dy: Int32Array.from(dys), dx: Int32Array.from(dxs), g: Float64Array.from(gs) };
}

/**
 * Colour weight table is not possible (it depends on both pixels), so this computes it inline:
 * w = tanh(mu + log(a / b)) = (e^(2 mu) a^2 - b^2) / (e^(2 mu) a^2 + b^2), a = d + 1e-5,
 * b = 1 - d + 1e-5 (METHOD 1, algebraic form).
 */
function colourDistance(img: Float64Array, i: number, j: number, cx: number, px: number, invNorm: number): number {
  let d = 0;
  if (px === 1) {
    for (let t = 0; t < cx; t++) d += Math.abs(img[i + t] - img[j + t]);
  } else if (px === 2) {
    for (let t = 0; t < cx; t++) {
      const e = img[i + t] - img[j + t];
      d += e * e;
    }
    d = Math.sqrt(d);
  } else {
    for (let t = 0; t < cx; t++) d += Math.abs(img[i + t] - img[j + t]) ** px;
    d = d ** (1 / px);
  }
  d *= invNorm;
  return d > 1 ? 1 : d;
}

/**
 * Evaluates images [from, to) of the batch. Writes d(S_n)/d(pred) of each image's pair sum
 * S_n = sum_(i,j ordered) G w 0.5 |q_i - q_j|_py^py into `grad` (same layout as pred) and
 * returns sum_n S_n. The loss is -(1 / (N h w)) times the returned value. `impl: 'js'` forces
 * the portable path (otherwise the SIMD kernel runs when the case allows it).
 */
export function fslPairSums(
  inp: FslInputs, p: FslParams, win: HalfWindow, from: number, to: number, grad: Float32Array, impl: 'auto' | 'js' = 'auto',
): number {
  const { h, w, cx, c } = inp;
  const hw = h * w;
  const e2mu = Math.exp(2 * p.mu);
  const invNorm = 1 / cx ** (1 / p.px);
  const simdOk = impl === 'auto' && p.py === 2 && cx <= 4 && (p.px === 1 || p.px === 2);
  const active = new Int32Array(c);
  let total = 0;
  for (let n = from; n < to; n++) {
    // Channels that are zero everywhere (label-masked classes) add nothing and get zero
    // gradient: pack the others densely.
    const pb = n * hw * c;
    let ca = 0;
    for (let ch = 0; ch < c; ch++) {
      let nz = false;
      for (let i = 0; i < hw && !nz; i++) nz = inp.pred[pb + i * c + ch] !== 0;
      if (nz) active[ca++] = ch;
    }
    grad.fill(0, pb, pb + hw * c);
    if (ca === 0) continue;
    const ib = n * hw * cx;
    const scatter = (src: Float32Array | Float64Array, stride: number, scale: number): void => {
      for (let i = 0; i < hw; i++) for (let a = 0; a < ca; a++) grad[pb + i * c + active[a]] = scale * src[i * stride + a];
    };
    const cp = (ca + 3) & ~3;
    const simd = simdOk ? fslWasmKernel(cx, p.px, cp / 4) : null;
    if (simd) {
      const m = simdLayout(simd, win, hw, cx, cp);
      const f = new Float32Array(simd.memory.buffer);
      f.fill(0, m.img >> 2, m.end >> 2);
      const planeFloats = m.planeBytes >> 2;
      for (let i = 0; i < hw; i++) {
        for (let t = 0; t < cx; t++) {
          const v = inp.image[ib + i * cx + t];
          f[(m.img >> 2) + t * planeFloats + i] = v < 0 ? 0 : v > 1 ? 1 : v;
        }
      }
      const qv = f.subarray(m.q >> 2);
      for (let i = 0; i < hw; i++) for (let a = 0; a < ca; a++) qv[i * 2 * cp + a] = inp.pred[pb + i * c + active[a]];
      total += simd.pairs(h, w, win.g.length, m.off, m.img, m.planeBytes, m.q, e2mu, invNorm);
      scatter(f.subarray((m.q >> 2) + cp), 2 * cp, 2);
    } else {
      const img = new Float64Array(hw * cx);
      const q = new Float64Array(hw * ca);
      const g = new Float64Array(hw * ca);
      for (let t = 0; t < hw * cx; t++) {
        const v = inp.image[ib + t];
        img[t] = v < 0 ? 0 : v > 1 ? 1 : v;
      }
      for (let i = 0; i < hw; i++) for (let a = 0; a < ca; a++) q[i * ca + a] = inp.pred[pb + i * c + active[a]];
      total += passGeneral(img, q, g, h, w, cx, ca, p.px, p.py, invNorm, e2mu, win);
      scatter(g, ca, 1);
    }
  }
  return total;
}

/**
 * Places the offset table, the image planes (each padded so 4-lane loads past a row end stay
 * inside) and the per-pixel [q, gradient] records in the kernel's memory, 16-byte aligned.
 */
function simdLayout(k: FslWasmKernel, win: HalfWindow, hw: number, cx: number, cp: number) {
  const off = 0;
  const img = (win.g.length * 12 + 15) & ~15;
  const planeBytes = ((hw + 8) * 4 + 15) & ~15;
  const q = img + cx * planeBytes; // per pixel [q (cp floats), g (cp floats)]
  const end = q + hw * cp * 8;
  const have = k.memory.buffer.byteLength;
  if (end > have) k.memory.grow(Math.ceil((end - have) / 65536));
  const dv = new DataView(k.memory.buffer);
  for (let o = 0; o < win.g.length; o++) {
    dv.setInt32(off + o * 12, win.dy[o], true);
    dv.setInt32(off + o * 12 + 4, win.dx[o], true);
    dv.setFloat32(off + o * 12 + 8, win.g[o], true);
  }
  return { off, img, planeBytes, q, end };
}

/** Any py: per pair and channel; writes the gradient into `gr` and returns the ordered pair sum. */
function passGeneral(
  img: Float64Array, q: Float64Array, gr: Float64Array,
  h: number, w: number, cx: number, c: number, px: number, py: number, invNorm: number, e2mu: number, win: HalfWindow,
): number {
  let s = 0;
  for (let o = 0; o < win.g.length; o++) {
    const dy = win.dy[o];
    const dx = win.dx[o];
    const g = win.g[o];
    const x0 = dx < 0 ? -dx : 0;
    const x1 = dx > 0 ? w - dx : w;
    const step = dy * w + dx;
    for (let y = 0; y < h - dy; y++) {
      for (let i = y * w + x0; i < y * w + x1; i++) {
        const j = i + step;
        const d = colourDistance(img, i * cx, j * cx, cx, px, invNorm);
        const a = d + 1e-5;
        const b = 1 - d + 1e-5;
        const kk = (g * (e2mu * a * a - b * b)) / (e2mu * a * a + b * b);
        const qi = i * c;
        const qj = j * c;
        for (let ch = 0; ch < c; ch++) {
          const e = q[qi + ch] - q[qj + ch];
          const ae = Math.abs(e);
          // Both orders of the pair: 2 * 0.5 |e|^py; derivative py |e|^(py-1) sign(e).
          s += kk * ae ** py;
          const gd = ae === 0 ? 0 : kk * py * ae ** (py - 1) * Math.sign(e);
          gr[qi + ch] += gd;
          gr[qj + ch] -= gd;
        }
      }
    }
  }
  return s;
}
