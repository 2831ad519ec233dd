/**
 * Permutohedral lattice (Adams, Baek and Davis 2010) for approximate high-dimensional Gaussian
 * filtering, as used by the dense CRF of Kraehenbuehl and Koltun (2011, densecrf
 * `Permutohedral`). A point set with features f_i (already divided by the kernel standard
 * deviations) is embedded once; then any number of value channels can be filtered with
 * out_i ~ sum_j exp(-|f_i - f_j|^2 / 2) v_j. Three phases, all on flat typed arrays:
 * 1. splat: every point adds its value, weighted by its barycentric coordinates, to the d+1
 *    vertices of its enclosing simplex;
 * 2. blur: along each of the d+1 lattice directions, v <- v + (v_prev + v_next) / 2
 *    (densecrf's [1 2 1] kernel, unnormalised);
 * 3. slice: every point reads back the barycentric interpolation of its vertices, times
 *    densecrf's constant 1 / (1 + 2^-d).
 * The absolute scale of the result is only approximate; normalised filtering (divide by the
 * filtered constant image, see `dense-crf.ts`) cancels it.
 */
import { check } from '../../errors.js';
import { createKeyTable } from './key-table.js';

/** An embedded point set: for every point, its d+1 vertex indices and barycentric weights. */
export class PermutohedralLattice {
  /** Feature dimension. */
  readonly d: number;
  /** Number of points. */
  readonly n: number;
  /** Number of lattice vertices. */
  readonly m: number;
  /** Vertex index of each point's d+1 simplex corners, n x (d+1). */
  readonly offsets: Int32Array;
  /** Barycentric weight of each corner, n x (d+1); each row sums to 1. */
  readonly weights: Float32Array;
  /** Blur neighbours, (d+1) x m for each side; `m` stands for a missing vertex (a zero row). */
  readonly prev: Int32Array;
  readonly next: Int32Array;

  private constructor(d: number, n: number, m: number, offsets: Int32Array, weights: Float32Array, prev: Int32Array, next: Int32Array) {
    this.d = d;
    this.n = n;
    this.m = m;
    this.offsets = offsets;
    this.weights = weights;
    this.prev = prev;
    this.next = next;
  }

