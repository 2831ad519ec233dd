/**
 * Run-folder setup shared by the training loops (`train-cam.ts`, `label-train.ts`): checking or
 * clearing the run folder, the optimiser over the trainable parameters (METHOD 3.1 groups) and
 * the start state (newest checkpoint with --resume, else optional pretrained backbone weights),
 * one optimisation step, and the end of a run. Folder layout: see `checkpoint.ts`.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { z } from 'zod';
import { HfplError } from '../errors.js';
import { replicaGroup, type ReplicaGroup } from '../engine/replicas.js';
import { applyBnUpdates, type BnUpdate, type ForwardContext } from '../models/layers.js';
import type { Param, ParamStore } from '../models/params.js';
import { readPretrainedWeights } from '../models/reference/project-names.js';
import { assignWeights, describeReport, saveWeights } from '../models/weights-io.js';
import { writeFileAtomic, writeFileAtomicSync } from '../util/atomic-write.js';
import type { ProgressReporter } from '../util/progress.js';
import { checkpointsDir, isRunFinished, loadLatestCheckpoint, type TrainState } from './checkpoint.js';
import type { OptimConfig } from './config.js';
import { PolySgd, paramGroups } from './sgd.js';

/** A model the training loops can train. */
export interface TrainableModel {
  readonly store: ParamStore;
  readonly backbone: { config: { frozenBn: boolean } };
  dispose(): void;
}

/** What a finished training run reports (also written to `<run>/DONE`). */
export interface RunResult {
  run: string;
  steps: number;
  /** Step this process started from (0, or the checkpoint's step with --resume). */
  startStep: number;
  seconds: number;
  /** Training images per second in this process. */
  imagesPerSec: number;
  finalLoss: number;
}

/** Files of a run that --force removes (nothing else in the folder is touched). */
const RUN_FILES = ['config.json', 'metrics.jsonl', 'model.json', 'weights.bin', 'DONE'];

/** Options of `prepareRunDir`. */
export interface RunDirOptions {
  /** Continue the unfinished run (its config.json must match `config`). */
  resume: boolean;
  /** Remove the run's files and checkpoints first. */
  force: boolean;
  /**
   * Validates the saved config.json on --resume (E_RUN "not a valid training config" when it
   * fails); default none: the file only has to be readable JSON.
   */
  schema?: z.ZodType;
}

/**
 * Checks (or clears, with `force`) a run folder: a finished run needs --force, an unfinished
 * one --resume or --force, and --resume needs the same config as the saved config.json
 * (E_RUN naming the first differing top-level option).
 */
export function prepareRunDir(run: string, config: object, opts: RunDirOptions): void {
  if (opts.force) {
    for (const f of RUN_FILES) rmSync(join(run, f), { force: true });
    rmSync(checkpointsDir(run), { recursive: true, force: true });
    return;
  }
  if (isRunFinished(run)) throw new HfplError('E_RUN', `${run}: holds a finished run; use --force to overwrite it`);
  const cfgPath = join(run, 'config.json');
  if (!opts.resume) {
    if (existsSync(cfgPath) || existsSync(checkpointsDir(run))) throw new HfplError('E_RUN', `${run}: holds an unfinished run; use --resume to continue it or --force to start over`);
    return;
  }
  if (!existsSync(cfgPath)) return;
  const saved = readSavedConfig(cfgPath, opts.schema);
  const cfg = config as Record<string, unknown>;
  const key = Object.keys(cfg).find((k) => JSON.stringify(saved[k]) !== JSON.stringify(cfg[k]));
  // With a schema, any difference of the serialised configs counts (also one of key order).
  if (key !== undefined || (opts.schema && JSON.stringify(saved) !== JSON.stringify(cfg))) {
    throw new HfplError('E_RUN', `${run}: --resume with a different config (option "${String(key)}" differs from config.json); use the same options or --force`);
  }
}

