/**
 * The final segmentation training stage (`hfpl train-seg`, METHOD 3.6): a DeepLab-style
 * network trained with cross-entropy (ignore 255) on pseudo-label PNGs `<labels>/<id>.png` of
 * a split, poly learning rate; labels are downsampled (nearest) to the stride-8 logits, as in
 * DeepLab-v2.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { HfplError } from '../errors.js';
import { readLabelPng } from '../data/label-png.js';
import { readVocSplit } from '../data/voc.js';
import { resizeLabelsNearest } from '../infer/aff-labels.js';
import { backbonePresets } from '../models/backbone.js';
import { DeepLab, segmentationLoss } from '../models/deeplab.js';
import type { ForwardContext } from '../models/layers.js';
import { silentReporter, type ProgressReporter } from '../util/progress.js';
import type { LabelSample } from './label-batches.js';
import { resolveStageConfig } from './config.js';
import { labelTrainBaseSchema, runLabelTraining, type LabelTrainResult } from './label-train.js';

/** Every option of `train-seg`. */
export const trainSegConfigSchema = labelTrainBaseSchema.extend({
  /** 'aspp' (DeepLab-v2) or 'largefov' (DeepLab-v1). */
  head: z.enum(['aspp', 'largefov']),
  /** Split whose images and pseudo-labels are used. */
  split: z.string().min(1),
});
export type TrainSegConfig = z.output<typeof trainSegConfigSchema>;

const reference: TrainSegConfig = {
  seed: 0,
  head: 'aspp',
  split: 'train',
  model: { backbone: 'resnet38', pretrained: null },
  data: { crop: 321, resizeLong: null, flip: true, colorJitter: null },
  optim: { lr: 0.001, power: 0.9, momentum: 0.9, weightDecay: 5e-4, newLayerLrMult: 10 },
  batchSize: 10,
  steps: 20000,
  checkpointEvery: 1000,
  logEvery: 10,
};

/**
 * `reference`: DeepLab-v2's VOC schedule (batch 10, lr 1e-3, 20k steps; crop 328 here as the
 * crop must be a multiple of 8). `cpu` (default): the small backbone (initialise it from the
 * CAM run with `model.pretrained`), crop 128, lr 0.02, new layers at 1x, 600 steps (on the
 * synthetic benchmark 200 steps learn only the background prior; 600 steps on GT masks reach
 * 35 % val mIoU).
 */
export const trainSegPresets: Readonly<Record<'reference' | 'cpu', TrainSegConfig>> = Object.freeze({
  reference: { ...reference, data: { ...reference.data, crop: 328 } },
  cpu: {
    ...reference,
    model: { backbone: 'small', pretrained: null },
    data: { crop: 128, resizeLong: [112, 160], flip: true, colorJitter: null },
    optim: { ...reference.optim, lr: 0.02, newLayerLrMult: 1 },
    batchSize: 8,
    steps: 600,
    checkpointEvery: 100,
  },
});

/** Resolves a train-seg config: preset (default 'cpu') <- file <- overrides. */
export function resolveTrainSegConfig(opts: { preset?: string; file?: string; overrides?: Record<string, unknown> } = {}): TrainSegConfig {
  return resolveStageConfig(trainSegConfigSchema, trainSegPresets, opts);
}

/** Cross-entropy of one batch against labels downsampled (nearest) to the logits grid. */
export function segmentationBatchLoss(model: DeepLab, images: tf.Tensor4D, labels: Uint8Array, ctx: ForwardContext): { total: tf.Scalar; parts: Record<string, tf.Scalar> } {
  const [n, H, W] = images.shape;
  const logits = model.forward(images, ctx);
  const [, h, w] = logits.shape;
  const grid = new Int32Array(n * h * w);
  for (let b = 0; b < n; b++) {
    const g = resizeLabelsNearest({ data: labels.subarray(b * H * W, (b + 1) * H * W), width: W, height: H }, w, h);
    for (let i = 0; i < h * w; i++) {
      const v = g.data[i];
      if (v !== 255 && v >= model.numClasses) throw new HfplError('E_DATA', `label ${v} is not a class of the ${model.numClasses}-class model`);
      grid[b * h * w + i] = v;
    }
  }
  return { total: segmentationLoss(logits, tf.tensor3d(grid, [n, h, w], 'int32')), parts: {} };
}

/** Options of `runTrainSeg`. */
export interface TrainSegOptions {
  /** VOC-layout dataset folder. */
  data: string;
  /** Folder of pseudo-label PNGs `<id>.png` (e.g. the infer-aff stage's output). */
  labels: string;
  out: string;
  config: TrainSegConfig;
  resume?: boolean;
  force?: boolean;
  log?: (line: string) => void;
}

/**
 * Trains the segmentation network; the run folder is laid out as train-cam's.
 *
 * @example
 * await runTrainSeg({ data: 'data/synth', labels: 'runs/rw', out: 'runs/seg', config: resolveTrainSegConfig() });
 */
export async function runTrainSeg(opts: TrainSegOptions, reporter: ProgressReporter = silentReporter): Promise<LabelTrainResult> {
  const cfg = opts.config;
  const ds = readVocSplit(opts.data, cfg.split);
  const samples = ds.samples.map((s): LabelSample => {
    const p = join(opts.labels, `${s.id}.png`);
    if (!existsSync(p)) throw new HfplError('E_IO', `${p}: pseudo-label not found (id ${s.id} is listed in split '${cfg.split}')`);
    return { id: s.id, imagePath: s.imagePath, loadLabels: async () => readLabelPng(p) };
  });
  const layout = typeof cfg.model.backbone === 'string' ? backbonePresets[cfg.model.backbone] : cfg.model.backbone;
  const model = new DeepLab({ numClasses: ds.classNames.length, head: cfg.head, backbone: cfg.model.backbone }, cfg.seed);
  try {
    return await runLabelTraining({
      name: 'train-seg', out: opts.out, config: cfg, fullConfig: cfg as unknown as Record<string, unknown>, model,
      meta: { model: { ...model.config, backbone: layout }, classNames: [...ds.classNames] },
      samples, loss: segmentationBatchLoss, resume: opts.resume, force: opts.force, log: opts.log,
    }, reporter);
  } finally {
    model.dispose();
  }
}
