/** Registers hfpl's training kernels for the wasm backend (stub: filled in by the kernels work). */
export function registerWasmTrainingKernels(): string[] {
  return [];
}
