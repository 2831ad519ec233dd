/**
 * The residual backbone family: pre-activation residual blocks (as in the reference's
 * ResNet-38, `lib/net/backbone/resnet38d.py`) with output stride 8 (the last stages are
 * dilated instead of strided, METHOD 2). Depth and width are configurable; `backbonePresets`
 * holds a CPU-sized default and the wide ResNet-38 layout.
 */
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { HfplError } from '../errors.js';
import type { Rng } from '../engine/random.js';
import { ensureEngine } from '../engine/init.js';
import { BatchNorm2d, Conv2d, type ForwardContext } from './layers.js';
import type { ParamStore } from './params.js';

/** One stage: `blocks` residual blocks of the same output width. */
export const stageConfigSchema = z.strictObject({
  /** Output channels of the stage's blocks. */
  width: z.number().int().positive(),
  /** Middle channels of basic blocks; default = width. */
  midWidth: z.number().int().positive().optional(),
  blocks: z.number().int().positive(),
  /** Stride of the first block (1 or 2). */
  stride: z.union([z.literal(1), z.literal(2)]),
  /** Dilation of the 3x3 convolutions (1 = none). */
  dilation: z.number().int().positive().default(1),
  /** Dilation of the first convolution of the first block; default = dilation. */
  firstDilation: z.number().int().positive().optional(),
  /** Bottleneck blocks (1x1, 3x3, 1x1 with width/4, width/2, width), as ResNet-38's b6, b7. */
  bottleneck: z.boolean().default(false),
});

/** Backbone layout: a 3x3 stem convolution then the stages; output stride must be 8. */
export const backboneConfigSchema = z.strictObject({
  stemWidth: z.number().int().positive(),
  stemStride: z.union([z.literal(1), z.literal(2)]),
  stages: z.array(stageConfigSchema).min(2),
  /** Freeze every BN layer (use running statistics, no gamma/beta training); default false. */
  frozenBn: z.boolean().default(false),
});

export type StageConfig = z.output<typeof stageConfigSchema>;
export type BackboneConfig = z.output<typeof backboneConfigSchema>;
export type BackboneConfigInput = z.input<typeof backboneConfigSchema>;

/**
 * Named layouts. `small` (default): 4 stages of one block, widths 32/64/128/256, about 1.9 M
 * parameters, trains on a 2-core CPU. `tiny`: half the widths (tests, quick demo).
 * `resnet38`: the reference's wide ResNet-38 (conv1a 64, b2-b4 128/256/512 with 3/3/6 blocks,
 * b5 1024 dilated 2, bottlenecks b6 2048 and b7 4096 dilated 4), about 104 M parameters.
 */
export const backbonePresets: Readonly<Record<'tiny' | 'small' | 'resnet38', BackboneConfigInput>> = Object.freeze({
  tiny: {
    stemWidth: 16, stemStride: 2,
    stages: [
      { width: 16, blocks: 1, stride: 1 },
      { width: 32, blocks: 1, stride: 2 },
      { width: 64, blocks: 1, stride: 2 },
      { width: 128, blocks: 1, stride: 1, dilation: 2 },
    ],
  },
  small: {
    stemWidth: 32, stemStride: 2,
    stages: [
      { width: 32, blocks: 1, stride: 1 },
      { width: 64, blocks: 1, stride: 2 },
      { width: 128, blocks: 1, stride: 2 },
      { width: 256, blocks: 1, stride: 1, dilation: 2 },
    ],
  },
  resnet38: {
    stemWidth: 64, stemStride: 1, frozenBn: true,
    stages: [
      { width: 128, blocks: 3, stride: 2 },
      { width: 256, blocks: 3, stride: 2 },
      { width: 512, blocks: 6, stride: 2 },
      { width: 1024, midWidth: 512, blocks: 3, stride: 1, dilation: 2, firstDilation: 1 },
      { width: 2048, blocks: 1, stride: 1, dilation: 4, bottleneck: true },
      { width: 4096, blocks: 1, stride: 1, dilation: 4, bottleneck: true },
    ],
  },
});

/** Validates a layout (strict keys, output stride 8) and fills defaults. */
export function resolveBackboneConfig(input: BackboneConfigInput): BackboneConfig {
  const r = backboneConfigSchema.safeParse(input);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new HfplError('E_CONFIG', `backbone config: ${i.path.join('.') || '(root)'}: ${i.message}`);
  }
  const cfg = r.data;
  const os = cfg.stages.reduce<number>((s, st) => s * st.stride, cfg.stemStride);
  if (os !== 8) throw new HfplError('E_CONFIG', `backbone config: output stride is ${os} (stem stride x stage strides); it must be 8`);
  return cfg;
}

/** Features a forward pass returns. */
export interface BackboneOutput {
  /** Last feature map after the final BN and ReLU (stride 8). */
  features: tf.Tensor4D;
  /**
   * SEAM's conv4/conv5 taps: the BN-ReLU inputs of the first blocks of the first two stages
   * that run at stride 8 (ResNet-38: b5 and b6); with only one such stage the second tap is
   * the final features.
   */
  taps: [tf.Tensor4D, tf.Tensor4D];
}

interface Block {
  apply(x: tf.Tensor4D, ctx: ForwardContext): { y: tf.Tensor4D; pre: tf.Tensor4D };
}

