/**
 * The refinement stages for the demo's `--full` table (defaults sized for about 3 minutes per
 * variant on the loaded 2-core machine with the tiny backbone): for each finished CAM run (e.g. the
 * baseline and the add-on), runs the pipeline from infer-cam on (`runPipeline` with
 * `camRun`), on the first `trainImages` training images, and returns one row per
 * (stage, split, variant): CAM, +CRF, random walk and final segmentation, each on those
 * training images and on the evaluation split (`bothSplits`, default true), so every row
 * compares across stages. The pipeline evaluates the pseudo-label stages on the training
 * images and the final one on the evaluation split; the other split of each is computed under
 * `<variant>/other-split/`: the CAMs of the evaluation split (threshold swept as on train),
 * their CRF at the threshold chosen on train (one CRF pass, no tuning on val), their walk with
 * the trained AffinityNet, and the segmentation of the training images. Resumable like the
 * pipeline.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HfplError } from '../errors.js';
import { readVocSplit } from '../data/voc.js';
import { AFFINITY_DIAGNOSTICS_FILE, type AffinityDiagnostics } from '../infer/affinity-diagnostics.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { vocListPath } from '../data/voc.js';
import { runInferCam } from '../infer/cam-run.js';
import { runCrf } from '../infer/crf/run-crf.js';
import { segmentationCrfOptions } from '../infer/crf/dense-crf.js';
import { runInferAff } from '../infer/infer-aff.js';
import { runInferSeg } from '../infer/infer-seg.js';
import { resolveSpatialScale, runPipeline, scaledSpatialParams, type PipelineHooks } from './run-pipeline.js';
import { refineVariantsInThreads } from './full-stages-threads.js';
import { evaluateStage, isStageDone, markStageDone, readStageMetrics, type PipelineStage, type StageMetrics } from './stage-io.js';

/** Default segmentation test scales of the stages (METHOD: 0.5 ... 1.75; fewer for time). */
export const FULL_SEG_SCALES: readonly number[] = Object.freeze([0.75, 1, 1.25]);

/** Options of `runFullStages` (defaults sized for the synthetic benchmark on a 2-core CPU). */
export interface FullStagesOptions {
  /** The demo's data set (VOC layout with `train` and the evaluation split). */
  data: string;
  /** Output root; variant `name` goes to `<out>/<name>/<stage>/`. */
  out: string;
  /** Finished CAM runs (train-cam run folders) to refine, with the names used in the rows. */
  variants: { name: string; camRun: string }[];
  /** Training images pseudo-labelled and learnt from (the first n of `train`). Default 200. */
  trainImages?: number;
  /** Split the final segmentation is evaluated on. Default 'val'. */
  evalSplit?: string;
  /**
   * AffinityNet / segmentation training steps. Default 300 and 600, the cpu presets (on the
   * synthetic benchmark 100 steps learn only the background prior of the segmentation; 1000
   * AffinityNet steps raised the walk by 2.4 mIoU points and 1500 segmentation steps the final
   * row by 0.5 over 100 / 300, see the closing note of issue 6).
   */
  affSteps?: number;
  segSteps?: number;
  /** Batch size and crop of both trainings. Default 8 and 128. */
  batchSize?: number;
  crop?: number;
  /** CAM inference scales. Default [0.5, 1, 1.5, 2]. */
  camScales?: number[];
  /** Segmentation test scales. Default [0.75, 1, 1.25] (METHOD: 0.5 ... 1.75; fewer for time). */
  segScales?: number[];
  /** Mean-field iterations of the CRF stage. Default 10. */
  crfIterations?: number;
  /** Background thresholds tried for the "+CRF" row (plus the CAM row's best t when > 0). Default [0.15, 0.3]. */
  crfThresholds?: number[];
  /** Every row on both splits (the training images and the evaluation split). Default true. */
  bothSplits?: boolean;
  /** The pipeline's `spatialScale` (default 1: the reference's values). */
  spatialScale?: number | 'auto';
  /** The pipeline's `segCrf` (default true, as the reference). */
  segCrf?: boolean;
  /** The pipeline's `segResizeLong` (default the train-seg cpu preset's). */
  segResizeLong?: [number, number] | null;
  /** The pipeline's `segLr` (default the train-seg cpu preset's, 0.02). */
  segLr?: number;
  /** Seed of the AffinityNet and segmentation trainings (default 0). */
  seed?: number;
  /**
   * Cores for refining variants at once, a worker thread each (`full-stages-threads.ts`; see
   * `refinementLanes`); default 1. The numbers do not depend on it (each variant's stages run in
   * one thread either way).
   */
  parallel?: number;
}

