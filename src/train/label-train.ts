/**
 * The training loop shared by AffinityNet (`train-aff`) and the segmentation network
 * (`train-seg`): both learn from images with per-pixel labels. It mirrors `train-cam.ts`:
 * poly-LR SGD with the parameter groups of METHOD 3.1, metrics, atomic checkpoints and a
 * bit-exact resume, and the same run-folder layout (see `checkpoint.ts`):
 * `config.json`, `metrics.jsonl`, `checkpoints/step-<n>/`, `model.json` + `weights.bin`, `DONE`.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { HfplError } from '../errors.js';
import { backboneConfigSchema } from '../models/backbone.js';
import { applyBnUpdates, type BnUpdate, type ForwardContext } from '../models/layers.js';
import type { ParamStore } from '../models/params.js';
import { assignWeights, describeReport, readWeights, saveWeights } from '../models/weights-io.js';
import { writeFileAtomic, writeFileAtomicSync } from '../util/atomic-write.js';
import { JsonlWriter, silentReporter, type ProgressReporter } from '../util/progress.js';
import { checkpointsDir, isRunFinished, loadLatestCheckpoint, saveCheckpoint, type TrainState } from './checkpoint.js';
import { configIssue, mergeConfig, readConfigFile } from './config.js';
import { LabelBatchLoader, type LabelSample } from './label-batches.js';
import { PolySgd, paramGroups } from './sgd.js';

const jitter = z.strictObject({ brightness: z.number().min(0).max(1), contrast: z.number().min(0).max(1), saturation: z.number().min(0).max(1), hue: z.number().min(0).max(0.5) });

/** Options common to both label-supervised trainings (defaults: see each stage's presets). */
export const labelTrainBaseSchema = z.strictObject({
  seed: z.number().int().min(0).max(0xffffffff),
  model: z.strictObject({
    backbone: z.union([z.enum(['tiny', 'small', 'resnet38']), backboneConfigSchema]),
    /** TF.js weights file (e.g. the CAM run's model.json) whose `backbone.*` weights initialise the backbone; null = from scratch. */
    pretrained: z.string().nullable(),
  }),
  data: z.strictObject({
    /** Square training crop (pixels, a multiple of 8). */
    crop: z.number().int().min(32).refine((c) => c % 8 === 0, 'must be a multiple of 8'),
    resizeLong: z.tuple([z.number().int().positive(), z.number().int().positive()]).nullable(),
    flip: z.boolean(),
    colorJitter: jitter.nullable(),
  }),
  optim: z.strictObject({
    lr: z.number().positive(),
    power: z.number().min(0),
    momentum: z.number().min(0).max(1),
    weightDecay: z.number().min(0),
    newLayerLrMult: z.number().positive(),
  }),
  batchSize: z.number().int().positive(),
  /** Total optimisation steps. */
  steps: z.number().int().positive(),
  /** Checkpoint every this many steps (0 = never; the final weights are always written). */
  checkpointEvery: z.number().int().min(0),
  logEvery: z.number().int().positive(),
});
export type LabelTrainBase = z.output<typeof labelTrainBaseSchema>;

/**
 * Resolves a config: preset <- file <- overrides, validated by `schema` (errors name the file
 * or "options", the key and the value).
 */
export function resolveStageConfig<S extends z.ZodType>(schema: S, presets: Readonly<Record<string, z.output<S>>>, opts: { preset?: string; file?: string; overrides?: Record<string, unknown> }, defaultPreset = 'cpu'): z.output<S> {
  const name = opts.preset ?? defaultPreset;
  if (!(name in presets)) throw new HfplError('E_CONFIG', `preset "${name}" is unknown: must be one of ${Object.keys(presets).join(', ')}`);
  let merged = presets[name] as Record<string, unknown>;
  if (opts.file) {
    merged = mergeConfig(merged, readConfigFile(opts.file));
    const r = schema.safeParse(merged);
    if (!r.success) throw configIssue(opts.file, r.error, merged);
  }
  if (opts.overrides) merged = mergeConfig(merged, opts.overrides);
  const r = schema.safeParse(merged);
  if (!r.success) throw configIssue('options', r.error, merged);
  return r.data;
}

/** A model the loop can train. */
export interface TrainableModel {
  readonly store: ParamStore;
  readonly backbone: { config: { frozenBn: boolean } };
  dispose(): void;
}

/** The loss of one batch: images N x crop x crop x 3 and labels N x crop x crop (255 ignore). */
export type LabelLossFn<M> = (model: M, images: tf.Tensor4D, labels: Uint8Array, ctx: ForwardContext) => { total: tf.Scalar; parts: Record<string, tf.Scalar> };

/** What a finished run reports (also `<run>/DONE`). */
export interface LabelTrainResult {
  run: string;
  steps: number;
  startStep: number;
  seconds: number;
  imagesPerSec: number;
  finalLoss: number;
}

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

const RUN_FILES = ['config.json', 'metrics.jsonl', 'model.json', 'weights.bin', 'DONE'];

