/**
 * The AffinityNet training stage (`hfpl train-aff`, METHOD 3.5): images of a split with the
 * confident labels of their two CRF maps (`<crf>/alpha1/<id>.png`, `<crf>/alpha24/<id>.png`),
 * augmented together (colour jitter, crop, flip: no resize, as arvijj/hfpl train_aff_voc.py:52-69);
 * pair targets within `radius` on the stride-8 grid (`src/infer/aff-labels.ts`): by default
 * from the CRF score maps (`<crf>/alpha1/<id>.npy` and `alpha24/`, the crf stage with `saveScores`) pooled
 * 8 x 8 and argmaxed per cell as the reference (voc12/data.py:232-256); `targets: 'nearest'`
 * uses the label PNGs downsampled nearest. Loss bg/4 + fg/4 + neg/2 (`affinityPairLoss`).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { HfplError } from '../errors.js';
import { readLabelPng } from '../data/label-png.js';
import { readFileSync } from 'node:fs';
import { decodeNpy } from '../util/npy.js';
import { readVocSplit } from '../data/voc.js';
import { confidentLabels, extractPairLabels, pairOffsets, pairWindow, resizeLabelsNearest, type ScoreMap } from '../infer/aff-labels.js';
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
  /**
   * 'pooled': grid labels from the CRF score maps, 8 x 8 average-pooled and argmaxed per cell
   * (the reference, voc12/data.py:232-256); 'nearest': from the label PNGs, one pixel per cell.
   */
  targets: z.enum(['pooled', 'nearest']),
});
export type TrainAffConfig = z.output<typeof trainAffConfigSchema>;

// arvijj/hfpl train_aff_voc.py: batch 8 (:22), 8 epochs (:23), lr 0.01 (:25), wd 5e-4 (:27),
// crop 448 (:31), radius 5 (:51), transforms colour jitter / crop / flip only (:52-69), groups
// 1x / 2x / 10x / 20x (:81-86). PolyOptimizer passes weight_decay as SGD's positional momentum
// (tool/torchutils.py:12-13: `super().__init__(params, lr, weight_decay)`), so momentum is 5e-4
// and its `momentum` 0.9 is the poly power (:25). All BN frozen (network/resnet38d.py:206-211;
// the resnet38 preset has frozenBn).
const reference: TrainAffConfig = {
  seed: 0,
  radius: 5,
  split: 'train',
  targets: 'pooled',
  model: { backbone: 'resnet38', pretrained: null },
  data: { crop: 448, resizeLong: null, flip: true, colorJitter: { brightness: 0.3, contrast: 0.3, saturation: 0.3, hue: 0.1 } },
  optim: { lr: 0.01, power: 0.9, momentum: 5e-4, weightDecay: 5e-4, newLayerLrMult: 10 },
  batchSize: 8,
  steps: 10582,
  checkpointEvery: 500,
  logEvery: 10,
};

/**
 * The cpu preset's optimiser departs from the reference's: lr 0.02 (0.01), new layers 1x
 * (10x / 20x), momentum 0.9 (5e-4), for 300 steps instead of 10.5k. Kept from the first
 * pipeline commit (31e751a). Measured in issue 13 on the demo's --full CRF targets (baseline,
 * 300 steps, random walk on the first 200 training images, mIoU / contour F): 31.6 / 10.2 and
 * 33.6 / 10.4 (seeds 0, 1) against 25.8 / 8.2 and 27.8 / 8.7 with the reference values (lr 0.01,
 * 10x, momentum 5e-4, frozen BN), which under-train in 300 steps (final loss 0.41 against 0.31).
 */
const CPU_AFF_OPTIM: TrainAffConfig['optim'] = { lr: 0.02, power: 0.9, momentum: 0.9, weightDecay: 5e-4, newLayerLrMult: 1 };

/**
 * `reference`: the reference's AffinityNet training (ResNet-38, crop 448, lr 0.01, new layers
 * 10x / 20x, momentum 5e-4, frozen BN, batch 8, 8 epochs of trainaug, no resize, pooled
 * targets). `cpu` (default): the small backbone (initialise it from the CAM run with
 * `model.pretrained`), crop 128, 300 steps; its optimiser departures are written beside the
 * values (README "Departures from the reference").
 */
export const trainAffPresets: Readonly<Record<'reference' | 'cpu', TrainAffConfig>> = Object.freeze({
  reference,
  cpu: {
    ...reference,
    model: { backbone: 'small', pretrained: null },
    data: { ...reference.data, crop: 128 },
    // Departure: lr 0.02, new layers 1x, momentum 0.9 (see CPU_AFF_OPTIM for the measured reason).
    optim: CPU_AFF_OPTIM,
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
  const [n, H0, W0] = images.shape;
  const feats = model.forward(images, ctx);
  const [, h, w] = feats.shape;
  // Pooled targets (score samples) come on the grid already; pixel labels are resized nearest.
  const onGrid = labels.length === n * h * w;
  const H = onGrid ? h : H0, W = onGrid ? w : W0;
  const D = pairOffsets(radius).length;
  const { height: ch, width: cw } = pairWindow(h, w, radius);
  const P = ch * cw;
  const bg = new Float32Array(n * D * P), fg = new Float32Array(n * D * P), neg = new Float32Array(n * D * P);
  for (let b = 0; b < n; b++) {
    const own = { data: labels.subarray(b * H * W, (b + 1) * H * W), width: W, height: H };
    const grid = onGrid ? own : resizeLabelsNearest(own, w, h);
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
  /** Folder with `alpha1/<id>.npy|png` and `alpha24/<id>.npy|png` (the crf stage's output). */
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

/** Reads a CRF score file (`<id>.npy`, float32 C x H x W). */
export function readScoreMap(path: string): ScoreMap {
  const { data, shape } = decodeNpy(readFileSync(path), path);
  if (!(data instanceof Float32Array) || shape.length !== 3) throw new HfplError('E_DATA', `${path}: expected float32 CRF scores of shape [C, H, W], got ${data.constructor.name} [${shape}]`);
  return { data, channels: shape[0], height: shape[1], width: shape[2] };
}

/**
 * Training samples of a split whose labels come from two CRF folders (checked up front):
 * with `pooled`, the score files `<id>.npy` (the crf stage's `saveScores`), else the label PNGs.
 */
export function crfPairSamples(data: string, split: string, lowDir: string, highDir: string, pooled = false): { samples: LabelSample[]; classNames: string[] } {
  const ds = readVocSplit(data, split);
  const ext = pooled ? 'npy' : 'png';
  const samples = ds.samples.map((s): LabelSample => {
    const lo = join(lowDir, `${s.id}.${ext}`), hi = join(highDir, `${s.id}.${ext}`);
    for (const p of [lo, hi]) {
      if (!existsSync(p)) throw new HfplError('E_IO', `${p}: CRF ${pooled ? 'score map (run the crf stage with scores saved, or train-aff with targets "nearest")' : 'label map'} not found (id ${s.id} is listed in split '${split}')`);
    }
    if (pooled) {
      const loadScores = async () => ({ low: readScoreMap(lo), high: readScoreMap(hi) });
      return { id: s.id, imagePath: s.imagePath, loadScores, loadLabels: () => Promise.reject(new HfplError('E_ARG', `${s.id}: pooled sample has scores, not labels`)) };
    }
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
  const { samples, classNames } = crfPairSamples(opts.data, cfg.split, join(opts.crf, opts.lowDir ?? 'alpha1'), join(opts.crf, opts.highDir ?? 'alpha24'), cfg.targets === 'pooled');
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
