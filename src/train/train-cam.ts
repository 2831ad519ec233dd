/**
 * The CAM training stage (`hfpl train-cam`, METHOD 3.1): builds the network, runs poly-LR SGD
 * over augmented batches, logs metrics, checkpoints atomically and resumes bit-exactly: data
 * order and augmentation depend only on (seed, epoch, index), the importance sampling only on
 * (seed, step), and a checkpoint holds weights, BN statistics and momentum buffers.
 */
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { HfplError } from '../errors.js';
import { Rng } from '../engine/random.js';
import { BatchLoader, disposeBatch } from '../data/loader.js';
import { readVocSplit } from '../data/voc.js';
import { CamNet, backboneLayout, type CamModelConfig } from '../models/cam-net.js';
import type { CamModelMeta } from '../models/load-model.js';
import { SeamNet } from '../models/seam-net.js';
import { JsonlWriter, silentReporter, type ProgressReporter } from '../util/progress.js';
import { camStepLoss } from './cam-step.js';
import { CamReplicas, replicasUnsupported } from './cam-replicas.js';
import { seamStepLoss } from './seam-step.js';
import { saveCheckpoint, type TrainState } from './checkpoint.js';
import { trainCamConfigSchema, type TrainCamConfig } from './config.js';
import { buildOptimizer, finishRun, prepareRunDir, restoreOrInit, sgdStep, type RunResult } from './run-setup.js';

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
  /**
   * Data-parallel replicas, one thread each (`cam-replicas.ts`; wasm or cpu backend, the
   * pre-training's loss); default 1. Not part of the config: a run may resume with another count.
   */
  replicas?: number;
}

/** What a finished training run reports (also written to `<run>/DONE`). */
export interface TrainCamResult extends RunResult {
  numClasses: number;
}

/** The network a config trains (the CAM or SEAM baseline) with its seeded initial weights. */
export function camModelFor(cfg: TrainCamConfig, numClasses: number): CamNet {
  const modelCfg = { head: cfg.baseline, numClasses, backbone: cfg.model.backbone, dropout: cfg.model.dropout };
  return cfg.baseline === 'seam' ? new SeamNet(modelCfg, cfg.seed) : new CamNet(modelCfg, cfg.seed);
}

/** 32-bit seed of the importance sampling at a step. */
export function islSeed(seed: number, step: number): number {
  return new Rng((Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(step + 1, 0x85ebca6b)) >>> 0).nextUint32();
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
  const replicas = opts.replicas ?? 1;
  if (!Number.isInteger(replicas) || replicas < 1) throw new HfplError('E_CONFIG', `train-cam: replicas must be a positive integer, got ${replicas}`);
  const unsupported = replicasUnsupported(cfg, replicas);
  if (unsupported) throw new HfplError('E_CONFIG', `train-cam: ${replicas} replicas cannot train ${unsupported}; use 1`);
  prepareRunDir(run, cfg, { resume: opts.resume ?? false, force: opts.force ?? false, schema: trainCamConfigSchema });

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

  const model = camModelFor(cfg, K);
  const meta: CamModelMeta = {
    model: { ...model.config, backbone: backboneLayout(model.config) as CamModelConfig['backbone'] },
    classNames: [...split.classNames],
    mean: [...loader.augment.mean],
    std: [...loader.augment.std],
  };
  const { trainable, opt } = buildOptimizer(model, cfg.optim, maxSteps);
  let team: CamReplicas | null = null;

  try {
    let state: TrainState = await restoreOrInit(model.store, opt, {
      run, resume: opts.resume ?? false, maxSteps, pretrained: cfg.model.pretrained, config: cfg, log,
    });
    const metrics = new JsonlWriter(join(run, 'metrics.jsonl'));
    const varList = trainable.map((p) => p.variable);
    const startStep = state.step;
    const total = maxSteps * cfg.batchSize;
    reporter.start(`train-cam ${cfg.baseline} isl ${cfg.islWeight} fsl ${cfg.fslWeight}`, total, 'img');
    reporter.step({ done: startStep * cfg.batchSize, total });
    const t0 = performance.now();
    let lastLoss = NaN;
    let logT = t0, logStep = startStep;
    if (state.step < maxSteps && replicas > 1) {
      team = await CamReplicas.start(replicas, { config: cfg, numClasses: K, maxSteps, weights: model.store.namedTensors(), optimizer: opt.state() });
    }
    if (state.step < maxSteps) {
      for await (const batch of loader.batches({ startEpoch: state.epoch, startBatch: state.batch })) {
        const step = state.step;
        // With replicas this thread computes the first shard (the others get theirs posted).
        const shard = team ? team.dispatch(step, islSeed(cfg.seed, step), batch.images, batch.labels) : null;
        const { loss: lossVal, parts: partVals } = await sgdStep(opt, step, varList, (ctx) => {
          const inp = { images: shard?.images ?? batch.images, raw: batch.raw, labels: shard?.labels ?? batch.labels, islSeed: islSeed(cfg.seed, step) };
          return model instanceof SeamNet ? seamStepLoss(model, inp, cfg, ctx) : camStepLoss(model, inp, cfg, ctx);
        }, cfg.seed, shard?.weight ?? 1);
        if (shard) tf.dispose([shard.images, shard.labels]);
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
    await team?.stop();
    team = null;
    const seconds = (performance.now() - t0) / 1000;
    const imagesPerSec = ((state.step - startStep) * cfg.batchSize) / Math.max(1e-9, seconds);
    const result: TrainCamResult = { run, steps: state.step, startStep, seconds, imagesPerSec, finalLoss: lastLoss, numClasses: K };
    return await finishRun(run, model.store, meta, result, reporter);
  } catch (e) {
    if (!team) throw e;
    await team.abort();
    throw team.error ?? e;
  } finally {
    opt.dispose();
    model.dispose();
  }
}
