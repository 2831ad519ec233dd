/**
 * The one per-image runner behind every scalable stage (crf, infer-cam, infer-aff, infer-seg,
 * eval, synth). The stage lists its images, says which are already done (outputs present) and
 * names its task (tasks.ts); this runs the rest in this thread (`workers: 1`), on a pool of
 * worker threads (pool.ts) or through a Redis queue that `hfpl worker` processes drain
 * (queue.ts), reports progress over all of them, and hands each result to `onResult` in list
 * order, so whatever the stage aggregates (a scores file, a labels file) is byte-identical
 * however many workers ran.
 */
import { availableParallelism } from 'node:os';
import { HfplError } from '../errors.js';
import { silentReporter, type ProgressReporter } from '../util/progress.js';
import { removeDeadWritersTemps } from '../util/atomic-write.js';
import { runPool } from './pool.js';
import type { QueueRunOptions, QueueWorkerOptions } from './queue.js';
import { createTask, type ImageItem, type TaskName } from './tasks.js';

/** How a stage spreads its images: threads of this process, or a queue. */
export interface ScaleOptions {
  /** Worker threads; default 1 in the library (the CLI defaults to every core). */
  workers?: number;
  /** `redis://host:port/name`: enqueue the images for `hfpl worker` processes instead. */
  queue?: string;
  /** Queue job options (retries, backoff). */
  queueOptions?: Pick<QueueRunOptions, 'attempts' | 'backoffMs'>;
}

/** Options of `runImages`. */
export interface RunImagesOptions extends ScaleOptions {
  task: TaskName;
  /** JSON-serialisable setup of the task (paths, options). */
  setup: unknown;
  items: ImageItem[];
  /** Images whose outputs exist are skipped (counted as done at once). */
  isDone?: (item: ImageItem) => boolean;
  /** Progress label, also used in error lines. */
  label: string;
  reporter?: ProgressReporter;
  /** Images in flight at once in this thread when `workers` is 1 (for tasks that await off-thread work, e.g. JPEG encoding); default 1. */
  inProcessConcurrency?: number;
  /** Output folders swept after a queue run for temp files of writers that died mid-write. */
  outputDirs?: string[];
  /** Each processed image's result, in list order. */
  onResult?: (index: number, item: ImageItem, result: unknown) => void | Promise<void>;
}

/** What `runImages` did. */
export interface RunImagesResult {
  /** Images processed in this call. */
  processed: number;
  /** Images skipped as done. */
  skipped: number;
  /** The `finish()` partial of every worker that ran (one in-process). */
  partials: unknown[];
  /** Wall time of the processing, seconds. */
  seconds: number;
}

/** The CLI's default: every core this process may use. */
export function defaultWorkers(): number {
  return availableParallelism();
}

/**
 * Runs a stage's per-image task over its images; see the file comment. Calls `reporter.start`
 * and `step`; the stage calls `end` with its summary. A failing image stops the run with one
 * line naming it (threads), or, through a queue, fails alone: the others finish and the call
 * rejects listing every failed id.
 */
export async function runImages(o: RunImagesOptions): Promise<RunImagesResult> {
  const reporter = o.reporter ?? silentReporter;
  const workers = o.workers ?? 1;
  if (!Number.isInteger(workers) || workers < 1) throw new HfplError('E_CONFIG', `--workers: expected an integer >= 1, got ${workers}`);
  const todo: number[] = [];
  for (let i = 0; i < o.items.length; i++) if (!o.isDone?.(o.items[i])) todo.push(i);
  const skipped = o.items.length - todo.length;
  const total = o.items.length;
  let done = skipped;
  reporter.start(o.label, total, 'img');
  if (skipped > 0) reporter.step({ done, total });
  const t0 = performance.now();

  // Results in list order: held until every earlier image has arrived.
  const held = new Map<number, { ok: boolean; result?: unknown }>();
  let cursor = 0;
  let delivering: Promise<void> = Promise.resolve();
  const arrive = (index: number, ok: boolean, result?: unknown): Promise<void> => {
    reporter.step({ done: ++done, total });
    held.set(index, { ok, result });
    delivering = delivering.then(async () => {
      while (cursor < todo.length && held.has(todo[cursor])) {
        const i = todo[cursor++];
        const r = held.get(i)!;
        held.delete(i);
        if (r.ok) await o.onResult?.(i, o.items[i], r.result);
      }
    });
    return delivering;
  };

  let partials: unknown[] = [];
  if (o.queue) {
    const { runOnQueue } = await import('./queue.js'); // BullMQ only when a queue is used
    const { failed } = await runOnQueue({
      ...o.queueOptions,
      url: o.queue, task: o.task, setup: o.setup, items: o.items, todo, label: o.label,
      onResult: (index, result) => arrive(index, true, result),
      onFailed: (index) => arrive(index, false),
    });
    await delivering;
    // A worker killed mid-write leaves its temp file; every job has ended now, so sweep them.
    for (const dir of o.outputDirs ?? []) removeDeadWritersTemps(dir);
    if (failed.length > 0) {
      const list = failed.map((f) => `${f.id} (${f.reason})`).join('; ');
      throw new HfplError('E_RUN', `${o.label}: ${failed.length} of ${todo.length} images failed on the queue: ${list}`);
    }
  } else if (workers === 1 || todo.length <= 1) {
    const task = await createTask(o.task, o.setup);
    try {
      let next = 0;
      const lane = async (): Promise<void> => {
        while (next < todo.length) {
          const i = todo[next++];
          await arrive(i, true, await task.run(o.items[i]));
        }
      };
      await Promise.all(Array.from({ length: Math.max(1, Math.min(o.inProcessConcurrency ?? 1, todo.length)) }, lane));
      partials = [task.finish ? task.finish() : null];
    } finally {
      await task.close?.();
    }
  } else {
    partials = await runPool({
      task: o.task, setup: o.setup, threads: workers, label: o.label, items: o.items, todo,
      onResult: (index, result) => arrive(index, true, result),
    });
    await delivering;
  }
  return { processed: todo.length, skipped, partials, seconds: (performance.now() - t0) / 1000 };
}

/**
 * Runs a queue worker in this process (what `hfpl worker` does) until `o.stop` resolves or
 * SIGINT / SIGTERM; BullMQ is loaded only here.
 *
 * @example
 * await startQueueWorker({ url: 'redis://queuehost:6379/crf-train' });
 */
export async function startQueueWorker(o: QueueWorkerOptions): Promise<{ completed: number; failed: number }> {
  const { runQueueWorker } = await import('./queue.js');
  return runQueueWorker(o);
}
