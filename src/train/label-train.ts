/**
 * The training loop shared by AffinityNet (`train-aff`) and the segmentation network
 * (`train-seg`): both learn from images with per-pixel labels. Like `train-cam.ts` (the run
 * setup is shared, `run-setup.ts`):
 * poly-LR SGD with the parameter groups of METHOD 3.1, metrics, atomic checkpoints and a
 * bit-exact resume, and the same run-folder layout (see `checkpoint.ts`):
 * `config.json`, `metrics.jsonl`, `checkpoints/step-<n>/`, `model.json` + `weights.bin`, `DONE`.
 */
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { HfplError } from '../errors.js';
import type { ForwardContext } from '../models/layers.js';
import { JsonlWriter, silentReporter, type ProgressReporter } from '../util/progress.js';
import { saveCheckpoint, type TrainState } from './checkpoint.js';
import { augmentOptionsShape, modelOptionsSchema, optimOptionsSchema, seedSchema } from './config.js';
import { LabelBatchLoader, type LabelSample } from './label-batches.js';
import { buildOptimizer, finishRun, prepareRunDir, restoreOrInit, sgdStep, type RunResult, type TrainableModel } from './run-setup.js';

export type { TrainableModel } from './run-setup.js';

/** Options common to both label-supervised trainings (defaults: see each stage's presets). */
export const labelTrainBaseSchema = z.strictObject({
  seed: seedSchema,
  model: modelOptionsSchema,
  data: z.strictObject({
    /** Square training crop (pixels, a multiple of 8). */
    crop: z.number().int().min(32).refine((c) => c % 8 === 0, 'must be a multiple of 8'),
    ...augmentOptionsShape,
  }),
  optim: optimOptionsSchema,
  batchSize: z.number().int().positive(),
  /** Total optimisation steps. */
  steps: z.number().int().positive(),
  /** Checkpoint every this many steps (0 = never; the final weights are always written). */
  checkpointEvery: z.number().int().min(0),
  logEvery: z.number().int().positive(),
});
export type LabelTrainBase = z.output<typeof labelTrainBaseSchema>;

/** The loss of one batch: images N x crop x crop x 3 and labels N x crop x crop (255 ignore). */
export type LabelLossFn<M> = (model: M, images: tf.Tensor4D, labels: Uint8Array, ctx: ForwardContext) => { total: tf.Scalar; parts: Record<string, tf.Scalar> };

/** What a finished run reports (also `<run>/DONE`). */
export type LabelTrainResult = RunResult;

/** Options of `runLabelTraining`. */
export interface LabelTrainOptions<M extends TrainableModel> {
  /** Stage name for progress and errors, e.g. "train-aff". */
  name: string;
  out: string;
  config: LabelTrainBase;
  /** The full config written to config.json and compared on --resume. */
  fullConfig: Record<string, unknown>;
  model: M;
  /** Model metadata saved in model.json's `hfpl` field. */
  meta: Record<string, unknown>;
  samples: LabelSample[];
  loss: LabelLossFn<M>;
  /** Continue from the newest checkpoint (default false). */
  resume?: boolean;
  /** Overwrite an existing run (default false). */
  force?: boolean;
  log?: (line: string) => void;
}

/** Trains `opts.model` on the samples; see the module comment. Progress in images. */
export async function runLabelTraining<M extends TrainableModel>(opts: LabelTrainOptions<M>, reporter: ProgressReporter = silentReporter): Promise<LabelTrainResult> {
  const { config: cfg, model, out: run } = opts;
  const log = opts.log ?? (() => {});
  prepareRunDir(run, opts.fullConfig, { resume: opts.resume ?? false, force: opts.force ?? false });
  const loader = new LabelBatchLoader(opts.samples, {
    batchSize: cfg.batchSize, seed: cfg.seed,
    augment: { crop: cfg.data.crop, resizeLong: cfg.data.resizeLong, flip: cfg.data.flip, colorJitter: cfg.data.colorJitter },
  });
  const meta = { ...opts.meta, mean: [...loader.augment.mean], std: [...loader.augment.std] };
  const perEpoch = loader.batchesPerEpoch;
  const maxSteps = cfg.steps;
  const { trainable, opt } = buildOptimizer(model, cfg.optim, maxSteps);
  try {
    let state: TrainState = await restoreOrInit(model.store, opt, {
      run, resume: opts.resume ?? false, maxSteps, pretrained: cfg.model.pretrained, config: opts.fullConfig, log,
      logPrefix: `${opts.name}: `, pretrainedLabel: 'backbone', ignoreUnexpected: true,
    });
    const metrics = new JsonlWriter(join(run, 'metrics.jsonl'));
    const varList = trainable.map((p) => p.variable);
    const startStep = state.step, total = maxSteps * cfg.batchSize;
    reporter.start(opts.name, total, 'img');
    reporter.step({ done: startStep * cfg.batchSize, total });
    const t0 = performance.now();
    let lastLoss = NaN;
    if (state.step < maxSteps) {
      for await (const batch of loader.batches(state.epoch, state.batch)) {
        const step = state.step;
        const { loss: lossVal, parts } = await sgdStep(opt, step, varList, (ctx) => opts.loss(model, batch.images, batch.labels, ctx), cfg.seed);
        batch.images.dispose();
        if (!Number.isFinite(lossVal)) throw new HfplError('E_RUN', `${run}: loss is ${lossVal} at step ${step + 1}; lower optim.lr`);
        lastLoss = lossVal;
        const next = batch.index + 1;
        state = { step: step + 1, epoch: next >= perEpoch ? batch.epoch + 1 : batch.epoch, batch: next >= perEpoch ? 0 : next };
        if (state.step % cfg.logEvery === 0 || state.step === maxSteps) metrics.write({ step: state.step, epoch: batch.epoch, lr: opt.lrAt(step), loss: lossVal, ...parts });
        reporter.step({ done: state.step * cfg.batchSize, total, info: { loss: lossVal } });
        if (state.step >= maxSteps) break;
        if (cfg.checkpointEvery > 0 && state.step % cfg.checkpointEvery === 0) await saveCheckpoint(run, state, model.store.namedTensors(), opt.state(), meta);
      }
    }
    const seconds = (performance.now() - t0) / 1000;
    const imagesPerSec = ((state.step - startStep) * cfg.batchSize) / Math.max(1e-9, seconds);
    const result: LabelTrainResult = { run, steps: state.step, startStep, seconds, imagesPerSec, finalLoss: lastLoss };
    return await finishRun(run, model.store, meta, result, reporter);
  } finally {
    opt.dispose();
  }
}
