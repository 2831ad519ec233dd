/**
 * The refinement stages for the demo's `--full` table (defaults sized for about 3 minutes per
 * variant on the loaded 2-core machine with the tiny backbone): for each finished CAM run (e.g. the
 * baseline and the add-on), runs the pipeline from infer-cam on (`runPipeline` with
 * `camRun`), on the first `trainImages` training images, and returns one row per
 * (stage, variant): CAM, +CRF, random walk (pseudo-label quality on those training images)
 * and final segmentation (on the evaluation split). Resumable like the pipeline.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HfplError } from '../errors.js';
import { readVocSplit } from '../data/voc.js';
import { AFFINITY_DIAGNOSTICS_FILE, type AffinityDiagnostics } from '../infer/affinity-diagnostics.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { runPipeline, type PipelineHooks } from './run-pipeline.js';
import type { PipelineStage } from './stage-io.js';

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
  /** 'train (first n)' for the pseudo-label rows, the evaluation split for the last. */
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
  const rows: FullStageRow[] = [];
  const diagnostics: Record<string, AffinityDiagnostics | null> = {};
  for (const v of opts.variants) {
    hooks.log?.(`stages for ${v.name} (CAM run ${v.camRun})`);
    const r = await runPipeline({
      data: opts.data, out: join(opts.out, v.name), camRun: v.camRun, trainSplit: listFile, evalSplit,
      affSteps: opts.affSteps ?? 300, segSteps: opts.segSteps ?? 600, batchSize: opts.batchSize ?? 8, crop: opts.crop ?? 128,
      camScales: opts.camScales ?? [0.5, 1, 1.5, 2], segScales: opts.segScales ?? [0.75, 1, 1.25], crfIterations: opts.crfIterations ?? 10,
      crfThresholds: opts.crfThresholds ?? [0.15, 0.3],
    }, hooks);
    for (const { row, stage } of FULL_STAGE_ROWS) {
      const m = r.stages.find((s) => s.stage === stage)?.metrics;
      if (!m) throw new HfplError('E_RUN', `${join(opts.out, v.name, stage)}: no evaluation (delete the folder to redo the stage)`);
      rows.push({ stage: row, variant: v.name, split: stage === 'infer-seg' ? evalSplit : `train (first ${ids.length})`, miou: m.miou, contourF: m.contourF, numImages: m.numImages });
    }
    const diag = join(opts.out, v.name, 'infer-aff', AFFINITY_DIAGNOSTICS_FILE);
    diagnostics[v.name] = existsSync(diag) ? (JSON.parse(readFileSync(diag, 'utf8')) as AffinityDiagnostics) : null;
  }
  const result: FullStagesResult = { rows, diagnostics, seconds: (performance.now() - t0) / 1000 };
  await writeFileAtomic(join(opts.out, 'full-stages.json'), JSON.stringify(result, null, 2) + '\n');
  return result;
}

/**
 * A plain-text table of the rows: one line per stage, mIoU and contour F per variant; with
 * `diagnostics`, one more line: the walk on GT affinities (what a perfect AffinityNet gives).
 */
export function formatFullStagesTable(rows: FullStageRow[], diagnostics: Record<string, AffinityDiagnostics | null> = {}): string {
  const variants = [...new Set(rows.map((r) => r.variant))];
  const head = ['stage'.padEnd(20), 'split'.padEnd(18), ...variants.map((v) => `${v} mIoU / F`.padStart(20))].join(' ');
  const lines = FULL_STAGE_ROWS.map(({ row }) => {
    const cells = variants.map((v) => {
      const r = rows.find((x) => x.stage === row && x.variant === v);
      return (r ? `${(100 * r.miou).toFixed(1)} / ${(100 * r.contourF).toFixed(1)}` : '-').padStart(20);
    });
    const split = rows.find((x) => x.stage === row)?.split ?? '';
    return [row.padEnd(20), split.padEnd(18), ...cells].join(' ');
  });
  if (variants.some((v) => diagnostics[v])) {
    const cells = variants.map((v) => {
      const d = diagnostics[v];
      return (d ? `${(100 * d.oracleWalk.miou).toFixed(1)} / ${(100 * d.oracleWalk.contourF).toFixed(1)}` : '-').padStart(20);
    });
    const split = rows.find((x) => x.stage === 'random walk')?.split ?? '';
    lines.push(['walk, GT affinities'.padEnd(20), split.padEnd(18), ...cells].join(' '));
  }
  return [head, ...lines].join('\n');
}
