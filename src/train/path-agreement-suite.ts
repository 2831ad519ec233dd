/**
 * The demo's training configurations run through `runPathAgreement` (issue 12): the shared
 * pre-training (baseline losses, lr `plan.lr`, from scratch), then fine-tuning of its weights
 * (lr `plan.fineTuneLr`, new layers 10x) as baseline, +ISL, +FSL, +ISL +FSL, and SEAM +ISL +FSL,
 * all with the demo's network, crop and batch (or smaller ones given by the caller).
 */
import * as tf from '@tensorflow/tfjs-core';
import { BatchLoader } from '../data/loader.js';
import { readVocSplit } from '../data/voc.js';
import type { EnginePath } from '../engine/agreement/engine-paths.js';
import { CamNet } from '../models/cam-net.js';
import { SeamNet } from '../models/seam-net.js';
import { DEMO_VARIANTS, type DemoPlan } from './demo-run.js';
import { resolveTrainCamConfig, type TrainCamConfig } from './config.js';
import { buildOptimizer } from './run-setup.js';
import { runPathAgreement, type PathAgreementReport, type StepAgreement } from './path-agreement.js';

/** A configuration of the suite: the pre-training, a fine-tuning variant, or SEAM (+ISL +FSL). */
export type AgreementConfig = 'pretrain' | 'baseline' | 'isl' | 'fsl' | 'both' | 'seam';
export const AGREEMENT_CONFIGS: readonly AgreementConfig[] = Object.freeze(['pretrain', 'baseline', 'isl', 'fsl', 'both', 'seam']);

/** Options of `runAgreementSuite`. */
export interface AgreementSuiteOptions {
  /** VOC-layout data set (e.g. the demo's synthetic one). */
  data: string;
  plan: Pick<DemoPlan, 'pretrainSteps' | 'steps' | 'fineTuneLr' | 'batchSize' | 'backbone' | 'crop' | 'resizeLong' | 'lr'> & Partial<Pick<DemoPlan, 'pretrainDropout' | 'colorJitter'>>;
  configs: readonly AgreementConfig[];
  /** Teacher-forced steps per configuration. */
  steps: number;
  paths: [EnginePath, EnginePath];
  seed?: number;
  compareKernels?: boolean;
  /** See `PathAgreementOptions.compareKernelsEvery`. */
  compareKernelsEvery?: number;
  onStep?: (config: AgreementConfig, s: StepAgreement) => void;
}

/** The training config of one suite entry (the demo's, see `demoTrainConfig`). */
export function agreementTrainConfig(plan: AgreementSuiteOptions['plan'], config: AgreementConfig, seed: number): TrainCamConfig {
  const fineTune = config !== 'pretrain';
  const variant = config === 'pretrain' ? 'baseline' : config === 'seam' ? 'both' : config;
  return resolveTrainCamConfig({
    preset: 'cpu',
    overrides: {
      seed,
      baseline: config === 'seam' ? 'seam' : 'cam',
      ...DEMO_VARIANTS[variant],
      // As the demo: the pre-training without the fc8 dropout (plan.pretrainDropout), no colour jitter when the plan has none.
      model: { backbone: plan.backbone, pretrained: null, ...(fineTune || plan.pretrainDropout === undefined ? {} : { dropout: plan.pretrainDropout }) },
      data: { crop: plan.crop, resizeLong: plan.resizeLong, ...(plan.colorJitter === false ? { colorJitter: null } : {}) },
      optim: fineTune ? { lr: plan.fineTuneLr, newLayerLrMult: 10 } : { lr: plan.lr },
      batchSize: plan.batchSize,
      steps: fineTune ? plan.steps : plan.pretrainSteps,
    },
  });
}

/**
 * Runs the configurations in order; the fine-tuning ones start from the backbone weights the
 * pre-training entry reached (or from the seed's initial weights when it is not run).
 */
export async function runAgreementSuite(o: AgreementSuiteOptions): Promise<Record<string, PathAgreementReport>> {
  const seed = o.seed ?? 0;
  const out: Record<string, PathAgreementReport> = {};
  let backbone: Map<string, tf.Tensor> | null = null;
  const ordered = [...o.configs].sort((a, b) => AGREEMENT_CONFIGS.indexOf(a) - AGREEMENT_CONFIGS.indexOf(b));
  try {
    for (const config of ordered) {
      const cfg = agreementTrainConfig(o.plan, config, seed);
      const split = readVocSplit(o.data, cfg.data.split);
      const loader = new BatchLoader(split, {
        batchSize: cfg.batchSize, seed: cfg.seed,
        augment: { crop: cfg.data.crop, resizeLong: cfg.data.resizeLong, flip: cfg.data.flip, colorJitter: cfg.data.colorJitter, keepRaw: cfg.fslWeight > 0 },
      });
      const modelCfg = { head: cfg.baseline, numClasses: split.classNames.length - 1, backbone: cfg.model.backbone, dropout: cfg.model.dropout };
      const model = cfg.baseline === 'seam' ? new SeamNet(modelCfg, seed) : new CamNet(modelCfg, seed);
      if (backbone) {
        for (const [name, v] of model.store.namedTensors()) {
          const src = backbone.get(name);
          if (src) v.assign(src);
        }
      }
      const { trainable, opt } = buildOptimizer(model, cfg.optim, cfg.steps ?? o.steps);
      try {
        out[config] = await runPathAgreement({
          model, cfg, opt, params: trainable, batches: loader.batches(), steps: o.steps, paths: o.paths,
          compareKernels: o.compareKernels, compareKernelsEvery: o.compareKernelsEvery, onStep: (s) => o.onStep?.(config, s),
        });
        if (config === 'pretrain') {
          backbone = new Map([...model.store.namedTensors()].filter(([k]) => k.startsWith('backbone.')).map(([k, v]) => [k, tf.clone(v)]));
        }
      } finally {
        opt.dispose();
        model.dispose();
      }
    }
  } finally {
    if (backbone) tf.dispose([...backbone.values()]);
  }
  return out;
}
