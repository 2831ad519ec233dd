/**
 * Engine setup: picks the TF.js backend for this process and installs hfpl's kernels.
 *
 * Importing hfpl registers nothing and changes no backend: the backend packages are loaded
 * here, on the first `initEngine()` call, which says in its result what it changed.
 *
 * Order with `backend: 'auto'` (the default): `@tensorflow/tfjs-node` when it can be imported
 * (an optional, user-installed package: `npm install @tensorflow/tfjs-node`; it downloads
 * libtensorflow at install time, so hfpl never depends on it), otherwise the wasm backend with
 * hfpl's training kernels (and the libtorch addon when it is built, see `native/`), otherwise
 * the cpu backend. `backend: 'cpu'` forces the slow but simplest reference backend.
 */
import * as tf from '@tensorflow/tfjs-core';
import { availableParallelism } from 'node:os';
import { HfplError } from '../errors.js';
import { registerWasmTrainingKernels } from './wasm-kernels/register.js';
import { coreGradientCount, hfplGradientsRegistered, HFPL_GRADIENTS, registerTrainingGradients } from './gradients/register.js';
import { loadNativeKernels, type NativeStatus } from './native/load.js';
import { guardForwardKernels, recordRegistrations, restoreRegistrations, unguardForwardKernels } from './guard.js';

export type BackendName = 'tensorflow' | 'wasm' | 'cpu';

export interface EngineOptions {
  /** Which backend to use; 'auto' tries tensorflow (tfjs-node), then wasm, then cpu. Default 'auto'. */
  backend?: 'auto' | BackendName;
  /** Threads for native kernels (libtorch); default: 1. The wasm backend is single-threaded in Node. */
  threads?: number;
  /** Use the libtorch addon when built; default true unless HFPL_NATIVE=0. */
  native?: boolean;
}

export interface EngineInfo {
  backend: BackendName;
  /** True when libtorch kernels replace the heavy wasm ones. */
  native: boolean;
  /** Why native is on or off (e.g. "addon not built", "HFPL_NATIVE=0"). */
  nativeReason: string;
  /** Kernels hfpl registered or replaced for the chosen backend (each name once). */
  kernels: string[];
  /** Gradients hfpl registered (replacing TF.js's own). */
  gradients: string[];
  /**
   * What this call changed in the process, in order: backend packages imported, the global
   * backend set, kernels, gradients and guards registered; on a later call, what it restored
   * after another package replaced it (e.g. "restored gradient Conv2D"). Empty when nothing
   * needed doing.
   */
  changes: string[];
}

let current: EngineInfo | null = null;

async function tryTfjsNode(): Promise<boolean> {
  try {
    // A variable specifier keeps bundlers and tsc from requiring the optional package.
    const name = '@tensorflow/tfjs-node';
    await import(name);
    return tf.findBackend('tensorflow') !== null && tf.findBackend('tensorflow') !== undefined;
  } catch {
    return false;
  }
}

/** Registers the 'cpu' or 'wasm' backend by importing its package, unless it is registered already. */
async function loadBackendPackage(name: 'cpu' | 'wasm', changes: string[]): Promise<boolean> {
  if (tf.findBackendFactory(name)) return true;
  try {
    if (name === 'cpu') await import('@tensorflow/tfjs-backend-cpu');
    else await import('@tensorflow/tfjs-backend-wasm');
  } catch {
    return false;
  }
  changes.push(`imported @tensorflow/tfjs-backend-${name}`);
  return Boolean(tf.findBackendFactory(name));
}

/** The backend TF.js runs on now, without initialising one (null when none is yet). */
function activeBackend(): string | null {
  return (tf.engine() as unknown as { backendName: string | null }).backendName ?? null;
}

/**
 * Prepares TF.js for this process and returns what it chose and changed. Later calls with the
 * same backend (or 'auto') return the first result, after re-registering any of hfpl's kernels
 * and gradients that another package replaced since (e.g. `@tensorflow/tfjs-layers` loaded
 * later re-registers TF.js's gradients); a different backend switches.
 *
 * @example
 * const info = await initEngine();           // { backend: 'wasm', native: false, changes: [...], ... }
 * const cpu = await initEngine({ backend: 'cpu' });
 */
