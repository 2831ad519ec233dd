/** Helpers for the reference fixtures (NCHW nested arrays) in NHWC tests. */
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';
import { sharedPath } from '../shared-path.js';

const path = sharedPath('fixtures/reference-cases.json');
export const fixtures = JSON.parse(readFileSync(path, 'utf8'));

/** NCHW nested array -> NHWC tensor. */
export function nhwc(a: number[][][][]): tf.Tensor4D {
  return tf.tidy(() => tf.transpose(tf.tensor4d(a), [0, 2, 3, 1]));
}

/** Asserts |a - b| <= rel |b| + abs elementwise, reporting the worst element. */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rel = 1e-4, abs = 1e-6): void {
  expect(actual.length).toBe(expected.length);
  let worst = -Infinity;
  let at = -1;
  for (let i = 0; i < expected.length; i++) {
    const excess = Math.abs(actual[i] - expected[i]) - (rel * Math.abs(expected[i]) + abs);
    if (excess > worst) {
      worst = excess;
      at = i;
    }
  }
  expect(worst, `element ${at}: ${actual[at]} vs ${expected[at]}`).toBeLessThanOrEqual(0);
}

/** Flattens a nested array. */
export function flat(a: unknown): number[] {
  return (a as unknown[]).flat(Infinity as 1) as number[];
}
