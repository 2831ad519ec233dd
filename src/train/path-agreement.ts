/**
 * Step-by-step agreement of two engine paths on the CAM training step (issue 12), with teacher
 * forcing: at every step both paths compute the loss and every parameter's gradient from the same
 * weights, batch and ISL samples; the gradients are compared; then the reference path's
 * gradients (and batch-norm statistics) update the one set of weights both paths share.
 * Differences therefore never compound across steps: what is measured at a step is what the two
 * paths' kernels make of identical inputs.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../engine/random.js';
import { reluFlips, relDiff, startReluPass, usePath, type EnginePath } from '../engine/agreement/engine-paths.js';
import { importanceWeights, sampleRows } from '../losses/importance-sampling.js';
import { applyBnUpdates, type BnUpdate } from '../models/layers.js';
import type { CamNet } from '../models/cam-net.js';
import { SeamNet } from '../models/seam-net.js';
import type { Batch } from '../data/loader.js';
import { camStepLoss, type StepInputs } from './cam-step.js';
import { seamStepLoss } from './seam-step.js';
import type { TrainCamConfig } from './config.js';
import type { PolySgd } from './sgd.js';
import { islSeed } from './train-cam.js';

/** One step's comparison. */
export interface StepAgreement {
  step: number;
  /** Loss of the tested path and of the reference path. */
  loss: [number, number];
  lossRelDiff: number;
  /** Largest over parameters of max |g_test - g_ref| / max |g_ref|. */
  maxRelGradDiff: number;
  /** The parameter attaining it. */
  worstParam: string;
  /** ReLU sign flips between the paths' forward passes (-1 unless `traceRelu(true)`). */
  reluFlips: number;
}

/** Largest relative gradient difference of one parameter over the steps. */
export interface LayerAgreement {
  param: string;
  maxRelDiff: number;
  /** Step where it was reached. */
  atStep: number;
  /** Median over steps (a systematic error shows here too, a rare flip does not). */
  medianRelDiff: number;
}

/** What `runPathAgreement` measured. */
export interface PathAgreementReport {
  paths: [EnginePath, EnginePath];
  steps: number;
  maxRelGradDiff: number;
  maxLossRelDiff: number;
  perStep: StepAgreement[];
  /** Largest step difference over the steps without ReLU flips (-1: none traced or none without flips). */
  maxRelGradDiffNoFlips: number;
  /** Per parameter, largest difference first. */
  perLayer: LayerAgreement[];
}

/** Options of `runPathAgreement`. */
export interface PathAgreementOptions {
  model: CamNet;
  cfg: TrainCamConfig;
  opt: PolySgd;
  /** The parameters trained (and compared), e.g. `buildOptimizer(...).trainable`. */
  params: { name: string; variable: tf.Variable }[];
  /** Batches; each is disposed after its step. */
  batches: AsyncIterable<Batch>;
  steps: number;
  /** [tested, reference]: the reference path's gradients update the weights. */
  paths: [EnginePath, EnginePath];
  /** First step number (poly-lr schedule and ISL seed); default 0. */
  startStep?: number;
  /** Record native-against-wasm kernel outputs on the native path (see `kernelDiffs`); default false. */
  compareKernels?: boolean;
  /** With `compareKernels`, only every this many steps (the comparison reruns each kernel on wasm); default 1. */
  compareKernelsEvery?: number;
  onStep?: (s: StepAgreement) => void;
}

/** ISL sample indices [N, K, S] of a step, drawn from the reference path's logits as training would. */
function islIndices(model: CamNet, inp: StepInputs, cfg: TrainCamConfig): tf.Tensor3D {
  const logits = tf.tidy(() => {
    const { cam } = model.forward(inp.images, { training: true });
    return tf.slice(cam, [0, 0, 0, 1], [-1, -1, -1, -1]);
  });
  const [n, h, w, k] = logits.shape as number[];
  const wts = importanceWeights(logits.dataSync() as Float32Array, n, h * w, k, 'binomial');
  logits.dispose();
  const s = cfg.isl.numSamples;
  return tf.tensor3d(sampleRows(wts, n * k, h * w, s, new Rng(inp.islSeed)), [n, k, s], 'int32');
}

interface PathResult {
  loss: number;
  grads: Map<string, Float32Array>;
  tensors: Record<string, tf.Tensor>;
  bn: BnUpdate[];
}