/**
 * Threads for refining `variants` on `parallel` cores: at most `parallel`, except that up to
 * 2 x `parallel` variants that do not divide into full rounds all run at once, so no core idles
 * through a last round of fewer threads. Measured with 3 variants on 2 cores (libtorch, seed 1,
 * both splits): 15.5 min in two rounds, 12.4 min as three threads at once, the same CPU time
 * (24.9 and 24.7 min) and the same table.
 */
export function refinementLanes(variants: number, parallel: number): number {
  const p = Math.max(1, parallel);
  if (p === 1 || variants <= p) return Math.max(1, Math.min(variants, p));
  return variants <= 2 * p && variants % p !== 0 ? variants : p;
}

/** The table rows, in order. */
export const FULL_STAGE_ROWS: ReadonlyArray<{ row: FullStageName; stage: PipelineStage }> = Object.freeze([
  { row: 'CAM', stage: 'infer-cam' },
  { row: '+CRF', stage: 'crf' },
  { row: 'random walk', stage: 'infer-aff' },
  { row: 'final segmentation', stage: 'infer-seg' },
]);
export type FullStageName = 'CAM' | '+CRF' | 'random walk' | 'final segmentation';

/** One cell group of the table. */
export interface FullStageRow {
  stage: FullStageName;
  variant: string;
  /** 'train (first n)' or the evaluation split. */
  split: string;
  miou: number;
  contourF: number;
  numImages: number;
}

/** What `runFullStages` returns (also `<out>/full-stages.json`). */
export interface FullStagesResult {
  rows: FullStageRow[];
  /** Per variant, the random-walk diagnostics (`<variant>/infer-aff/diagnostics.json`; null when absent). */
  diagnostics: Record<string, AffinityDiagnostics | null>;
  seconds: number;
}

/**
 * Runs the refinement stages for every variant; see the module comment.
 *
 * @example
 * const r = await runFullStages({ data: 'runs/demo/data', out: 'runs/demo/stages',
 *   variants: [{ name: 'baseline', camRun: 'runs/demo/runs/baseline-s0' }, { name: 'both', camRun: 'runs/demo/runs/both-s0' }] });
 * // r.rows: [{ stage: 'CAM', variant: 'baseline', split: 'train (first 200)', miou: 0.61, contourF: 0.42, numImages: 200 }, ...]
 */
export async function runFullStages(opts: FullStagesOptions, hooks: PipelineHooks = {}): Promise<FullStagesResult> {
  const t0 = performance.now();
  const n = opts.trainImages ?? 200;
  if (!Number.isInteger(n) || n < 1) throw new HfplError('E_CONFIG', `trainImages: expected an integer >= 1, got ${n}`);
  if (opts.variants.length === 0) throw new HfplError('E_CONFIG', 'runFullStages: no variants given');
  const train = readVocSplit(opts.data, 'train');
  const ids = train.samples.slice(0, n).map((s) => s.id);
  const listFile = join(opts.out, `train-first${ids.length}.txt`);
  await writeFileAtomic(listFile, ids.join('\n') + '\n');
  const evalSplit = opts.evalSplit ?? 'val';
  const trainName = `train (first ${ids.length})`;
  const bothSplits = opts.bothSplits ?? true;
  const spatial = scaledSpatialParams(await resolveSpatialScale(opts.spatialScale ?? 1, opts.data, 'train'));
  const shared: VariantContext = { listFile, evalSplit, trainName, bothSplits, crfScaleFactor: spatial.crfScaleFactor };
  const parallel = refinementLanes(opts.variants.length, opts.parallel ?? 1);
  const done = parallel > 1
    ? await refineVariantsInThreads(opts, shared, parallel, hooks)
    : await sequential(opts.variants, (v) => refineVariant(opts, v, shared, hooks));
  const rows = done.flatMap((d) => d.rows);
  const diagnostics: Record<string, AffinityDiagnostics | null> = Object.fromEntries(opts.variants.map((v, i) => [v.name, done[i].diagnostics]));
  const result: FullStagesResult = { rows, diagnostics, seconds: (performance.now() - t0) / 1000 };
  await writeFileAtomic(join(opts.out, 'full-stages.json'), JSON.stringify(result, null, 2) + '\n');
  return result;
}

