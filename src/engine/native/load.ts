/**
 * Optional libtorch acceleration of the wasm backend (issue 7). When the addon is built
 * (`scripts/build-native.mjs`), the heavy kernels (convolutions and their gradients, matmuls,
 * training batch norm) are replaced by libtorch ones that read and write the wasm heap in place;
 * every other kernel, autograd, optimizers and the model format stay TF.js's.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { loadAddon, type NativeAddon } from './addon.js';
import { convBackpropFilter, convBackpropInput, convForward, type KernelArgs, type NativeKernelFunc } from './conv-kernels.js';
import { matMul } from './matmul-kernels.js';
import { batchNormKernels } from './batch-norm-kernels.js';
import { refreshRegistrations, unguarded } from '../guard.js';

/** What `loadNativeKernels` did. */
export interface NativeStatus {
  /** True when libtorch kernels are registered for the wasm backend. */
  native: boolean;
  /** Why (e.g. "libtorch 1.13.0, threads 1" or "native addon not built: ..."). */
  reason: string;
  /** Kernel names now served by libtorch. */
  kernels?: string[];
}

/** Options of `loadNativeKernels`. */
export interface NativeOptions {
  /** libtorch intra-op threads (at::set_num_threads); default 1. */
  threads: number;
}

/** The kernels served natively, by TF.js kernel name. */
function nativeKernels(): Record<string, NativeKernelFunc> {
  return {
    Conv2D: convForward(false, false),
    FusedConv2D: convForward(false, true),
    Conv2DBackpropInput: convBackpropInput(false),
    Conv2DBackpropFilter: convBackpropFilter(false),
    DepthwiseConv2dNative: convForward(true, false),
    FusedDepthwiseConv2D: convForward(true, true),
    DepthwiseConv2dNativeBackpropInput: convBackpropInput(true),
    DepthwiseConv2dNativeBackpropFilter: convBackpropFilter(true),
    BatchMatMul: matMul(false),
    _FusedMatMul: matMul(true),
    ...batchNormKernels(),
  };
}

/** Wasm kernels replaced by native ones (null: there was none), restored by `unloadNativeKernels`. */
const replaced = new Map<string, KernelConfig | null>();
/** The kernel functions this module registered, to recognise them. */
const ours = new Set<KernelFunc>();
let active: NativeAddon | null = null;
/** Calls per kernel name served natively and handed back to wasm, since the process started. */
const counts: Record<string, { native: number; fallback: number }> = {};

/** How many calls each native kernel served and how many it handed to the wasm kernel. */
export function nativeKernelCounts(): Record<string, { native: number; fallback: number }> {
  return structuredClone(counts);
}

function wrap(name: string, run: NativeKernelFunc, addon: NativeAddon, original: KernelConfig | null): KernelFunc {
  const count = counts[name] ?? (counts[name] = { native: 0, fallback: 0 });
  const f = ((args: KernelArgs) => {
    const out = run(args, addon);
    if (out) {
      count.native++;
      return out;
    }
    count.fallback++;
    if (!original) throw new Error(`hfpl native: ${name} case not supported natively and no wasm kernel is registered`);
    return original.kernelFunc(args as unknown as Parameters<KernelFunc>[0]) as TensorInfo | TensorInfo[];
  }) as unknown as KernelFunc;
  // Every native convolution backprop honours a `dilations` attribute (see gradients/conv2d-grad.ts).
  (f as unknown as { hfplDilations: boolean }).hfplDilations = true;
  ours.add(f);
  return f;
}

/**
 * Loads the libtorch addon and registers its kernels for the 'wasm' backend (replacing the wasm
 * ones, which stay the fallback for cases the native kernels do not cover). Never throws: when
 * the addon is absent or fails to load, returns `{ native: false, reason }` and changes nothing.
 * Idempotent: a second call updates the thread count and re-registers any native kernel that
 * was replaced in between (e.g. by `registerWasmTrainingKernels`).
 *
 * @example
 * loadNativeKernels({ threads: 1 }) // { native: true, reason: 'libtorch 1.13.0, threads 1', kernels: [...] }
 */
export function loadNativeKernels(opts: NativeOptions): NativeStatus {
  const loaded = loadAddon();
  if (!loaded.addon) return { native: false, reason: loaded.reason };
  const addon = loaded.addon;
  try {
    addon.setThreads(Math.max(1, Math.floor(opts.threads)));
  } catch (err) {
    return { native: false, reason: `native addon unusable: ${(err as Error).message}` };
  }
  const kernels = nativeKernels();
  for (const [name, run] of Object.entries(kernels)) {
    const current = tf.getKernel(name, 'wasm') ?? null;
    if (current && ours.has(unguarded(current.kernelFunc))) continue;
    if (current) tf.unregisterKernel(name, 'wasm');
    replaced.set(name, current);
    tf.registerKernel({ kernelName: name, backendName: 'wasm', kernelFunc: wrap(name, run, addon, current) });
  }
  active = addon;
  refreshRegistrations('wasm');
  return { native: true, reason: addon.describe(), kernels: Object.keys(kernels) };
}

/** Puts back the wasm kernels replaced by `loadNativeKernels` (used to compare both paths). */
export function unloadNativeKernels(): void {
  if (!active) return;
  for (const [name, original] of replaced) {
    tf.unregisterKernel(name, 'wasm');
    if (original) tf.registerKernel(original);
  }
  replaced.clear();
  active = null;
  refreshRegistrations('wasm');
}

/** True while native kernels are registered. */
export function nativeKernelsActive(): boolean {
  return active !== null;
}

/** Per native kernel family: calls, ms, layout ms (pads, output copies), calls that copied their result. */
export interface NativeKernelTime { calls: number; ms: number; layoutMs: number; copies: number }

/** Time per native kernel family since the process started or the last reset, or null without the addon. */
export function nativeKernelTimes(reset = false): Record<string, NativeKernelTime> | null {
  const { addon } = loadAddon();
  if (!addon) return null;
  const out: Record<string, NativeKernelTime> = {};
  for (const [name, [calls, ms, layoutMs, copies]] of Object.entries(addon.stats())) out[name] = { calls, ms, layoutMs, copies };
  if (reset) addon.resetStats();
  return out;
}
