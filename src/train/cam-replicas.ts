/**
 * Data-parallel CAM training on one machine (`train-cam --replicas n`): the calling thread is
 * replica 0 and n - 1 worker threads (`cam-replica-thread.ts`) are the others, each with its own
 * TF.js engine and a copy of the model. Every batch is cut into n contiguous shards; each
 * replica computes its shard, the synchronised batch norm and the gradient sum meet in
 * `engine/replicas.ts`, and every replica applies the same update, so the copies stay equal
 * and replica 0's model is the run's model (checkpoints, final weights).
 *
 * This is for the wasm and cpu backends, whose engine is one core per thread (the libtorch
 * kernels use threads of their own instead, `--threads`). The result equals one replica's up to
 * float32 rounding (gradients summed in another order); for a given n it is deterministic.
 * Supported: the CAM baseline's GAP loss without dropout (the backbone pre-training); dropout
 * masks, ISL draws and the FSL are per batch and are not split.
 */
import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { HfplError } from '../errors.js';
import { engineInfo } from '../engine/init.js';
import { createReplicaGroupInit, ReplicaGroup, setReplicaGroup, type ReplicaGroupInit } from '../engine/replicas.js';
import { compiledSibling } from '../scale/pool.js';
import type { TaskErrorInfo } from '../scale/tasks.js';
import type { TrainCamConfig } from './config.js';

/** Named float32 values (weights or momentum buffers) as posted to a replica thread. */
export type TensorSnapshot = [string, { shape: number[]; data: Float32Array }][];

/** What a replica thread starts from. */
export interface CamReplicaInit {
  group: ReplicaGroupInit;
  rank: number;
  backend: string;
  config: TrainCamConfig;
  numClasses: number;
  maxSteps: number;
  weights: TensorSnapshot;
  optimizer: TensorSnapshot;
}

/** Messages to a replica thread. */
export type CamReplicaMessage =
  | { type: 'step'; step: number; weight: number; islSeed: number; images: Float32Array; imagesShape: number[]; labels: Float32Array; labelsShape: number[] }
  | { type: 'stop' };

/** Messages from a replica thread. */
export type CamReplicaReply = { type: 'ready' } | { type: 'error'; error: TaskErrorInfo };

/** Why `replicas > 1` cannot train this config, or null when it can. */
export function replicasUnsupported(cfg: TrainCamConfig, replicas: number): string | null {
  if (replicas === 1) return null;
  if (cfg.baseline !== 'cam') return `the ${cfg.baseline} baseline`;
  if (cfg.islWeight > 0 || cfg.fslWeight > 0) return 'the ISL and FSL (per-batch sampling)';
  if (cfg.model.dropout > 0) return `dropout ${cfg.model.dropout} (per-batch masks; set model.dropout 0)`;
  if (cfg.batchSize < replicas) return `batch size ${cfg.batchSize} (fewer images than replicas)`;
  const info = engineInfo();
  if (info && (info.native || info.backend === 'tensorflow')) return `the ${info.native ? 'libtorch kernels (they use --threads instead)' : 'tensorflow backend'}`;
  return null;
}

/** Shard `rank` of `n` images over `size` replicas: contiguous, the first n % size one longer. */
export function shardOf(n: number, size: number, rank: number): { offset: number; count: number } {
  const base = Math.floor(n / size), extra = n % size;
  return { offset: rank * base + Math.min(rank, extra), count: base + (rank < extra ? 1 : 0) };
}

function snapshot(tensors: ReadonlyMap<string, tf.Tensor>): TensorSnapshot {
  return [...tensors].map(([name, t]) => [name, { shape: [...t.shape], data: t.dataSync() as Float32Array }]);
}

/** Replica 0's side of a team: starts the threads, feeds them their shards, stops them. */
export class CamReplicas {
  private failure: Error | null = null;
  /** Resolves when the worker exits (listened to from its start: it may exit before `stop`). */
  private readonly exits: Promise<void>[] = [];
  private constructor(private readonly workers: Worker[], private readonly group: ReplicaGroup) {}