/** Checks (or clears, with force) a run folder; like train-cam's, for any config. */
export function prepareStageRunDir(run: string, config: Record<string, unknown>, resume: boolean, force: boolean): void {
  if (force) {
    for (const f of RUN_FILES) rmSync(join(run, f), { force: true });
    rmSync(checkpointsDir(run), { recursive: true, force: true });
    return;
  }
  if (isRunFinished(run)) throw new HfplError('E_RUN', `${run}: holds a finished run; use --force to overwrite it`);
  const cfgPath = join(run, 'config.json');
  if (!resume) {
    if (existsSync(cfgPath) || existsSync(checkpointsDir(run))) throw new HfplError('E_RUN', `${run}: holds an unfinished run; use --resume to continue it or --force to start over`);
    return;
  }
  if (existsSync(cfgPath)) {
    let saved: Record<string, unknown>;
    try {
      saved = JSON.parse(readFileSync(cfgPath, 'utf8')) as Record<string, unknown>;
    } catch {
      throw new HfplError('E_RUN', `${cfgPath}: unreadable; use --force to start over`);
    }
    const key = Object.keys(config).find((k) => JSON.stringify(saved[k]) !== JSON.stringify(config[k]));
    if (key !== undefined) throw new HfplError('E_RUN', `${run}: --resume with a different config (option "${key}" differs from config.json); use the same options or --force`);
  }
}

function truncateMetrics(path: string, step: number): void {
  if (!existsSync(path)) return;
  const kept = readFileSync(path, 'utf8').split('\n').filter((l) => {
    try {
      return l.trim().length > 0 && (JSON.parse(l) as { step: number }).step <= step;
    } catch {
      return false;
    }
  });
  writeFileAtomicSync(path, kept.map((l) => l + '\n').join(''));
}

/** Trains `opts.model` on the samples; see the module comment. Progress in images. */
export async function runLabelTraining<M extends TrainableModel>(opts: LabelTrainOptions<M>, reporter: ProgressReporter = silentReporter): Promise<LabelTrainResult> {
  const { config: cfg, model, out: run } = opts;
  const log = opts.log ?? (() => {});
  prepareStageRunDir(run, opts.fullConfig, opts.resume ?? false, opts.force ?? false);
  const loader = new LabelBatchLoader(opts.samples, {
    batchSize: cfg.batchSize, seed: cfg.seed,
    augment: { crop: cfg.data.crop, resizeLong: cfg.data.resizeLong, flip: cfg.data.flip, colorJitter: cfg.data.colorJitter },
  });
  const meta = { ...opts.meta, mean: [...loader.augment.mean], std: [...loader.augment.std] };
  const perEpoch = loader.batchesPerEpoch;
  const maxSteps = cfg.steps;
  const frozenBn = model.backbone.config.frozenBn;
  const trainable = model.store.trainable((p) => !(frozenBn && (p.kind === 'bnGamma' || p.kind === 'bnBeta')));
  const opt = new PolySgd(paramGroups(trainable, cfg.optim), { lr: cfg.optim.lr, momentum: cfg.optim.momentum, power: cfg.optim.power, maxSteps });
  try {
    let state: TrainState = { step: 0, epoch: 0, batch: 0 };
    const ckpt = opts.resume ? loadLatestCheckpoint(run) : null;
    if (ckpt) {
      assignWeights(model.store, ckpt.weights, { strict: true }, `${ckpt.dir}/model.json`);
      opt.loadState(ckpt.optimizer.values);
      state = ckpt.state;
      truncateMetrics(join(run, 'metrics.jsonl'), state.step);
      log(`${opts.name}: resuming from ${ckpt.dir} (step ${state.step} of ${maxSteps})`);
    } else {
      if (cfg.model.pretrained) {
        const r = assignWeights(model.store, readWeights(cfg.model.pretrained), { strict: false, prefix: 'backbone.' }, cfg.model.pretrained);
        if (r.loaded.length === 0) throw new HfplError('E_DATA', `${cfg.model.pretrained}: no backbone weights match the model (${describeReport(r)})`);
        log(`${opts.name}: backbone from ${cfg.model.pretrained}: ${r.loaded.length} weights loaded${r.missing.length + r.misShaped.length ? `; ${describeReport({ ...r, unexpected: [] })}` : ''}`);
      }
      rmSync(join(run, 'metrics.jsonl'), { force: true });
      await writeFileAtomic(join(run, 'config.json'), JSON.stringify(opts.fullConfig, null, 2) + '\n');
    }
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
        const bnUpdates: BnUpdate[] = [];
        let kept: Record<string, tf.Scalar> = {};
        const { value, grads } = tf.variableGrads(() => {
          const l = opts.loss(model, batch.images, batch.labels, { training: true, bnUpdates });
          kept = Object.fromEntries(Object.entries(l.parts).map(([k, v]) => [k, tf.keep(v)]));
          return l.total;
        }, varList);
        opt.step(step, grads);
        applyBnUpdates(bnUpdates);
        const lossVal = (await value.data())[0];
        const parts = Object.fromEntries(Object.entries(kept).map(([k, v]) => [k, v.dataSync()[0]]));
        tf.dispose([value, batch.images, ...Object.values(grads), ...Object.values(kept)]);
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
    await saveWeights(run, model.store.namedTensors(), meta);
    const result: LabelTrainResult = { run, steps: state.step, startStep, seconds, imagesPerSec, finalLoss: lastLoss };
    await writeFileAtomic(join(run, 'DONE'), JSON.stringify(result, null, 2) + '\n');
    reporter.end({ 'img/s': Number(imagesPerSec.toFixed(1)), loss: lastLoss });
    return result;
  } finally {
    opt.dispose();
  }
}
