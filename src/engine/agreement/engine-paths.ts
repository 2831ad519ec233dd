/**
 * Switching between the engine paths of one process at run time, for comparing them (issue 12):
 * `native` (wasm backend with the libtorch kernels), `wasm` (the same backend with the wasm
 * kernels those replace) and `cpu` (TF.js's cpu backend, the reference). Tensors and variables
 * stay where they are; TF.js moves data between backends on first use.
 *
 * Native and wasm share one backend, so switching only swaps kernels: each native kernel name
 * gets one "probe" kernel that dispatches to the native or the wasm function, and, on the native
 * path with `compareKernels`, also runs the wasm kernel on the very same inputs and records the
 * largest relative difference of the outputs per kernel and geometry (the per-kernel table).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { loadNativeKernels, nativeKernelsActive, unloadNativeKernels } from '../native/load.js';
import { loadAddon } from '../native/addon.js';
import { refreshRegistrations } from '../guard.js';

/** An engine path of this process; `native:<n>` is the native path with n libtorch threads. */
export type EnginePath = 'native' | 'wasm' | 'cpu' | `native:${number}`;

/** Largest output difference of one native kernel against the wasm one, on one geometry. */
export interface KernelDiff {
  kernel: string;
  /** Input shapes and attributes, e.g. "x 8x64x64x3 filter 3x3x3x16 s2 d1 same". */
  geometry: string;
  calls: number;
  /** max |native - wasm| / max |wasm| over every output and call. */
  maxRelDiff: number;
}

interface Probe {
  name: string;
  probe: KernelFunc;
  nativeConfig: KernelConfig;
}

interface BackendLike {
  readSync(dataId: object): ArrayLike<number>;
  disposeData(dataId: object, force?: boolean): boolean;
}

let probes: Probe[] | null = null;
/** libtorch threads of the plain 'native' path (as given to `installPathSwitch`). */
let probeThreads = 1;
let mode: 'native' | 'wasm' = 'native';
let compare = false;
/** Kernel names served natively on the native path (null: all of them). */
let nativeSubset: Set<string> | null = null;
const diffs = new Map<string, KernelDiff>();

/** max |a - b| / max |b| (b the reference); 0 when both are all zero. */
export function relDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let d = 0, s = 0;
  for (let i = 0; i < b.length; i++) {
    const x = a[i], y = b[i];
    if (Number.isNaN(x) !== Number.isNaN(y)) return Infinity;
    const e = Math.abs(x - y);
    if (e > d) d = e;
    const m = Math.abs(y);
    if (m > s) s = m;
  }
  return d === 0 ? 0 : d / Math.max(s, 1e-30);
}

function attrText(attrs: NamedAttrMap | undefined): string {
  if (!attrs) return '';
  const parts: string[] = [];
  const show = (k: string, v: unknown): string => (Array.isArray(v) ? v.join('x') : String(v));
  for (const k of ['strides', 'dilations', 'pad', 'transposeA', 'transposeB', 'activation']) {
    const v = attrs[k];
    if (v === undefined || v === null) continue;
    const label = k === 'strides' ? 's' : k === 'dilations' ? 'd' : k === 'transposeA' ? 'tA' : k === 'transposeB' ? 'tB' : '';
    if ((k === 'transposeA' || k === 'transposeB') && !v) continue;
    if (k === 'activation' && v === 'linear') continue;
    parts.push(label ? `${label}${show(k, v)}` : typeof v === 'object' ? JSON.stringify(v) : show(k, v));
  }
  return parts.join(' ');
}

function geometryOf(args: { inputs: Record<string, TensorInfo | undefined>; attrs?: NamedAttrMap }): string {
  const ins = Object.entries(args.inputs).filter(([, t]) => t).map(([k, t]) => `${k} ${t!.shape.join('x') || 'scalar'}`);
  return [...ins, attrText(args.attrs)].filter((s) => s).join(' ');
}

function record(name: string, geometry: string, rel: number): void {
  const key = `${name}|${geometry}`;
  const d = diffs.get(key) ?? { kernel: name, geometry, calls: 0, maxRelDiff: 0 };
  d.calls++;
  d.maxRelDiff = Math.max(d.maxRelDiff, rel);
  diffs.set(key, d);
}

function makeProbe(name: string, nativeFn: KernelFunc, wasmFn: KernelFunc | null): KernelFunc {
  return ((args: Parameters<KernelFunc>[0]) => {
    if ((mode === 'wasm' || (nativeSubset && !nativeSubset.has(name))) && wasmFn) return wasmFn(args);
    const out = nativeFn(args);
    if (compare && wasmFn) {
      const backend = args.backend as unknown as BackendLike;
      const ref = wasmFn(args);
      const a = Array.isArray(out) ? out : [out as TensorInfo];
      const b = Array.isArray(ref) ? ref : [ref as TensorInfo];
      const geometry = geometryOf(args as unknown as { inputs: Record<string, TensorInfo>; attrs?: NamedAttrMap });
      // Multi-output kernels (batch norm: y, mean, variance) get one row per output.
      for (let i = 0; i < b.length; i++) {
        record(b.length > 1 ? `${name}[${i}]` : name, geometry, relDiff(backend.readSync(a[i].dataId), backend.readSync(b[i].dataId)));
      }
      for (const t of b) backend.disposeData(t.dataId, true);
    }
    return out;
  }) as KernelFunc;
}

/**
 * Installs the switchable kernels (idempotent). Needs the wasm backend with the native kernels
 * loaded (`initEngine()` with the addon built); returns false (and changes nothing) otherwise.
 */
