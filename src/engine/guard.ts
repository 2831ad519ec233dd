/**
 * Keeps hfpl's kernels and gradients registered after `initEngine()`.
 *
 * TF.js keeps one global kernel registry and one global gradient registry. Loading
 * `@tensorflow/tfjs-layers` or the `@tensorflow/tfjs` umbrella registers TF.js's whole gradient
 * set again, replacing hfpl's (e.g. the dilation-capable `Conv2D` gradient), and TF.js looks a
 * gradient up when it records an op on the tape, i.e. during the forward pass. So:
 * - `recordRegistrations` remembers what `initEngine()` registered; `restoreRegistrations`
 *   re-registers whatever was replaced since (called by `initEngine()` again and by hfpl's
 *   losses and models, a few Map lookups);
 * - `guardForwardKernels` wraps the forward kernels whose gradients hfpl owns (`Conv2D`) so
 *   that each forward call restores hfpl's gradients before TF.js records it: a package loaded
 *   after `initEngine()` cannot silently change the gradient of the next step.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { GradConfig, KernelFunc } from '@tensorflow/tfjs-core';
import { replaceKernel } from './wasm-kernels/register.js';

/** Forward kernels whose gradient hfpl replaces; each is guarded on the engine's backends. */
export const GUARDED_KERNELS = ['Conv2D'] as const;

const expectedKernels = new Map<string, { name: string; backend: string; kernelFunc: KernelFunc }>();
let expectedGradients: GradConfig[] = [];
/** Guard wrapper -> the kernel it wraps. */
const guards = new Map<KernelFunc, KernelFunc>();

/** Re-registers hfpl's gradients that were replaced; returns their kernel names. */
export function restoreGradients(): string[] {
  let restored: string[] | null = null;
  for (const g of expectedGradients) {
    if (tf.getGradient(g.kernelName) !== g) {
      tf.registerGradient(g);
      (restored ??= []).push(g.kernelName);
    }
  }
  return restored ?? [];
}

/**
 * Remembers the gradients and the kernels now registered under `names` on `backends`, as the
 * state {@link restoreRegistrations} brings back.
 */
export function recordRegistrations(gradients: GradConfig[], backends: string[], names: string[]): void {
  expectedGradients = [...gradients];
  expectedKernels.clear();
  for (const backend of backends) {
    for (const name of names) {
      const k = tf.getKernel(name, backend);
      if (k) expectedKernels.set(`${backend}/${name}`, { name, backend, kernelFunc: k.kernelFunc });
    }
  }
}

/**
 * Re-registers every recorded gradient and kernel that something replaced since
 * `initEngine()`; returns what it restored (e.g. ["gradient Conv2D", "kernel wasm/Conv2D"]).
 */
export function restoreRegistrations(): string[] {
  const out = restoreGradients().map((n) => `gradient ${n}`);
  for (const [key, k] of expectedKernels) {
    if (tf.getKernel(k.name, k.backend)?.kernelFunc !== k.kernelFunc) {
      replaceKernel(k.name, k.backend, k.kernelFunc);
      out.push(`kernel ${key}`);
    }
  }
  return out;
}

/**
 * Wraps the {@link GUARDED_KERNELS} registered on `backend` so that each call first restores
 * hfpl's gradients (two Map lookups). Idempotent; returns the kernel names it wrapped now.
 */
export function guardForwardKernels(backend: string): string[] {
  const out: string[] = [];
  for (const name of GUARDED_KERNELS) {
    const k = tf.getKernel(name, backend);
    if (!k || guards.has(k.kernelFunc)) continue;
    const inner = k.kernelFunc;
    const guard = ((args: Parameters<KernelFunc>[0]) => {
      restoreGradients();
      return inner(args);
    }) as KernelFunc;
    guards.set(guard, inner);
    replaceKernel(name, backend, guard);
    out.push(name);
  }
  return out;
}

/** Puts back the kernels {@link guardForwardKernels} wrapped on `backend` (before re-registering others). */
export function unguardForwardKernels(backend: string): void {
  for (const name of GUARDED_KERNELS) {
    const k = tf.getKernel(name, backend);
    const inner = k && guards.get(k.kernelFunc);
    if (inner) replaceKernel(name, backend, inner);
  }
}

/**
 * After hfpl itself re-registered kernels on `backend` (the libtorch kernels loaded or unloaded,
 * see native/load.ts): guards them again and records the new state as the one to restore.
 * Does nothing before `initEngine()` recorded a state.
 */
export function refreshRegistrations(backend: string): void {
  if (expectedKernels.size === 0) return;
  guardForwardKernels(backend);
  for (const k of expectedKernels.values()) {
    if (k.backend !== backend) continue;
    const now = tf.getKernel(k.name, backend);
    if (now) k.kernelFunc = now.kernelFunc;
  }
}

/** The kernel a guard wraps, or `kernelFunc` itself when it is not a guard. */
export function unguarded(kernelFunc: KernelFunc): KernelFunc {
  return guards.get(kernelFunc) ?? kernelFunc;
}
