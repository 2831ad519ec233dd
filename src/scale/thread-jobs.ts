/**
 * Whole jobs on worker threads, a few at a time (the demo's fine-tuning variants, `--full`'s
 * refinement of each variant): one thread per job, started from its compiled entry with its
 * `workerData`, up to `parallel` at once, a free lane taking the next job. A job's thread posts
 * `{ type: 'done', result }` once, `{ type: 'error', error }` when it fails, and any other
 * message for `onMessage` (log lines, progress).
 */
import { Worker } from 'node:worker_threads';
import { HfplError } from '../errors.js';
import type { TaskErrorInfo } from './tasks.js';

/** What a job thread posts besides its own messages. */
export type ThreadJobEnd<R> = { type: 'done'; result: R } | { type: 'error'; error: TaskErrorInfo };

/** One job: a name for errors, the compiled entry and its data. */
export interface ThreadJob {
  name: string;
  entry: URL;
  workerData: unknown;
}

/**
 * Runs the jobs and returns their results in job order. The first failure is thrown once every
 * started job ended, and no new job starts after it; `what` names the work in errors
 * ("training", "refinement"). An HfplError a thread reports keeps its code and message.
 */
export async function runThreadJobs<R, M extends { type: string }>(
  jobs: ThreadJob[], parallel: number, what: string, onMessage: (job: number, m: M) => void = () => {},
): Promise<R[]> {
  const results: R[] = new Array(jobs.length);
  const finished = new Array<boolean>(jobs.length).fill(false);
  let next = 0, failure: Error | null = null;
  const runOne = (i: number) => new Promise<void>((resolve) => {
    const { name, entry, workerData } = jobs[i];
    const w = new Worker(entry, { workerData, execArgv: [] });
    w.on('message', (m: M | ThreadJobEnd<R>) => {
      if (m.type === 'done') {
        results[i] = (m as { result: R }).result;
        finished[i] = true;
      } else if (m.type === 'error') {
        const { error } = m as { error: TaskErrorInfo };
        failure ??= error.code ? new HfplError(error.code as HfplError['code'], error.message) : new HfplError('E_RUN', `${name}: ${what} failed in a worker: ${error.message}`);
      } else onMessage(i, m as M);
    });
    w.on('error', (e) => {
      failure ??= new HfplError('E_RUN', `${name}: ${what} thread crashed: ${e.message}`);
    });
    w.on('exit', () => {
      if (!finished[i]) failure ??= new HfplError('E_RUN', `${name}: ${what} thread exited without a result`);
      resolve();
    });
  });
  const lane = async () => {
    while (next < jobs.length && !failure) await runOne(next++);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(parallel, jobs.length)) }, lane));
  if (failure) throw failure;
  return results;
}