/** What every variant's refinement shares (computed once by `runFullStages`). */
export interface VariantContext {
  listFile: string;
  evalSplit: string;
  trainName: string;
  bothSplits: boolean;
  crfScaleFactor: number;
}

/** One variant's rows and random-walk diagnostics. */
export interface VariantRefinement {
  rows: FullStageRow[];
  diagnostics: AffinityDiagnostics | null;
}

/** The refinement stages of one variant (the pipeline, then the other split of each stage). */
export async function refineVariant(opts: FullStagesOptions, v: { name: string; camRun: string }, ctx: VariantContext, hooks: PipelineHooks = {}): Promise<VariantRefinement> {
  const { listFile, evalSplit, trainName } = ctx;
  const rows: FullStageRow[] = [];
  hooks.log?.(`stages for ${v.name} (CAM run ${v.camRun})`);
  const r = await runPipeline({
    data: opts.data, out: join(opts.out, v.name), camRun: v.camRun, trainSplit: listFile, evalSplit,
    affSteps: opts.affSteps ?? 300, segSteps: opts.segSteps ?? 600, batchSize: opts.batchSize ?? 8, crop: opts.crop ?? 128,
    camScales: opts.camScales ?? [0.5, 1, 1.5, 2], segScales: opts.segScales ?? [...FULL_SEG_SCALES], crfIterations: opts.crfIterations ?? 10,
    crfThresholds: opts.crfThresholds ?? [0.15, 0.3], spatialScale: opts.spatialScale ?? 1, segCrf: opts.segCrf ?? true,
    seed: opts.seed ?? 0, ...(opts.segResizeLong !== undefined ? { segResizeLong: opts.segResizeLong } : {}),
    ...(opts.segLr !== undefined ? { segLr: opts.segLr } : {}),
  }, hooks);
  const vdir = join(opts.out, v.name);
  const other = ctx.bothSplits
    ? await otherSplitMetrics({ ...opts, vdir, camRun: v.camRun, listFile, evalSplit, crfScaleFactor: ctx.crfScaleFactor, segCrf: opts.segCrf ?? true, trainCrfT: r.stages.find((s) => s.stage === 'crf')?.metrics?.bestThreshold }, hooks)
    : null;
  for (const { row, stage } of FULL_STAGE_ROWS) {
    const m = r.stages.find((s) => s.stage === stage)?.metrics;
    if (!m) throw new HfplError('E_RUN', `${join(opts.out, v.name, stage)}: no evaluation (delete the folder to redo the stage)`);
    const own = { split: stage === 'infer-seg' ? evalSplit : trainName, m };
    const more = other ? [{ split: stage === 'infer-seg' ? trainName : evalSplit, m: other[stage as OtherStage] }] : [];
    for (const x of [own, ...more].sort((a, b) => (a.split === trainName ? 0 : 1) - (b.split === trainName ? 0 : 1))) {
      rows.push({ stage: row, variant: v.name, split: x.split, miou: x.m.miou, contourF: x.m.contourF, numImages: x.m.numImages });
    }
  }
  const diag = join(opts.out, v.name, 'infer-aff', AFFINITY_DIAGNOSTICS_FILE);
  return { rows, diagnostics: existsSync(diag) ? (JSON.parse(readFileSync(diag, 'utf8')) as AffinityDiagnostics) : null };
}

