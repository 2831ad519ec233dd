/**
 * The demo (`hfpl demo`, `npm start`): the paper's experiment on the synthetic benchmark.
 * 1. generate the data set; 2. per seed, train the CAM network for every variant (baseline,
 * +ISL, +FSL, +both: same seed, same steps); 3. infer CAMs on the val split; 4. evaluate them
 * with the background-threshold sweep (mIoU, contour F at the best threshold) and the
 * classification quality; 5. the caller formats the table and report (src/viz/demo-report.ts).
 * Every stage skips work already on disk, so an interrupted demo continues where it stopped.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { generateSynthDataset, type SynthBench, type SynthDatasetOptions } from '../data/synth/generate.js';
import type { SynthV2Params } from '../data/synth/v2/params.js';
import { runEval } from '../eval/run-eval.js';
import { runInferCam, type InferCamResult } from '../infer/cam-run.js';
import { silentReporter, type ProgressReporter } from '../util/progress.js';
import { listCheckpointSteps, readRunResult } from './checkpoint.js';
import { resolveTrainCamConfig, type TrainCamConfig } from './config.js';
import { runTrainCam, type TrainCamResult } from './train-cam.js';
import { runTrainCamParallel } from './train-cam-parallel.js';
import { replicasUnsupported } from './cam-replicas.js';

/**
 * The variants: ISL and FSL weights (METHOD 1), and the ISL form: the binomial forms of the
 * paper, and the multinomial ISL of its ICASSP 2022 predecessor for comparison.
 */
export const DEMO_VARIANTS = Object.freeze({
  baseline: { islWeight: 0, fslWeight: 0 },
  isl: { islWeight: 0.2, fslWeight: 0 },
  fsl: { islWeight: 0, fslWeight: 1 },
  both: { islWeight: 0.2, fslWeight: 1 },
  'isl-mn': { islWeight: 0.2, fslWeight: 0, isl: { form: 'multinomial' as const } },
  'both-mn': { islWeight: 0.2, fslWeight: 1, isl: { form: 'multinomial' as const } },
});
export type DemoVariant = keyof typeof DEMO_VARIANTS;
export const DEMO_VARIANT_LABELS: Readonly<Record<DemoVariant, string>> = Object.freeze({
  baseline: 'baseline', isl: '+ISL', fsl: '+FSL', both: '+ISL +FSL', 'isl-mn': '+ISL (multinomial)', 'both-mn': '+ISL (multinomial) +FSL',
});
/** The paper's central claim as paired comparisons by label: each binomial ISL variant against its multinomial twin. */
export const BINOMIAL_VS_MULTINOMIAL: readonly [string, string][] = (
  [['isl', 'isl-mn'], ['both', 'both-mn']] as const
).map(([a, b]) => [DEMO_VARIANT_LABELS[a], DEMO_VARIANT_LABELS[b]]);

/** Sizes of a demo. */
export interface DemoPlan {
  /** Which synthetic benchmark (docs/benchmark-v2.md): v2 (the default) or v1 (`--bench v1`). */
  bench: SynthBench;
  /** Generated image size [width, height]; null = the benchmark's default (v1 128 x 128, v2 320 x 240). */
  size: [number, number] | null;
  /** v2 only: generator parameters other than the defaults (docs/benchmark-v2.md, "Calibration"). */
  synth: Partial<Pick<SynthV2Params, 'bodyCue' | 'partFraction' | 'minPart'>>;
  train: number;
  val: number;
  /**
   * Steps of the backbone pre-training (baseline losses, lr `lr`, seeded by the seed), the
   * stand-in for the ImageNet-pretrained backbone of the reference; 0 = every variant trains
   * from scratch. From scratch, the classifier of this CPU-sized benchmark needs thousands of
   * steps to learn at all, and an FSL of weight 1 from the first step keeps it from learning.
   */
  pretrainSteps: number;
  /**
   * Channel dropout before `fc8` in the pre-training. 0: the pre-training stands in for the
   * ImageNet training of the reference's backbone, which has no such head; the reference's
   * Dropout2d(0.5) belongs to the CAM training, i.e. the variants' fine-tuning (which keeps 0.5).
   */
  pretrainDropout: number;
  /** Steps of each variant (fine-tuning the pre-trained backbone when `pretrainSteps` > 0). */
  steps: number;
  /** Base lr of the variants when fine-tuning (METHOD 3.1: 0.01, new layers 10x). */
  fineTuneLr: number;
  batchSize: number;
  backbone: 'tiny' | 'small';
  crop: number;
  /** Random long-side resize of CAM training (pixels). */
  resizeLong: [number, number];
  /** CAM training colour jitter (METHOD 3.1's brightness/contrast/saturation 0.3, hue 0.1), or none. */
  colorJitter: boolean;
  lr: number;
  /** CAM inference scales of the original image. */
  scales: number[];
  /**
   * The scale the networks see the images at in training (resizeLong / image long side): the
   * classification scores come from it, and with `--full` the segmentation network trains at
   * `resizeLong` and is tested at 0.75, 1, 1.25 times it.
   */
  scoreScale: number;
  flip: boolean;
  /**
   * `--full`: base learning rate of the segmentation training, or null for the train-seg cpu
   * preset's 0.02 (v2: 0.01, docs/benchmark-v2.md "Calibration", session 5).
   */
  segLr: number | null;
  /** `--full`: the pipeline's `spatialScale` (CRF sxy and walk radius; docs/benchmark-v2.md). */
  spatialScale: number | 'auto';
  variants: DemoVariant[];
  seeds: number[];
}

