/** Loads the optional libtorch addon (stub: filled in by the native work). */
export interface NativeStatus {
  native: boolean;
  reason: string;
  kernels?: string[];
}

export function loadNativeKernels(_opts: { threads: number }): NativeStatus {
  return { native: false, reason: 'native addon not built' };
}
