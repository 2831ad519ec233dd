/**
 * Helpers of the reference-network parity tests: fixture paths, .npy (float32 / int64)
 * reading, NCHW <-> NHWC, and the suggested comparison bound.
 */
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { readStateDict } from '../../src/weights/index.js';
import { sharedPath } from '../shared-path.js';

export const REF_DIR = sharedPath('fixtures/reference-nets/');
export const refFile = (name: string): string => REF_DIR + name;

/** A fixture .npy: float32 or int64 (as numbers), C order. */
export function readRefNpy(name: string): { shape: number[]; data: Float32Array | number[] } {
  const b = readFileSync(refFile(name));
  const hlen = b.readUInt16LE(8);
  const header = b.subarray(10, 10 + hlen).toString('latin1');
  const descr = /'descr':\s*'([^']+)'/.exec(header)![1];
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header)![1].split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const n = shape.reduce((a, c) => a * c, 1);
  const body = Uint8Array.prototype.slice.call(b, 10 + hlen);
  if (descr === '<f4') return { shape, data: new Float32Array(body.buffer, 0, n) };
  if (descr === '<i8') return { shape, data: Array.from(new BigInt64Array(body.buffer, 0, n), Number) };
  throw new Error(`${name}: dtype ${descr}`);
}

/** An NCHW fixture as an NHWC tensor. */
export function nhwcFixture(name: string): tf.Tensor4D {
  const { shape, data } = readRefNpy(name);
  return tf.tidy(() => tf.transpose(tf.tensor4d(data as Float32Array, shape as [number, number, number, number]), [0, 2, 3, 1]));
}

/** Max |a - b| and max |b|. */
export function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): { err: number; scale: number } {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let err = 0, scale = 0;
  for (let i = 0; i < a.length; i++) {
    err = Math.max(err, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return { err, scale };
}

/** NHWC tensor values in NCHW order. */
export function nchwData(t: tf.Tensor4D): Float32Array {
  const n = tf.transpose(t, [0, 3, 1, 2]);
  const d = n.dataSync() as Float32Array;
  n.dispose();
  return d;
}

/** A fixture weight file's state dict (reference names), read with hfpl's readers. */
export async function fixtureStateDict(name: string): Promise<Map<string, { shape: number[]; data: Float32Array | BigInt64Array | Int32Array }>> {
  return (await readStateDict(refFile(name))).tensors;
}
