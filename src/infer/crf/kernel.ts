/**
 * One pairwise kernel of the dense CRF, prepared for mean-field iterations: its permutohedral
 * lattice and two per-pixel weight arrays into which densecrf's symmetric normalisation
 * (norm_i = 1 / sqrt((K 1)_i + 1e-20)), the lattice's slice constant and the Potts weight are
 * folded:
 *   splat weight  s_ir = b_ir * norm_i
 *   slice weight  c_ir = b_ir * norm_i * alpha * compat,  alpha = 1 / (1 + 2^-d)
 * so that compat * norm * K(norm * Q) = slice_c(blur(splat_s(Q))).
 */
import { PermutohedralLattice } from './permutohedral.js';

export interface CrfKernel {
  lattice: PermutohedralLattice;
  /** n x (d+1) splat weights. */
  splatW: Float32Array;
  /** n x (d+1) slice weights (compatibility included). */
  sliceW: Float32Array;
}

/** Builds a kernel from point features (n x d, already divided by the standard deviations). */
export function buildCrfKernel(features: Float32Array, n: number, d: number, compat: number): CrfKernel {
  const lattice = PermutohedralLattice.build(features, n, d);
  const filteredOnes = lattice.filter(new Float32Array(n).fill(1), 1);
  const d1 = d + 1;
  const alpha = 1 / (1 + Math.pow(2, -d));
  const splatW = new Float32Array(n * d1);
  const sliceW = new Float32Array(n * d1);
  for (let i = 0; i < n; i++) {
    const norm = 1 / Math.sqrt(filteredOnes[i] + 1e-20);
    for (let r = 0; r < d1; r++) {
      const w = lattice.weights[i * d1 + r];
      splatW[i * d1 + r] = w * norm;
      sliceW[i * d1 + r] = w * norm * alpha * compat;
    }
  }
  return { lattice, splatW, sliceW };
}
