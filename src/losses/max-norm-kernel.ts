/**
 * Typed-array forward and backward of max_norm (METHOD 1) on flat NHWC data:
 * r = relu(p); out = relu(r - min - 1e-5) / (max - min + 1e-5), min/max per (image, channel)
 * over h x w. The backward includes the paths through min and max; like PyTorch's max/min over
 * a dimension, each sends its gradient to the first element attaining it.
 */

/** Per (image, channel) statistics of a forward pass, kept for the backward. */
export interface MaxNormStats {
  min: Float64Array;
  max: Float64Array;
  argMin: Int32Array;
  argMax: Int32Array;
}

/** Forward; `out` may be preallocated. */
export function maxNormForward(p: ArrayLike<number>, n: number, hw: number, c: number, out: Float32Array | Float64Array): MaxNormStats {
  const st: MaxNormStats = { min: new Float64Array(n * c), max: new Float64Array(n * c), argMin: new Int32Array(n * c), argMax: new Int32Array(n * c) };
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      let mn = Infinity;
      let mx = -Infinity;
      let imn = 0;
      let imx = 0;
      for (let i = 0; i < hw; i++) {
        const v = Math.max(0, p[(b * hw + i) * c + ch]);
        if (v < mn) { mn = v; imn = i; }
        if (v > mx) { mx = v; imx = i; }
      }
      const s = b * c + ch;
      st.min[s] = mn;
      st.max[s] = mx;
      st.argMin[s] = imn;
      st.argMax[s] = imx;
      const inv = 1 / (mx - mn + 1e-5);
      for (let i = 0; i < hw; i++) {
        const t = (b * hw + i) * c + ch;
        const u = Math.max(0, p[t]) - mn - 1e-5;
        out[t] = u > 0 ? u * inv : 0;
      }
    }
  }
  return st;
}

/** Backward: gradient wrt p given the gradient wrt the output (`g`, same layout). */
export function maxNormBackward(p: ArrayLike<number>, st: MaxNormStats, g: ArrayLike<number>, n: number, hw: number, c: number): Float32Array {
  const gp = new Float32Array(n * hw * c);
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      const s = b * c + ch;
      const mn = st.min[s];
      const d = st.max[s] - mn + 1e-5;
      let toMin = 0;
      let toMax = 0;
      for (let i = 0; i < hw; i++) {
        const t = (b * hw + i) * c + ch;
        const u = Math.max(0, p[t]) - mn - 1e-5;
        if (u > 0) {
          gp[t] = g[t] / d;
          // d out / d min = -1/D + u/D^2; d out / d max = -u/D^2.
          toMin += g[t] * (-1 / d + u / (d * d));
          toMax -= (g[t] * u) / (d * d);
        }
      }
      gp[(b * hw + st.argMin[s]) * c + ch] += toMin;
      gp[(b * hw + st.argMax[s]) * c + ch] += toMax;
      // Through relu: zero where p <= 0.
      for (let i = 0; i < hw; i++) {
        const t = (b * hw + i) * c + ch;
        if (!(p[t] > 0)) gp[t] = 0;
      }
    }
  }
  return gp;
}
