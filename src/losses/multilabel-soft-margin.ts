/**
 * Multi-label soft margin loss (PyTorch's `F.multilabel_soft_margin_loss`): the mean over all
 * elements of BCE(z, y) = -[y log s(z) + (1 - y) log s(-z)] (METHOD 1).
 */
import * as tf from '@tensorflow/tfjs-core';
import { ensureEngine } from '../engine/init.js';
import { argError, asFloat, checkRange, checkTensor, LABEL_DTYPES, LABEL_RANGE_HINT } from './check-args.js';

const FN = 'multilabelSoftMarginLoss';

/**
 * Class-averaged binary cross-entropy on logits, averaged over the batch and any trailing axes.
 *
 * @param logits float32 [N, K] or [N, K, ...rest] (e.g. [N, K, S] for sampled logits).
 * @param labels 0/1 (or soft, in [0, 1]) per class: the same shape as `logits`, or [N, K]
 *   broadcast over the trailing axes of `logits`; float32, or int32/bool (cast).
 * @returns scalar: mean over all elements of max(z, 0) - z y + log(1 + e^-|z|). Its gradient is
 *   (sigmoid(z) - y) / count exactly (also at z = 0), computed by a custom gradient.
 * @example
 * multilabelSoftMarginLoss(tf.tensor2d([[0, 2]]), tf.tensor2d([[1, 0]])) // (log 2 + 2.1269) / 2
 */
export function multilabelSoftMarginLoss(logits: tf.Tensor, labels: tf.Tensor): tf.Scalar {
  ensureEngine(FN);
  checkTensor(FN, 'logits', logits, [2, 8], '[N, K, ...rest]');
  checkTensor(FN, 'labels', labels, [2, 8], '[N, K] or the shape of logits', LABEL_DTYPES);
  const same = labels.shape.length === logits.shape.length && labels.shape.every((d, i) => d === logits.shape[i]);
  const lead = labels.rank === 2 && labels.shape[0] === logits.shape[0] && labels.shape[1] === logits.shape[1];
  if (!same && !lead) {
    const alt = logits.rank > 2 ? ` or [${logits.shape.slice(0, 2).join(', ')}]` : '';
    argError(FN, `labels must have shape [${logits.shape.join(', ')}]${alt}, got [${labels.shape.join(', ')}]${shapeHint(logits, labels)}`);
  }
  checkRange(FN, 'labels', labels, 0, 1, undefined, LABEL_RANGE_HINT);
  return tf.tidy(() => softMargin(logits, asFloat(labels), same));
}

/** The likely mistake behind a logits/labels shape mismatch, or ''. */
function shapeHint(logits: tf.Tensor, labels: tf.Tensor): string {
  if (labels.rank !== 2) return '';
  const [n, k] = labels.shape as [number, number];
  const s = logits.shape;
  if (logits.rank === 2 && s[0] === n && s[1] === k + 1) {
    return `; logits has 1 + K = ${k + 1} classes for K = ${k} labels: drop the background logit 0, tf.slice(logits, [0, 1], [-1, -1])`;
  }
  if (logits.rank === 4 && s[0] === n && (s[3] === k || s[3] === k + 1)) {
    return `; logits looks like an NHWC CAM [N, h, w, C]: pool it to [N, C] first, tf.mean(cam, [1, 2])` +
      (s[3] === k + 1 ? ', and drop the background channel 0' : '');
  }
  return '';
}

function softMargin(logits: tf.Tensor, labels: tf.Tensor, same: boolean): tf.Scalar {
  const count = logits.size;
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [z, y] = args as tf.Tensor[];
    // Saved copies survive the caller's tidy (a closure over z would see it disposed).
    (args[2] as tf.GradSaveFunc)([z, y]);
    const bcast = (t: tf.Tensor): tf.Tensor => (same ? t : tf.reshape(t, [...t.shape, ...new Array<number>(z.rank - 2).fill(1)]));
    const value = tf.tidy(() => {
      const yb = bcast(y);
      const bce = tf.add(tf.sub(tf.relu(z), tf.mul(z, yb)), tf.log1p(tf.exp(tf.neg(tf.abs(z)))));
      return tf.mean(bce) as tf.Scalar;
    });
    const gradFunc = (dy: tf.Scalar, saved: tf.Tensor[]): tf.Tensor[] => {
      const [z, y] = saved;
      const s = tf.div(dy, count);
      const dz = tf.mul(tf.sub(tf.sigmoid(z), bcast(y)), s);
      let dyl = tf.mul(tf.neg(z), s);
      if (!same) dyl = tf.sum(dyl, Array.from({ length: z.rank - 2 }, (_, i) => i + 2));
      return [dz, dyl];
    };
    return { value, gradFunc };
  });
  return f(logits, labels);
}
