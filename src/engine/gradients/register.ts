/** Registers hfpl's gradients that replace TF.js's own (stub: filled in by the kernels work). */
export function registerTrainingGradients(): string[] {
  return [];
}