export async function initEngine(opts: EngineOptions = {}): Promise<EngineInfo> {
  const want = opts.backend ?? (process.env.HFPL_BACKEND as EngineOptions['backend']) ?? 'auto';
  if (!['auto', 'tensorflow', 'wasm', 'cpu'].includes(want)) {
    throw new HfplError('E_ENGINE', `unknown backend "${want}": must be one of auto, tensorflow, wasm, cpu`);
  }
  if (current && (want === 'auto' || want === current.backend)) {
    return { ...current, changes: restoreRegistrations().map((r) => `restored ${r}`) };
  }

  const changes: string[] = [];
  const before = activeBackend();
  await loadBackendPackage('cpu', changes);
  let backend: BackendName;
  if (want === 'tensorflow' || want === 'auto') {
    if (await tryTfjsNode()) backend = 'tensorflow';
    else if (want === 'tensorflow') {
      throw new HfplError('E_ENGINE', 'backend "tensorflow" needs @tensorflow/tfjs-node: npm install @tensorflow/tfjs-node');
    } else backend = 'wasm';
  } else backend = want;

  if (backend === 'wasm') {
    const ok = (await loadBackendPackage('wasm', changes)) && (await tf.setBackend('wasm').catch(() => false));
    if (!ok) backend = 'cpu';
  }
  if (backend !== 'wasm') {
    const ok = await tf.setBackend(backend);
    if (!ok) throw new HfplError('E_ENGINE', `could not initialise TF.js backend "${backend}"`);
  }
  await tf.ready();
  if (before !== backend) changes.push(`set the TF.js backend to ${backend}${before ? ` (was ${before})` : ''}`);

  for (const b of [backend, 'cpu']) unguardForwardKernels(b);
  const gradients = registerTrainingGradients();
  changes.push(`registered ${coreGradientCount()} TF.js gradients and hfpl's ${gradients.join(', ')}`);
  let kernels: string[] = [];
  let nativeStatus: NativeStatus = { native: false, reason: `backend is ${backend}` };
  if (backend === 'wasm') {
    kernels = registerWasmTrainingKernels();
    const allowNative = (opts.native ?? true) && process.env.HFPL_NATIVE !== '0';
    nativeStatus = allowNative
      ? loadNativeKernels({ threads: opts.threads ?? 1 })
      : { native: false, reason: process.env.HFPL_NATIVE === '0' ? 'HFPL_NATIVE=0' : 'disabled by options' };
    kernels = [...new Set([...kernels, ...(nativeStatus.kernels ?? [])])];
    changes.push(`registered ${kernels.length} kernels for wasm${nativeStatus.native ? ' (libtorch serves ' + String(nativeStatus.kernels?.length ?? 0) + ')' : ''}`);
  }
  const guarded = [backend, 'cpu'].flatMap((b) => guardForwardKernels(b).map((k) => `${b}/${k}`));
  if (guarded.length) changes.push(`guarded ${guarded.join(', ')} (restores hfpl's gradients if another package replaces them)`);
  const cpuKernels = ['HfplBatchNormTrain', 'HfplBatchNormTrainGrad', 'Conv2D'];
  recordRegistrations(HFPL_GRADIENTS, [...new Set([backend, 'cpu'])], [...new Set([...kernels, ...cpuKernels])]);
  current = { backend, native: nativeStatus.native, nativeReason: nativeStatus.reason, kernels, gradients, changes };
  return current;
}

/**
 * libtorch intra-op threads for training: `HFPL_THREADS` when set, else every core
 * (`os.availableParallelism()`). Inference uses one thread per worker instead (data parallel,
 * `--workers`), and the wasm backend is single-threaded in Node whatever this says (see README,
 * "Many cores, many machines").
 */
export function defaultTrainingThreads(): number {
  const env = process.env.HFPL_THREADS;
  if (env !== undefined && env !== '') {
    const n = Number(env);
    if (!Number.isInteger(n) || n < 1) throw new HfplError('E_CONFIG', `HFPL_THREADS: expected an integer >= 1, got '${env}'`);
    return n;
  }
  return availableParallelism();
}

/** What `initEngine` chose, or null before it ran. */
export function engineInfo(): EngineInfo | null {
  return current;
}

/**
 * Called by hfpl's losses and models: after `initEngine()`, re-registers any of hfpl's kernels
 * and gradients another package replaced (a few Map lookups). Before it, forward-only use is
 * fine, but training (a gradient tape is recording) throws one E_ENGINE error naming
 * `initEngine()`, unless hfpl's gradients were registered by hand.
 */
export function ensureEngine(fn: string): void {
  if (current) {
    restoreRegistrations();
    return;
  }
  if (tf.engine().state.gradientDepth === 0 || hfplGradientsRegistered()) return;
  throw new HfplError('E_ENGINE', `${fn}: training with hfpl needs \`await initEngine()\` first ` +
    '(importing hfpl registers nothing; initEngine() picks the backend and registers the kernels and gradients training needs)');
}

/** One phrase for logs: e.g. "wasm + native kernels", "wasm", "cpu". */
export function describeEngine(info: EngineInfo): string {
  return `${info.backend}${info.native ? ' + native kernels' : ''}`;
}
