/**
 * The AffinityNet training stage (`hfpl train-aff`, METHOD 3.5): images of a split with the
 * confident labels of their two CRF maps (`<crf>/alpha1/<id>.png`, `<crf>/alpha24/<id>.png`),
 * augmented together; pair targets within `radius` on the stride-8 grid
 * (`src/infer/aff-labels.ts`); loss bg/4 + fg/4 + neg/2 (`affinityPairLoss`).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { HfplError } from '../errors.js';
import { readLabelPng } from '../data/label-png.js';
import { readVocSplit } from '../data/voc.js';
import { confidentLabels, extractPairLabels, pairOffsets, pairWindow, resizeLabelsNearest } from '../infer/aff-labels.js';
import { affinityPairLoss } from '../losses/affinity.js';
import { AffinityNet, pairAffinities } from '../models/affinity-net.js';
import { backbonePresets } from '../models/backbone.js';
import type { ForwardContext } from '../models/layers.js';
import { silentReporter, type ProgressReporter } from '../util/progress.js';
import { resolveStageConfig } from './config.js';
import { labelTrainBaseSchema, runLabelTraining, type LabelTrainResult } from './label-train.js';
import type { LabelSample } from './label-batches.js';

/** Every option of `train-aff`. */
export const trainAffConfigSchema = labelTrainBaseSchema.extend({
  /** Pair radius on the stride-8 grid (pairs with distance < radius). METHOD 3.5: 5. */
  radius: z.number().int().min(2).max(16),
  /** Split whose images and CRF maps are used. */
  split: z.string().min(1),
});
export type TrainAffConfig = z.output<typeof trainAffConfigSchema>;

const reference: TrainAffConfig = {
  seed: 0,
  radius: 5,
  split: 'train',
  model: { backbone: 'resnet38', pretrained: null },
  data: { crop: 448, resizeLong: [448, 768], flip: true, colorJitter: { brightness: 0.3, contrast: 0.3, saturation: 0.3, hue: 0.1 } },
  optim: { lr: 0.1, power: 0.9, momentum: 0.9, weightDecay: 5e-4, newLayerLrMult: 10 },
  batchSize: 8,
  steps: 10582,
  checkpointEvery: 500,
  logEvery: 10,
};

/**
 * `reference`: the reference's AffinityNet training (ResNet-38, crop 448, lr 0.1, batch 8,
 * 8 epochs of trainaug). `cpu` (default): the small backbone (initialise it from the CAM run
 * with `model.pretrained`), crop 128, lr 0.02, new layers at 1x, 300 steps.
 */
export const trainAffPresets: Readonly<Record<'reference' | 'cpu', TrainAffConfig>> = Object.freeze({
  reference,
  cpu: {
    ...reference,
    model: { backbone: 'small', pretrained: null },
    data: { ...reference.data, crop: 128, resizeLong: [112, 160] },
    optim: { ...reference.optim, lr: 0.02, newLayerLrMult: 1 },
    steps: 300,
    checkpointEvery: 100,
  },
});

/** Resolves a train-aff config: preset (default 'cpu') <- file <- overrides. */
export function resolveTrainAffConfig(opts: { preset?: string; file?: string; overrides?: Record<string, unknown> } = {}): TrainAffConfig {
  return resolveStageConfig(trainAffConfigSchema, trainAffPresets, opts);
}

/**
 * The loss of one batch: affinities of the radius pairs against the pair targets of the
 * labels downsampled (nearest) to the feature grid.
 */
export function affinityBatchLoss(model: AffinityNet, images: tf.Tensor4D, labels: Uint8Array, radius: number, ctx: ForwardContext): { total: tf.Scalar; parts: Record<string, tf.Scalar> } {
  const [n, H, W] = images.shape;
  const feats = model.forward(images, ctx);
  const [, h, w] = feats.shape;
  const D = pairOffsets(radius).length;
  const { height: ch, width: cw } = pairWindow(h, w, radius);
  const P = ch * cw;
  const bg = new Float32Array(n * D * P), fg = new Float32Array(n * D * P), neg = new Float32Array(n * D * P);
  for (let b = 0; b < n; b++) {
    const grid = resizeLabelsNearest({ data: labels.subarray(b * H * W, (b + 1) * H * W), width: W, height: H }, w, h);
    extractPairLabels(grid, radius, { bg, fg, neg, numOffsets: D, numPixels: P }, b * D * P);
  }
  const aff = pairAffinities(feats, radius);
  const shape: [number, number, number] = [n, D, P];
  const total = affinityPairLoss(aff, tf.tensor3d(bg, shape), tf.tensor3d(fg, shape), tf.tensor3d(neg, shape));
  return { total, parts: {} };
}

/** Options of `runTrainAff`. */
export interface TrainAffOptions {
  /** VOC-layout dataset folder. */
  data: string;
  /** Folder with `alpha1/<id>.png` and `alpha24/<id>.png` (the crf stage's output). */
  crf: string;
  out: string;
  config: TrainAffConfig;
  /** Low / high alpha folder names; default 'alpha1', 'alpha24'. */
  lowDir?: string;
  highDir?: string;
  resume?: boolean;
  force?: boolean;
  log?: (line: string) => void;
}

/** Training samples of a split whose labels come from two CRF folders (checked up front). */
export function crfPairSamples(data: string, split: string, lowDir: string, highDir: string): { samples: LabelSample[]; classNames: string[] } {
  const ds = readVocSplit(data, split);
  const samples = ds.samples.map((s): LabelSample => {
    const lo = join(lowDir, `${s.id}.png`), hi = join(highDir, `${s.id}.png`);
    for (const p of [lo, hi]) if (!existsSync(p)) throw new HfplError('E_IO', `${p}: CRF label map not found (id ${s.id} is listed in split '${split}')`);
    return { id: s.id, imagePath: s.imagePath, loadLabels: async () => confidentLabels(readLabelPng(lo), readLabelPng(hi), { low: lo, high: hi }) };
  });
  return { samples, classNames: [...ds.classNames] };
}

/**
 * Trains AffinityNet; the run folder is laid out as train-cam's.
 *
 * @example
 * const config = resolveTrainAffConfig({ overrides: { model: { pretrained: 'runs/cam/model.json' } } });
 * await runTrainAff({ data: 'data/synth', crf: 'runs/crf', out: 'runs/aff', config });
 */
export async function runTrainAff(opts: TrainAffOptions, reporter: ProgressReporter = silentReporter): Promise<LabelTrainResult> {
  const cfg = opts.config;
  const { samples, classNames } = crfPairSamples(opts.data, cfg.split, join(opts.crf, opts.lowDir ?? 'alpha1'), join(opts.crf, opts.highDir ?? 'alpha24'));
  const model = new AffinityNet({ backbone: cfg.model.backbone }, cfg.seed);
  const layout = typeof cfg.model.backbone === 'string' ? backbonePresets[cfg.model.backbone] : cfg.model.backbone;
  try {
    return await runLabelTraining({
      name: 'train-aff', out: opts.out, config: cfg, fullConfig: cfg as unknown as Record<string, unknown>, model,
      meta: { model: { kind: 'affinity', backbone: layout }, radius: cfg.radius, classNames },
      samples, loss: (m, images, labels, ctx) => affinityBatchLoss(m, images, labels, cfg.radius, ctx),
      resume: opts.resume, force: opts.force, log: opts.log,
    }, reporter);
  } finally {
    model.dispose();
  }
}
