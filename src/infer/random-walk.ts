/**
 * AffinityNet random walk (METHOD 3.5; Ahn & Kwak, CVPR 2018, `infer_aff.py`) on the sparse
 * radius-limited pixel graph of the stride-8 grid. Never forms an n x n matrix.
 * 1. Pairs: the half-disk offsets of `pairOffsets(radius)` (34 for radius 5), each pair once;
 *    the graph is their symmetrisation plus self-loops (69 entries per interior pixel).
 *    `pairs: 'all'` (default) keeps every in-bounds pair; `pairs: 'reference'` keeps only the
 *    pairs whose first pixel lies in the reference's window (rows < h - r + 1, columns
 *    r - 1 .. w - r), as PSA's `get_indices_of_pairs` does, which leaves border pixels
 *    partly unconnected.
 * 2. Affinity a_ij = exp(-mean_d |f_i - f_j|); W_ij = a_ij^beta (beta 8), W_ii = 1.
 * 3. Transition T = W D^-1 (columns of W normalised: the reference's
 *    `aff / sum(aff, dim=0)`); the walk is the row vector v <- v T^(2^logSteps). Since W is
 *    symmetric, (v T)_j = sum_i W_ji v_i / d_j: every step is one sparse product with the
 *    row-normalised P = D^-1 W, applied 2^logSteps times (64 for logSteps 6) instead of
 *    squaring T (squaring would fill in the matrix).
 * Cost: building n x 34 x D operations; walking 2^logSteps x nnz x C multiply-adds, nnz <= 69 n.
 * For the 47 x 63 grid of a 500 x 375 image (nnz 190k), D = 448: 45 M to build, 36 M to walk
 * C = 3 channels, 255 M for C = 21 (`npm run bench:crf` prints the times).
 */
import { z } from 'zod';
import { HfplError } from '../errors.js';
import { pairOffsets } from './aff-labels.js';

/** Random walk options (defaults: METHOD 3.5). */
export const randomWalkOptionsSchema = z
  .object({
    /** Pair radius on the grid, pixels (pairs with dx^2 + dy^2 < radius^2); default 5. */
    radius: z.number().int({ error: 'radius must be an integer' }).min(2, { error: 'radius must be >= 2' }).max(32, { error: 'radius must be <= 32' }).default(5),
    /** Affinity exponent beta; default 8. */
    beta: z.number().positive({ error: 'beta must be > 0' }).default(8),
    /** The walk takes 2^logSteps steps; default 6 (64 steps). */
    logSteps: z.number().int({ error: 'logSteps must be an integer' }).min(0, { error: 'logSteps must be >= 0' }).max(12, { error: 'logSteps must be <= 12' }).default(6),
    /** Background exponent: bg = (1 - max_c cam_c)^bgPower (`randomWalkCams` only); default 6. */
    bgPower: z.number().positive({ error: 'bgPower must be > 0' }).default(6),
    /** 'all' in-bounds pairs (default) or the reference's 'reference' window (see above). */
    pairs: z.enum(['all', 'reference'], { error: "pairs must be 'all' or 'reference'" }).default('all'),
  })
  .strict();

export type RandomWalkOptions = z.input<typeof randomWalkOptionsSchema>;

function resolve(opts: RandomWalkOptions): z.output<typeof randomWalkOptionsSchema> {
  const r = randomWalkOptionsSchema.safeParse(opts);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  if (issue.code === 'unrecognized_keys') {
    throw new HfplError('E_CONFIG', `randomWalk: unknown option ${issue.keys.map((k) => `'${k}'`).join(', ')}; allowed: ${Object.keys(randomWalkOptionsSchema.shape).join(', ')}`);
  }
  const key = issue.path.join('.');
  throw new HfplError('E_CONFIG', `randomWalk: option ${key} = ${JSON.stringify((opts as Record<string, unknown>)[key])} is invalid: ${issue.message}`);
}

/** The row-normalised transition P = D^-1 W in CSR form (row j: P_ji for its neighbours i). */
export interface AffinityTransition {
  height: number;
  width: number;
  /** Row starts, length n + 1. */
  indptr: Int32Array;
  /** Column (neighbour) indices, self included. */
  indices: Int32Array;
  /** P_ji = W_ji / sum_i W_ji. */
  values: Float64Array;
}

/**
 * Builds the sparse transition of the affinity graph from per-pixel features (`features`,
 * height x width x dim, pixel-major).
 * @example affinityTransition(f, 47, 63, 448) // radius 5, beta 8
 */
