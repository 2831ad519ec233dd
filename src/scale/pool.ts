/**
 * A pool of `worker_threads` for per-image work. Plain worker_threads rather than piscina: the
 * work is one long-lived task per thread (a model and an engine built once, then thousands of
 * images), results must come back in list order, and a crashed thread must be named by the image
 * it held; a 150-line pool does exactly that with no dependency, where piscina's one-function-
 * per-call model would need the same bookkeeping around it.
 *
 * Images are handed out one at a time to whichever thread is idle (dynamic scheduling: a slow
 * image does not hold up the rest); results are passed to `onResult` as they arrive with their
 * index, and the caller orders them (run-images.ts).
 */
import { Worker } from 'node:worker_threads';
import { taskError, type ImageItem, type TaskErrorInfo } from './tasks.js';

/** Messages main -> worker. */
export type ToWorker = { type: 'run'; index: number; item: ImageItem } | { type: 'finish' };
/** Messages worker -> main. */
export type ToMain =
  | { type: 'result'; index: number; result: unknown }
  | { type: 'error'; index: number; error: TaskErrorInfo }
  | { type: 'fatal'; error: TaskErrorInfo }
  | { type: 'finished'; partial: unknown };

/**
 * The compiled file `file` beside the module at `moduleUrl` (its `import.meta.url`), for
 * `new Worker`: under a TypeScript test runner that module is a .ts source under src/, so the
 * build's copy in dist/src/ is used.
 */
export function compiledSibling(moduleUrl: string, file: string): URL {
  if (moduleUrl.endsWith('.ts')) {
    const cut = moduleUrl.lastIndexOf('/src/');
    const dir = moduleUrl.slice(cut, moduleUrl.lastIndexOf('/') + 1);
    return new URL(`${moduleUrl.slice(0, cut)}/dist${dir}${file}`);
  }
  return new URL(`./${file}`, moduleUrl);
}

/** The compiled worker entry of the pool. */
export function workerEntry(): URL {
  return compiledSibling(import.meta.url, 'worker-thread.js');
}

/** Options of `runPool`. */
export interface PoolOptions {
  task: string;
  setup: unknown;
  /** Threads (>= 1). */
  threads: number;
  /** Stage label for error lines. */
  label: string;
  items: ImageItem[];
  /** Indices into `items` to run, in order. */
  todo: number[];
  /** Called with each result as it arrives. */
  onResult: (index: number, result: unknown) => void | Promise<void>;
}

/**
 * Runs `todo` on `threads` worker threads; resolves with each thread's `finish()` partial once
 * every image is done. The first failing image (a task error or a crashed thread) stops the run:
 * the threads are terminated and the promise rejects with one line naming the image.
 */
export async function runPool(o: PoolOptions): Promise<unknown[]> {
  const n = Math.max(1, Math.min(o.threads, o.todo.length));
  return new Promise<unknown[]>((resolve, reject) => {
    const workers: Worker[] = [];
    const busy = new Map<Worker, number | null>();
    const partials: unknown[] = [];
    let next = 0, done = 0, finished = 0, failed = false, finishing = false;

    const fail = (e: Error): void => {
      if (failed) return;
      failed = true;
      for (const w of workers) void w.terminate();
      reject(e);
    };
    const dispatch = (w: Worker): void => {
      if (failed) return;
      if (next < o.todo.length) {
        const index = o.todo[next++];
        busy.set(w, index);
        w.postMessage({ type: 'run', index, item: o.items[index] } satisfies ToWorker);
      } else {
        busy.set(w, null);
      }
      if (!finishing && done === o.todo.length && [...busy.values()].every((b) => b === null)) {
        finishing = true;
        for (const x of workers) x.postMessage({ type: 'finish' } satisfies ToWorker);
      }
    };
    for (let k = 0; k < n; k++) {
      const w = new Worker(workerEntry(), { workerData: { task: o.task, setup: o.setup }, execArgv: [] });
      workers.push(w);
      busy.set(w, null);
      w.on('message', (m: ToMain) => {
        if (failed) return;
        if (m.type === 'result') {
          done++;
          Promise.resolve(o.onResult(m.index, m.result)).then(() => dispatch(w), (e: Error) => fail(e));
        } else if (m.type === 'error') {
          fail(taskError(o.label, o.items[m.index].id, m.error));
        } else if (m.type === 'fatal') {
          fail(taskError(o.label, '(worker start)', m.error));
        } else {
          partials.push(m.partial);
          if (++finished === n) {
            for (const x of workers) void x.terminate();
            resolve(partials);
          }
        }
      });
      w.on('error', (e) => {
        const index = busy.get(w);
        fail(taskError(o.label, index === null || index === undefined ? '(none: between images)' : o.items[index].id, { message: e.message }));
      });
      w.on('exit', (code) => {
        if (!failed && finished < n) {
          const index = busy.get(w);
          fail(taskError(o.label, index === null || index === undefined ? '(none: between images)' : o.items[index].id, { message: `worker thread exited with code ${code}` }));
        }
      });
      dispatch(w);
    }
  });
}