  /**
   * Starts `size - 1` replica threads from the current weights and optimiser state of
   * replica 0 and makes this thread replica 0 (until `stop`).
   */
  static async start(size: number, o: { config: TrainCamConfig; numClasses: number; maxSteps: number; weights: ReadonlyMap<string, tf.Tensor>; optimizer: ReadonlyMap<string, tf.Tensor> }): Promise<CamReplicas> {
    const paramCount = [...o.weights.values()].reduce((a, t) => a + t.size, 0);
    const init = createReplicaGroupInit(size, Math.min(paramCount + 64, 1 << 20));
    const weights = snapshot(o.weights), optimizer = snapshot(o.optimizer);
    const backend = tf.getBackend();
    const workers: Worker[] = [];
    const ready: Promise<void>[] = [];
    const team = new CamReplicas(workers, new ReplicaGroup(init, 0));
    for (let rank = 1; rank < size; rank++) {
      const data: CamReplicaInit = { group: init, rank, backend, config: o.config, numClasses: o.numClasses, maxSteps: o.maxSteps, weights, optimizer };
      const w = new Worker(compiledSibling(import.meta.url, 'cam-replica-thread.js'), { workerData: data, execArgv: [] });
      workers.push(w);
      team.exits.push(new Promise<void>((resolve) => w.once('exit', () => resolve())));
      ready.push(new Promise<void>((resolve, reject) => {
        w.on('message', (m: CamReplicaReply) => {
          if (m.type === 'ready') resolve();
          else {
            const e = new HfplError((m.error.code ?? 'E_RUN') as HfplError['code'], `replica ${rank}: ${m.error.message}`);
            team.failure ??= e;
            reject(e);
          }
        });
        w.on('error', (e) => {
          team.failure ??= new HfplError('E_RUN', `replica ${rank} crashed: ${e.message}`);
          team.group.abort();
          reject(team.failure);
        });
      }));
    }
    try {
      await Promise.all(ready);
    } catch (e) {
      await team.stop();
      throw e;
    }
    setReplicaGroup(team.group);
    return team;
  }

  get size(): number {
    return this.group.size;
  }

  /**
   * Posts shards 1.. of a batch to their threads and returns replica 0's shard (tensors the
   * caller disposes) and its loss weight (shard size / batch size).
   */
  dispatch(step: number, islSeed: number, images: tf.Tensor4D, labels: tf.Tensor2D): { images: tf.Tensor4D; labels: tf.Tensor2D; weight: number } {
    const [n, h, w, c] = images.shape;
    const k = labels.shape[1];
    const img = images.dataSync() as Float32Array, lab = labels.dataSync() as Float32Array;
    for (let rank = 1; rank < this.size; rank++) {
      const { offset, count } = shardOf(n, this.size, rank);
      const shardImages = new Float32Array(img.subarray(offset * h * w * c, (offset + count) * h * w * c));
      const shardLabels = new Float32Array(lab.subarray(offset * k, (offset + count) * k));
      const msg: CamReplicaMessage = {
        type: 'step', step, islSeed, weight: count / n,
        images: shardImages, imagesShape: [count, h, w, c], labels: shardLabels, labelsShape: [count, k],
      };
      this.workers[rank - 1].postMessage(msg, [shardImages.buffer, shardLabels.buffer]);
    }
    const { count } = shardOf(n, this.size, 0);
    return {
      images: tf.slice(images, [0, 0, 0, 0], [count, -1, -1, -1]),
      labels: tf.slice(labels, [0, 0], [count, -1]),
      weight: count / n,
    };
  }

  /** The first error a replica thread reported, if any (more telling than replica 0's "another replica failed"). */
  get error(): Error | null {
    return this.failure;
  }

  /** Ends the team: the threads stop (or are aborted after a failure) and this thread is a single replica again. */
  async stop(): Promise<void> {
    setReplicaGroup(null);
    if (this.failure) this.group.abort();
    await Promise.all(this.workers.map(async (w, i) => {
      w.postMessage({ type: 'stop' } satisfies CamReplicaMessage);
      const timer = setTimeout(() => void w.terminate(), 5000);
      await this.exits[i];
      clearTimeout(timer);
    }));
  }

  /** Aborts the other replicas (this one failed) and stops. */
  async abort(): Promise<void> {
    this.group.abort();
    await this.stop();
  }
}
