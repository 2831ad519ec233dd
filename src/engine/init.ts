/**
 * Engine setup: picks the TF.js backend for this process and installs hfpl's kernels.
 *
 * Order with `backend: 'auto'` (the default): `@tensorflow/tfjs-node` when it can be imported
 * (an optional, user-installed package: `npm install @tensorflow/tfjs-node`; it downloads
 * libtensorflow at install time, so hfpl never depends on it), otherwise the wasm backend with
 * hfpl's training kernels (and the libtorch addon when it is built, see `native/`), otherwise
 * the cpu backend. `backend: 'cpu'` forces the slow but simplest reference backend.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { availableParallelism } from 'node:os';
import { HfplError } from '../errors.js';
import { registerWasmTrainingKernels } from './wasm-kernels/register.js';
import { registerTrainingGradients } from './gradients/register.js';
import { loadNativeKernels, type NativeStatus } from './native/load.js';

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
  /** Kernels hfpl registered or replaced for the chosen backend. */
  kernels: string[];
  /** Gradients hfpl registered (replacing TF.js's own). */
  gradients: string[];
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

/**
 * Prepares TF.js for this process and returns what it chose. Idempotent: later calls with the
 * same backend return the first result; a different backend switches.
 *
 * @example
 * const info = await initEngine();           // { backend: 'wasm', native: false, ... }
 * const cpu = await initEngine({ backend: 'cpu' });
 */
export async function initEngine(opts: EngineOptions = {}): Promise<EngineInfo> {
  const want = opts.backend ?? (process.env.HFPL_BACKEND as EngineOptions['backend']) ?? 'auto';
  if (!['auto', 'tensorflow', 'wasm', 'cpu'].includes(want)) {
    throw new HfplError('E_ENGINE', `unknown backend "${want}": must be one of auto, tensorflow, wasm, cpu`);
  }
  if (current && (want === 'auto' || want === current.backend)) return current;

  let backend: BackendName;
  if (want === 'tensorflow' || want === 'auto') {
    if (await tryTfjsNode()) backend = 'tensorflow';
    else if (want === 'tensorflow') {
      throw new HfplError('E_ENGINE', 'backend "tensorflow" needs @tensorflow/tfjs-node: npm install @tensorflow/tfjs-node');
    } else backend = 'wasm';
  } else backend = want;

  if (backend === 'wasm') {
    const ok = await tf.setBackend('wasm').catch(() => false);
    if (!ok) backend = 'cpu';
  }
  if (backend !== 'wasm') {
    const ok = await tf.setBackend(backend);
    if (!ok) throw new HfplError('E_ENGINE', `could not initialise TF.js backend "${backend}"`);
  }
  await tf.ready();

  const gradients = registerTrainingGradients();
  let kernels: string[] = [];
  let nativeStatus: NativeStatus = { native: false, reason: `backend is ${backend}` };
  if (backend === 'wasm') {
    kernels = registerWasmTrainingKernels();
    const allowNative = (opts.native ?? true) && process.env.HFPL_NATIVE !== '0';
    nativeStatus = allowNative
      ? loadNativeKernels({ threads: opts.threads ?? 1 })
      : { native: false, reason: process.env.HFPL_NATIVE === '0' ? 'HFPL_NATIVE=0' : 'disabled by options' };
    kernels = [...kernels, ...(nativeStatus.kernels ?? [])];
  }
  current = { backend, native: nativeStatus.native, nativeReason: nativeStatus.reason, kernels, gradients };
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

/** One phrase for logs: e.g. "wasm + native kernels", "wasm", "cpu". */
export function describeEngine(info: EngineInfo): string {
  return `${info.backend}${info.native ? ' + native kernels' : ''}`;
}
