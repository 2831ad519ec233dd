/**
 * Weights in the TF.js format: `model.json` with
 * `weightsManifest: [{ paths: ["weights.bin"], weights: [{ name, shape, dtype }] }]` and the
 * binary shards holding the tensors' little-endian float32 values concatenated in manifest
 * order. hfpl adds an `hfpl` field (the model config) and no `modelTopology`. Files written by
 * `tf.io` savers (shards, several groups) read the same way; quantised weights are refused.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { HfplError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import type { ParamStore } from './params.js';

export interface WeightEntry {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32';
}

/** Weights read from a file: values by name, plus the file's `hfpl` metadata (or null). */
export interface LoadedWeights {
  values: Map<string, { shape: number[]; data: Float32Array | Int32Array }>;
  meta: Record<string, unknown> | null;
}

/**
 * Writes named tensors as `<dir>/<stem>.json` + `<dir>/<stem>.bin` (atomically, the binary
 * first so the JSON only appears once its data is complete). `stem` defaults to "model".
 */
export async function saveWeights(dir: string, tensors: Map<string, tf.Tensor>, meta: Record<string, unknown> = {}, stem = 'model'): Promise<void> {
  const weights: WeightEntry[] = [];
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (const [name, t] of tensors) {
    const dtype = t.dtype === 'int32' ? 'int32' : 'float32';
    const data = dtype === 'int32' ? (t.dataSync() as Int32Array) : Float32Array.from(t.dataSync() as Float32Array);
    weights.push({ name, shape: t.shape.slice(), dtype });
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    chunks.push(bytes);
    total += bytes.length;
  }
  const bin = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    bin.set(c, off);
    off += c.length;
  }
  const binName = `${stem === 'model' ? 'weights' : stem}.bin`;
  await writeFileAtomic(join(dir, binName), bin);
  const json = { format: 'hfpl-weights', generatedBy: 'hfpl 0.1.0', hfpl: meta, weightsManifest: [{ paths: [binName], weights }] };
  await writeFileAtomic(join(dir, `${stem}.json`), JSON.stringify(json, null, 1));
}

/** Reads a TF.js weights file (`model.json` path, or a folder holding `model.json`). */
export function readWeights(path: string): LoadedWeights {
  const file = existsSync(path) && statSync(path).isDirectory() ? join(path, 'model.json') : path;
  let json: { weightsManifest?: { paths: string[]; weights: (WeightEntry & { quantization?: unknown })[] }[]; hfpl?: Record<string, unknown> };
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new HfplError(code === 'ENOENT' ? 'E_IO' : 'E_DATA', code === 'ENOENT' ? `${file}: weights file not found` : `${file}: not a JSON weights file (${(e as Error).message})`);
  }
  if (!Array.isArray(json.weightsManifest)) throw new HfplError('E_DATA', `${file}: no weightsManifest (not a TF.js weights file)`);
  const values: LoadedWeights['values'] = new Map();
  for (const group of json.weightsManifest) {
    const parts = group.paths.map((p) => {
      try {
        return readFileSync(join(dirname(file), p));
      } catch {
        throw new HfplError('E_IO', `${file}: weights shard ${p} not found next to it`);
      }
    });
    const buf = Buffer.concat(parts);
    let off = 0;
    for (const w of group.weights) {
      if (w.quantization) throw new HfplError('E_DATA', `${file}: weight ${w.name} is quantised; only float32/int32 weights are supported`);
      if (w.dtype !== 'float32' && w.dtype !== 'int32') throw new HfplError('E_DATA', `${file}: weight ${w.name} has dtype ${w.dtype}; only float32/int32 are supported`);
      const n = w.shape.reduce((a, b) => a * b, 1);
      if (off + 4 * n > buf.length) throw new HfplError('E_DATA', `${file}: shards end before weight ${w.name} (truncated file)`);
      const copy = new Uint8Array(buf.subarray(off, off + 4 * n)).buffer;
      values.set(w.name, { shape: w.shape, data: w.dtype === 'int32' ? new Int32Array(copy) : new Float32Array(copy) });
      off += 4 * n;
    }
  }
  return { values, meta: json.hfpl ?? null };
}

/** What `assignWeights` did, by name. */
export interface WeightsReport {
  loaded: string[];
  /** In the model, not in the file (left as initialised). */
  missing: string[];
  /** In the file, not in the model (ignored). */
  unexpected: string[];
  /** In both with different shapes (left as initialised). */
  misShaped: { name: string; expected: number[]; found: number[] }[];
}

/** Options of `assignWeights` / `loadModelWeights`. */
export interface AssignOptions {
  /** Throw (E_DATA, naming the weights) unless every model weight loads; default true. */
  strict?: boolean;
  /** Only consider model weights whose name starts with this prefix (e.g. "backbone."); default all. */
  prefix?: string;
}

/** Copies loaded values into a store's variables by name and reports the differences. */
export function assignWeights(store: ParamStore, loaded: LoadedWeights, opts: AssignOptions = {}, source = 'weights'): WeightsReport {
  const prefix = opts.prefix ?? '';
  const report: WeightsReport = { loaded: [], missing: [], unexpected: [], misShaped: [] };
  const targets = [...store.namedTensors()].filter(([k]) => k.startsWith(prefix));
  const names = new Set(targets.map(([k]) => k));
  for (const [name, v] of targets) {
    const src = loaded.values.get(name);
    if (!src) report.missing.push(name);
    else if (src.shape.length !== v.shape.length || src.shape.some((d, i) => d !== v.shape[i])) {
      report.misShaped.push({ name, expected: v.shape.slice(), found: src.shape });
    } else {
      tf.tidy(() => v.assign(tf.tensor(src.data, src.shape, v.dtype)));
      report.loaded.push(name);
    }
  }
  for (const k of loaded.values.keys()) if (k.startsWith(prefix) && !names.has(k)) report.unexpected.push(k);
  if ((opts.strict ?? true) && (report.missing.length || report.unexpected.length || report.misShaped.length)) {
    throw new HfplError('E_DATA', `${source}: ${describeReport(report)}`);
  }
  return report;
}

/** One line summarising a report's problems (first few names of each kind). */
export function describeReport(r: WeightsReport): string {
  const few = (a: string[]) => a.slice(0, 5).join(', ') + (a.length > 5 ? `, ... (${a.length} in all)` : '');
  const parts: string[] = [];
  if (r.missing.length) parts.push(`missing ${few(r.missing)}`);
  if (r.unexpected.length) parts.push(`unexpected ${few(r.unexpected)}`);
  if (r.misShaped.length) parts.push(`wrong shape ${few(r.misShaped.map((m) => `${m.name} [${m.found}] (model [${m.expected}])`))}`);
  return parts.length ? parts.join('; ') : `${r.loaded.length} weights loaded`;
}

/** Reads a weights file and assigns it to a store (see `assignWeights`). */
export function loadModelWeights(store: ParamStore, path: string, opts: AssignOptions = {}): WeightsReport {
  return assignWeights(store, readWeights(path), opts, path);
}
