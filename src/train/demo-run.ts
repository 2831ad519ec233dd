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
import { generateSynthDataset } from '../data/synth/generate.js';
import { runEval } from '../eval/run-eval.js';
import { runInferCam, type InferCamResult } from '../infer/cam-run.js';
import { silentReporter, type ProgressReporter } from '../util/progress.js';
import { isRunFinished, listCheckpointSteps } from './checkpoint.js';
import { resolveTrainCamConfig, type TrainCamConfig } from './config.js';
import { runTrainCam, type TrainCamResult } from './train-cam.js';
import { readFileSync } from 'node:fs';

/** The add-on variants: ISL and FSL weights. */
export const DEMO_VARIANTS = Object.freeze({
  baseline: { islWeight: 0, fslWeight: 0 },
  isl: { islWeight: 0.2, fslWeight: 0 },
  fsl: { islWeight: 0, fslWeight: 1 },
  both: { islWeight: 0.2, fslWeight: 1 },
});
export type DemoVariant = keyof typeof DEMO_VARIANTS;
export const DEMO_VARIANT_LABELS: Readonly<Record<DemoVariant, string>> = Object.freeze({ baseline: 'baseline', isl: '+ISL', fsl: '+FSL', both: '+ISL +FSL' });

/** Sizes of a demo. */
export interface DemoPlan {
  train: number;
  val: number;
  /**
   * Steps of the shared backbone pre-training (baseline losses, seed 0, lr `lr`), the
   * stand-in for the ImageNet-pretrained backbone of the reference; 0 = every variant trains
   * from scratch. From scratch, the classifier of this CPU-sized benchmark needs 2000-3000
   * steps to learn at all, and an FSL of weight 1 from the first step keeps it from learning.
   */
  pretrainSteps: number;
  /** Steps of each variant (fine-tuning the pre-trained backbone when `pretrainSteps` > 0). */
  steps: number;
  /** Base lr of the variants when fine-tuning (METHOD 3.1: 0.01, new layers 10x). */
  fineTuneLr: number;
  batchSize: number;
  backbone: 'tiny' | 'small';
  crop: number;
  resizeLong: [number, number];
  lr: number;
  scales: number[];
  flip: boolean;
  variants: DemoVariant[];
  seeds: number[];
}

const DEFAULT_PLAN: DemoPlan = { train: 2000, val: 150, pretrainSteps: 3000, fineTuneLr: 0.01, steps: 1000, batchSize: 8, backbone: 'tiny', crop: 128, resizeLong: [112, 160], lr: 0.05, scales: [0.5, 1, 1.5, 2], flip: true, variants: ['baseline', 'both'], seeds: [0] };

/**
 * `default` (`npm start`): baseline and +ISL +FSL, each fine-tuning (1000 steps) one backbone
 * pre-trained for 3000 steps with the baseline losses; tiny backbone,
 * 150 val images, aimed at 15 minutes on an otherwise idle 2-core CPU; `quick`: 1-2 minutes
 * (smoke test); `full`: the default plan, whose runs the CLI then refines (CRF, random walk,
 * final segmentation).
 */
export const DEMO_PLANS: Readonly<Record<'quick' | 'default' | 'full', DemoPlan>> = Object.freeze({
  quick: { train: 160, val: 24, pretrainSteps: 40, fineTuneLr: 0.01, steps: 40, batchSize: 8, backbone: 'tiny', crop: 96, resizeLong: [88, 112], lr: 0.05, scales: [1, 1.5], flip: true, variants: ['baseline', 'both'], seeds: [0] },
  default: DEFAULT_PLAN,
  // `--full` runs the default plan and then the refinement stages (src/pipeline/full-stages.ts).
  full: DEFAULT_PLAN,
});

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
}

/** The run folder of the shared pre-training. */
export function demoPretrainRun(out: string): string {
  return join(out, 'runs', 'pretrain');
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
      model: { backbone: plan.backbone, pretrained },
      data: { crop: plan.crop, resizeLong: plan.resizeLong },
      optim: pretrained ? { lr: plan.fineTuneLr, newLayerLrMult: 10 } : { lr: plan.lr },
      batchSize: plan.batchSize,
      steps,
      checkpointEvery: Math.max(50, Math.round(steps / 5)),
    },
  });
}

/** Trains (or resumes, or reuses) one CAM run. */
async function trainOnce(data: string, run: string, config: TrainCamConfig, what: string, log: (l: string) => void, reporter: ProgressReporter): Promise<TrainCamResult> {
  if (isRunFinished(run)) {
    log(`${what}: already trained (${run})`);
    return JSON.parse(readFileSync(join(run, 'DONE'), 'utf8')) as TrainCamResult;
  }
  const resume = listCheckpointSteps(run).length > 0 || existsSync(join(run, 'config.json'));
  log(`${what}: ${config.steps} steps${resume ? ' (resuming)' : ''}`);
  return runTrainCam({ data, out: run, config, resume, log }, reporter);
}

/** Runs the demo; see the module comment. Rows are in (seed, variant) order. */
export async function runDemo(out: string, plan: DemoPlan, hooks: DemoHooks = {}): Promise<DemoResult> {
  const log = hooks.log ?? (() => {});
  const reporter = hooks.reporter ?? silentReporter;
  const t0 = performance.now();
  const data = join(out, 'data');
  log(`1. synthetic data: ${plan.train} train + ${plan.val} val images in ${data}`);
  const synth = await generateSynthDataset({ out: data, train: plan.train, val: plan.val, seed: 0 }, reporter);
  const K = synth.classNames.length;
  const rows: DemoRow[] = [];
  let pretrained: string | null = null;
  if (plan.pretrainSteps > 0) {
    const run = demoPretrainRun(out);
    await trainOnce(data, run, demoTrainConfig(plan, null, 0), '2a. shared backbone pre-training (baseline losses, seed 0)', log, reporter);
    pretrained = join(run, 'model.json');
  }
  for (const seed of plan.seeds) {
    for (const variant of plan.variants) {
      const run = join(out, 'runs', `${variant}-s${seed}`);
      const config = demoTrainConfig(plan, variant, seed, pretrained);
      const what = `2. ${pretrained ? 'fine-tune' : 'train'} ${DEMO_VARIANT_LABELS[variant]} (isl ${config.islWeight}, fsl ${config.fslWeight}), seed ${seed}`;
      const tr = await trainOnce(data, run, config, what, log, reporter);
      const inferOut = join(run, 'infer-val');
      log(`3. infer CAMs on val (scales ${plan.scales.join(', ')}${plan.flip ? ' x flip' : ''})`);
      const inf: InferCamResult = await runInferCam({ run, data, split: 'val', out: inferOut, scales: plan.scales, flip: plan.flip }, reporter);
      const ev = await runEval({
        predDir: join(inferOut, 'cams'), gtDir: join(data, 'SegmentationClass'), listFile: join(data, 'ImageSets', 'Segmentation', 'val.txt'),
        numClasses: K, classNames: synth.classNames, cams: true, out: join(run, 'eval-val.json'),
      }, reporter);
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
