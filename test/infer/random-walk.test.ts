import { describe, expect, it } from 'vitest';
import { affinityTransition, randomWalk, randomWalkCams, withBackground } from '../../src/infer/random-walk.js';
import { pairOffsets } from '../../src/infer/aff-labels.js';

/** Deterministic pseudo-random numbers in [0, 1). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Dense reference, as the reference code computes it: W (n x n), T = W / colsum, T^(2^logt) by squaring, v T. */
function denseWalk(f: Float32Array, h: number, w: number, dim: number, cams: Float32Array, radius: number, beta: number, logt: number): Float64Array {
  const n = h * w;
  const W = new Float64Array(n * n);
  for (let i = 0; i < n; i++) W[i * n + i] = 1;
  for (const [dy, dx] of pairOffsets(radius)) {
    for (let y = 0; y + dy < h; y++) {
      for (let x = 0; x < w; x++) {
        if (x + dx < 0 || x + dx >= w) continue;
        const i = y * w + x, j = (y + dy) * w + x + dx;
        let s = 0;
        for (let c = 0; c < dim; c++) s += Math.abs(f[i * dim + c] - f[j * dim + c]);
        const a = Math.pow(Math.exp(-s / dim), beta);
        W[i * n + j] = a;
        W[j * n + i] = a;
      }
    }
  }
  let T = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    let cs = 0;
    for (let i = 0; i < n; i++) cs += W[i * n + j];
    for (let i = 0; i < n; i++) T[i * n + j] = W[i * n + j] / cs;
  }
  for (let s = 0; s < logt; s++) {
    const T2 = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let k = 0; k < n; k++) {
      const a = T[i * n + k];
      if (a !== 0) for (let j = 0; j < n; j++) T2[i * n + j] += a * T[k * n + j];
    }
    T = T2;
  }
  const C = cams.length / n;
  const out = new Float64Array(C * n);
  for (let c = 0; c < C; c++) for (let i = 0; i < n; i++) {
    const v = cams[c * n + i];
    if (v !== 0) for (let j = 0; j < n; j++) out[c * n + j] += v * T[i * n + j];
  }
  return out;
}