async function gradsOn(path: EnginePath, o: PathAgreementOptions, inp: StepInputs, keep: boolean, step: number): Promise<PathResult> {
  await usePath(path, (o.compareKernels ?? false) && step % (o.compareKernelsEvery ?? 1) === 0);
  startReluPass();
  const bn: BnUpdate[] = [];
  const vars = o.params.map((p) => p.variable);
  const { value, grads } = tf.variableGrads(() => {
    const ctx = { training: true, bnUpdates: bn };
    const l = o.model instanceof SeamNet ? seamStepLoss(o.model, inp, o.cfg, ctx) : camStepLoss(o.model, inp, o.cfg, ctx);
    return l.total;
  }, vars);
  const loss = (await value.data())[0];
  value.dispose();
  const out = new Map<string, Float32Array>();
  for (const p of o.params) {
    const g = grads[p.variable.name];
    if (g) out.set(p.name, (await g.data()) as Float32Array);
  }
  if (!keep) {
    tf.dispose(Object.values(grads));
    for (const u of bn) tf.dispose([u.mean, u.variance]);
  }
  return { loss, grads: out, tensors: grads, bn };
}

const median = (a: number[]): number => {
  const s = [...a].sort((p, q) => p - q);
  return s.length === 0 ? 0 : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/**
 * Trains `steps` teacher-forced steps comparing two engine paths; see the module comment. Leaves
 * the reference path current.
 *
 * @example
 * installPathSwitch();
 * const r = await runPathAgreement({ model, cfg, opt, params, batches, steps: 20, paths: ['native', 'wasm'] });
 * r.maxRelGradDiff // e.g. 3e-6
 */
export async function runPathAgreement(o: PathAgreementOptions): Promise<PathAgreementReport> {
  const [testPath, refPath] = o.paths;
  const perStep: StepAgreement[] = [];
  const perParam = new Map<string, number[]>();
  const start = o.startStep ?? 0;
  let done = 0;
  for await (const batch of o.batches) {
    const step = start + done;
    const inp: StepInputs = { images: batch.images, raw: batch.raw, labels: batch.labels, islSeed: islSeed(o.cfg.seed, step) };
    try {
      if (o.cfg.islWeight > 0) {
        await usePath(refPath);
        inp.islIndices = islIndices(o.model, inp, o.cfg);
      }
      const a = await gradsOn(testPath, o, inp, false, step);
      const b = await gradsOn(refPath, o, inp, true, step);
      let worst = 0, worstParam = '';
      for (const p of o.params) {
        const gb = b.grads.get(p.name);
        const ga = a.grads.get(p.name);
        if (!ga || !gb) continue;
        const r = relDiff(ga, gb);
        (perParam.get(p.name) ?? perParam.set(p.name, []).get(p.name)!).push(r);
        if (r > worst || worstParam === '') { worst = r; worstParam = p.name; }
      }
      const s: StepAgreement = { step, loss: [a.loss, b.loss], lossRelDiff: Math.abs(a.loss - b.loss) / Math.max(Math.abs(b.loss), 1e-30), maxRelGradDiff: worst, worstParam, reluFlips: reluFlips() };
      perStep.push(s);
      o.onStep?.(s);
      // Teacher forcing: the reference path's update is the one both paths continue from.
      o.opt.step(step, b.tensors);
      applyBnUpdates(b.bn);
      tf.dispose(Object.values(b.tensors));
    } finally {
      inp.islIndices?.dispose();
      batch.images.dispose();
      batch.labels.dispose();
      batch.raw?.dispose();
      batch.valid?.dispose();
    }
    if (++done >= o.steps) break;
  }
  const perLayer: LayerAgreement[] = [...perParam.entries()].map(([param, rs]) => {
    const i = rs.reduce((m, r, k) => (r > rs[m] ? k : m), 0);
    return { param, maxRelDiff: rs[i], atStep: start + i, medianRelDiff: median(rs) };
  }).sort((x, y) => y.maxRelDiff - x.maxRelDiff);
  return {
    paths: o.paths,
    steps: done,
    maxRelGradDiff: Math.max(0, ...perStep.map((s) => s.maxRelGradDiff)),
    maxLossRelDiff: Math.max(0, ...perStep.map((s) => s.lossRelDiff)),
    maxRelGradDiffNoFlips: Math.max(-1, ...perStep.filter((s) => s.reluFlips === 0).map((s) => s.maxRelGradDiff)),
    perStep,
    perLayer,
  };
}
