/**
 * The pipeline driver (`hfpl pipeline`, METHOD 3): runs every stage in order, each through
 * files in its own folder (`stage-io.ts`), skipping stages whose DONE marker exists, so an
 * interrupted pipeline resumes (training stages also resume from their checkpoints).
 * Pseudo-label stages (CAM, +CRF, random walk) are evaluated on the training split, whose
 * labels they produce; the final segmentation on the evaluation split.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { z } from 'zod';
import { HfplError } from '../errors.js';
import { readVocSplit, vocListPath } from '../data/voc.js';
import { runCrf } from '../infer/crf/run-crf.js';
import { runInferCam } from '../infer/cam-run.js';
import { runInferAff } from '../infer/infer-aff.js';
import { AFFINITY_DIAGNOSTICS_FILE, formatAffinityDiagnostics, runAffinityDiagnostics } from '../infer/affinity-diagnostics.js';
import { runInferSeg } from '../infer/infer-seg.js';
import { segmentationCrfOptions } from '../infer/crf/dense-crf.js';
import { readWeights } from '../models/weights-io.js';
import { resolveTrainCamConfig } from '../train/config.js';
import { runTrainAff, resolveTrainAffConfig } from '../train/train-aff.js';
import { runTrainCam } from '../train/train-cam.js';
import { runTrainSeg, resolveTrainSegConfig } from '../train/train-seg.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { silentReporter, type ProgressReporter } from '../util/progress.js';
import { PIPELINE_STAGES, evaluateStage, gtDir, isStageDone, markStageDone, readStageMetrics, stageDir, type PipelineStage, type StageMetrics } from './stage-io.js';

const scales = z.array(z.number().positive().max(8)).min(1);
const steps = z.number().int().positive().optional();

/** Pipeline options; every stage's other settings come from its `cpu` preset. */
export const pipelineOptionsSchema = z.strictObject({
  /** VOC-layout dataset folder. */
  data: z.string().min(1),
  /** Output folder (one sub-folder per stage). */
  out: z.string().min(1),
  /** CAM baseline 'cam' or 'seam'; default 'cam'. */
  baseline: z.enum(['cam', 'seam']).default('cam'),
  /** ISL weight (0 = off); default 0.2. */
  islWeight: z.number().min(0).max(1).default(0.2),
  /** FSL weight (0 = off); default 1. */
  fslWeight: z.number().min(0).default(1),
  /** Backbone of all three networks; default 'small'. */
  backbone: z.enum(['tiny', 'small', 'resnet38']).default('small'),
  /** Split trained on and whose pseudo-labels are made; default 'train'. */
  trainSplit: z.string().min(1).default('train'),
  /** Split the final segmentation is evaluated on; default 'val'. */
  evalSplit: z.string().min(1).default('val'),
  /** An existing train-cam run to use instead of the train-cam stage. */
  camRun: z.string().min(1).optional(),
  seed: z.number().int().min(0).default(0),
  /** Training steps of the three networks (default: each preset's). */
  camSteps: steps,
  affSteps: steps,
  segSteps: steps,
  /** Batch size of the three trainings (default: the presets', 8). */
  batchSize: z.number().int().positive().optional(),
  /** Training crop (multiple of 8; default the presets', 128). */
  crop: z.number().int().min(32).optional(),
  /**
   * Random long-side resize of the segmentation training, [min, max] pixels, or null for none
   * (the images at their own scale, as the test scales assume); default the cpu preset's.
   */
  segResizeLong: z.tuple([z.number().int().positive(), z.number().int().positive()]).nullable().optional(),
  /** Base learning rate of the segmentation training; default the train-seg preset's (cpu: 0.02). */
  segLr: z.number().positive().optional(),
  /** CAM inference scales; default [0.5, 1, 1.5, 2]. */
  camScales: scales.default([0.5, 1, 1.5, 2]),
  /** Segmentation test scales; default [0.5, 0.75, 1, 1.25, 1.5, 1.75]. */
  segScales: scales.default([0.5, 0.75, 1, 1.25, 1.5, 1.75]),
  /** Flipped copies at test time; default true. */
  flip: z.boolean().default(true),
  /** 1-iteration CRF after the segmentation network; default true (reference TEST_CRF, voc12/config_voc2012.py:45). */
  segCrf: z.boolean().default(true),
  /**
   * Image size relative to the VOC images the reference's spatial parameters were tuned for
   * (long side 500): 1 (default) keeps them exact; s scales the CRF kernels' sxy (3, 80 and the
   * test CRF's 32) by s (the reference's `crf_inference(scale_factor = 1 / s)`, tool/imutils.py:220,
   * 233-234) and the AffinityNet / walk radius 5 to max(2, round(5 s)); 'auto' takes s = the
   * median long side of the first 20 training images / 500.
   */
  spatialScale: z.union([z.literal('auto'), z.number().positive().max(16)]).default(1),
  /** Mean-field iterations of the CRF stage; default 10. */
  crfIterations: z.number().int().min(0).default(10),
  /**
   * Background thresholds of the "+CRF" row: CRF of [t, CAMs] for each (plus the CAM stage's
   * best t when > 0), the best mIoU reported, as the CAM row's sweep. Default [0.1, 0.2, 0.3, 0.4].
   */
  crfThresholds: z.array(z.number().gt(0).max(1)).min(1).default([0.1, 0.2, 0.3, 0.4]),
});
export type PipelineOptionsInput = z.input<typeof pipelineOptionsSchema>;
export type PipelineOptions = z.output<typeof pipelineOptionsSchema>;

