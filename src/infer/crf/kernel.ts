/**
 * One pairwise kernel of the dense CRF, prepared for mean-field iterations: its permutohedral
 * lattice, whose barycentric weights b_ir are scaled in place by densecrf's symmetric
 * normalisation norm_i = 1 / sqrt((K 1)_i + 1e-20), and the slice constant:
 *   splat weight  b_ir * norm_i                      (lattice.weights after the build)
 *   slice weight  b_ir * norm_i * sliceScale,  sliceScale = alpha * compat, alpha = 1 / (1 + 2^-d)
 * so that compat * norm * K(norm * Q) = slice(blur(splat(Q))). The lattice is then only fit
 * for `blur` (its `filter` would apply the scaled weights).
 */
import { PermutohedralLattice } from './permutohedral.js';

export interface CrfKernel {
  lattice: PermutohedralLattice;
  /** alpha * compat: slice weights are the splat weights times this. */
  sliceScale: number;
}

/**
 * Builds a kernel from point features (n x d, already divided by the standard deviations);
 * `out` as in `PermutohedralLattice.build`.
 */
export function buildCrfKernel(features: Float32Array, n: number, d: number, compat: number, out?: { offsets: Int32Array; weights: Float32Array }): CrfKernel {
  const lattice = PermutohedralLattice.build(features, n, d, out);
  const { offsets, weights: w } = lattice;
  const d1 = d + 1;
  const alpha = 1 / (1 + Math.pow(2, -d));
  // (K 1)_i = lattice.filter(ones), without the n-sized arrays.
  const ones = lattice.createValues(1);
  for (let r = 0; r < n * d1; r++) ones[offsets[r]] += w[r];
  const blurred = lattice.blur(ones, 1, lattice.createValues(1));
  for (let i = 0; i < n; i++) {
    let k1 = 0;
    for (let r = i * d1; r < (i + 1) * d1; r++) k1 += w[r] * blurred[offsets[r]];
    const norm = 1 / Math.sqrt(alpha * k1 + 1e-20);
    for (let r = i * d1; r < (i + 1) * d1; r++) w[r] *= norm;
  }
  return { lattice, sliceScale: alpha * compat };
}
