/**
 * Importance-sampling loss (ISL, METHOD 1): per (image, class) draw S pixels with replacement
 * from a distribution induced by the CAM, gather there and apply the multi-label soft margin
 * loss. Sampling runs on typed arrays and is never differentiated.
 */
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { Rng } from '../engine/random.js';
import { ensureEngine } from '../engine/init.js';
import { argError, checkDim, checkRange, checkTensor, LABEL_DTYPES, LABEL_RANGE_HINT, nchwHint, parseOptions } from './check-args.js';
import { gatherFlat } from './gather-flat.js';
import { multilabelSoftMarginLoss } from './multilabel-soft-margin.js';

const FN = 'importanceSamplingLoss';

/** Options of {@link importanceSamplingLoss}. */
export interface ImportanceSamplingOptions {
  /** Samples S per (image, class), with replacement; default 10. */
  numSamples?: number;
  /**
   * 'binomial' (default, WACV 2024): logits [N, h, w, K] (foreground only), pixel weights
   * sigmoid(z) + 1e-5, logits gathered. 'multinomial' (ICASSP 2022): logits [N, h, w, 1 + K]
   * with the background at channel 0, p = softmax over the 1 + K channels, pixel weights p_c,
   * gathered p_c turned into logits log(p' + 1e-3) - log(1 - p'), p' = p (1 - 1e-3).
   */
  form?: 'binomial' | 'multinomial';
  /**
   * Seed (a number, or an `Rng` that is advanced). Default: a process-wide generator seeded
   * with 0, so a run is reproducible but successive calls draw different samples.
   */
  seed?: number | Rng;
  /** int32 [N, K, S] flat pixel indices (row * w + col); bypasses sampling. */
  indices?: tf.Tensor3D;
}

const schema = z
  .object({
    numSamples: z.number().int().positive({ message: 'must be a positive integer' }).default(10),
    form: z.enum(['binomial', 'multinomial'], { message: "must be 'binomial' or 'multinomial'" }).default('binomial'),
    seed: z.union([z.number().int(), z.instanceof(Rng)], { message: 'must be an integer or an Rng' }).optional(),
    indices: z.any().optional(),
  })
  .strict();

let defaultRng: Rng | null = null;

/**
 * Draws S indices per row with replacement from unnormalised non-negative weights
 * (inverse-CDF on float64 cumulative sums).
 * @param weights rows x len, row-major.
 * @returns Int32Array rows x s.
 */
export function sampleRows(weights: ArrayLike<number>, rows: number, len: number, s: number, rng: Rng): Int32Array {
  const out = new Int32Array(rows * s);
  const cum = new Float64Array(len);
  for (let r = 0; r < rows; r++) {
    let t = 0;
    for (let i = 0; i < len; i++) {
      t += weights[r * len + i];
      cum[i] = t;
    }
    for (let k = 0; k < s; k++) {
      const u = rng.next() * t;
      let lo = 0;
      let hi = len - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (cum[mid] > u) hi = mid;
        else lo = mid + 1;
      }
      out[r * s + k] = lo;
    }
  }
  return out;
}

/**
 * Pixel weights per (image, class) row, [N * K, h * w]: sigmoid(z) + 1e-5 (binomial) or the
 * softmax probability of the class (multinomial, background channel 0 excluded from rows).
 */
export function importanceWeights(logits: Float32Array, n: number, hw: number, c: number, form: 'binomial' | 'multinomial'): Float64Array {
  const k = form === 'binomial' ? c : c - 1;
  const wts = new Float64Array(n * k * hw);
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < hw; i++) {
      const base = (b * hw + i) * c;
      if (form === 'binomial') {
        for (let ch = 0; ch < c; ch++) wts[(b * k + ch) * hw + i] = 1 / (1 + Math.exp(-logits[base + ch])) + 1e-5;
      } else {
        let m = -Infinity;
        for (let ch = 0; ch < c; ch++) m = Math.max(m, logits[base + ch]);
        let s = 0;
        for (let ch = 0; ch < c; ch++) s += Math.exp(logits[base + ch] - m);
        for (let ch = 1; ch < c; ch++) wts[(b * k + ch - 1) * hw + i] = Math.exp(logits[base + ch] - m) / s;
      }
    }
  }
  return wts;
}

