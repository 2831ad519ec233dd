/**
 * The CAM training stage (`hfpl train-cam`, METHOD 3.1): builds the network, runs poly-LR SGD
 * over augmented batches, logs metrics, checkpoints atomically and resumes bit-exactly: data
 * order and augmentation depend only on (seed, epoch, index), the importance sampling only on
 * (seed, step), and a checkpoint holds weights, BN statistics and momentum buffers.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { HfplError } from '../errors.js';
import { Rng } from '../engine/random.js';
import { BatchLoader, disposeBatch } from '../data/loader.js';
import { readVocSplit } from '../data/voc.js';
import { CamNet, backboneLayout, type CamModelConfig } from '../models/cam-net.js';
import type { CamModelMeta } from '../models/load-model.js';
import { SeamNet } from '../models/seam-net.js';
import { applyBnUpdates, type BnUpdate } from '../models/layers.js';
import { assignWeights, describeReport, readWeights, saveWeights } from '../models/weights-io.js';
import { writeFileAtomic, writeFileAtomicSync } from '../util/atomic-write.js';
import { JsonlWriter, silentReporter, type ProgressReporter } from '../util/progress.js';
import { camStepLoss, type StepLoss } from './cam-step.js';
import { seamStepLoss } from './seam-step.js';
import { checkpointsDir, isRunFinished, loadLatestCheckpoint, saveCheckpoint, type TrainState } from './checkpoint.js';
import { trainCamConfigSchema, type TrainCamConfig } from './config.js';
import { PolySgd, paramGroups } from './sgd.js';

/** Options of `runTrainCam`. */
export interface TrainCamOptions {
  /** VOC-layout dataset folder. */
  data: string;
  /** Run folder (created). */
  out: string;
  /** Resolved config (see `resolveTrainCamConfig`). */
  config: TrainCamConfig;
  /** Continue from the newest checkpoint of `out`. Default false. */
  resume?: boolean;
  /** Overwrite a finished or unfinished run in `out`. Default false. */
  force?: boolean;
  /** Notes (e.g. the pretrained-weights report) go here; default none. */
  log?: (line: string) => void;
}

/** What a finished training run reports (also written to `<run>/DONE`). */
export interface TrainCamResult {
  run: string;
  steps: number;
  /** Step this process started from (0, or the checkpoint's step with --resume). */
  startStep: number;
  seconds: number;
  /** Training images per second in this process. */
  imagesPerSec: number;
  finalLoss: number;
  numClasses: number;
}

/** Files of a run that --force removes (nothing else in the folder is touched). */
const RUN_FILES = ['config.json', 'metrics.jsonl', 'model.json', 'weights.bin', 'DONE'];

/** 32-bit seed of the importance sampling at a step. */
export function islSeed(seed: number, step: number): number {
  return new Rng((Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(step + 1, 0x85ebca6b)) >>> 0).nextUint32();
}

function prepareRunDir(run: string, config: TrainCamConfig, resume: boolean, force: boolean): void {
  if (force) {
    for (const f of RUN_FILES) rmSync(join(run, f), { force: true });
    rmSync(checkpointsDir(run), { recursive: true, force: true });
    return;
  }
  if (isRunFinished(run)) throw new HfplError('E_RUN', `${run}: holds a finished run; use --force to overwrite it`);
  const cfgPath = join(run, 'config.json');
  if (!resume) {
    if (existsSync(cfgPath) || existsSync(checkpointsDir(run))) {
      throw new HfplError('E_RUN', `${run}: holds an unfinished run; use --resume to continue it or --force to start over`);
    }
    return;
  }
  if (existsSync(cfgPath)) {
    const saved = trainCamConfigSchema.safeParse(JSON.parse(readFileSync(cfgPath, 'utf8')));
    if (!saved.success) throw new HfplError('E_RUN', `${cfgPath}: not a valid training config; use --force to start over`);
    const a = JSON.stringify(saved.data), b = JSON.stringify(config);
    if (a !== b) {
      const key = (Object.keys(config) as (keyof TrainCamConfig)[]).find((k) => JSON.stringify(saved.data[k]) !== JSON.stringify(config[k]));
      throw new HfplError('E_RUN', `${run}: --resume with a different config (option "${String(key)}" differs from config.json); use the same options or --force`);
    }
  }
}

/** Keeps only metric lines of steps <= `step` (after a resume). */
function truncateMetrics(path: string, step: number): void {
  if (!existsSync(path)) return;
  const lines = readFileSync(path, 'utf8').split('\n').filter((l) => l.trim().length > 0);
  const kept = lines.filter((l) => {
    try {
      return (JSON.parse(l) as { step: number }).step <= step;
    } catch {
      return false;
    }
  });
  writeFileAtomicSync(path, kept.map((l) => l + '\n').join(''));
}

/**
 * Trains a CAM network; see the module comment. Progress goes to `reporter` in images.
 *
 * @example
 * const cfg = resolveTrainCamConfig({ overrides: { seed: 1 } });
 * const r = await runTrainCam({ data: 'data/synth', out: 'runs/cam', config: cfg });
 * // { steps: 1000, imagesPerSec: 41.5, finalLoss: 0.12, ... }
 */