const V1_DEFAULT: DemoPlan = {
  bench: 'v1', size: null, synth: {}, train: 2000, val: 150, pretrainSteps: 3000, pretrainDropout: 0, fineTuneLr: 0.01, steps: 1000, batchSize: 8, backbone: 'tiny', crop: 128,
  resizeLong: [112, 160], colorJitter: true, lr: 0.05, scales: [0.5, 1, 1.5, 2], scoreScale: 1, flip: true, spatialScale: 1, segLr: null, variants: ['baseline', 'both'], seeds: [0],
};
const V1_QUICK: DemoPlan = { ...V1_DEFAULT, train: 160, val: 24, pretrainSteps: 40, steps: 40, crop: 96, resizeLong: [88, 112], scales: [1, 1.5] };

/**
 * Benchmark v2 (320 x 240): CAM training at about half the generated size (long side 128-192,
 * crop 128), so the reference's inference scales 0.5 ... 2 become 0.25 ... 1 of the image and
 * the classification is scored at 0.5; no colour jitter (hue is part of a v2 class's evidence);
 * `--full` scales the CRF sxy and walk radius by long side / 500 (docs/benchmark-v2.md).
 * Calibrated on the baseline alone (docs/benchmark-v2.md, "Calibration").
 */
const V2_DEFAULT: DemoPlan = {
  bench: 'v2', size: null, synth: { bodyCue: 1, partFraction: [0.08, 0.14], minPart: 0.08 }, train: 2000, val: 150, pretrainSteps: 3000, pretrainDropout: 0, fineTuneLr: 0.01, steps: 500, batchSize: 8, backbone: 'tiny', crop: 128,
  resizeLong: [128, 192], colorJitter: false, lr: 0.05, scales: [0.25, 0.5, 0.75, 1], scoreScale: 0.5, flip: true, spatialScale: 'auto', segLr: 0.01, variants: ['baseline', 'both'], seeds: [0],
};
const V2_QUICK: DemoPlan = { ...V2_DEFAULT, size: [160, 120], train: 160, val: 24, pretrainSteps: 40, steps: 40, crop: 96, resizeLong: [80, 112], scales: [0.5, 1], scoreScale: 0.5 };

/**
 * Per benchmark: `default` (`npm start`): baseline and +ISL +FSL, each fine-tuning (`steps`) a
 * backbone pre-trained with the baseline losses; `quick`: 1-2 minutes (smoke test); `full`:
 * the default plan, whose runs the CLI then refines (CRF, random walk, final segmentation).
 */
export const DEMO_PLANS_BY_BENCH: Readonly<Record<SynthBench, Readonly<Record<'quick' | 'default' | 'full', DemoPlan>>>> = Object.freeze({
  v1: Object.freeze({ quick: V1_QUICK, default: V1_DEFAULT, full: V1_DEFAULT }),
  v2: Object.freeze({ quick: V2_QUICK, default: V2_DEFAULT, full: V2_DEFAULT }),
});

/** The plans of the default benchmark (v2). */
export const DEMO_PLANS = DEMO_PLANS_BY_BENCH.v2;