describe('random walk', () => {
  it('matches the dense matrix power v T^64 on an 8 x 8 grid to 1e-5', () => {
    const h = 8, w = 8, dim = 4, n = h * w, r = rng(3);
    const f = new Float32Array(n * dim).map(() => r());
    const cams = new Float32Array(3 * n).map(() => r());
    const sparse = randomWalk(affinityTransition(f, h, w, dim), cams);
    const dense = denseWalk(f, h, w, dim, cams, 5, 8, 6);
    let maxErr = 0;
    for (let i = 0; i < dense.length; i++) maxErr = Math.max(maxErr, Math.abs(sparse[i] - dense[i]));
    expect(maxErr).toBeLessThan(1e-5);
    // Also for other radius / beta / steps.
    const s2 = randomWalk(affinityTransition(f, h, w, dim, { radius: 3, beta: 2 }), cams, { logSteps: 3 });
    const d2 = denseWalk(f, h, w, dim, cams, 3, 2, 3);
    for (let i = 0; i < d2.length; i++) expect(Math.abs(s2[i] - d2[i])).toBeLessThan(1e-5);
  });

  it('has 69 neighbours (with self) for an interior pixel at radius 5 and rows summing to 1', () => {
    const h = 12, w = 12, n = h * w;
    const t = affinityTransition(new Float32Array(n).fill(0.5), h, w, 1);
    const j = 6 * w + 6;
    expect(t.indptr[j + 1] - t.indptr[j]).toBe(69);
    expect(pairOffsets(5).length).toBe(34);
    for (let row = 0; row < n; row++) {
      let s = 0;
      for (let e = t.indptr[row]; e < t.indptr[row + 1]; e++) s += t.values[e];
      expect(s).toBeCloseTo(1, 12);
    }
    // Equal features: every weight is 1, so an interior row is uniform 1/69.
    expect(t.values[t.indptr[j]]).toBeCloseTo(1 / 69, 12);
  });

  it('spreads a seed inside its region and not across a low-affinity boundary', () => {
    // 10 x 16 grid: left half features 0, right half features 1 (affinity exp(-1)^8 = 3.4e-4).
    const h = 10, w = 16, n = h * w;
    const f = new Float32Array(n);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) f[y * w + x] = x < 8 ? 0 : 1;
    const seed = new Float32Array(n);
    seed[5 * w + 2] = 1; // one pixel in the left region
    const out = randomWalk(affinityTransition(f, h, w, 1), seed);
    let left = 0, right = 0, leftMin = Infinity;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const v = out[y * w + x];
        if (x < 8) {
          left += v;
          leftMin = Math.min(leftMin, v);
        } else right += v;
      }
    }
    expect(leftMin).toBeGreaterThan(0.2 * (left / (n / 2))); // every left pixel got a share
    expect(right).toBeLessThan(0.01 * left); // almost nothing crossed
    // Without the boundary the right half receives a large share.
    const flat = randomWalk(affinityTransition(new Float32Array(n), h, w, 1), seed);
    let flatRight = 0, flatLeft = 0;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        if (x < 8) flatLeft += flat[y * w + x];
        else flatRight += flat[y * w + x];
      }
    }
    expect(flatRight).toBeGreaterThan(0.3 * flatLeft);
  });

  it('adds the background (1 - max)^6 and walks all channels', () => {
    const n = 4;
    const fg = new Float32Array([0.5, 0, 1, 0.2, 0.1, 0.9, 0, 0.2]); // K = 2
    const withBg = withBackground(fg, n, 6);
    const expected = [0.5 ** 6, (1 - Math.fround(0.9)) ** 6, 0, (1 - Math.fround(0.2)) ** 6];
    expected.forEach((v, i) => expect(withBg[i]).toBeCloseTo(v, 7));
    expect(Array.from(withBg.subarray(4))).toEqual(Array.from(fg));
    const f = new Float32Array(n * 2).fill(0.3);
    const out = randomWalkCams(f, 2, 2, 2, fg, { logSteps: 4 });
    expect(out.length).toBe(3 * n);
    // Equal features and a 2 x 2 grid (all pairs within radius 5): one step averages all pixels.
    for (let c = 0; c < 3; c++) {
      const mean = (withBg[c * n] + withBg[c * n + 1] + withBg[c * n + 2] + withBg[c * n + 3]) / 4;
      for (let i = 0; i < n; i++) expect(out[c * n + i]).toBeCloseTo(mean, 6);
    }
  });

  it('rejects bad shapes and options with one clear line', () => {
    expect(() => affinityTransition(new Float32Array(10), 2, 2, 3)).toThrow('affinityTransition: features hold 10 values, expected 2 x 2 x 3');
    const t = affinityTransition(new Float32Array(4), 2, 2, 1);
    expect(() => randomWalk(t, new Float32Array(6))).toThrow('randomWalk: CAMs hold 6 values, not C x 2 x 2 for any C >= 1');
    expect(() => affinityTransition(new Float32Array(4), 2, 2, 1, { beta: -1 })).toThrow('randomWalk: option beta = -1 is invalid: beta must be > 0');
    expect(() => affinityTransition(new Float32Array(4), 2, 2, 1, { steps: 3 } as never)).toThrow(/unknown option 'steps'/);
  });

  it("'reference' pairs drop pairs whose first pixel is outside the reference window", () => {
    const h = 6, w = 10, n = h * w;
    const all = affinityTransition(new Float32Array(n), h, w, 1);
    const ref = affinityTransition(new Float32Array(n), h, w, 1, { pairs: 'reference' });
    expect(ref.indices.length).toBeLessThan(all.indices.length);
    // Bottom-left corner pixel: in 'reference', its right neighbour is not connected.
    const j = (h - 1) * w;
    const refNbrs = Array.from(ref.indices.subarray(ref.indptr[j], ref.indptr[j + 1]));
    const allNbrs = Array.from(all.indices.subarray(all.indptr[j], all.indptr[j + 1]));
    expect(allNbrs).toContain(j + 1);
    expect(refNbrs).not.toContain(j + 1);
  });
});
