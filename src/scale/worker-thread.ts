/**
 * Entry of a pool thread (see pool.ts): builds the task named in `workerData` once (its own
 * TF.js engine and model where the task uses them), then runs the images the main thread sends,
 * one at a time, answering with each result or error.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createTask, describeTaskError, type ImageItem, type ImageTask } from './tasks.js';
import type { ToMain, ToWorker } from './pool.js';

const port = parentPort!;
const { task, setup } = workerData as { task: string; setup: unknown };
const ready: Promise<ImageTask> = createTask(task, setup);
ready.catch((e: unknown) => port.postMessage({ type: 'fatal', error: describeTaskError(e) } satisfies ToMain));

let chain: Promise<void> = Promise.resolve();
port.on('message', (m: ToWorker) => {
  chain = chain.then(async () => {
    let t: ImageTask;
    try {
      t = await ready;
    } catch {
      return; // reported as fatal
    }
    if (m.type === 'run') {
      try {
        const result = await t.run(m.item as ImageItem);
        port.postMessage({ type: 'result', index: m.index, result } satisfies ToMain);
      } catch (e) {
        port.postMessage({ type: 'error', index: m.index, error: describeTaskError(e) } satisfies ToMain);
      }
    } else {
      const partial = t.finish ? t.finish() : null;
      await t.close?.();
      port.postMessage({ type: 'finished', partial } satisfies ToMain);
    }
  });
});