/** One trained-and-evaluated variant. */
export interface DemoRow {
  variant: DemoVariant;
  seed: number;
  run: string;
  miou: number;
  contourF: number;
  bestThreshold: number;
  /** Classification quality of the CAM network on val. */
  mAP: number;
  exactMatch: number;
  finalLoss: number;
  trainImagesPerSec: number;
  trainSeconds: number;
  inferImagesPerSec: number;
  inferSeconds: number;
}

export interface DemoResult {
  out: string;
  data: string;
  plan: DemoPlan;
  classNames: string[];
  rows: DemoRow[];
  seconds: number;
}

/** Hooks for the CLI: a line logger and a progress reporter for each stage. */
export interface DemoHooks {
  log?: (line: string) => void;
  reporter?: ProgressReporter;
  /**
   * Fine-tuning variants trained at once (one worker thread each) and image workers of the
   * inference and evaluation; default 1 (all in this thread). Results do not depend on it.
   */
  parallel?: number;
  /**
   * Data-parallel replicas of the backbone pre-training (`cam-replicas.ts`: wasm or cpu engine;
   * with the libtorch kernels it stays 1, they use threads of their own); default 1. Unlike
   * `parallel` this changes the pre-training's result, by float32 rounding only.
   */
  replicas?: number;
}

/** The run folder of a seed's pre-training. */
export function demoPretrainRun(out: string, seed: number): string {
  return join(out, 'runs', `pretrain-s${seed}`);
}

/** The data-set options of a plan (the set is the same for every seed: data seed 0). */
export function demoSynthOptions(plan: DemoPlan, out: string): SynthDatasetOptions {
  const common = { out, train: plan.train, val: plan.val, seed: 0 };
  const size = plan.size ? { width: plan.size[0], height: plan.size[1] } : {};
  if (plan.bench === 'v1') return { ...common, bench: 'v1', ...size };
  return { ...common, bench: 'v2', ...size, ...plan.synth };
}

/**
 * The training config of one variant of a plan; `pretrained` is the pre-trained model.json
 * (then the variant fine-tunes it at `fineTuneLr` with METHOD 3.1's 10x new-layer lr).
 * `variant` null gives the shared pre-training run itself.
 */
export function demoTrainConfig(plan: DemoPlan, variant: DemoVariant | null, seed: number, pretrained: string | null = null): TrainCamConfig {
  const steps = variant === null ? plan.pretrainSteps : plan.steps;
  return resolveTrainCamConfig({
    preset: 'cpu',
    overrides: {
      seed,
      ...DEMO_VARIANTS[variant ?? 'baseline'],
      model: { backbone: plan.backbone, pretrained, ...(variant === null ? { dropout: plan.pretrainDropout } : {}) },
      data: { crop: plan.crop, resizeLong: plan.resizeLong, ...(plan.colorJitter ? {} : { colorJitter: null }) },
      optim: pretrained ? { lr: plan.fineTuneLr, newLayerLrMult: 10 } : { lr: plan.lr },
      batchSize: plan.batchSize,
      steps,
      checkpointEvery: Math.max(50, Math.round(steps / 5)),
    },
  });
}

/** Whether a run folder holds a started run (config or checkpoints): resume it. */
function hasStarted(run: string): boolean {
  return listCheckpointSteps(run).length > 0 || existsSync(join(run, 'config.json'));
}

/** Trains (or resumes, or reuses) one CAM run. */
async function trainOnce(data: string, run: string, config: TrainCamConfig, what: string, log: (l: string) => void, reporter: ProgressReporter, replicas = 1): Promise<TrainCamResult> {
  const done = readRunResult<TrainCamResult>(run);
  if (done) {
    log(`${what}: already trained (${run})`);
    return done;
  }
  const resume = hasStarted(run);
  const n = replicasUnsupported(config, replicas) === null ? replicas : 1;
  log(`${what}: ${config.steps} steps${resume ? ' (resuming)' : ''}${n > 1 ? `, ${n} data-parallel replicas` : ''}`);
  return runTrainCam({ data, out: run, config, resume, log, replicas: n }, reporter);
}