export function affinityTransition(features: Float32Array, height: number, width: number, dim: number, opts: RandomWalkOptions = {}): AffinityTransition {
  const o = resolve(opts);
  const n = height * width;
  if (!(n > 0 && dim > 0 && Number.isInteger(n) && Number.isInteger(dim)) || features.length !== n * dim) {
    throw new HfplError('E_ARG', `affinityTransition: features hold ${features.length} values, expected ${height} x ${width} x ${dim}`);
  }
  const offsets = pairOffsets(o.radius);
  const f = o.radius - 1;
  // Per half offset and pixel: W to pixel + offset (0 where absent).
  const half = new Float64Array(offsets.length * n);
  offsets.forEach(([dy, dx], k) => {
    for (let y = 0; y + dy < height; y++) {
      if (o.pairs === 'reference' && y >= height - f) break;
      for (let x = Math.max(0, -dx); x < width && x + dx < width; x++) {
        if (o.pairs === 'reference' && (x < f || x >= width - f)) continue;
        const i = y * width + x, j = i + dy * width + dx;
        let s = 0;
        for (let c = 0; c < dim; c++) s += Math.abs(features[i * dim + c] - features[j * dim + c]);
        half[k * n + i] = Math.exp((-o.beta * s) / dim); // (exp(-mean |f_i - f_j|))^beta
      }
    }
  });
  // CSR: for row j, self, then j + offset (W stored at j), then j - offset (W stored at j - offset).
  const indptr = new Int32Array(n + 1);
  const indices = new Int32Array(n * (2 * offsets.length + 1));
  const values = new Float64Array(indices.length);
  let nnz = 0;
  for (let j = 0; j < n; j++) {
    const start = nnz;
    const y = Math.floor(j / width), x = j - y * width;
    indices[nnz] = j;
    values[nnz++] = 1;
    offsets.forEach(([dy, dx], k) => {
      if (y + dy < height && x + dx >= 0 && x + dx < width && half[k * n + j] > 0) {
        indices[nnz] = j + dy * width + dx;
        values[nnz++] = half[k * n + j];
      }
      const i = j - dy * width - dx;
      if (y - dy >= 0 && x - dx >= 0 && x - dx < width && half[k * n + i] > 0) {
        indices[nnz] = i;
        values[nnz++] = half[k * n + i];
      }
    });
    let deg = 0;
    for (let e = start; e < nnz; e++) deg += values[e];
    for (let e = start; e < nnz; e++) values[e] /= deg;
    indptr[j + 1] = nnz;
  }
  return { height, width, indptr, indices: indices.slice(0, nnz), values: values.slice(0, nnz) };
}

/**
 * Applies the walk: returns v T^(2^logSteps) for every channel of `cams` (C x height x width,
 * label-major), as C x height x width.
 */
export function randomWalk(t: AffinityTransition, cams: Float32Array, opts: Pick<RandomWalkOptions, 'logSteps'> = {}): Float32Array {
  const { logSteps } = resolve(opts);
  const n = t.height * t.width;
  const C = cams.length / n;
  if (!Number.isInteger(C) || C < 1) {
    throw new HfplError('E_ARG', `randomWalk: CAMs hold ${cams.length} values, not C x ${t.height} x ${t.width} for any C >= 1`);
  }
  // Four channels at a time (one index load per four multiply-adds), float64 state,
  // pixel-major within the group: v[4 i + c].
  const { indptr, indices, values } = t;
  const steps = 2 ** logSteps;
  const out = new Float32Array(n * C);
  let v = new Float64Array(4 * n);
  let next = new Float64Array(4 * n);
  for (let c0 = 0; c0 < C; c0 += 4) {
    const g = Math.min(4, C - c0);
    v.fill(0);
    for (let c = 0; c < g; c++) for (let i = 0; i < n; i++) v[4 * i + c] = cams[(c0 + c) * n + i];
    for (let s = 0; s < steps; s++) {
      for (let j = 0; j < n; j++) {
        let a0 = 0, a1 = 0, a2 = 0, a3 = 0;
        for (let e = indptr[j], end = indptr[j + 1]; e < end; e++) {
          const p = values[e], k = 4 * indices[e];
          a0 += p * v[k];
          a1 += p * v[k + 1];
          a2 += p * v[k + 2];
          a3 += p * v[k + 3];
        }
        next[4 * j] = a0;
        next[4 * j + 1] = a1;
        next[4 * j + 2] = a2;
        next[4 * j + 3] = a3;
      }
      [v, next] = [next, v];
    }
    for (let c = 0; c < g; c++) for (let i = 0; i < n; i++) out[(c0 + c) * n + i] = v[4 * i + c];
  }
  return out;
}

/**
 * Prepends the background channel (1 - max_k cam_k)^power to K foreground maps (K x n), as
 * METHOD 3.5 does before the walk; with K = 0 the background is 1.
 */
export function withBackground(fgCams: Float32Array, n: number, power = 6): Float32Array {
  const K = fgCams.length / n;
  if (!Number.isInteger(K)) throw new HfplError('E_ARG', `withBackground: ${fgCams.length} values are not K x ${n}`);
  const out = new Float32Array((K + 1) * n);
  for (let i = 0; i < n; i++) {
    let mx = 0;
    for (let k = 0; k < K; k++) mx = Math.max(mx, fgCams[k * n + i]);
    out[i] = Math.pow(Math.max(0, 1 - mx), power);
  }
  out.set(fgCams, n);
  return out;
}

/**
 * The whole step on the stride-8 grid: background (1 - max)^bgPower, then the walk. `fgCams`
 * is K x height x width (the present classes); returns (1 + K) x height x width, channel 0 the
 * background. The caller upsamples to the image size and takes the argmax.
 */
export function randomWalkCams(features: Float32Array, height: number, width: number, dim: number, fgCams: Float32Array, opts: RandomWalkOptions = {}): Float32Array {
  const o = resolve(opts);
  const t = affinityTransition(features, height, width, dim, o);
  return randomWalk(t, withBackground(fgCams, height * width, o.bgPower), o);
}
