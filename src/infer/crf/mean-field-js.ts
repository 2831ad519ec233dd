/**
 * Dense CRF mean-field iterations in plain JavaScript (the portable path and the reference the
 * SIMD path is tested against). Each iteration blurs every kernel's lattice, then makes one
 * pass over the pixels that slices the lattices, takes the softmax and splats the new Q into
 * the next lattice buffers.
 */
import type { CrfKernel } from './kernel.js';

/**
 * Runs `iterations` mean-field steps. `probs` is L x n label-major, clipped to [minProb, 1]
 * (NaN -> minProb) before the log. Returns Q, L x n label-major, in `out` when given.
 */
export function meanFieldJs(probs: Float32Array, minProb: number, n: number, L: number, kernels: CrfKernel[], iterations: number, out = new Float32Array(n * L)): Float32Array {
  // -U, pixel-major.
  const logp = new Float32Array(n * L);
  for (let k = 0; k < L; k++) {
    for (let i = 0; i < n; i++) {
      const p = probs[k * n + i];
      logp[i * L + k] = Math.log(Math.min(1, p > minProb ? p : minProb));
    }
  }
  const q = new Float64Array(L);
  const bufs = kernels.map((k) => [k.lattice.createValues(L), k.lattice.createValues(L)]);
  // Q_0 = softmax(-U), splatted into every kernel's first buffer.
  for (let i = 0; i < n; i++) {
    const inv = softmax(q, logp, i * L, L);
    if (iterations === 0) store(out, q, i, n, L, inv);
    kernels.forEach((kn, m) => splat(q, L, inv, bufs[m][0], kn, i));
  }
  for (let it = 0; it < iterations; it++) {
    const last = it === iterations - 1;
    const blurred = kernels.map((kn, m) => {
      const res = kn.lattice.blur(bufs[m][0], L, bufs[m][1]);
      const free = res === bufs[m][0] ? bufs[m][1] : bufs[m][0];
      free.fill(0);
      bufs[m] = [free, res];
      return res;
    });
    for (let i = 0; i < n; i++) {
      const base = i * L;
      for (let k = 0; k < L; k++) q[k] = logp[base + k];
      for (let m = 0; m < kernels.length; m++) slice(q, L, blurred[m], kernels[m], i);
      const inv = softmax(q, q, 0, L);
      if (last) store(out, q, i, n, L, inv);
      else kernels.forEach((kn, m) => splat(q, L, inv, bufs[m][0], kn, i));
    }
  }
  return out;
}

/** q += sliceScale sum_r w_ir values[vertex_ir] (w: the kernel's normalised weights). */
function slice(q: Float64Array, L: number, values: Float32Array, kn: CrfKernel, i: number): void {
  const d1 = kn.lattice.d + 1;
  const { offsets, weights } = kn.lattice;
  for (let r = i * d1; r < (i + 1) * d1; r++) {
    const s = weights[r] * kn.sliceScale;
    const o = offsets[r] * L;
    for (let k = 0; k < L; k++) q[k] += s * values[o + k];
  }
}

/** values[vertex_ir] += scale * w_ir q. */
function splat(q: Float64Array, L: number, scale: number, values: Float32Array, kn: CrfKernel, i: number): void {
  const d1 = kn.lattice.d + 1;
  const { offsets, weights } = kn.lattice;
  for (let r = i * d1; r < (i + 1) * d1; r++) {
    const s = weights[r] * scale;
    const o = offsets[r] * L;
    for (let k = 0; k < L; k++) values[o + k] += s * q[k];
  }
}

/** q <- exp(src - max) over L values at `at`; returns 1 / sum (q is left unnormalised). */
function softmax(q: Float64Array, src: Float32Array | Float64Array, at: number, L: number): number {
  let mx = -Infinity;
  for (let k = 0; k < L; k++) if (src[at + k] > mx) mx = src[at + k];
  let s = 0;
  for (let k = 0; k < L; k++) {
    const e = Math.exp(src[at + k] - mx);
    q[k] = e;
    s += e;
  }
  return 1 / s;
}

function store(out: Float32Array, q: Float64Array, i: number, n: number, L: number, inv: number): void {
  for (let k = 0; k < L; k++) out[k * n + i] = q[k] * inv;
}
