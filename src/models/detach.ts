/**
 * `detach(x, fn?)`: fn(x) (default: x itself) with no gradient flowing back to x (PyTorch's
 * `.detach()`; tfjs-core has no stop-gradient op). A custom gradient returns zeros, and the
 * ops of `fn` run inside it, so they are not recorded on the tape (ops without gradients, such
 * as comparisons, are then allowed).
 */
import * as tf from '@tensorflow/tfjs-core';

/** `fn(x)` (or a copy of `x`), cut from the gradient tape. */
export function detach<T extends tf.Tensor>(x: T, fn?: (x: T) => tf.Tensor): T {
  const f = tf.customGrad(((...args: unknown[]) => {
    const xt = args[0] as T;
    return { value: tf.tidy(() => (fn ? fn(xt) : tf.clone(xt))), gradFunc: () => [tf.zerosLike(xt)] };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return f(x) as T;
}