function makeBasic(store: ParamStore, name: string, rng: Rng, inC: number, midC: number, outC: number, stride: number, firstDil: number, dil: number, frozen: boolean): Block {
  const bn2a = new BatchNorm2d(store, `${name}.bn2a`, inC, frozen);
  const conv2a = new Conv2d(store, `${name}.conv2a`, { inChannels: inC, outChannels: midC, stride, dilation: firstDil }, rng);
  const bn2b = new BatchNorm2d(store, `${name}.bn2b`, midC, frozen);
  const conv2b = new Conv2d(store, `${name}.conv2b`, { inChannels: midC, outChannels: outC, dilation: dil }, rng);
  const same = inC === outC && stride === 1;
  const conv1 = same ? null : new Conv2d(store, `${name}.conv1`, { inChannels: inC, outChannels: outC, kernel: 1, stride }, rng);
  return {
    apply(x, ctx) {
      const pre = tf.relu(bn2a.apply(x, ctx));
      const branch1 = conv1 ? conv1.apply(pre) : x;
      const b2 = conv2b.apply(tf.relu(bn2b.apply(conv2a.apply(pre), ctx)));
      return { y: tf.add(branch1, b2), pre };
    },
  };
}

function makeBottleneck(store: ParamStore, name: string, rng: Rng, inC: number, outC: number, stride: number, dil: number, frozen: boolean): Block {
  const bn2a = new BatchNorm2d(store, `${name}.bn2a`, inC, frozen);
  const conv2a = new Conv2d(store, `${name}.conv2a`, { inChannels: inC, outChannels: outC / 4, kernel: 1, stride }, rng);
  const bn2b1 = new BatchNorm2d(store, `${name}.bn2b1`, outC / 4, frozen);
  const conv2b1 = new Conv2d(store, `${name}.conv2b1`, { inChannels: outC / 4, outChannels: outC / 2, dilation: dil }, rng);
  const bn2b2 = new BatchNorm2d(store, `${name}.bn2b2`, outC / 2, frozen);
  const conv2b2 = new Conv2d(store, `${name}.conv2b2`, { inChannels: outC / 2, outChannels: outC, kernel: 1 }, rng);
  const conv1 = inC === outC && stride === 1 ? null : new Conv2d(store, `${name}.conv1`, { inChannels: inC, outChannels: outC, kernel: 1, stride }, rng);
  return {
    apply(x, ctx) {
      const pre = tf.relu(bn2a.apply(x, ctx));
      const branch1 = conv1 ? conv1.apply(pre) : x;
      let b = conv2b1.apply(tf.relu(bn2b1.apply(conv2a.apply(pre), ctx)));
      b = conv2b2.apply(tf.relu(bn2b2.apply(b, ctx)));
      return { y: tf.add(branch1, b), pre };
    },
  };
}

/** A residual backbone built from a layout; parameters are named `backbone.<layer>...`. */
export class ResidualBackbone {
  readonly config: BackboneConfig;
  readonly outChannels: number;
  /** Channels of the two taps (see `BackboneOutput.taps`). */
  readonly tapChannels: [number, number];
  private readonly tapStages: number[];
  private readonly stem: Conv2d;
  private readonly stages: Block[][] = [];
  private readonly bnOut: BatchNorm2d;

  constructor(store: ParamStore, config: BackboneConfigInput, rng: Rng) {
    const cfg = resolveBackboneConfig(config);
    this.config = cfg;
    const f = cfg.frozenBn;
    this.stem = new Conv2d(store, 'backbone.stem', { inChannels: 3, outChannels: cfg.stemWidth, stride: cfg.stemStride }, rng);
    let c = cfg.stemWidth;
    const ins: number[] = [];
    cfg.stages.forEach((st, si) => {
      const blocks: Block[] = [];
      ins.push(c);
      for (let b = 0; b < st.blocks; b++) {
        const name = `backbone.s${si + 1}.b${b + 1}`;
        const stride = b === 0 ? st.stride : 1;
        if (st.bottleneck) {
          if (st.width % 4 !== 0) throw new HfplError('E_CONFIG', `backbone config: stages.${si}.width ${st.width} must be divisible by 4 for a bottleneck stage`);
          blocks.push(makeBottleneck(store, name, rng, c, st.width, stride, st.dilation, f));
        } else {
          const firstDil = b === 0 ? (st.firstDilation ?? st.dilation) : st.dilation;
          blocks.push(makeBasic(store, name, rng, c, st.midWidth ?? st.width, st.width, stride, firstDil, st.dilation, f));
        }
        c = st.width;
      }
      this.stages.push(blocks);
    });
    this.bnOut = new BatchNorm2d(store, 'backbone.bnOut', c, f);
    this.outChannels = c;
    // Stages whose input is already at stride 8 (stem and all earlier strides applied).
    let stride: number = cfg.stemStride;
    const at8: number[] = [];
    cfg.stages.forEach((st, si) => {
      if (stride === 8) at8.push(si);
      stride *= st.stride;
    });
    this.tapStages = at8.slice(0, 2);
    const tapC = this.tapStages.map((si) => ins[si]);
    this.tapChannels = [tapC[0] ?? c, tapC[1] ?? c];
  }

  /** Forward pass on normalised NHWC images; the taps are only kept when `withTaps`. */
  apply(x: tf.Tensor4D, ctx: ForwardContext, withTaps = false): BackboneOutput {
    ensureEngine('ResidualBackbone');
    let h = this.stem.apply(x);
    const taps: tf.Tensor4D[] = [];
    this.stages.forEach((blocks, si) => {
      blocks.forEach((block, bi) => {
        const { y, pre } = block.apply(h, ctx);
        if (bi === 0 && withTaps && this.tapStages.includes(si)) taps.push(pre);
        h = y;
      });
    });
    const features = tf.relu(this.bnOut.apply(h, ctx));
    while (taps.length < 2) taps.push(features);
    return { features, taps: taps as [tf.Tensor4D, tf.Tensor4D] };
  }
}