  /**
   * Embeds `n` points with `d`-dimensional features (`features`, n x d, point-major, already
   * scaled so that the Gaussian has unit standard deviation in every dimension). `out`, when
   * given, receives the offsets and weights (n x (d+1) each) instead of new arrays.
   */
  static build(features: Float32Array, n: number, d: number, out?: { offsets: Int32Array; weights: Float32Array }): PermutohedralLattice {
    check(Number.isInteger(d) && d >= 1 && d <= 16, `permutohedral: feature dimension must be 1..16, got ${d}`);
    check(features.length === n * d, `permutohedral: features hold ${features.length} values, expected n*d = ${n * d}`);
    const d1 = d + 1;
    check(!out || (out.offsets.length === n * d1 && out.weights.length === n * d1), 'permutohedral: output arrays must hold n*(d+1) values');
    const offsets = out?.offsets ?? new Int32Array(n * d1);
    const weights = out?.weights ?? new Float32Array(n * d1);
    // Canonical simplex: canonical[r][j] = r for j <= d - r, r - (d+1) otherwise.
    const canonical = new Int32Array(d1 * d1);
    for (let r = 0; r <= d; r++) {
      for (let j = 0; j <= d - r; j++) canonical[r * d1 + j] = r;
      for (let j = d - r + 1; j <= d; j++) canonical[r * d1 + j] = r - d1;
    }
    // Diagonal of the embedding E, scaled for a unit standard deviation (Adams et al. p. 5-6).
    const invStd = Math.sqrt(2 / 3) * d1;
    const scale = new Float64Array(d);
    for (let i = 0; i < d; i++) scale[i] = invStd / Math.sqrt((i + 1) * (i + 2));
    // |elevated| <= (d+1) sum_j max|f_j| scale_j; rounding, the plane correction and the
    // simplex offsets add less than 3 (d+1). Within that bound keys pack into one float64.
    let bound = 0;
    for (let j = 0; j < d; j++) {
      let mx = 0;
      for (let p = 0; p < n; p++) mx = Math.max(mx, Math.abs(features[p * d + j]));
      bound += mx * scale[j];
    }
    const table = createKeyTable(d, Math.ceil(d1 * bound) + 4 * d1);
    const elevated = new Float64Array(d1);
    const rem0 = new Int32Array(d1);
    const rank = new Int32Array(d1);
    const resid = new Float64Array(d1);
    const bary = new Float64Array(d + 2);
    const key = new Int32Array(d);
    const prevRem0 = new Int32Array(d1);
    const prevRank = new Int32Array(d1);
    const invD1 = 1 / d1;
    // Packed tables: p = sum_i (key[i] + bound) base^(d-1-i) (see key-table.ts).
    const packing = table.packing;
    const pow = new Float64Array(d);
    let powSum = 0;
    if (packing) {
      for (let i = d - 1, f = 1; i >= 0; i--, f *= packing.base) pow[i] = f;
      for (let i = 0; i < d; i++) powSum += pow[i];
    }
    const packedBias = packing ? packing.bound * powSum : 0;
    const byRank = new Int32Array(d1);
    for (let p = 0; p < n; p++) {
      // Elevate onto the hyperplane sum(x) = 0.
      let sm = 0;
      for (let j = d; j > 0; j--) {
        const cf = features[p * d + j - 1] * scale[j - 1];
        elevated[j] = sm - j * cf;
        sm += cf;
      }
      elevated[0] = sm;
      // Nearest remainder-0 point by rounding every coordinate to a multiple of d+1.
      let sum = 0;
      for (let i = 0; i <= d; i++) {
        const e = elevated[i];
        const k = Math.floor(e * invD1);
        const down = k * d1;
        const roundUp = down + d1 - e < e - down;
        rem0[i] = roundUp ? down + d1 : down;
        sum += roundUp ? k + 1 : k;
      }
      // Rank of each coordinate's residual (which simplex the point lies in).
      for (let i = 0; i <= d; i++) {
        rank[i] = 0;
        resid[i] = elevated[i] - rem0[i];
      }
      for (let i = 0; i < d; i++) {
        const di = resid[i];
        let ri = rank[i];
        for (let j = i + 1; j <= d; j++) {
          const lt = di < resid[j] ? 1 : 0; // branch-free select (the comparisons are unpredictable)
          ri += lt;
          rank[j] += 1 - lt;
        }
        rank[i] = ri;
      }
      // Bring the rounded point back onto the plane if the coordinates do not sum to 0.
      for (let i = 0; i <= d; i++) {
        const ri = rank[i] + sum;
        if (ri < 0) {
          rank[i] = ri + d1;
          rem0[i] += d1;
        } else if (ri > d) {
          rank[i] = ri - d1;
          rem0[i] -= d1;
        } else {
          rank[i] = ri;
        }
      }
      // Barycentric coordinates (Adams et al. p. 10).
      for (let i = 0; i <= d + 1; i++) bary[i] = 0;
      for (let i = 0; i <= d; i++) {
        const v = (elevated[i] - rem0[i]) * invD1;
        bary[d - rank[i]] += v;
        bary[d - rank[i] + 1] -= v;
      }
      bary[0] += 1 + bary[d + 1];
      // Neighbouring points often lie in the same simplex: reuse its vertices then.
      let same = p > 0;
      for (let i = 0; i <= d && same; i++) same = rem0[i] === prevRem0[i] && rank[i] === prevRank[i];
      if (same) {
        for (let r = 0; r <= d; r++) offsets[p * d1 + r] = offsets[(p - 1) * d1 + r];
      } else if (packing) {
        // Packed key of vertex r, updated from r to r + 1 in O(1): every component gains 1,
        // and the one whose rank is d - r wraps by -(d+1) (canonical simplex above).
        let pk = packedBias;
        for (let i = 0; i < d; i++) pk += rem0[i] * pow[i];
        for (let i = 0; i <= d; i++) byRank[rank[i]] = i;
        for (let r = 0; r <= d; r++) {
          let v = table.findPacked(pk);
          if (v < 0) {
            for (let i = 0; i < d; i++) key[i] = rem0[i] + canonical[r * d1 + rank[i]];
            v = table.insertPacked(pk, key);
          }
          offsets[p * d1 + r] = v;
          const wrap = byRank[d - r];
          pk += powSum - (wrap < d ? d1 * pow[wrap] : 0);
        }
      } else {
        for (let r = 0; r <= d; r++) {
          for (let i = 0; i < d; i++) key[i] = rem0[i] + canonical[r * d1 + rank[i]];
          offsets[p * d1 + r] = table.findOrInsert(key);
        }
      }
      for (let r = 0; r <= d; r++) weights[p * d1 + r] = bary[r];
      for (let i = 0; i <= d; i++) {
        prevRem0[i] = rem0[i];
        prevRank[i] = rank[i];
      }
    }
    const m = table.size;
    // Neighbours along direction j: key - 1 everywhere except key[j] + d (and the reverse).
    const prev = new Int32Array(d1 * m);
    const next = new Int32Array(d1 * m);
    const n1 = new Int32Array(d);
    const n2 = new Int32Array(d);
    for (let j = 0; j <= d; j++) {
      if (packing) {
        // Packed: key - 1 everywhere is p - powSum. Neighbours are within d of a vertex, so
        // still within the table bound (margin 4 (d+1)): no component leaves its digit.
        const delta = (j < d ? d1 * pow[j] : 0) - powSum;
        for (let v = 0; v < m; v++) {
          const pk = table.packedKey(v);
          const a = table.findPacked(pk + delta);
          const b = table.findPacked(pk - delta);
          prev[j * m + v] = a < 0 ? m : a;
          next[j * m + v] = b < 0 ? m : b;
        }
        continue;
      }
      for (let v = 0; v < m; v++) {
        const base = v * d;
        for (let k = 0; k < d; k++) {
          n1[k] = table.keys[base + k] - 1;
          n2[k] = table.keys[base + k] + 1;
        }
        if (j < d) {
          n1[j] = table.keys[base + j] + d;
          n2[j] = table.keys[base + j] - d;
        }
        const a = table.find(n1);
        const b = table.find(n2);
        prev[j * m + v] = a < 0 ? m : a;
        next[j * m + v] = b < 0 ? m : b;
      }
    }
    return new PermutohedralLattice(d, n, m, offsets, weights, prev, next);
  }