/**
 * Importance-sampling loss: S pixels per (image, class) drawn from the CAM-induced distribution
 * (see `form`), the logits gathered there, then {@link multilabelSoftMarginLoss} against the
 * image labels (mean over N, K, S). The gradient flows through the gathered values only.
 *
 * @param logits float32 [N, h, w, K] (binomial) or [N, h, w, 1 + K] (multinomial).
 * @param labels [N, K] in [0, 1]: float32, or int32/bool (cast).
 * @example
 * const lCls = tf.add(tf.mul(0.8, lGap), tf.mul(0.2, importanceSamplingLoss(camFg, labels, { seed: step })));
 */
export function importanceSamplingLoss(logits: tf.Tensor4D, labels: tf.Tensor2D, opts: ImportanceSamplingOptions = {}): tf.Scalar {
  ensureEngine(FN);
  const o = parseOptions(FN, schema, opts);
  const multi = o.form === 'multinomial';
  checkTensor(FN, 'logits', logits, 4, multi ? '[N, h, w, 1 + K]' : '[N, h, w, K]');
  checkTensor(FN, 'labels', labels, 2, '[N, K]', LABEL_DTYPES);
  const [n, h, w, c] = logits.shape;
  const k = multi ? c - 1 : c;
  const kl = labels.shape[1];
  const hint = nchwHint('logits', logits, multi ? [kl + 1] : [kl, kl + 1]) || (multi
    ? (c === kl ? `; logits has ${c} channels = K: the multinomial form takes 1 + K channels with the background at channel 0` : '')
    : (c === kl + 1 ? `; logits has 1 + K = ${c} channels for K = ${kl} labels: the binomial form takes the K foreground channels, ` +
      "drop the background channel 0 (tf.slice(cam, [0, 0, 0, 1], [-1, -1, -1, -1])) or use form: 'multinomial'" : ''));
  if (k < 1) argError(FN, `logits must have at least ${multi ? 2 : 1} channels for form ${o.form}, got shape [${logits.shape.join(', ')}]${hint}`);
  checkDim(FN, 'labels', labels, 0, n, 'batch size of logits');
  checkDim(FN, 'labels', labels, 1, k, multi ? 'foreground channels of logits (all but channel 0)' : 'channels of logits', hint);
  checkRange(FN, 'labels', labels, 0, 1, undefined, LABEL_RANGE_HINT);
  const hw = h * w;
  let idx: Int32Array;
  let s: number;
  if (o.indices !== undefined) {
    const t = o.indices as tf.Tensor;
    const ok = t instanceof tf.Tensor && t.rank === 3 && t.dtype === 'int32' && t.shape[0] === n && t.shape[1] === k;
    if (!ok) {
      const got = t instanceof tf.Tensor ? `${t.dtype} [${t.shape.join(', ')}]` : typeof t;
      argError(FN, `option indices must be an int32 tensor [${n}, ${k}, S], got ${got}`);
    }
    s = t.shape[2] as number;
    idx = Int32Array.from(t.dataSync() as Int32Array);
    checkRange(FN, 'indices', t, 0, hw - 1, idx);
  } else {
    const rng = o.seed instanceof Rng ? o.seed : o.seed !== undefined ? new Rng(o.seed) : (defaultRng ??= new Rng(0));
    s = o.numSamples;
    const wts = importanceWeights(logits.dataSync() as Float32Array, n, hw, c, o.form);
    idx = sampleRows(wts, n * k, hw, s, rng);
  }
  // Flat NHWC position of sample (b, ch, j): ((b * hw + pixel) * c + channel).
  const flatIdx = new Int32Array(n * k * s);
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < k; ch++) {
      for (let j = 0; j < s; j++) {
        const r = (b * k + ch) * s + j;
        flatIdx[r] = (b * hw + idx[r]) * c + (multi ? ch + 1 : ch);
      }
    }
  }
  return tf.tidy(() => {
    const src = multi ? tf.softmax(logits, 3) : logits;
    let g = gatherFlat(src, flatIdx, [n, k, s]);
    if (multi) {
      const p = tf.mul(g, 1 - 1e-3);
      g = tf.sub(tf.log(tf.add(p, 1e-3)), tf.log(tf.sub(1, p)));
    }
    return multilabelSoftMarginLoss(g, labels);
  });
}