function readSavedConfig(cfgPath: string, schema: z.ZodType | undefined): Record<string, unknown> {
  if (schema) {
    const r = schema.safeParse(JSON.parse(readFileSync(cfgPath, 'utf8')));
    if (!r.success) throw new HfplError('E_RUN', `${cfgPath}: not a valid training config; use --force to start over`);
    return r.data as Record<string, unknown>;
  }
  try {
    return JSON.parse(readFileSync(cfgPath, 'utf8')) as Record<string, unknown>;
  } catch {
    throw new HfplError('E_RUN', `${cfgPath}: unreadable; use --force to start over`);
  }
}

/** Keeps only the metric lines of steps <= `step` (after a resume); no-op without the file. */
export function truncateMetrics(path: string, step: number): void {
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

/**
 * The poly-LR SGD over a model's trainable parameters in METHOD 3.1's groups; batch-norm
 * gamma/beta are left out when the backbone's BN is frozen.
 */
export function buildOptimizer(model: Omit<TrainableModel, 'dispose'>, optim: OptimConfig, maxSteps: number): { trainable: Param[]; opt: PolySgd } {
  const frozenBn = model.backbone.config.frozenBn;
  const trainable = model.store.trainable((p) => !(frozenBn && (p.kind === 'bnGamma' || p.kind === 'bnBeta')));
  const opt = new PolySgd(paramGroups(trainable, optim), { lr: optim.lr, momentum: optim.momentum, power: optim.power, maxSteps });
  return { trainable, opt };
}

/** Options of `restoreOrInit`. */
export interface RestoreOptions {
  run: string;
  /** Load the newest checkpoint (if any) instead of starting afresh. */
  resume: boolean;
  maxSteps: number;
  /** Weights file whose `backbone.*` weights initialise a fresh start; null = none. */
  pretrained: string | null;
  /** Written to `<run>/config.json` on a fresh start. */
  config: unknown;
  log: (line: string) => void;
  /** Prefix of the log lines, e.g. "train-aff: "; default none. */
  logPrefix?: string;
  /** Name of the pretrained weights in the log line; default "pretrained backbone". */
  pretrainedLabel?: string;
  /** Leave unexpected file weights out of the log line; default false. */
  ignoreUnexpected?: boolean;
}

/**
 * The start state of a run: with `resume` and a checkpoint, its weights, momentum buffers and
 * state (metrics truncated to its step); otherwise step 0, the optional pretrained backbone
 * (E_DATA when no weight matches), an emptied metrics.jsonl and a fresh config.json.
 */
export async function restoreOrInit(store: ParamStore, opt: PolySgd, o: RestoreOptions): Promise<TrainState> {
  const prefix = o.logPrefix ?? '';
  const ckpt = o.resume ? loadLatestCheckpoint(o.run) : null;
  if (ckpt) {
    assignWeights(store, ckpt.weights, { strict: true }, `${ckpt.dir}/model.json`);
    opt.loadState(ckpt.optimizer.values);
    truncateMetrics(join(o.run, 'metrics.jsonl'), ckpt.state.step);
    o.log(`${prefix}resuming from ${ckpt.dir} (step ${ckpt.state.step} of ${o.maxSteps})`);
    return ckpt.state;
  }
  if (o.pretrained) {
    const r = assignWeights(store, await readPretrainedWeights(o.pretrained), { strict: false, prefix: 'backbone.' }, o.pretrained);
    if (r.loaded.length === 0) throw new HfplError('E_DATA', `${o.pretrained}: no backbone weights match the model (${describeReport(r)})`);
    const shown = o.ignoreUnexpected ? { ...r, unexpected: [] } : r;
    const problems = shown.missing.length + shown.unexpected.length + shown.misShaped.length;
    o.log(`${prefix}${o.pretrainedLabel ?? 'pretrained backbone'} from ${o.pretrained}: ${r.loaded.length} weights loaded${problems ? `; ${describeReport(shown)}` : ''}`);
  }
  rmSync(join(o.run, 'metrics.jsonl'), { force: true });
  await writeFileAtomic(join(o.run, 'config.json'), JSON.stringify(o.config, null, 2) + '\n');
  return { step: 0, epoch: 0, batch: 0 };
}

/** A loss with named parts (each a scalar that is part of the total's graph or not). */
export type PartsLoss = (ctx: ForwardContext) => { total: tf.Scalar; parts: Record<string, tf.Scalar> };

/**
 * One training step: gradients of `loss(ctx)` over `vars`, the SGD update at `step` and the
 * batch-norm statistics of the forward pass (dropout seeded by `seed` and `step`). Returns the
 * loss and its parts as numbers; the step's tensors are disposed (the caller's inputs are not).
 *
 * Under data-parallel replicas (`engine/replicas.ts`) each replica passes the loss of its
 * shard and `replicaWeight` = shard size / batch size: the weighted losses and their gradients
 * are summed over the replicas (the whole batch's mean and its gradient), so every replica
 * applies the same update.
 */
export async function sgdStep(opt: PolySgd, step: number, vars: tf.Variable[], loss: PartsLoss, seed = 0, replicaWeight = 1): Promise<{ loss: number; parts: Record<string, number> }> {
  const bnUpdates: BnUpdate[] = [];
  const group = replicaGroup();
  const replicated = group !== null && group.size > 1;
  let kept: Record<string, tf.Scalar> = {};
  // Dropout masks depend on (seed, step) only, so a resumed run draws the same masks.
  const dropoutSeed = (Math.imul((seed >>> 0) ^ 0x9e3779b9, 0x85ebca6b) + step) >>> 0;
  const { value, grads } = tf.variableGrads(() => {
    const l = loss({ training: true, bnUpdates, dropoutSeed });
    kept = Object.fromEntries(Object.entries(l.parts).map(([k, v]) => [k, tf.keep(v)]));
    return replicated ? tf.mul(l.total, replicaWeight) : l.total;
  }, vars);
  const summed = replicated ? sumOverReplicas(group, vars, grads) : grads;
  opt.step(step, summed);
  applyBnUpdates(bnUpdates);
  let lossVal = (await value.data())[0];
  let parts = Object.fromEntries(Object.entries(kept).map(([k, v]) => [k, v.dataSync()[0]]));
  if (replicated) {
    const names = Object.keys(parts);
    const r = group.allReduceSum(Float64Array.from([lossVal, ...names.map((k) => parts[k] * replicaWeight)]));
    lossVal = r[0];
    parts = Object.fromEntries(names.map((k, i) => [k, r[i + 1]]));
  }
  tf.dispose([value, ...Object.values(grads), ...Object.values(kept)]);
  if (summed !== grads) tf.dispose(Object.values(summed));
  return { loss: lossVal, parts };
}

/** Gradients summed over the replicas, keyed by variable name (a missing gradient counts as zeros). */
function sumOverReplicas(group: ReplicaGroup, vars: tf.Variable[], grads: tf.NamedTensorMap): tf.NamedTensorMap {
  const sizes = vars.map((v) => v.size);
  const flat = new Float64Array(sizes.reduce((a, b) => a + b, 0));
  let off = 0;
  vars.forEach((v, i) => {
    const g = grads[v.name];
    if (g) flat.set(g.dataSync() as Float32Array, off);
    off += sizes[i];
  });
  const total = group.allReduceSum(flat);
  const out: tf.NamedTensorMap = {};
  off = 0;
  vars.forEach((v, i) => {
    out[v.name] = tf.tensor(Float32Array.from(total.subarray(off, off + sizes[i])), v.shape, 'float32');
    off += sizes[i];
  });
  return out;
}

/** Ends a run: final weights (`model.json` + `weights.bin` with `meta`), `DONE` holding `result`, the reporter's end. */
export async function finishRun<R extends RunResult>(run: string, store: ParamStore, meta: Record<string, unknown>, result: R, reporter: ProgressReporter): Promise<R> {
  await saveWeights(run, store.namedTensors(), meta);
  await writeFileAtomic(join(run, 'DONE'), JSON.stringify(result, null, 2) + '\n');
  reporter.end({ 'img/s': Number(result.imagesPerSec.toFixed(1)), loss: result.finalLoss });
  return result;
}
