/**
 * The final segmentation network (METHOD 3.6): DeepLab-v2 style on the shared residual
 * backbone (output stride 8).
 * - `aspp` (default): four parallel 3x3 convolutions with dilations 6, 12, 18, 24 straight to
 *   the 1+K class logits, summed (DeepLab-v2 ASPP-L);
 * - `largefov`: 3x3 convolution with dilation 12 to `headWidth` channels, ReLU, 1x1 to
 *   `headWidth`, ReLU, 1x1 to the class logits (DeepLab-v1 LargeFOV, without BN and dropout);
 * - `deeplabv1`: the reference's head exactly (arvijj/hfpl lib/net/deeplabv1.py:21-26, 42-54):
 *   3x3 dilation 12 (no bias) -> BN -> ReLU -> 1x1 (no bias) -> BN -> ReLU -> Dropout(0.5,
 *   element-wise, training only) -> 1x1 with bias; width `headWidth` (reference 512);
 *   kaiming_normal fan_out init (:32-39); head BN momentum `bnMomentum` (TRAIN_BN_MOM 0.0003,
 *   voc12/config_voc2012.py:35); its logits are upsampled with align corners (`alignCorners`).
 * Logits are at stride 8 (`forward`); the losses and inference upsample them.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { HfplError } from '../errors.js';
import { Rng } from '../engine/random.js';
import { IGNORE_LABEL } from '../infer/aff-labels.js';
import { parseModelConfig } from './affinity-net.js';
import { backboneConfigSchema, backbonePresets, ResidualBackbone, type BackboneConfigInput } from './backbone.js';
import { BatchNorm2d, Conv2d, dropout, type ForwardContext } from './layers.js';
import { ParamStore } from './params.js';
import { assignWeights, readWeights } from './weights-io.js';

/** What a weights file records about a segmentation network. */
export const deepLabConfigSchema = z.strictObject({
  kind: z.literal('deeplab').default('deeplab'),
  /** Classes including background (1 + K). */
  numClasses: z.number().int().min(2).max(255),
  head: z.enum(['aspp', 'largefov', 'deeplabv1']).default('aspp'),
  /** ASPP dilations; default [6, 12, 18, 24]. */
  dilations: z.array(z.number().int().positive()).min(1).default([6, 12, 18, 24]),
  /** LargeFOV / deeplabv1 hidden width; default 256 (reference deeplabv1: 512). */
  headWidth: z.number().int().positive().default(256),
  /** deeplabv1 head: running-statistics momentum of its two BN layers (PyTorch convention); default 0.0003 (the reference's). */
  bnMomentum: z.number().gt(0).max(1).default(0.0003),
  /** deeplabv1 head: dropout rate before the classifier; default 0.5. */
  dropout: z.number().min(0).max(0.95).default(0.5),
  backbone: z.union([z.enum(['tiny', 'small', 'resnet38']), backboneConfigSchema]).default('small'),
});
export type DeepLabConfig = z.output<typeof deepLabConfigSchema>;
export type DeepLabConfigInput = z.input<typeof deepLabConfigSchema>;

/** Backbone + ASPP or LargeFOV head (`head.*`, new layers). */
export class DeepLab {
  readonly store = new ParamStore();
  readonly config: DeepLabConfig;
  readonly backbone: ResidualBackbone;
  private readonly branches: Conv2d[];
  private readonly fov: Conv2d[];
  private readonly fovBn: BatchNorm2d[] = [];

  /** Builds the network with weights drawn from `seed` (default 0). */
  constructor(config: DeepLabConfigInput, seed = 0) {
    this.config = parseModelConfig(deepLabConfigSchema, config, 'segmentation model');
    const rng = new Rng(seed);
    const layout: BackboneConfigInput = typeof this.config.backbone === 'string' ? backbonePresets[this.config.backbone] : this.config.backbone;
    this.backbone = new ResidualBackbone(this.store, layout, rng);
    const c = this.backbone.outChannels, L = this.config.numClasses, hw = this.config.headWidth;
    if (this.config.head === 'aspp') {
      this.branches = this.config.dilations.map((d, i) => new Conv2d(this.store, `head.aspp${i + 1}`, { inChannels: c, outChannels: L, dilation: d, bias: true, role: 'new', init: 'xavierUniform' }, rng));
      this.fov = [];
    } else if (this.config.head === 'deeplabv1') {
      this.branches = [];
      const m = this.config.bnMomentum;
      this.fov = [
        new Conv2d(this.store, 'head.conv_fov', { inChannels: c, outChannels: hw, dilation: 12, role: 'new', init: 'heNormalFanOut' }, rng),
        new Conv2d(this.store, 'head.conv_fov2', { inChannels: hw, outChannels: hw, kernel: 1, role: 'new', init: 'heNormalFanOut' }, rng),
        new Conv2d(this.store, 'head.cls_conv', { inChannels: hw, outChannels: L, kernel: 1, bias: true, role: 'new', init: 'heNormalFanOut' }, rng),
      ];
      this.fovBn = [new BatchNorm2d(this.store, 'head.bn_fov', hw, false, m), new BatchNorm2d(this.store, 'head.bn_fov2', hw, false, m)];
    } else {
      this.branches = [];
      this.fov = [
        new Conv2d(this.store, 'head.fc6', { inChannels: c, outChannels: hw, dilation: 12, bias: true, role: 'new' }, rng),
        new Conv2d(this.store, 'head.fc7', { inChannels: hw, outChannels: hw, kernel: 1, bias: true, role: 'new' }, rng),
        new Conv2d(this.store, 'head.fc8', { inChannels: hw, outChannels: L, kernel: 1, bias: true, role: 'new', init: 'xavierUniform' }, rng),
      ];
    }
  }

