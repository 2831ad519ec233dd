/**
 * Entry of a replica thread of data-parallel CAM training (see `cam-replicas.ts`): builds the
 * same model as replica 0 from its weights and optimiser state, then trains on the shards it is
 * posted, one step per message, meeting the other replicas in the batch norm and the gradient
 * sum. Nothing is written: replica 0 owns the run folder.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { initEngine } from '../engine/init.js';
import { ReplicaGroup, setReplicaGroup } from '../engine/replicas.js';
import { assignWeights } from '../models/weights-io.js';
import { describeTaskError } from '../scale/tasks.js';
import { camStepLoss } from './cam-step.js';
import type { CamReplicaInit, CamReplicaMessage, CamReplicaReply } from './cam-replicas.js';
import { buildOptimizer, sgdStep } from './run-setup.js';
import { camModelFor } from './train-cam.js';

const port = parentPort!;
const init = workerData as CamReplicaInit;
const post = (m: CamReplicaReply) => port.postMessage(m);
const group = new ReplicaGroup(init.group, init.rank);

try {
  const info = await initEngine({ backend: init.backend as 'wasm' | 'cpu', native: false });
  if (info.backend !== init.backend) throw new Error(`replica ${init.rank} got backend ${info.backend}, replica 0 has ${init.backend}`);
  const cfg = init.config;
  const model = camModelFor(cfg, init.numClasses);
  const { trainable, opt } = buildOptimizer(model, cfg.optim, init.maxSteps);
  assignWeights(model.store, { values: new Map(init.weights), meta: null }, { strict: true }, 'replica 0 weights');
  opt.loadState(new Map(init.optimizer));
  const vars = trainable.map((p) => p.variable);
  setReplicaGroup(group);
  let chain = Promise.resolve();
  const handle = async (m: CamReplicaMessage): Promise<void> => {
    if (m.type === 'stop') {
      opt.dispose();
      model.dispose();
      port.close();
      return;
    }
    const images = tf.tensor4d(m.images, m.imagesShape as [number, number, number, number]);
    const labels = tf.tensor2d(m.labels, m.labelsShape as [number, number]);
    try {
      await sgdStep(opt, m.step, vars, (ctx) => camStepLoss(model, { images, labels, islSeed: m.islSeed }, cfg, ctx), cfg.seed, m.weight);
    } finally {
      tf.dispose([images, labels]);
    }
  };
  port.on('message', (m: CamReplicaMessage) => {
    chain = chain.then(() => handle(m)).catch((e: unknown) => {
      group.abort();
      post({ type: 'error', error: describeTaskError(e) });
      port.close();
    });
  });
  post({ type: 'ready' });
} catch (e) {
  group.abort();
  post({ type: 'error', error: describeTaskError(e) });
}
