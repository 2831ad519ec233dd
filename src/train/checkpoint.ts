/**
 * Run directories and checkpoints of `hfpl train-cam`:
 *
 * ```
 * <run>/config.json                 resolved training config (+ dataset classes)
 * <run>/metrics.jsonl               one line per logged step
 * <run>/checkpoints/step-<n>/       model.json + weights.bin, optimizer.json + optimizer.bin
 *                                   (momentum buffers), state.json { step, epoch, batch }
 * <run>/model.json, weights.bin     final weights (TF.js format)
 * <run>/DONE                        summary JSON; marks a finished run
 * ```
 * A checkpoint is written into a temporary folder and renamed, so a killed process leaves
 * either a complete checkpoint or none; only the newest `keep` checkpoints are kept.
 */
import { existsSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type * as tf from '@tensorflow/tfjs-core';
import { HfplError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { readWeights, saveWeights, type LoadedWeights } from '../models/weights-io.js';

/** Where training stands after a completed step. */
export interface TrainState {
  /** Steps completed. */
  step: number;
  /** Epoch and batch index of the next batch. */
  epoch: number;
  batch: number;
}

export interface Checkpoint {
  dir: string;
  state: TrainState;
  weights: LoadedWeights;
  optimizer: LoadedWeights;
}

/** `<run>/checkpoints`. */
export function checkpointsDir(run: string): string {
  return join(run, 'checkpoints');
}

/** Writes a checkpoint atomically (temp folder, then rename) and prunes older ones. */
export async function saveCheckpoint(
  run: string,
  state: TrainState,
  weights: Map<string, tf.Tensor>,
  optimizer: Map<string, tf.Tensor>,
  meta: Record<string, unknown>,
  keep = 2,
): Promise<string> {
  const root = checkpointsDir(run);
  const final = join(root, `step-${state.step}`);
  const tmp = join(root, `.tmp-step-${state.step}-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  await saveWeights(tmp, weights, meta);
  await saveWeights(tmp, optimizer, {}, 'optimizer');
  await writeFileAtomic(join(tmp, 'state.json'), JSON.stringify(state) + '\n');
  rmSync(final, { recursive: true, force: true });
  renameSync(tmp, final);
  const steps = listCheckpointSteps(run);
  for (const s of steps.slice(0, Math.max(0, steps.length - keep))) rmSync(join(root, `step-${s}`), { recursive: true, force: true });
  return final;
}

/** Steps of the complete checkpoints of a run, ascending. */
export function listCheckpointSteps(run: string): number[] {
  const root = checkpointsDir(run);
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .map((n) => /^step-(\d+)$/.exec(n))
    .filter((m): m is RegExpExecArray => m !== null && existsSync(join(root, m[0], 'state.json')))
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
}

/** Loads the newest checkpoint of a run, or null when there is none. */
export function loadLatestCheckpoint(run: string): Checkpoint | null {
  const steps = listCheckpointSteps(run);
  if (steps.length === 0) return null;
  const dir = join(checkpointsDir(run), `step-${steps[steps.length - 1]}`);
  let state: TrainState;
  try {
    state = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as TrainState;
  } catch (e) {
    throw new HfplError('E_RUN', `${dir}/state.json: unreadable checkpoint state (${(e as Error).message})`);
  }
  return { dir, state, weights: readWeights(join(dir, 'model.json')), optimizer: readWeights(join(dir, 'optimizer.json')) };
}

/** True when `<run>/DONE` exists. */
export function isRunFinished(run: string): boolean {
  return existsSync(join(run, 'DONE'));
}

/** What a finished run reported (`<run>/DONE`, e.g. a `TrainCamResult`), or null while it is not finished. */
export function readRunResult<T>(run: string): T | null {
  return isRunFinished(run) ? (JSON.parse(readFileSync(join(run, 'DONE'), 'utf8')) as T) : null;
}
