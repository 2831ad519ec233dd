/**
 * AffinityNet (METHOD 3.5; Ahn & Kwak, CVPR 2018, the reference's `resnet38_aff`): the shared
 * residual backbone, 1x1 projections (no bias, ELU) of its stride-8 taps and final features,
 * concatenated and mixed by a last 1x1 convolution (ELU) into the affinity features f. The
 * affinity of two grid pixels is exp(-mean_c |f_i,c - f_j,c|), in (0, 1].
 *
 * Projection widths follow the reference's ratios (512 -> 64, 1024 -> 128, 4096 -> 256):
 * in / 8 for the taps and in / 16 for the final features, at least 16 channels each.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { HfplError } from '../errors.js';
import { Rng } from '../engine/random.js';
import { pairOffsets, pairWindow } from '../infer/aff-labels.js';
import { backboneConfigSchema, backbonePresets, ResidualBackbone, type BackboneConfigInput } from './backbone.js';
import { Conv2d, type ForwardContext } from './layers.js';
import { ParamStore } from './params.js';
import { assignWeights, readWeights } from './weights-io.js';

/** What a weights file records about an AffinityNet. */
export const affinityNetConfigSchema = z.strictObject({
  kind: z.literal('affinity').default('affinity'),
  /** A preset name (`tiny`, `small`, `resnet38`) or a full layout. */
  backbone: z.union([z.enum(['tiny', 'small', 'resnet38']), backboneConfigSchema]).default('small'),
});
export type AffinityNetConfig = z.output<typeof affinityNetConfigSchema>;
export type AffinityNetConfigInput = z.input<typeof affinityNetConfigSchema>;

/** ELU written with ops whose gradients every backend has: relu(x) + exp(min(x, 0)) - 1. */
export function elu(x: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => tf.sub(tf.add(tf.relu(x), tf.exp(tf.minimum(x, 0))), 1) as tf.Tensor4D);
}

/** Parses a model config, throwing E_CONFIG with the key path. */
export function parseModelConfig<T extends z.ZodType>(schema: T, input: unknown, what: string): z.output<T> {
  const r = schema.safeParse(input);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new HfplError('E_CONFIG', `${what} config: ${i.path.join('.') || '(root)'}: ${i.message}`);
  }
  return r.data;
}

/** Backbone + affinity head (`head.aff*`, new layers). */
export class AffinityNet {
  readonly store = new ParamStore();
  readonly config: AffinityNetConfig;
  readonly backbone: ResidualBackbone;
  /** Channels of the affinity features. */
  readonly featureChannels: number;
  private readonly projections: Conv2d[];
  private readonly mix: Conv2d;
  private readonly useSecondTap: boolean;

  /** Builds the network with weights drawn from `seed` (default 0). */
  constructor(config: AffinityNetConfigInput = {}, seed = 0) {
    this.config = parseModelConfig(affinityNetConfigSchema, config, 'affinity model');
    const rng = new Rng(seed);
    const layout: BackboneConfigInput = typeof this.config.backbone === 'string' ? backbonePresets[this.config.backbone] : this.config.backbone;
    this.backbone = new ResidualBackbone(this.store, layout, rng);
    const [t0, t1] = this.backbone.tapChannels;
    // With a single stride-8 stage the second tap is the final features: not projected twice.
    this.useSecondTap = this.countStride8Stages() >= 2;
    const ins = this.useSecondTap ? [t0, t1, this.backbone.outChannels] : [t0, this.backbone.outChannels];
    const outs = ins.map((c, i) => Math.max(16, Math.round(c / (i === ins.length - 1 ? 16 : 8))));
    this.projections = ins.map((c, i) => new Conv2d(this.store, `head.aff${i + 1}`, { inChannels: c, outChannels: outs[i], kernel: 1, role: 'new' }, rng));
    this.featureChannels = outs.reduce((a, b) => a + b, 0);
    this.mix = new Conv2d(this.store, 'head.affMix', { inChannels: this.featureChannels, outChannels: this.featureChannels, kernel: 1, role: 'new', init: 'xavierUniform', gain: 4 }, rng);
  }

  private countStride8Stages(): number {
    let stride: number = this.backbone.config.stemStride, n = 0;
    for (const st of this.backbone.config.stages) {
      if (stride === 8) n++;
      stride *= st.stride;
    }
    return n;
  }

  /** Affinity features of normalised NHWC images: N x ceil(H/8) x ceil(W/8) x C. */
  forward(x: tf.Tensor4D, ctx: ForwardContext): tf.Tensor4D {
    return tf.tidy(() => {
      const { features, taps } = this.backbone.apply(x, ctx, true);
      const srcs = this.useSecondTap ? [taps[0], taps[1], features] : [taps[0], features];
      const proj = srcs.map((s, i) => elu(this.projections[i].apply(s)));
      return elu(this.mix.apply(tf.concat(proj, 3) as tf.Tensor4D));
    });
  }

  dispose(): void {
    this.store.dispose();
  }
}

/**
 * Affinities of the radius-limited pairs of the training layout (see `aff-labels.ts`):
 * N x D x P with a = exp(-mean_c |f_from - f_to|). Differentiable.
 */
export function pairAffinities(features: tf.Tensor4D, radius = 5): tf.Tensor3D {
  return tf.tidy(() => {
    const [n, h, w] = features.shape;
    const { height: ch, width: cw } = pairWindow(h, w, radius);
    const f = radius - 1;
    const from = tf.slice(features, [0, 0, f, 0], [-1, ch, cw, -1]);
    const per = pairOffsets(radius).map(([dy, dx]) => {
      const to = tf.slice(features, [0, dy, f + dx, 0], [-1, ch, cw, -1]);
      return tf.mean(tf.abs(tf.sub(to, from)), 3);
    });
    return tf.reshape(tf.exp(tf.neg(tf.stack(per, 1))), [n, per.length, ch * cw]) as tf.Tensor3D;
  });
}

/** What an AffinityNet `model.json` records in its `hfpl` field. */
export interface AffinityModelMeta {
  model: AffinityNetConfig;
  radius: number;
  classNames: string[];
  mean: number[];
  std: number[];
}

/** Loads a trained AffinityNet from a run folder or its model.json (weights checked strictly). */
export function loadAffinityNet(path: string): { model: AffinityNet; meta: AffinityModelMeta } {
  const file = existsSync(path) && statSync(path).isDirectory() ? join(path, 'model.json') : path;
  if (!existsSync(file)) throw new HfplError('E_IO', `${file}: no trained AffinityNet (run hfpl train-aff first, or it has not finished)`);
  const loaded = readWeights(file);
  const meta = loaded.meta as Partial<AffinityModelMeta> | null;
  const parsed = affinityNetConfigSchema.safeParse(meta?.model);
  if (!meta || !parsed.success || !Array.isArray(meta.mean) || !Array.isArray(meta.std) || typeof meta.radius !== 'number') {
    throw new HfplError('E_DATA', `${file}: not an hfpl AffinityNet (its "hfpl" field lacks model, radius, mean or std)`);
  }
  const model = new AffinityNet(parsed.data);
  try {
    assignWeights(model.store, loaded, { strict: true }, file);
  } catch (e) {
    model.dispose();
    throw e;
  }
  return { model, meta: meta as AffinityModelMeta };
}
