/**
 * AffinityNet's pair loss (Ahn & Kwak, CVPR 2018; METHOD 3.5).
 */
import * as tf from '@tensorflow/tfjs-core';
import { ensureEngine } from '../engine/init.js';
import { argError, asFloat, checkRange, checkTensor, LABEL_DTYPES } from './check-args.js';

/**
 * Class-balanced affinity loss over pixel pairs: with a = predicted affinities in (0, 1],
 * bg = sum(-Lbg log(a + 1e-5)) / (sum Lbg + 1e-5), fg likewise with Lfg, neg =
 * sum(-Lneg log(1 + 1e-5 - a)) / (sum Lneg + 1e-5); loss = bg / 4 + fg / 4 + neg / 2.
 *
 * @param aff float32, any shape (e.g. [N, D, P] pairs), affinities exp(-mean |f_i - f_j|).
 * @param labelBg 0/1 mask (float32, or int32/bool, cast), same shape: both pixels confident background.
 * @param labelFg float32 0/1 mask, same shape: both pixels the same confident foreground class.
 * @param labelNeg float32 0/1 mask, same shape: confident pixels of different classes.
 */
export function affinityPairLoss(aff: tf.Tensor, labelBg: tf.Tensor, labelFg: tf.Tensor, labelNeg: tf.Tensor): tf.Scalar {
  const fn = 'affinityPairLoss';
  ensureEngine(fn);
  checkTensor(fn, 'aff', aff, [1, 8], '(pairs)');
  const masks: [string, tf.Tensor][] = [['labelBg', labelBg], ['labelFg', labelFg], ['labelNeg', labelNeg]];
  for (const [name, t] of masks) {
    checkTensor(fn, name, t, [1, 8], '(pairs)', LABEL_DTYPES);
    if (t.shape.length !== aff.shape.length || t.shape.some((d, i) => d !== aff.shape[i])) {
      argError(fn, `${name} must have the shape of aff [${aff.shape.join(', ')}], got [${t.shape.join(', ')}]`);
    }
    checkRange(fn, name, t, 0, 1);
  }
  return tf.tidy(() => {
    const term = (lab: tf.Tensor, logArg: tf.Tensor): tf.Tensor =>
      tf.div(tf.sum(tf.mul(tf.neg(lab), tf.log(logArg))), tf.add(tf.sum(lab), 1e-5));
    const bg = term(asFloat(labelBg), tf.add(aff, 1e-5));
    const fg = term(asFloat(labelFg), tf.add(aff, 1e-5));
    const neg = term(asFloat(labelNeg), tf.sub(1 + 1e-5, aff));
    return tf.addN([tf.div(bg, 4), tf.div(fg, 4), tf.div(neg, 2)]) as tf.Scalar;
  });
}