/** The VOC long side the reference's spatial parameters assume (`spatialScale` 'auto'). */
export const VOC_LONG_SIDE = 500;

/** The spatial parameters `spatialScale` s gives: CRF scale factor 1 / s and pair / walk radius max(2, round(5 s)). */
export function scaledSpatialParams(s: number): { crfScaleFactor: number; radius: number } {
  return { crfScaleFactor: 1 / s, radius: Math.max(2, Math.round(5 * s)) };
}

/** `spatialScale` as a number ('auto': median long side of the first 20 training images / 500). */
export async function resolveSpatialScale(scale: number | 'auto', data: string, split: string): Promise<number> {
  if (scale !== 'auto') return scale;
  const sizes = await Promise.all(readVocSplit(data, split).samples.slice(0, 20).map(async (smp) => {
    const m = await sharp(smp.imagePath).metadata();
    return Math.max(m.width ?? 0, m.height ?? 0);
  }));
  sizes.sort((a, b) => a - b);
  return sizes[Math.floor(sizes.length / 2)] / VOC_LONG_SIDE;
}

/** What happened to one stage. */
export interface StageReport {
  stage: PipelineStage;
  /** True when its DONE marker was already there. */
  skipped: boolean;
  seconds: number;
  metrics?: StageMetrics;
}

/** Result of `runPipeline` (also `<out>/pipeline.json`). */
export interface PipelineResult {
  out: string;
  stages: StageReport[];
  seconds: number;
}

/** Validates pipeline options; E_CONFIG names the option, the value and what is allowed. */
export function resolvePipelineOptions(input: PipelineOptionsInput): PipelineOptions {
  const r = pipelineOptionsSchema.safeParse(input);
  if (r.success) return r.data;
  const i = r.error.issues[0];
  if (i.code === 'unrecognized_keys') throw new HfplError('E_CONFIG', `pipeline: unknown option "${i.keys[0]}"`);
  const key = i.path.join('.');
  throw new HfplError('E_CONFIG', `pipeline: option ${key} = ${JSON.stringify((input as Record<string, unknown>)[String(i.path[0])])} is invalid: ${i.message}`);
}

/**
 * A pipeline folder is only resumed with the options it was started with (a finished stage
 * would otherwise be skipped although its inputs changed): E_RUN naming the first difference.
 */
function checkSameOptions(o: PipelineOptions): void {
  const p = join(o.out, 'pipeline.json');
  if (!existsSync(p)) return;
  let saved: Record<string, unknown>;
  try {
    saved = (JSON.parse(readFileSync(p, 'utf8')) as { options: Record<string, unknown> }).options;
  } catch {
    throw new HfplError('E_RUN', `${p}: unreadable; delete it (or the whole folder) to start over`);
  }
  const now = o as unknown as Record<string, unknown>;
  const keys = [...new Set([...Object.keys(saved ?? {}), ...Object.keys(now)])].filter((k) => k !== 'out');
  const key = keys.find((k) => JSON.stringify(saved?.[k]) !== JSON.stringify(now[k]));
  if (key !== undefined) {
    throw new HfplError('E_RUN', `${o.out}: holds a pipeline run with other options (${key} ${JSON.stringify(saved?.[key])} there, ${JSON.stringify(now[key])} now); use another --out or delete it`);
  }
}

/**
 * Runs `evalAt` for every threshold, keeps the best mIoU (the first on ties) and writes its
 * evaluation with `bestThreshold` and the mIoU `curve` to `<dir>/eval.json`. (A constant
 * background probability near 0 makes the CRF all foreground, so the CAM row's best t, often
 * small with weak CAMs, is not reused alone.)
 */
