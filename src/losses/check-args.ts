/**
 * Argument checks shared by the losses: every failure is an `E_ARG` HfplError naming the
 * function, the argument and what was expected.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { HfplError } from '../errors.js';

function fail(fn: string, msg: string): never {
  throw new HfplError('E_ARG', `${fn}: ${msg}`);
}

const shapeStr = (s: readonly number[]): string => `[${s.join(', ')}]`;

/** Checks that `t` is a float32 tensor of the given rank (or at least `minRank` when rank is a tuple). */
export function checkTensor(fn: string, name: string, t: unknown, rank: number | [number, number], layout: string): asserts t is tf.Tensor {
  const isTensor = typeof t === 'object' && t !== null && 'shape' in t && 'dtype' in t && 'dataSync' in t;
  if (!isTensor) fail(fn, `${name} must be a tf.Tensor ${layout}, got ${t === null ? 'null' : typeof t}`);
  const tt = t as tf.Tensor;
  const [lo, hi] = typeof rank === 'number' ? [rank, rank] : rank;
  if (tt.rank < lo || tt.rank > hi) {
    const want = lo === hi ? `rank ${lo}` : `rank ${lo} to ${hi}`;
    fail(fn, `${name} must have ${want} ${layout}, got shape ${shapeStr(tt.shape)}`);
  }
  if (tt.dtype !== 'float32') fail(fn, `${name} must have dtype float32, got ${tt.dtype}`);
}

/** Checks that dimension `axis` of `t` equals `want` (described by `what`). */
export function checkDim(fn: string, name: string, t: tf.Tensor, axis: number, want: number, what: string): void {
  if (t.shape[axis] !== want) fail(fn, `${name} dimension ${axis} must be ${want} (${what}), got shape ${shapeStr(t.shape)}`);
}

/** Checks that every value of `t` lies in [lo, hi]; reads the data (use on small tensors). */
export function checkRange(fn: string, name: string, t: tf.Tensor, lo: number, hi: number, data?: ArrayLike<number>): void {
  const d = data ?? (t.dataSync() as ArrayLike<number>);
  for (let i = 0; i < d.length; i++) {
    const v = d[i];
    if (!(v >= lo && v <= hi)) fail(fn, `${name} values must lie in [${lo}, ${hi}], found ${v} at flat index ${i}`);
  }
}

/** Checks a numeric option. */
export function checkNumber(fn: string, name: string, v: unknown, ok: (x: number) => boolean, allowed: string): asserts v is number {
  if (typeof v !== 'number' || !ok(v)) fail(fn, `option ${name} must be ${allowed}, got ${JSON.stringify(v)}`);
}

/** Throws an E_ARG error for `fn` with the given message. */
export function argError(fn: string, msg: string): never {
  return fail(fn, msg);
}

/**
 * Validates an options object with a zod schema; the error names the option, the bad value and
 * what is allowed (the schema's message).
 */
export function parseOptions<S extends z.ZodType>(fn: string, schema: S, opts: unknown): z.output<S> {
  const r = schema.safeParse(opts ?? {});
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const key = issue.path.join('.');
  const value = key && typeof opts === 'object' && opts !== null ? (opts as Record<string, unknown>)[String(issue.path[0])] : opts;
  const shown = typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean' ? JSON.stringify(value) : typeof value;
  return fail(fn, key ? `option ${key} ${issue.message}, got ${shown}` : `options ${issue.message}`);
}
