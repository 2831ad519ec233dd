/**
 * `hfpl worker --queue redis://host:port/name`: takes per-image jobs of any stage (crf,
 * infer-cam, infer-aff, infer-seg, synth) from the queue until stopped (SIGINT / SIGTERM);
 * see src/scale/queue.ts. Run one per core on every machine that sees the data and output
 * folders at the same paths as the producer.
 */
import type { Command } from 'commander';
import { HfplError } from '../../errors.js';

function intFlag(flag: string, value: string | undefined, min: number): number | undefined {
  if (value === undefined) return undefined;
  const v = Number(value);
  if (value.trim() === '' || !Number.isInteger(v) || v < min) throw new HfplError('E_CONFIG', `${flag}: expected an integer >= ${min}, got '${value}'`);
  return v;
}

interface WorkerFlags {
  queue: string;
  concurrency?: string;
  lockDuration?: string;
  stalledInterval?: string;
  delayMs?: string;
  maxStalled?: string;
}

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('take per-image jobs of any stage from a Redis queue (run one per core, on any number of machines)')
    .requiredOption('--queue <url>', 'redis://host:port/name, as given to the producing stage')
    .option('--concurrency <n>', 'jobs at once in this process (default 1: run one process per core)')
    .option('--lock-duration <ms>', 'job lock: a job of a dead worker goes back to the queue after this (default 30000)')
    .option('--stalled-interval <ms>', 'how often to look for stalled jobs (default 30000)')
    .option('--max-stalled <n>', 'times a job may be taken back from a dead or frozen worker before it fails (default 1)')
    .option('--delay-ms <ms>', 'pause before each job (tests and demos of recovery; default 0)')
    .action(async (f: WorkerFlags) => {
      const { runQueueWorker } = await import('../../scale/queue.js'); // BullMQ only for this command
      const r = await runQueueWorker({
        url: f.queue,
        concurrency: intFlag('--concurrency', f.concurrency, 1),
        lockDuration: intFlag('--lock-duration', f.lockDuration, 100),
        stalledInterval: intFlag('--stalled-interval', f.stalledInterval, 100),
        delayMs: intFlag('--delay-ms', f.delayMs, 0),
        maxStalledCount: intFlag('--max-stalled', f.maxStalled, 0),
      });
      console.log(`hfpl worker: stopped; ${r.completed} jobs completed, ${r.failed} attempts failed`);
    });
}
