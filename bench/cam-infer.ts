/**
 * CAM speed: inference images/s (METHOD 3.2: scales 0.5, 1, 1.5, 2, each with its flip) and
 * training images/s (batch 8, crop 128, with the add-on: ISL 0.2 + FSL 1.0) of the `small`
 * (default) and `tiny` (demo) backbones on 128 x 128 images with 2 of 6 classes present.
 * Prints wall and CPU-time rates (CPU time is the steadier figure on a shared machine); the last
 * line is a JSON summary. Run: `npm run bench:cam-infer`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { initEngine } from '../src/engine/init.js';
import { Rng } from '../src/engine/random.js';
import { inferCams } from '../src/infer/cam-inference.js';
import { CamNet } from '../src/models/cam-net.js';
import { applyBnUpdates, type BnUpdate } from '../src/models/layers.js';
import { camStepLoss } from '../src/train/cam-step.js';
import { resolveTrainCamConfig } from '../src/train/config.js';
import { PolySgd, paramGroups } from '../src/train/sgd.js';

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

function measureInfer(model: CamNet, images: number): { wall: number; cpu: number } {
  const rng = new Rng(1);
  const img = { data: Uint8Array.from({ length: 128 * 128 * 3 }, () => rng.int(0, 256)), width: 128, height: 128 };
  inferCams(model, img, [1, 4]); // warm-up
  const t0 = performance.now(), c0 = cpuMs();
  for (let i = 0; i < images; i++) inferCams(model, img, [1, 4]);
  return { wall: images / ((performance.now() - t0) / 1000), cpu: images / ((cpuMs() - c0) / 1000) };
}

function measureTrain(model: CamNet, steps: number): { wall: number; cpu: number } {
  const cfg = resolveTrainCamConfig();
  const params = model.store.trainable();
  const opt = new PolySgd(paramGroups(params, cfg.optim), { lr: 0.01, momentum: 0.9, power: 0.9, maxSteps: 1000 });
  const images = tf.randomNormal([8, 128, 128, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
  const raw = tf.randomUniform([8, 128, 128, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
  const labels = tf.tensor2d(Array.from({ length: 48 }, (_, i) => (i % 6 === Math.floor(i / 6) % 6 || i % 6 === (Math.floor(i / 6) + 2) % 6 ? 1 : 0)), [8, 6]);
  const step = (s: number) => {
    const bn: BnUpdate[] = [];
    const { value, grads } = tf.variableGrads(() => camStepLoss(model, { images, raw, labels, islSeed: s }, cfg, { training: true, bnUpdates: bn }).total, params.map((p) => p.variable));
    opt.step(s, grads);
    applyBnUpdates(bn);
    value.dataSync();
    tf.dispose([value, ...Object.values(grads)]);
  };
  step(0);
  const t0 = performance.now(), c0 = cpuMs();
  for (let s = 1; s <= steps; s++) step(s);
  const r = { wall: (8 * steps) / ((performance.now() - t0) / 1000), cpu: (8 * steps) / ((cpuMs() - c0) / 1000) };
  tf.dispose([images, raw, labels]);
  opt.dispose();
  return r;
}

const engine = await initEngine();
const summary: Record<string, unknown> = { backend: engine.backend, native: engine.native };
for (const backbone of ['small', 'tiny'] as const) {
  const model = new CamNet({ numClasses: 6, backbone }, 0);
  const inf = measureInfer(model, 10);
  const tr = measureTrain(model, 5);
  console.log(`${backbone}: inference ${inf.wall.toFixed(2)} images/s wall (${inf.cpu.toFixed(2)} per CPU-second), 4 scales x flip, 128 x 128`);
  console.log(`${backbone}: training ${tr.wall.toFixed(1)} images/s wall (${tr.cpu.toFixed(1)} per CPU-second), batch 8, crop 128, ISL + FSL`);
  summary[backbone] = { inferImagesPerSec: +inf.wall.toFixed(3), inferImagesPerCpuSec: +inf.cpu.toFixed(3), trainImagesPerSec: +tr.wall.toFixed(2), trainImagesPerCpuSec: +tr.cpu.toFixed(2) };
  model.dispose();
}
console.log(JSON.stringify(summary));
