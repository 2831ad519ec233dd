/**
 * Argument checks shared by the losses: every failure is an `E_ARG` HfplError naming the
 * function, the argument and what was expected.
 */
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { HfplError } from '../errors.js';

function fail(fn: string, msg: string): never {
  throw new HfplError('E_ARG', `${fn}: ${msg}`);
}

const shapeStr = (s: readonly number[]): string => `[${s.join(', ')}]`;

/**
 * Checks that `t` is a tensor of the given rank (or in [lo, hi] when rank is a pair) and one of
 * `dtypes` (default float32 only); `hint` is appended to a dtype error.
 */
export function checkTensor(fn: string, name: string, t: unknown, rank: number | [number, number], layout: string,
  dtypes: readonly tf.DataType[] = ['float32'], hint = ''): asserts t is tf.Tensor {
  const isTensor = typeof t === 'object' && t !== null && 'shape' in t && 'dtype' in t && 'dataSync' in t;
  if (!isTensor) fail(fn, `${name} must be a tf.Tensor ${layout}, got ${t === null ? 'null' : typeof t}`);
  const tt = t as tf.Tensor;
  const [lo, hi] = typeof rank === 'number' ? [rank, rank] : rank;
  if (tt.rank < lo || tt.rank > hi) {
    const want = lo === hi ? `rank ${lo}` : `rank ${lo} to ${hi}`;
    fail(fn, `${name} must have ${want} ${layout}, got shape ${shapeStr(tt.shape)}`);
  }
  if (!dtypes.includes(tt.dtype)) fail(fn, `${name} must have dtype ${dtypes.join(' or ')}, got ${tt.dtype}${hint}`);
}

/** Dtypes accepted for 0/1 label tensors: int32 and bool (what `tf.oneHot` / comparisons return) are cast. */
export const LABEL_DTYPES: readonly tf.DataType[] = ['float32', 'int32', 'bool'];

/** Hint appended to a label range error. */
export const LABEL_RANGE_HINT = ' (image labels are multi-hot 0/1 per class, e.g. tf.oneHot(classIds, K) or a sum of those clipped to 1)';

/** `t` as float32: the same tensor when it is float32 already, else a cast (call inside tf.tidy). */
export function asFloat(t: tf.Tensor): tf.Tensor {
  return t.dtype === 'float32' ? t : tf.cast(t, 'float32');
}

/**
 * A hint when a rank-4 tensor looks NCHW: dimension 1 is one of the channel counts expected
 * for dimension 3 and dimension 3 is not. Empty otherwise.
 */
export function nchwHint(name: string, t: tf.Tensor, channels: readonly number[]): string {
  const d1 = t.shape[1] ?? -1, d3 = t.shape[3] ?? -1;
  if (t.rank !== 4 || channels.includes(d3) || !channels.includes(d1)) return '';
  return `; ${name} looks NCHW [N, C, h, w] (dimension 1 is ${d1}): hfpl takes NHWC [N, h, w, C], ` +
    `use tf.transpose(${name}, [0, 2, 3, 1])`;
}

/** Checks that dimension `axis` of `t` equals `want` (described by `what`); `hint` is appended to the error. */
export function checkDim(fn: string, name: string, t: tf.Tensor, axis: number, want: number, what: string, hint = ''): void {
  if (t.shape[axis] !== want) fail(fn, `${name} dimension ${axis} must be ${want} (${what}), got shape ${shapeStr(t.shape)}${hint}`);
}

/** Checks that every value of `t` lies in [lo, hi]; reads the data (use on small tensors). `hint` is appended to the error. */
export function checkRange(fn: string, name: string, t: tf.Tensor, lo: number, hi: number, data?: ArrayLike<number>, hint = ''): void {
  const d = data ?? (t.dataSync() as ArrayLike<number>);
  for (let i = 0; i < d.length; i++) {
    const v = d[i];
    if (!(v >= lo && v <= hi)) fail(fn, `${name} values must lie in [${lo}, ${hi}], found ${v} at flat index ${i}${hint}`);
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