async function crfThresholdSweep(ts: number[], evalAt: (t: number) => Promise<StageMetrics>, dir: string): Promise<StageMetrics> {
  let best: StageMetrics | null = null;
  const curve: { t: number; miou: number }[] = [];
  for (const t of ts) {
    const m = await evalAt(t);
    curve.push({ t, miou: m.miou });
    if (!best || m.miou > best.miou) best = { ...m, bestThreshold: t };
  }
  const ev = JSON.parse(readFileSync(join(dir, `threshold${best!.bestThreshold}`, 'eval.json'), 'utf8')) as Record<string, unknown>;
  const { miou, contourF, numImages, ...rest } = ev;
  await writeFileAtomic(join(dir, 'eval.json'), JSON.stringify({ miou, contourF, numImages, bestThreshold: best!.bestThreshold, curve, ...rest }) + '\n');
  return best!;
}

/** Hooks for progress: one reporter for every stage, and one line per stage event. */
export interface PipelineHooks {
  reporter?: ProgressReporter;
  log?: (line: string) => void;
}

/**
 * Runs (or resumes) the pipeline; see the module comment and `stage-io.ts` for the layout.
 *
 * @example
 * const r = await runPipeline({ data: 'data/synth', out: 'runs/pipe', fslWeight: 0 });
 * r.stages.map((s) => [s.stage, s.metrics?.miou]); // [['train-cam', undefined], ['infer-cam', 0.52], ...]
 */
