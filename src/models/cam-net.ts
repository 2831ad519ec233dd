/**
 * CAM network (METHOD 2, "CAM (GAP)"): backbone -> Dropout2d(0.5) (training only) -> 1x1
 * convolution to 1+K channels without bias (channel 0 = background) -> global average pooling
 * for the classification loss. The dropout is the reference's `dropout7` before `fc8`
 * (arvijj/hfpl network/resnet38_SEAM.py:14, :32 `self.fc8(self.dropout7(d['conv6']))`).
 * The SEAM variant adds the pixel correlation module (see `seam-net.ts`).
 */
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { HfplError } from '../errors.js';
import { Rng } from '../engine/random.js';
import { backbonePresets, backboneConfigSchema, ResidualBackbone, type BackboneConfigInput } from './backbone.js';
import { Conv2d, dropout, type ForwardContext } from './layers.js';
import { ParamStore } from './params.js';

/** What a weights file records about the model, enough to rebuild it. */
export const camModelConfigSchema = z.strictObject({
  /** 'cam' (GAP head) or 'seam' (GAP head + PCM). */
  head: z.enum(['cam', 'seam']).default('cam'),
  /** Foreground classes K (the head has 1 + K outputs). */
  numClasses: z.number().int().positive(),
  /** A preset name (`tiny`, `small`, `resnet38`) or a full layout. */
  backbone: z.union([z.enum(['tiny', 'small', 'resnet38']), backboneConfigSchema]).default('small'),
  /** Channel dropout rate before `fc8`, training only (reference resnet38_SEAM.py:14: 0.5); 0 = none. */
  dropout: z.number().min(0).max(0.95).default(0.5),
});
export type CamModelConfig = z.output<typeof camModelConfigSchema>;
export type CamModelConfigInput = z.input<typeof camModelConfigSchema>;

/** The backbone layout a model config names. */
export function backboneLayout(cfg: CamModelConfig): BackboneConfigInput {
  return typeof cfg.backbone === 'string' ? backbonePresets[cfg.backbone] : cfg.backbone;
}

/** Outputs of a forward pass. */
export interface CamForward {
  /** CAM logits at stride 8, N x h x w x (1+K). */
  cam: tf.Tensor4D;
  /** Backbone output (stride 8), for heads that need it. */
  features: tf.Tensor4D;
  /** SEAM taps (equal to `features` unless requested). */
  taps: [tf.Tensor4D, tf.Tensor4D];
}

/** Backbone + 1x1 classifier (`head.fc8`, a new layer). */
export class CamNet {
  readonly store = new ParamStore();
  readonly config: CamModelConfig;
  readonly backbone: ResidualBackbone;
  readonly classifier: Conv2d;
  /** Seeded generator the constructor drew initial weights from (subclasses continue it). */
  protected readonly initRng: Rng;

  /** Builds the network with weights drawn from `seed` (default 0). */
  constructor(config: CamModelConfigInput, seed = 0) {
    const r = camModelConfigSchema.safeParse(config);
    if (!r.success) {
      const i = r.error.issues[0];
      throw new HfplError('E_CONFIG', `model config: ${i.path.join('.') || '(root)'}: ${i.message}`);
    }
    this.config = r.data;
    this.initRng = new Rng(seed);
    this.backbone = new ResidualBackbone(this.store, backboneLayout(this.config), this.initRng);
    this.classifier = new Conv2d(this.store, 'head.fc8', {
      inChannels: this.backbone.outChannels, outChannels: 1 + this.config.numClasses, kernel: 1, role: 'new', init: 'xavierUniform',
    }, this.initRng);
  }

  get numClasses(): number {
    return this.config.numClasses;
  }

  /** CAM logits of normalised NHWC images (h = ceil(H / 8)); Dropout2d before `fc8` when `ctx.training`. */
  forward(x: tf.Tensor4D, ctx: ForwardContext, withTaps = false): CamForward {
    const { features, taps } = this.backbone.apply(x, ctx, withTaps);
    return { cam: this.classifier.apply(dropout(features, this.config.dropout, ctx, true)), features, taps };
  }

  dispose(): void {
    this.store.dispose();
  }
}

/** Global average pooling of CAM logits: N x h x w x C -> N x C. */
export function gapLogits(cam: tf.Tensor4D): tf.Tensor2D {
  return tf.mean(cam, [1, 2]) as tf.Tensor2D;
}
