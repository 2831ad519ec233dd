/**
 * Finds and loads the optional libtorch addon (`native/build/hfpl_native.node`, built by
 * `scripts/build-native.mjs` at install time when libtorch is present).
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

/** The addon's functions (native/src/addon.cc); params layouts are documented there. */
export interface NativeAddon {
  conv2d(heap: Uint8Array, params: Float64Array): void;
  matmul(heap: Uint8Array, params: Float64Array): void;
  batchNormForward(heap: Uint8Array, params: Float64Array): void;
  batchNormBackward(heap: Uint8Array, params: Float64Array): void;
  setThreads(n: number): void;
  getThreads(): number;
  describe(): string;
  /** { family: [calls, totalMs, layoutMs, copies] } since the last reset (layout = pads and copies). */
  stats(): Record<string, [number, number, number, number]>;
  resetStats(): void;
}

export type AddonLoad = { addon: NativeAddon; path: string } | { addon: null; reason: string };

let cached: AddonLoad | null = null;

/** Candidate addon paths: HFPL_NATIVE_ADDON alone when set, else native/build/ of the package root. */
function candidates(): string[] {
  if (process.env.HFPL_NATIVE_ADDON) return [process.env.HFPL_NATIVE_ADDON];
  const out: string[] = [];
  // This file sits in src/engine/native/ or dist/src/engine/native/: walk up to package.json.
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, 'package.json'))) {
      out.push(join(dir, 'native', 'build', 'hfpl_native.node'));
      break;
    }
    dir = dirname(dir);
  }
  return out;
}

/** Loads the addon once per process; never throws (the reason says why it is absent). */
export function loadAddon(): AddonLoad {
  if (cached) return cached;
  const paths = candidates();
  const path = paths.find((p) => existsSync(p));
  if (!path) {
    cached = { addon: null, reason: `native addon not built: no ${paths.join(' or ') || 'native/build/hfpl_native.node'} (needs libtorch at install time, see scripts/build-native.mjs)` };
    return cached;
  }
  try {
    const require = createRequire(import.meta.url);
    cached = { addon: require(path) as NativeAddon, path };
  } catch (err) {
    const msg = (err as Error).message.split('\n')[0];
    cached = { addon: null, reason: `native addon not loadable: ${msg}` };
  }
  return cached;
}