export async function runPipeline(input: PipelineOptionsInput, hooks: PipelineHooks = {}): Promise<PipelineResult> {
  const o = resolvePipelineOptions(input);
  const reporter = hooks.reporter ?? silentReporter;
  const log = hooks.log ?? (() => {});
  const classNames = [...readVocSplit(o.data, o.trainSplit).classNames];
  const dir = (s: PipelineStage) => stageDir(o.out, s);
  const camRun = o.camRun ?? dir('train-cam');
  checkSameOptions(o);
  await writeFileAtomic(join(o.out, 'pipeline.json'), JSON.stringify({ options: o, stages: [] }, null, 2) + '\n');
  const t0 = performance.now();
  const reports: StageReport[] = [];
  const common = { ...(o.batchSize ? { batchSize: o.batchSize } : {}) };
  const data = (crop?: number) => (crop ? { data: { crop } } : {});
  const spatial = scaledSpatialParams(await resolveSpatialScale(o.spatialScale, o.data, o.trainSplit));
  if (o.spatialScale !== 1) log(`pipeline: spatial scale ${JSON.stringify(o.spatialScale)}: CRF sxy x ${(1 / spatial.crfScaleFactor).toFixed(3)}, pair / walk radius ${spatial.radius}`);

  // The backbone of AffinityNet and DeepLab is the CAM network's, initialised from its weights.
  const camBackbone = () => {
    const meta = readWeights(join(camRun, 'model.json')).meta as { model?: { backbone?: unknown } } | null;
    if (!meta?.model?.backbone) throw new HfplError('E_DATA', `${camRun}/model.json: no model config (not an hfpl CAM run)`);
    return meta.model.backbone;
  };

  const stages: Record<PipelineStage, () => Promise<StageMetrics | undefined>> = {
    'train-cam': async () => {
      const config = resolveTrainCamConfig({
        overrides: {
          seed: o.seed, baseline: o.baseline, islWeight: o.islWeight, fslWeight: o.fslWeight, steps: o.camSteps, ...common,
          model: { backbone: o.backbone }, data: { split: o.trainSplit, ...(o.crop ? { crop: o.crop } : {}) },
        },
      });
      await runTrainCam({ data: o.data, out: dir('train-cam'), config, resume: true, log }, reporter);
      return undefined;
    },
    'infer-cam': async () => {
      await runInferCam({ run: camRun, data: o.data, split: o.trainSplit, out: dir('infer-cam'), scales: o.camScales, flip: o.flip }, reporter);
      return evaluateStage({ predDir: join(dir('infer-cam'), 'cams'), data: o.data, split: o.trainSplit, classNames, dir: dir('infer-cam'), cams: true });
    },
    crf: async () => {
      // alpha1/, alpha24/: AffinityNet targets; threshold<t>/: "+CRF" candidates, the best is reported.
      const camT = readStageMetrics(dir('infer-cam'), o.trainSplit)?.bestThreshold ?? 0;
      const common = { camDir: join(dir('infer-cam'), 'cams'), dataDir: o.data, listFile: vocListPath(o.data, o.trainSplit), outDir: dir('crf'), crf: { iterations: o.crfIterations, scaleFactor: spatial.crfScaleFactor } };
      // The alpha maps keep their scores too: AffinityNet's pooled targets.
      await runCrf({ ...common, background: { alphas: [1, 24] }, saveScores: true }, reporter);
      return crfThresholdSweep([...new Set([...o.crfThresholds, ...(camT > 0 ? [camT] : [])])].sort((a, b) => a - b), async (t) => {
        const r = await runCrf({ ...common, background: { threshold: t }, saveScores: false }, reporter);
        return evaluateStage({ predDir: r.outputs[0], data: o.data, split: o.trainSplit, classNames, dir: r.outputs[0] });
      }, dir('crf'));
    },
    'train-aff': async () => {
      const config = resolveTrainAffConfig({
        overrides: { seed: o.seed, split: o.trainSplit, steps: o.affSteps, radius: spatial.radius, ...common, ...data(o.crop), model: { backbone: camBackbone(), pretrained: join(camRun, 'model.json') } },
      });
      await runTrainAff({ data: o.data, crf: dir('crf'), out: dir('train-aff'), config, resume: true, log }, reporter);
      return undefined;
    },
    'infer-aff': async () => {
      const cams = join(dir('infer-cam'), 'cams');
      await runInferAff({ run: dir('train-aff'), data: o.data, split: o.trainSplit, cams, out: dir('infer-aff') }, reporter);
      const metrics = await evaluateStage({ predDir: dir('infer-aff'), data: o.data, split: o.trainSplit, classNames, dir: dir('infer-aff') });
      // Why the walk helps or not: AffinityNet against GT pairs, the walk on GT affinities, target coverage.
      const diag = await runAffinityDiagnostics({
        run: dir('train-aff'), data: o.data, split: o.trainSplit, cams, gt: gtDir(o.data), crf: dir('crf'), numClasses: classNames.length,
        out: join(dir('infer-aff'), AFFINITY_DIAGNOSTICS_FILE),
      }, reporter);
      log(`pipeline: infer-aff diagnostics: ${formatAffinityDiagnostics(diag)}`);
      return metrics;
    },
    'train-seg': async () => {
      const config = resolveTrainSegConfig({
        overrides: {
          seed: o.seed, split: o.trainSplit, steps: o.segSteps, ...common, model: { backbone: camBackbone(), pretrained: join(camRun, 'model.json') },
          ...(o.segLr !== undefined ? { optim: { lr: o.segLr } } : {}),
          ...(o.crop || o.segResizeLong !== undefined ? { data: { ...(o.crop ? { crop: o.crop } : {}), ...(o.segResizeLong !== undefined ? { resizeLong: o.segResizeLong } : {}) } } : {}),
        },
      });
      await runTrainSeg({ data: o.data, labels: dir('infer-aff'), out: dir('train-seg'), config, resume: true, log }, reporter);
      return undefined;
    },
    'infer-seg': async () => {
      await runInferSeg({ run: dir('train-seg'), data: o.data, split: o.evalSplit, out: dir('infer-seg'), scales: o.segScales, flip: o.flip, crf: o.segCrf && { ...segmentationCrfOptions, scaleFactor: spatial.crfScaleFactor } }, reporter);
      return evaluateStage({ predDir: dir('infer-seg'), data: o.data, split: o.evalSplit, classNames, dir: dir('infer-seg') });
    },
  };

  for (const stage of PIPELINE_STAGES) {
    const d = stage === 'train-cam' ? camRun : dir(stage);
    const split = stage === 'infer-seg' ? o.evalSplit : o.trainSplit;
    if (isStageDone(d)) {
      reports.push({ stage, skipped: true, seconds: 0, metrics: readStageMetrics(d, split) ?? undefined });
      log(`pipeline: ${stage} already complete (${d}), skipped`);
      continue;
    }
    if (stage === 'train-cam' && o.camRun) throw new HfplError('E_RUN', `${o.camRun}: the given CAM run is not finished (no DONE)`);
    log(`pipeline: ${stage} -> ${d}`);
    const ts = performance.now();
    const metrics = await stages[stage]();
    // Training stages write their own DONE; the others get one here, after their outputs.
    if (!stage.startsWith('train-')) await markStageDone(d, { stage, metrics: metrics ?? null });
    const seconds = (performance.now() - ts) / 1000;
    reports.push({ stage, skipped: false, seconds, metrics });
    if (metrics) log(`pipeline: ${stage} on ${metrics.split}: mIoU ${(100 * metrics.miou).toFixed(1)}%, contour F ${(100 * metrics.contourF).toFixed(1)}% (${seconds.toFixed(1)} s)`);
  }
  const result: PipelineResult = { out: o.out, stages: reports, seconds: (performance.now() - t0) / 1000 };
  await writeFileAtomic(join(o.out, 'pipeline.json'), JSON.stringify({ options: o, ...result }, null, 2) + '\n');
  return result;
}
