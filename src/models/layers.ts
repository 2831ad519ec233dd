/**
 * Layers of the model family: 2-D convolution (optionally dilated, NHWC) and batch
 * normalisation with running statistics and a frozen mode. Layers own named variables in a
 * `ParamStore`; `apply` is pure apart from recording batch statistics in the forward context.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '../engine/random.js';
import { batchNormTrain } from '../engine/ops/batch-norm.js';
import { initTensor, type InitKind, type ParamRole, type ParamStore } from './params.js';

/** Batch statistics of one BN layer in one training forward pass (kept tensors, owned by the caller). */
export interface BnUpdate {
  layer: BatchNorm2d;
  mean: tf.Tensor1D;
  variance: tf.Tensor1D;
}

/** Per-call switches of a forward pass. */
export interface ForwardContext {
  /** Training mode: BN layers that are not frozen use batch statistics. */
  training: boolean;
  /** Where training-mode BN layers put their batch statistics (for `applyBnUpdates`). */
  bnUpdates?: BnUpdate[];
  /** Seed of this pass's dropout masks (training only; default 0). `sgdStep` sets it per step. */
  dropoutSeed?: number;
  /** Dropout layers applied so far in this pass (each draws its own mask; set by `dropout`). */
  dropoutCalls?: number;
}

/**
 * Dropout in training mode, identity otherwise (PyTorch semantics: kept values scaled by
 * 1 / (1 - rate)). `channelwise` drops whole channels per sample (`nn.Dropout2d`: one draw per
 * N x C, NHWC noise shape [N, 1, 1, C]), else each element (`nn.Dropout`). Each call in one
 * pass (e.g. SEAM's two views) draws a new mask, from (`ctx.dropoutSeed`, call number).
 */
export function dropout(x: tf.Tensor4D, rate: number, ctx: ForwardContext, channelwise: boolean): tf.Tensor4D {
  if (!ctx.training || rate <= 0) return x;
  const [n, , , c] = x.shape;
  const call = ctx.dropoutCalls ?? 0;
  ctx.dropoutCalls = call + 1;
  const seed = (Math.imul((ctx.dropoutSeed ?? 0) >>> 0, 31) + call) >>> 0;
  return tf.dropout(x, rate, channelwise ? [n, 1, 1, c] : undefined, seed) as tf.Tensor4D;
}

export interface Conv2dOptions {
  inChannels: number;
  outChannels: number;
  /** Square kernel size; default 3. */
  kernel?: number;
  /** Default 1. */
  stride?: number;
  /** Default 1. */
  dilation?: number;
  /** Add a bias; default false. */
  bias?: boolean;
  role?: ParamRole;
  init?: InitKind;
  /** Gain for the initialisation; default 1. */
  gain?: number;
}

/** 2-D convolution with 'same' padding (output size ceil(in / stride)). */
export class Conv2d {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable | null;
  readonly stride: number;
  readonly dilation: number;
  constructor(store: ParamStore, readonly name: string, opts: Conv2dOptions, rng: Rng) {
    const k = opts.kernel ?? 3;
    const role = opts.role ?? 'backbone';
    this.stride = opts.stride ?? 1;
    this.dilation = opts.dilation ?? 1;
    this.weight = store.addParam(`${name}.weight`, initTensor([k, k, opts.inChannels, opts.outChannels], opts.init ?? 'heUniform', rng, opts.gain), role, 'weight');
    this.bias = opts.bias ? store.addParam(`${name}.bias`, tf.zeros([opts.outChannels]), role, 'bias') : null;
  }

  apply(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      const d = this.dilation;
      // TF.js requires stride 1 when dilated; the family only dilates unstrided convolutions.
      let y = tf.conv2d(x, this.weight as tf.Tensor4D, this.stride, 'same', 'NHWC', d === 1 ? 1 : [d, d]);
      if (this.bias) y = tf.add(y, this.bias);
      return y;
    });
  }
}

/**
 * Batch normalisation over N, H, W with affine gamma/beta and running statistics.
 * In training mode (and not frozen) it normalises with batch statistics and records them;
 * otherwise it uses the running statistics (the reference's frozen BN for a pretrained
 * ResNet-38). Running update: r = (1 - momentum) r + momentum * batch (PyTorch convention;
 * the variance is the biased batch variance, a small difference from PyTorch's unbiased one).
 */
export class BatchNorm2d {
  readonly gamma: tf.Variable;
  readonly beta: tf.Variable;
  readonly runningMean: tf.Variable;
  readonly runningVar: tf.Variable;
  constructor(store: ParamStore, readonly name: string, channels: number, readonly frozen = false, readonly momentum = 0.1, readonly eps = 1e-5) {
    this.gamma = store.addParam(`${name}.gamma`, tf.ones([channels]), 'backbone', 'bnGamma');
    this.beta = store.addParam(`${name}.beta`, tf.zeros([channels]), 'backbone', 'bnBeta');
    this.runningMean = store.addBuffer(`${name}.runningMean`, tf.zeros([channels]));
    this.runningVar = store.addBuffer(`${name}.runningVar`, tf.ones([channels]));
  }

  apply(x: tf.Tensor4D, ctx: ForwardContext): tf.Tensor4D {
    if (ctx.training && !this.frozen) {
      const { y, mean, variance } = batchNormTrain(x, this.gamma as tf.Tensor1D, this.beta as tf.Tensor1D, this.eps);
      if (ctx.bnUpdates) ctx.bnUpdates.push({ layer: this, mean: tf.keep(mean), variance: tf.keep(variance) });
      else tf.dispose([mean, variance]);
      return y;
    }
    return tf.batchNorm4d(x, this.runningMean as tf.Tensor1D, this.runningVar as tf.Tensor1D, this.beta as tf.Tensor1D, this.gamma as tf.Tensor1D, this.eps);
  }
}

/** Folds recorded batch statistics into the running statistics and disposes them. */
export function applyBnUpdates(updates: BnUpdate[]): void {
  for (const u of updates) {
    const m = u.layer.momentum;
    tf.tidy(() => {
      u.layer.runningMean.assign(tf.add(tf.mul(u.layer.runningMean, 1 - m), tf.mul(u.mean, m)));
      u.layer.runningVar.assign(tf.add(tf.mul(u.layer.runningVar, 1 - m), tf.mul(u.variance, m)));
    });
    tf.dispose([u.mean, u.variance]);
  }
  updates.length = 0;
}
