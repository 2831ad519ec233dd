/**
 * Several CAM trainings at once, one worker thread each (the demo's fine-tuning variants of a
 * seed). Each thread has its own engine; a run's result does not depend on where it ran (same
 * seed, same kernels, one intra-op thread each), so this only changes the wall time: the wasm
 * backend runs one core per process (issue 15), and two trainings use both cores of a 2-core
 * machine. Progress of all runs goes to one bar (steps summed).
 */
import { compiledSibling } from '../scale/pool.js';
import { runThreadJobs, type ThreadJobEnd } from '../scale/thread-jobs.js';
import { silentReporter, type ProgressEvent, type ProgressReporter } from '../util/progress.js';
import type { TrainCamOptions, TrainCamResult } from './train-cam.js';

/** Messages of a training thread. */
export type TrainThreadMessage =
  | { type: 'log'; line: string }
  | { type: 'start'; label: string; total: number; unit?: string }
  | { type: 'step'; event: ProgressEvent }
  | ThreadJobEnd<TrainCamResult>;

/** One training of `runTrainCamParallel`: the options of `runTrainCam` and a name for the log. */
export interface ParallelTrainJob {
  name: string;
  opts: Omit<TrainCamOptions, 'log'>;
}

/**
 * Runs the jobs on up to `parallel` threads (in order; a free thread takes the next job) and
 * returns the results in job order. The first failure is thrown once every started job ended.
 * `parallel` 1 runs them one after the other, still each in its own thread.
 */
export async function runTrainCamParallel(
  jobs: ParallelTrainJob[], parallel: number, hooks: { log?: (line: string) => void; reporter?: ProgressReporter; threads?: number } = {},
): Promise<TrainCamResult[]> {
  const reporter = hooks.reporter ?? silentReporter;
  const log = hooks.log ?? (() => {});
  const done = new Array<number>(jobs.length).fill(0);
  // Images of each run (what runTrainCam reports), known before the runs start for the ETA.
  const totals = jobs.map((j) => (j.opts.config.steps ?? 0) * j.opts.config.batchSize);
  let started = false;
  const entry = compiledSibling(import.meta.url, 'train-cam-thread.js');
  try {
    return await runThreadJobs<TrainCamResult, TrainThreadMessage>(
      jobs.map((j) => ({ name: j.name, entry, workerData: { opts: j.opts, threads: hooks.threads ?? 1 } })), parallel, 'training',
      (i, m) => {
        if (m.type === 'log') log(`${jobs[i].name}: ${m.line}`);
        else if (m.type === 'start') {
          totals[i] = m.total;
          if (!started) reporter.start(`training ${jobs.map((j) => j.name).join(', ')}`, 0, m.unit);
          started = true;
        } else if (m.type === 'step') {
          done[i] = m.event.done;
          totals[i] = m.event.total;
          reporter.step({ done: sum(done), total: sum(totals), info: m.event.info });
        }
      },
    );
  } finally {
    if (started) reporter.end();
  }
}

function sum(x: number[]): number {
  return x.reduce((a, b) => a + b, 0);
}