/** Runs the demo; see the module comment. Rows are in (seed, variant) order. */
export async function runDemo(out: string, plan: DemoPlan, hooks: DemoHooks = {}): Promise<DemoResult> {
  const log = hooks.log ?? (() => {});
  const reporter = hooks.reporter ?? silentReporter;
  const parallel = hooks.parallel ?? 1;
  const t0 = performance.now();
  const data = join(out, 'data');
  log(`1. synthetic data (benchmark ${plan.bench}): ${plan.train} train + ${plan.val} val images in ${data}`);
  const synth = await generateSynthDataset(demoSynthOptions(plan, data), reporter, { workers: parallel });
  const K = synth.classNames.length;
  const rows: DemoRow[] = [];
  for (const seed of plan.seeds) {
    // Seeds govern everything but the data set: pre-training, initialisation, data order, sampling.
    let pretrained: string | null = null;
    if (plan.pretrainSteps > 0) {
      const run = demoPretrainRun(out, seed);
      await trainOnce(data, run, demoTrainConfig(plan, null, seed), `2a. backbone pre-training (baseline losses), seed ${seed}`, log, reporter, hooks.replicas ?? 1);
      pretrained = join(run, 'model.json');
    }
    // The variants' fine-tuning, `parallel` at a time; then each variant's inference and evaluation.
    const jobs = plan.variants.map((variant) => {
      const run = join(out, 'runs', `${variant}-s${seed}`);
      const config = demoTrainConfig(plan, variant, seed, pretrained);
      const what = `2. ${pretrained ? 'fine-tune' : 'train'} ${DEMO_VARIANT_LABELS[variant]} (isl ${config.islWeight}${config.isl.form === 'multinomial' ? ' multinomial' : ''}, fsl ${config.fslWeight}), seed ${seed}`;
      return { variant, run, config, what };
    });
    const trained = new Map<string, TrainCamResult>();
    const todo = jobs.filter((j) => {
      const done = readRunResult<TrainCamResult>(j.run);
      if (done) {
        log(`${j.what}: already trained (${j.run})`);
        trained.set(j.run, done);
      }
      return !done;
    });
    if (parallel > 1 && todo.length > 1) {
      for (const j of todo) log(`${j.what}: ${j.config.steps} steps${hasStarted(j.run) ? ' (resuming)' : ''}, ${Math.min(parallel, todo.length)} at once`);
      const rs = await runTrainCamParallel(todo.map((j) => ({ name: `${j.variant}-s${seed}`, opts: { data, out: j.run, config: j.config, resume: hasStarted(j.run) } })), parallel, { log, reporter });
      todo.forEach((j, i) => trained.set(j.run, rs[i]));
    } else {
      for (const j of todo) trained.set(j.run, await trainOnce(data, j.run, j.config, j.what, log, reporter));
    }
    for (const { variant, run } of jobs) {
      const tr = trained.get(run)!;
      const inferOut = join(run, 'infer-val');
      log(`3. infer CAMs on val (scales ${plan.scales.join(', ')}${plan.flip ? ' x flip' : ''})`);
      const inf: InferCamResult = await runInferCam({ run, data, split: 'val', out: inferOut, scales: plan.scales, flip: plan.flip, scoreScale: plan.scoreScale }, reporter, { workers: parallel });
      const ev = await runEval({
        predDir: join(inferOut, 'cams'), gtDir: join(data, 'SegmentationClass'), listFile: join(data, 'ImageSets', 'Segmentation', 'val.txt'),
        numClasses: K, classNames: synth.classNames, cams: true, out: join(run, 'eval-val.json'),
      }, reporter, { workers: parallel });
      const row: DemoRow = {
        variant, seed, run, miou: ev.miou, contourF: ev.contourF, bestThreshold: ev.bestThreshold ?? Number.NaN,
        mAP: inf.classification.mAP, exactMatch: inf.classification.exactMatch, finalLoss: tr.finalLoss,
        trainImagesPerSec: tr.imagesPerSec, trainSeconds: tr.seconds, inferImagesPerSec: inf.imagesPerSec, inferSeconds: inf.seconds,
      };
      log(`4. ${DEMO_VARIANT_LABELS[variant]} seed ${seed}: mIoU ${(100 * row.miou).toFixed(1)}, contour F ${(100 * row.contourF).toFixed(1)} (t = ${row.bestThreshold.toFixed(2)}), classification mAP ${(100 * row.mAP).toFixed(1)}, exact match ${(100 * row.exactMatch).toFixed(1)}`);
      rows.push(row);
    }
  }
  return { out, data, plan, classNames: synth.classNames, rows, seconds: (performance.now() - t0) / 1000 };
}