async function sequential<T, R>(items: T[], f: (x: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (const x of items) out.push(await f(x));
  return out;
}

type OtherStage = 'infer-cam' | 'crf' | 'infer-aff' | 'infer-seg';

/**
 * Each stage on the split the pipeline does not evaluate it on (see the module comment),
 * under `<vdir>/other-split/<stage>/`, each step skipped when its DONE marker exists.
 */
async function otherSplitMetrics(
  o: FullStagesOptions & { vdir: string; camRun: string; listFile: string; evalSplit: string; crfScaleFactor: number; segCrf: boolean; trainCrfT?: number },
  hooks: PipelineHooks,
): Promise<Record<OtherStage, StageMetrics>> {
  const root = join(o.vdir, 'other-split');
  const classNames = [...readVocSplit(o.data, 'train').classNames];
  const step = async (stage: OtherStage, split: string, work: (dir: string) => Promise<StageMetrics>): Promise<StageMetrics> => {
    const dir = join(root, stage);
    const done = isStageDone(dir) ? readStageMetrics(dir, split) : null;
    if (done) return done;
    hooks.log?.(`other split: ${stage} on ${split} -> ${dir}`);
    const m = await work(dir);
    await markStageDone(dir, { stage, metrics: m });
    return m;
  };
  const cams = join(root, 'infer-cam', 'cams');
  const camM = await step('infer-cam', o.evalSplit, async (dir) => {
    await runInferCam({ run: o.camRun, data: o.data, split: o.evalSplit, out: dir, scales: o.camScales ?? [0.5, 1, 1.5, 2], flip: true }, hooks.reporter);
    return evaluateStage({ predDir: cams, data: o.data, split: o.evalSplit, classNames, dir, cams: true });
  });
  const t = o.trainCrfT ?? 0.3;
  const crfM = await step('crf', o.evalSplit, async (dir) => {
    const r = await runCrf({
      camDir: cams, dataDir: o.data, listFile: vocListPath(o.data, o.evalSplit), outDir: dir, background: { threshold: t }, saveScores: false,
      crf: { iterations: o.crfIterations ?? 10, scaleFactor: o.crfScaleFactor },
    }, hooks.reporter);
    return { ...(await evaluateStage({ predDir: r.outputs[0], data: o.data, split: o.evalSplit, classNames, dir })), bestThreshold: t };
  });
  const affM = await step('infer-aff', o.evalSplit, async (dir) => {
    await runInferAff({ run: join(o.vdir, 'train-aff'), data: o.data, split: o.evalSplit, cams, out: dir }, hooks.reporter);
    return evaluateStage({ predDir: dir, data: o.data, split: o.evalSplit, classNames, dir });
  });
  const segM = await step('infer-seg', o.listFile, async (dir) => {
    await runInferSeg({
      run: join(o.vdir, 'train-seg'), data: o.data, split: o.listFile, out: dir, scales: o.segScales ?? [...FULL_SEG_SCALES], flip: true,
      crf: o.segCrf && { ...segmentationCrfOptions, scaleFactor: o.crfScaleFactor },
    }, hooks.reporter);
    return evaluateStage({ predDir: dir, data: o.data, split: o.listFile, classNames, dir });
  });
  return { 'infer-cam': camM, crf: crfM, 'infer-aff': affM, 'infer-seg': segM };
}

/**
 * A plain-text table of the rows: one line per stage, mIoU and contour F per variant; with
 * `diagnostics`, one more line: the walk on GT affinities (what a perfect AffinityNet gives).
 */
export function formatFullStagesTable(rows: FullStageRow[], diagnostics: Record<string, AffinityDiagnostics | null> = {}): string {
  const variants = [...new Set(rows.map((r) => r.variant))];
  // A column as wide as its header (a long variant name), at least 20.
  const width = variants.map((v) => Math.max(20, `${v} mIoU / F`.length));
  const head = ['stage'.padEnd(20), 'split'.padEnd(18), ...variants.map((v, i) => `${v} mIoU / F`.padStart(width[i]))].join(' ');
  const lines = FULL_STAGE_ROWS.flatMap(({ row }) => [...new Set(rows.filter((x) => x.stage === row).map((x) => x.split))].map((split) => {
    const cells = variants.map((v, i) => {
      const r = rows.find((x) => x.stage === row && x.variant === v && x.split === split);
      return (r ? `${(100 * r.miou).toFixed(1)} / ${(100 * r.contourF).toFixed(1)}` : '-').padStart(width[i]);
    });
    return [row.padEnd(20), split.padEnd(18), ...cells].join(' ');
  }));
  if (variants.some((v) => diagnostics[v])) {
    const cells = variants.map((v, i) => {
      const d = diagnostics[v];
      return (d ? `${(100 * d.oracleWalk.miou).toFixed(1)} / ${(100 * d.oracleWalk.contourF).toFixed(1)}` : '-').padStart(width[i]);
    });
    const split = rows.find((x) => x.stage === 'random walk')?.split ?? '';
    lines.push(['walk, GT affinities'.padEnd(20), split.padEnd(18), ...cells].join(' '));
  }
  return [head, ...lines].join('\n');
}