  get numClasses(): number {
    return this.config.numClasses;
  }

  /** Whether logits are upsampled with align corners (the reference's deeplabv1, lib/net/deeplabv1.py:53). */
  get alignCorners(): boolean {
    return this.config.head === 'deeplabv1';
  }

  /**
   * Logits upsampled to the input size (what the reference's deeplabv1 `forward` returns):
   * the stride-8 logits resized to 8h x 8w (bilinear; align corners for `deeplabv1`, half-pixel
   * centres otherwise), cropped to H x W. With H, W multiples of 8 the crop is a no-op and the
   * align-corners resize is the reference's `F.interpolate(result, (h, w), align_corners=True)`.
   */
  upsampledLogits(logits: tf.Tensor4D, height: number, width: number): tf.Tensor4D {
    return tf.tidy(() => {
      const [, gh, gw] = logits.shape;
      const a = this.alignCorners;
      const up = tf.image.resizeBilinear(logits, [8 * gh, 8 * gw], a, !a);
      return (8 * gh === height && 8 * gw === width ? up : tf.slice(up, [0, 0, 0, 0], [-1, height, width, -1])) as tf.Tensor4D;
    });
  }

  /** Class logits of normalised NHWC images: N x ceil(H/8) x ceil(W/8) x (1+K). */
  forward(x: tf.Tensor4D, ctx: ForwardContext): tf.Tensor4D {
    return tf.tidy(() => {
      const { features } = this.backbone.apply(x, ctx);
      if (this.branches.length > 0) return tf.addN(this.branches.map((b) => b.apply(features))) as tf.Tensor4D;
      if (this.fovBn.length > 0) {
        const f1 = tf.relu(this.fovBn[0].apply(this.fov[0].apply(features), ctx));
        const f2 = tf.relu(this.fovBn[1].apply(this.fov[1].apply(f1), ctx));
        return this.fov[2].apply(dropout(f2, this.config.dropout, ctx, false));
      }
      const h = tf.relu(this.fov[1].apply(tf.relu(this.fov[0].apply(features))));
      return this.fov[2].apply(h);
    });
  }

  dispose(): void {
    this.store.dispose();
  }
}

/**
 * Cross-entropy of logits (N x h x w x L) against integer labels (N x h x w, values 0..L-1 or
 * `ignore`), averaged over the labelled pixels (0 when none is labelled).
 */
export function segmentationLoss(logits: tf.Tensor4D, labels: tf.Tensor3D, ignore = IGNORE_LABEL): tf.Scalar {
  return tf.tidy(() => {
    const L = logits.shape[3];
    const lab = tf.cast(labels, 'int32');
    const valid = tf.cast(tf.notEqual(lab, ignore), 'float32');
    const safe = tf.mul(lab, tf.cast(valid, 'int32'));
    const onehot = tf.reshape(tf.oneHot(tf.reshape(safe, [-1]), L), logits.shape);
    const nll = tf.neg(tf.sum(tf.mul(tf.logSoftmax(logits), onehot), 3));
    return tf.div(tf.sum(tf.mul(nll, valid)), tf.maximum(tf.sum(valid), 1)) as tf.Scalar;
  });
}

/** What a segmentation `model.json` records in its `hfpl` field. */
export interface DeepLabModelMeta {
  model: DeepLabConfig;
  classNames: string[];
  mean: number[];
  std: number[];
}

/** Loads a trained segmentation network from a run folder or its model.json (strict weights). */
export function loadDeepLab(path: string): { model: DeepLab; meta: DeepLabModelMeta } {
  const file = existsSync(path) && statSync(path).isDirectory() ? join(path, 'model.json') : path;
  if (!existsSync(file)) throw new HfplError('E_IO', `${file}: no trained segmentation network (run hfpl train-seg first, or it has not finished)`);
  const loaded = readWeights(file);
  const meta = loaded.meta as Partial<DeepLabModelMeta> | null;
  const parsed = deepLabConfigSchema.safeParse(meta?.model);
  if (!meta || !parsed.success || !Array.isArray(meta.classNames) || !Array.isArray(meta.mean) || !Array.isArray(meta.std)) {
    throw new HfplError('E_DATA', `${file}: not an hfpl segmentation network (its "hfpl" field lacks model, classNames, mean or std)`);
  }
  const model = new DeepLab(parsed.data);
  try {
    assignWeights(model.store, loaded, { strict: true }, file);
  } catch (e) {
    model.dispose();
    throw e;
  }
  return { model, meta: meta as DeepLabModelMeta };
}
