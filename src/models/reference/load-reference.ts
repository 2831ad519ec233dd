/**
 * Loading reference (PyTorch-named) tensors into the reference networks: `module.` prefixes
 * stripped, `num_batches_tracked` ignored, conv weights transposed OIHW -> HWIO. Reports
 * loaded / missing / unexpected / shape-mismatched names; strict by default (one line naming
 * the problems), `allowMissing` for a backbone-only initialisation such as the ImageNet
 * `.params` file (whose `linear1000` classifier is dropped as `convert_mxnet_to_torch` does).
 */
import * as tf from '@tensorflow/tfjs-core';
import { HfplError } from '../../errors.js';
import type { RefParams } from './ref-params.js';

/** A tensor by reference name in PyTorch layout (C order). */
export interface RefTensor {
  shape: number[];
  data: ArrayLike<number> | ArrayLike<bigint>;
}

/** What `loadReferenceTensors` did. */
export interface RefLoadReport {
  loaded: string[];
  missing: string[];
  unexpected: string[];
  misShaped: { name: string; expected: number[]; found: number[] }[];
  /** Names ignored on purpose (num_batches_tracked, linear1000*). */
  ignored: string[];
}

export interface RefLoadOptions {
  /** Throw unless the file covers the architecture exactly; default true. */
  strict?: boolean;
  /** With strict: tolerate missing names (backbone-only files); default false. */
  allowMissing?: boolean;
}

const IGNORED = /(^|\.)num_batches_tracked$|^linear1000/;

const WRAPPERS = ['state_dict.', 'model.', 'module.'];

/**
 * Strips wrapper prefixes every float tensor shares: `state_dict.` of a saved
 * `{'state_dict': ...}` dict (flattened by the readers) and DataParallel's `module.`.
 * Other entries of a wrapped dict (e.g. `epoch`) are not tensors and never reach here.
 */
export function stripModulePrefix<T>(tensors: Map<string, T>): Map<string, T> {
  let cur = tensors;
  for (;;) {
    const keys = [...cur.keys()];
    const p = WRAPPERS.find((w) => keys.length > 0 && keys.every((k) => k.startsWith(w)));
    if (!p) return cur;
    const src = cur;
    cur = new Map(keys.map((k) => [k.slice(p.length), src.get(k) as T]));
  }
}

function toFloat32(data: RefTensor['data'], name: string, source: string): Float32Array {
  if (data instanceof Float32Array) return data;
  if (data instanceof Float64Array || data instanceof Uint16Array || Array.isArray(data)) return Float32Array.from(data as ArrayLike<number>);
  if (data instanceof BigInt64Array) throw new HfplError('E_DATA', `${source}: ${name} holds integers, a float tensor was expected`);
  return Float32Array.from(data as ArrayLike<number>);
}

const same = (a: number[], b: number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

/** Shape mismatches as one clause: `name [file] (architecture [expected])`. */
export function describeRefReport(r: RefLoadReport, opts: RefLoadOptions = {}): string {
  const few = (a: string[]) => a.slice(0, 5).join(', ') + (a.length > 5 ? `, ... (${a.length} in all)` : '');
  const parts: string[] = [];
  if (r.misShaped.length) parts.push(`shape mismatch ${few(r.misShaped.map((m) => `${m.name}: file [${m.found.join(', ')}], architecture [${m.expected.join(', ')}]`))}`);
  if (r.missing.length && !opts.allowMissing) parts.push(`missing ${few(r.missing)}`);
  if (r.unexpected.length) parts.push(`unexpected ${few(r.unexpected)}`);
  return parts.join('; ');
}

/**
 * Assigns reference tensors to a network's `RefParams` (see the module comment). Checks
 * everything before assigning anything, so a failed strict load leaves the model untouched.
 */
export function loadReferenceTensors(refs: RefParams, input: Map<string, RefTensor>, source: string, opts: RefLoadOptions = {}): RefLoadReport {
  const tensors = stripModulePrefix(input);
  const report: RefLoadReport = { loaded: [], missing: [], unexpected: [], misShaped: [], ignored: [] };
  for (const [name, t] of tensors) {
    if (IGNORED.test(name)) report.ignored.push(name);
    else if (!refs.entries.has(name)) report.unexpected.push(name);
    else {
      const p = refs.entries.get(name)!;
      if (!same(t.shape, p.refShape)) report.misShaped.push({ name, expected: p.refShape, found: t.shape.slice() });
    }
  }
  for (const name of refs.entries.keys()) if (!tensors.has(name)) report.missing.push(name);
  const strict = opts.strict ?? true;
  if (strict && (report.misShaped.length || report.unexpected.length || (report.missing.length && !opts.allowMissing))) {
    throw new HfplError('E_DATA', `${source}: ${describeRefReport(report, opts)}`);
  }
  const bad = new Set(report.misShaped.map((m) => m.name));
  for (const [name, p] of refs.entries) {
    const t = tensors.get(name);
    if (!t || bad.has(name)) continue;
    const data = toFloat32(t.data, name, source);
    tf.tidy(() => {
      const v = tf.tensor(data, t.shape, 'float32');
      p.variable.assign(p.layout === 'oihw' ? tf.transpose(v, [2, 3, 1, 0]) : v);
    });
    report.loaded.push(name);
  }
  return report;
}

/** The network's tensors under reference names in PyTorch layout (for safetensors / .pth export). */
export function referenceStateDict(refs: RefParams): Map<string, { shape: number[]; data: Float32Array }> {
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [name, p] of refs.entries) {
    // dataSync outside tidy: tidy would walk a returned typed array element by element.
    const t = p.layout === 'oihw' ? tf.transpose(p.variable, [3, 2, 0, 1]) : p.variable;
    const data = Float32Array.from(t.dataSync() as Float32Array);
    if (t !== p.variable) t.dispose();
    out.set(name, { shape: p.refShape.slice(), data });
  }
  return out;
}

const TFJS_BN: Record<string, string> = { gamma: 'weight', beta: 'bias', runningMean: 'running_mean', runningVar: 'running_var' };

/**
 * hfpl TF.js names and layout (as `convert-weights` writes a reference network) back to the
 * reference's: BN `gamma|beta|runningMean|runningVar` -> `weight|bias|running_mean|running_var`,
 * 4-D conv weights HWIO -> OIHW. Other names are kept.
 */
export function tfjsToReference(tensors: Map<string, { shape: number[]; data: RefTensor['data'] }>): Map<string, RefTensor> {
  const out = new Map<string, RefTensor>();
  for (const [name, t] of tensors) {
    const m = /^(.*)\.(gamma|beta|runningMean|runningVar)$/.exec(name);
    if (m) out.set(`${m[1]}.${TFJS_BN[m[2]]}`, t);
    else if (t.shape.length === 4 && name.endsWith('.weight') && t.data instanceof Float32Array) {
      const [kh, kw, ci, co] = t.shape;
      const src = t.data;
      const dst = new Float32Array(src.length);
      for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) for (let i = 0; i < ci; i++) {
        const base = ((y * kw + x) * ci + i) * co;
        for (let o = 0; o < co; o++) dst[((o * ci + i) * kh + y) * kw + x] = src[base + o];
      }
      out.set(name, { shape: [co, ci, kh, kw], data: dst });
    } else out.set(name, t);
  }
  return out;
}
