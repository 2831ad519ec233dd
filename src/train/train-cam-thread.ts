/**
 * Entry of a training thread (see `train-cam-parallel.ts`): its own TF.js engine (and libtorch
 * kernels when built), one `runTrainCam`, progress and log lines posted to the main thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { initEngine } from '../engine/init.js';
import { describeTaskError } from '../scale/tasks.js';
import { runTrainCam, type TrainCamOptions } from './train-cam.js';
import type { TrainThreadMessage } from './train-cam-parallel.js';

const port = parentPort!;
const { opts, threads } = workerData as { opts: Omit<TrainCamOptions, 'log'>; threads: number };
const post = (m: TrainThreadMessage) => port.postMessage(m);

try {
  await initEngine({ threads });
  const result = await runTrainCam({ ...opts, log: (line) => post({ type: 'log', line }) }, {
    start: (label, total, unit) => post({ type: 'start', label, total, unit }),
    step: (event) => post({ type: 'step', event }),
    end: () => {},
  });
  post({ type: 'done', result });
} catch (e) {
  post({ type: 'error', error: describeTaskError(e) });
}