export function installPathSwitch(threads = 1): boolean {
  if (probes) return true;
  if (!nativeKernelsActive()) return false;
  // The native configs now registered, then the wasm ones they replaced.
  const status = loadNativeKernels({ threads });
  const names = status.kernels ?? [];
  unloadNativeKernels();
  const wasmFns = new Map(names.map((n) => [n, tf.getKernel(n, 'wasm')?.kernelFunc ?? null]));
  loadNativeKernels({ threads });
  const list: Probe[] = [];
  for (const name of names) {
    const nativeConfig = tf.getKernel(name, 'wasm')!;
    const probe = makeProbe(name, nativeConfig.kernelFunc, wasmFns.get(name) ?? null);
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel({ kernelName: name, backendName: 'wasm', kernelFunc: probe });
    list.push({ name, probe, nativeConfig });
  }
  probes = list;
  probeThreads = threads;
  // The probes are now hfpl's kernels: the engine guard (guard.ts) must keep them, not restore
  // the native ones on the next hfpl call.
  refreshRegistrations('wasm');
  mode = 'native';
  return true;
}

/** Puts the native kernels back in place of the switchable ones (native path, as after `initEngine`). */
export function removePathSwitch(): void {
  if (!probes) return;
  for (const p of probes) {
    tf.unregisterKernel(p.name, 'wasm');
    tf.registerKernel(p.nativeConfig);
  }
  refreshRegistrations('wasm');
  loadAddon().addon?.setThreads(probeThreads);
  probes = null;
  mode = 'native';
  compare = false;
}

/**
 * Makes `path` current: the backend ('cpu' or 'wasm') and, on wasm, native or wasm kernels
 * (`installPathSwitch` first for 'native' / 'wasm' switching; without it 'wasm' is whatever is
 * registered). `compareKernels` (native path only) records native-against-wasm kernel outputs.
 */
export async function usePath(path: EnginePath, compareKernels = false): Promise<void> {
  const backend = path === 'cpu' ? 'cpu' : 'wasm';
  if (tf.getBackend() !== backend) await tf.setBackend(backend);
  const isNative = path === 'native' || path.startsWith('native:');
  if (isNative && !probes) throw new Error('usePath: the native path needs installPathSwitch() (and the addon)');
  if (isNative) loadAddon().addon?.setThreads(path === 'native' ? probeThreads : Number(path.slice('native:'.length)));
  mode = isNative ? 'native' : 'wasm';
  compare = isNative && compareKernels;
}

/**
 * Restricts the native path to some kernels (the others run their wasm version), to find which
 * kernel a difference comes from; null restores all.
 */
export function setNativeSubset(names: readonly string[] | null): void {
  nativeSubset = names ? new Set(names) : null;
}

/** Sign masks (x > 0) of the inputs of every Relu call, per traced pass. */
let reluPasses: Uint8Array[][] | null = null;
const reluOriginals: KernelConfig[] = [];

/**
 * Traces the inputs of the Relu kernel of the wasm and cpu backends: each `startReluPass` opens
 * a new pass and `reluFlips` counts the elements whose sign (x > 0) differs between the last two
 * passes. A flip is a discrete difference: the ReLU passes the gradient on one path and blocks
 * it on the other. `enable` false removes the tracer.
 */
export function traceRelu(enable: boolean): void {
  if (enable && reluOriginals.length === 0) {
    for (const backendName of ['wasm', 'cpu']) {
      const orig = tf.getKernel('Relu', backendName);
      if (!orig) continue;
      reluOriginals.push(orig);
      tf.unregisterKernel('Relu', backendName);
      tf.registerKernel({
        kernelName: 'Relu', backendName,
        kernelFunc: ((args: Parameters<KernelFunc>[0]) => {
          if (reluPasses && reluPasses.length > 0) {
            const x = (args.backend as unknown as BackendLike).readSync((args.inputs.x as TensorInfo).dataId);
            const m = new Uint8Array(x.length);
            for (let i = 0; i < x.length; i++) m[i] = x[i] > 0 ? 1 : 0;
            reluPasses[reluPasses.length - 1].push(m);
          }
          return orig.kernelFunc(args);
        }) as KernelFunc,
      });
    }
    reluPasses = [];
  } else if (!enable) {
    for (const orig of reluOriginals) {
      tf.unregisterKernel('Relu', orig.backendName);
      tf.registerKernel(orig);
    }
    reluOriginals.length = 0;
    reluPasses = null;
  }
}

/** Opens a new traced pass (keeps the previous one for `reluFlips`). */
export function startReluPass(): void {
  if (!reluPasses) return;
  reluPasses.push([]);
  if (reluPasses.length > 2) reluPasses.shift();
}

/** ReLU sign flips between the last two traced passes (-1 when not tracing or the passes do not align). */
export function reluFlips(): number {
  if (!reluPasses || reluPasses.length < 2) return -1;
  const [a, b] = reluPasses;
  if (a.length !== b.length) return -1;
  let n = 0;
  for (let c = 0; c < a.length; c++) {
    if (a[c].length !== b[c].length) return -1;
    for (let i = 0; i < a[c].length; i++) n += a[c][i] ^ b[c][i];
  }
  return n;
}

/** The per-kernel table recorded since the last reset, largest difference first. */
export function kernelDiffs(reset = false): KernelDiff[] {
  const out = [...diffs.values()].sort((a, b) => b.maxRelDiff - a.maxRelDiff);
  if (reset) diffs.clear();
  return out;
}