export async function runTrainCam(opts: TrainCamOptions, reporter: ProgressReporter = silentReporter): Promise<TrainCamResult> {
  const cfg = opts.config;
  const run = opts.out;
  const log = opts.log ?? (() => {});
  prepareRunDir(run, cfg, opts.resume ?? false, opts.force ?? false);

  const split = readVocSplit(opts.data, cfg.data.split);
  const K = split.classNames.length - 1;
  const loader = new BatchLoader(split, {
    batchSize: cfg.batchSize,
    seed: cfg.seed,
    augment: {
      crop: cfg.data.crop, resizeLong: cfg.data.resizeLong, flip: cfg.data.flip, colorJitter: cfg.data.colorJitter,
      keepRaw: cfg.fslWeight > 0,
    },
  });
  const perEpoch = loader.batchesPerEpoch;
  const maxSteps = cfg.steps ?? cfg.epochs * perEpoch;

  const modelCfg = { head: cfg.baseline, numClasses: K, backbone: cfg.model.backbone };
  const model = cfg.baseline === 'seam' ? new SeamNet(modelCfg, cfg.seed) : new CamNet(modelCfg, cfg.seed);
  const meta: CamModelMeta = {
    model: { ...model.config, backbone: backboneLayout(model.config) as CamModelConfig['backbone'] },
    classNames: [...split.classNames],
    mean: [...loader.augment.mean],
    std: [...loader.augment.std],
  };
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
      log(`resuming from ${ckpt.dir} (step ${state.step} of ${maxSteps})`);
    } else {
      if (cfg.model.pretrained) {
        const r = assignWeights(model.store, readWeights(cfg.model.pretrained), { strict: false, prefix: 'backbone.' }, cfg.model.pretrained);
        if (r.loaded.length === 0) throw new HfplError('E_DATA', `${cfg.model.pretrained}: no backbone weights match the model (${describeReport(r)})`);
        log(`pretrained backbone from ${cfg.model.pretrained}: ${r.loaded.length} weights loaded${r.missing.length + r.unexpected.length + r.misShaped.length ? `; ${describeReport(r)}` : ''}`);
      }
      rmSync(join(run, 'metrics.jsonl'), { force: true });
      await writeFileAtomic(join(run, 'config.json'), JSON.stringify(cfg, null, 2) + '\n');
    }
    const metrics = new JsonlWriter(join(run, 'metrics.jsonl'));
    const varList = trainable.map((p) => p.variable);
    const startStep = state.step;
    const total = maxSteps * cfg.batchSize;
    reporter.start(`train-cam ${cfg.baseline} isl ${cfg.islWeight} fsl ${cfg.fslWeight}`, total, 'img');
    reporter.step({ done: startStep * cfg.batchSize, total });
    const t0 = performance.now();
    let lastLoss = NaN;
    let logT = t0, logStep = startStep;
    if (state.step < maxSteps) {
      for await (const batch of loader.batches({ startEpoch: state.epoch, startBatch: state.batch })) {
        const step = state.step;
        const bnUpdates: BnUpdate[] = [];
        const ctx = { training: true, bnUpdates };
        let kept: Record<string, tf.Scalar> = {};
        const { value, grads } = tf.variableGrads(() => {
          const inp = { images: batch.images, raw: batch.raw, labels: batch.labels, islSeed: islSeed(cfg.seed, step) };
          const l: StepLoss = model instanceof SeamNet ? seamStepLoss(model, inp, cfg, ctx) : camStepLoss(model, inp, cfg, ctx);
          kept = Object.fromEntries(Object.entries(l.parts).map(([k, v]) => [k, tf.keep(v)]));
          return l.total;
        }, varList);
        opt.step(step, grads);
        applyBnUpdates(bnUpdates);
        const lossVal = (await value.data())[0];
        const partVals = Object.fromEntries(Object.entries(kept).map(([k, v]) => [k, v.dataSync()[0]]));
        tf.dispose([value, ...Object.values(grads), ...Object.values(kept)]);
        disposeBatch(batch);
        if (!Number.isFinite(lossVal)) throw new HfplError('E_RUN', `${run}: loss is ${lossVal} at step ${step + 1}; lower optim.lr`);
        lastLoss = lossVal;

        const next = batch.index + 1;
        state = { step: step + 1, epoch: next >= perEpoch ? batch.epoch + 1 : batch.epoch, batch: next >= perEpoch ? 0 : next };
        const now = performance.now();
        if (state.step % cfg.logEvery === 0 || state.step === maxSteps) {
          const ips = ((state.step - logStep) * cfg.batchSize) / Math.max(1e-9, (now - logT) / 1000);
          metrics.write({ step: state.step, epoch: batch.epoch, lr: opt.lrAt(step), loss: lossVal, ...partVals, imagesPerSec: Number(ips.toFixed(2)) });
          logT = now;
          logStep = state.step;
        }
        reporter.step({ done: state.step * cfg.batchSize, total, info: { loss: lossVal } });
        if (state.step >= maxSteps) break;
        const epochEnd = state.batch === 0;
        if (epochEnd || (cfg.checkpointEvery > 0 && state.step % cfg.checkpointEvery === 0)) {
          await saveCheckpoint(run, state, model.store.namedTensors(), opt.state(), meta);
        }
      }
    }
    const seconds = (performance.now() - t0) / 1000;
    const imagesPerSec = ((state.step - startStep) * cfg.batchSize) / Math.max(1e-9, seconds);
    await saveWeights(run, model.store.namedTensors(), meta);
    const result: TrainCamResult = { run, steps: state.step, startStep, seconds, imagesPerSec, finalLoss: lastLoss, numClasses: K };
    await writeFileAtomic(join(run, 'DONE'), JSON.stringify(result, null, 2) + '\n');
    reporter.end({ 'img/s': Number(imagesPerSec.toFixed(1)), loss: lastLoss });
    return result;
  } finally {
    opt.dispose();
    model.dispose();
  }
}