  /** A zeroed vertex buffer for `channels` values per vertex (plus the zero row). */
  createValues(channels: number): Float32Array {
    return new Float32Array((this.m + 1) * channels);
  }

  /**
   * Adds point values (`input`, n x channels, point-major), each scaled by `pointScale[i]`
   * when given, into the vertex buffer `values` (from `createValues`).
   */
  splat(input: Float32Array, channels: number, values: Float32Array, pointScale?: Float32Array): void {
    const { n, offsets, weights } = this;
    const d1 = this.d + 1;
    const c = channels;
    for (let p = 0; p < n; p++) {
      const s = pointScale ? pointScale[p] : 1;
      const ip = p * c;
      for (let r = 0; r < d1; r++) {
        const w = weights[p * d1 + r] * s;
        const o = offsets[p * d1 + r] * c;
        for (let k = 0; k < c; k++) values[o + k] += w * input[ip + k];
      }
    }
  }

  /** Blurs `values` in place along every lattice direction (`scratch`: same size as values). */
  blur(values: Float32Array, channels: number, scratch: Float32Array): Float32Array {
    const { m, prev, next } = this;
    const c = channels;
    let src = values;
    let dst = scratch;
    for (let j = 0; j <= this.d; j++) {
      for (let v = 0; v < m; v++) {
        const o = v * c;
        const a = prev[j * m + v] * c;
        const b = next[j * m + v] * c;
        for (let k = 0; k < c; k++) dst[o + k] = src[o + k] + 0.5 * (src[a + k] + src[b + k]);
      }
      const t = src;
      src = dst;
      dst = t;
    }
    // Zero row stays zero in both buffers; return the buffer holding the result.
    return src;
  }

  /**
   * Reads point values back: out[i] = alpha * scale_i * sum_r w_ir values[vertex_ir], with
   * densecrf's alpha = 1 / (1 + 2^-d) and `pointScale` 1 when omitted.
   */
  slice(values: Float32Array, channels: number, out: Float32Array, pointScale?: Float32Array): void {
    const { n, offsets, weights } = this;
    const d1 = this.d + 1;
    const c = channels;
    const alpha = 1 / (1 + Math.pow(2, -this.d));
    for (let p = 0; p < n; p++) {
      const s = alpha * (pointScale ? pointScale[p] : 1);
      const op = p * c;
      for (let k = 0; k < c; k++) out[op + k] = 0;
      for (let r = 0; r < d1; r++) {
        const w = weights[p * d1 + r] * s;
        const o = offsets[p * d1 + r] * c;
        for (let k = 0; k < c; k++) out[op + k] += w * values[o + k];
      }
    }
  }

  /**
   * Filters `input` (n x channels, point-major): splat, blur, slice. Returns a new array of
   * the same shape, approximately sum_j exp(-|f_i - f_j|^2 / 2) input_j up to a global scale.
   */
  filter(input: Float32Array, channels: number): Float32Array {
    check(input.length === this.n * channels, `permutohedral: input holds ${input.length} values, expected ${this.n} x ${channels}`);
    const values = this.createValues(channels);
    this.splat(input, channels, values);
    const blurred = this.blur(values, channels, this.createValues(channels));
    const out = new Float32Array(this.n * channels);
    this.slice(blurred, channels, out);
    return out;
  }
}
