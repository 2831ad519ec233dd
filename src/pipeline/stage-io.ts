/**
 * What pipeline stages share: the folder of each stage under the pipeline's `--out`, the
 * `DONE` marker that makes a stage skippable, and the per-stage evaluation `eval.json`.
 *
 * ```
 * <out>/train-cam/   CAM training run (DONE written by train-cam)
 * <out>/infer-cam/   cams/<id>.npy|json, pseudo/<id>.png, eval.json (threshold sweep), DONE
 * <out>/crf/         alpha1/, alpha24/ (AffinityNet targets), threshold<t>/ (CRF at the best CAM threshold t), eval.json, DONE
 * <out>/train-aff/   AffinityNet run (DONE)
 * <out>/infer-aff/   <id>.png random-walk pseudo-labels, eval.json, DONE
 * <out>/train-seg/   segmentation run (DONE)
 * <out>/infer-seg/   <id>.png final predictions, eval.json, DONE
 * <out>/pipeline.json  options and per-stage summary
 * ```
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HfplError } from '../errors.js';
import { vocListPath } from '../data/voc.js';
import { runEval } from '../eval/run-eval.js';
import { writeFileAtomic } from '../util/atomic-write.js';

/** The stages in the order they run. */
export const PIPELINE_STAGES = Object.freeze(['train-cam', 'infer-cam', 'crf', 'train-aff', 'infer-aff', 'train-seg', 'infer-seg'] as const);
export type PipelineStage = (typeof PIPELINE_STAGES)[number];

/** Headline metrics of a stage's evaluation. */
export interface StageMetrics {
  miou: number;
  contourF: number;
  numImages: number;
  /** Split evaluated. */
  split: string;
  /** CAM stage: the background threshold of the reported figures. */
  bestThreshold?: number;
}

/** `<out>/<stage>`. */
export function stageDir(out: string, stage: PipelineStage): string {
  return join(out, stage);
}

/** True when the stage folder holds its DONE marker. */
export function isStageDone(dir: string): boolean {
  return existsSync(join(dir, 'DONE'));
}

/** Writes the DONE marker (a JSON summary) last, atomically. */
export async function markStageDone(dir: string, summary: Record<string, unknown>): Promise<void> {
  await writeFileAtomic(join(dir, 'DONE'), JSON.stringify(summary, null, 2) + '\n');
}

/** GT mask folder of a VOC-layout dataset (SegmentationClassAug when present). */
export function gtDir(data: string): string {
  const aug = join(data, 'SegmentationClassAug');
  return existsSync(aug) ? aug : join(data, 'SegmentationClass');
}

/**
 * Evaluates a stage's predictions (PNG label maps, or CAM files with `cams`) on a split and
 * writes `<dir>/eval.json`; returns the headline metrics.
 */
export async function evaluateStage(opts: { predDir: string; data: string; split: string; classNames: readonly string[]; dir: string; cams?: boolean }): Promise<StageMetrics> {
  const r = await runEval({
    predDir: opts.predDir, gtDir: gtDir(opts.data), listFile: vocListPath(opts.data, opts.split),
    numClasses: opts.classNames.length, classNames: opts.classNames, cams: opts.cams, out: join(opts.dir, 'eval.json'),
  });
  const m: StageMetrics = { miou: r.miou, contourF: r.contourF, numImages: r.numImages, split: opts.split };
  if (r.bestThreshold !== undefined) m.bestThreshold = r.bestThreshold;
  return m;
}

/** Reads the headline metrics of a finished stage's eval.json (null when absent). */
export function readStageMetrics(dir: string, split: string): StageMetrics | null {
  const p = join(dir, 'eval.json');
  if (!existsSync(p)) return null;
  try {
    const j = JSON.parse(readFileSync(p, 'utf8')) as { miou: number; contourF: number; numImages: number; bestThreshold?: number };
    const m: StageMetrics = { miou: j.miou, contourF: j.contourF, numImages: j.numImages, split };
    if (j.bestThreshold !== undefined) m.bestThreshold = j.bestThreshold;
    return m;
  } catch (e) {
    throw new HfplError('E_DATA', `${p}: unreadable evaluation (${(e as Error).message}); delete the stage folder to redo it`);
  }
}
