/**
 * `--workers N` and `--queue redis://host:port/name`, shared by the per-image stages (crf,
 * infer-cam, infer-aff, infer-seg, eval, synth); see src/scale/.
 */
import type { Command } from 'commander';
import { HfplError } from '../../errors.js';
import { defaultWorkers, type ScaleOptions } from '../../scale/run-images.js';
import { parseQueueUrl } from '../../scale/queue-url.js';

/** The flags as commander parses them. */
export interface ScaleFlags {
  workers?: string;
  queue?: string;
}

/** Adds `--workers` (and `--queue` unless `queue` is false) to a stage command. */
export function addScaleOptions(cmd: Command, queue = true): Command {
  cmd.option('--workers <n>', `worker threads, each with its own engine (default: every core, ${defaultWorkers()} here)`);
  if (queue) cmd.option('--queue <url>', 'enqueue the images on redis://host:port/name for `hfpl worker` processes (any machines sharing the folders) and wait');
  return cmd;
}

/** Parses the flags: workers default to every core. */
export function scaleFrom(f: ScaleFlags): ScaleOptions & { workers: number } {
  let workers = defaultWorkers();
  if (f.workers !== undefined) {
    workers = Number(f.workers);
    if (f.workers.trim() === '' || !Number.isInteger(workers) || workers < 1 || workers > 1024) {
      throw new HfplError('E_CONFIG', `--workers: expected an integer 1..1024, got '${f.workers}'`);
    }
  }
  if (f.queue !== undefined) parseQueueUrl(f.queue);
  return { workers, queue: f.queue };
}
