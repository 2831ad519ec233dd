/**
 * The pieces of one pipeline folder (`hfpl pipeline --out`, or a variant of the demo's
 * `--full` under `<demo>/full/<variant>`; layout in src/pipeline/stage-io.ts): training
 * curves, threshold sweeps, stage metrics and the browser's cell sources.
 */
import { join } from 'node:path';
import { readCamThreshold, readEvalFile, readMetricsJsonl, type EvalFile } from './run-files.js';
import type { CellSource } from './images.js';
import type { SweepSeries, TrainingSeries } from './types.js';

/** The table rows of the stages, in order, with their folders. */
export const STAGE_ROWS: ReadonlyArray<{ stage: string; dir: string }> = Object.freeze([
  { stage: 'CAM', dir: 'infer-cam' },
  { stage: '+CRF', dir: 'crf' },
  { stage: 'random walk', dir: 'infer-aff' },
  { stage: 'final segmentation', dir: 'infer-seg' },
]);

/** What one pipeline folder holds for the report. */
export interface StageFolder {
  variant: string;
  /** Training runs found: CAM (when trained in this folder), AffinityNet, segmentation. */
  training: { kind: 'cam' | 'aff' | 'seg'; series: TrainingSeries }[];
  /** CAM sweep (infer-cam/eval.json) and CRF thresholds (crf/eval.json) when present. */
  sweeps: { kind: 'cam' | 'crf'; series: SweepSeries }[];
  /** eval.json of each stage row (null when the stage has not finished). */
  evals: { stage: string; eval: EvalFile | null }[];
}

/** Reads a pipeline folder; `camRun` is the CAM training run when not `<dir>/train-cam`. */
export function gatherStageFolder(dir: string, variant: string, seedIndex = 0): StageFolder {
  const training: StageFolder['training'] = [];
  for (const [kind, sub] of [['cam', 'train-cam'], ['aff', 'train-aff'], ['seg', 'train-seg']] as const) {
    const pts = readMetricsJsonl(join(dir, sub));
    if (pts && pts.length > 0) training.push({ kind, series: { name: variant, variant, seedIndex, points: pts } });
  }
  const sweeps: StageFolder['sweeps'] = [];
  for (const [kind, sub] of [['cam', 'infer-cam'], ['crf', 'crf']] as const) {
    const e = readEvalFile(join(dir, sub, 'eval.json'));
    if (e?.curve && e.bestThreshold !== undefined) {
      sweeps.push({ kind, series: { name: variant, variant, seedIndex, curve: e.curve, bestThreshold: e.bestThreshold, miou: e.miou, contourF: e.contourF } });
    }
  }
  const evals = STAGE_ROWS.map(({ stage, dir: sub }) => ({ stage, eval: readEvalFile(join(dir, sub, 'eval.json')) }));
  return { variant, training, sweeps, evals };
}

/** Browser cells of a training image (CAM heat map, CAM, +CRF, random walk) from a pipeline folder. */
export function trainImageSources(dir: string, variant: string, id: string): CellSource[] {
  const camDir = join(dir, 'infer-cam', 'cams');
  const out: CellSource[] = [{ variant, stage: 'CAM heat map', kind: 'heat', camDir }];
  const camT = readCamThreshold(join(dir, 'infer-cam'));
  if (camT !== null) out.push({ variant, stage: 'CAM pseudo-label', kind: 'cam-label', camDir, threshold: camT });
  const crfT = readCamThreshold(join(dir, 'crf'));
  if (crfT !== null) out.push({ variant, stage: '+CRF', kind: 'label', png: join(dir, 'crf', `threshold${crfT}`, `${id}.png`) });
  out.push({ variant, stage: 'random walk', kind: 'label', png: join(dir, 'infer-aff', `${id}.png`) });
  return out;
}

/** The browser cell of an evaluation image: the final segmentation. */
export function evalImageSources(dir: string, variant: string, id: string): CellSource[] {
  return [{ variant, stage: 'final segmentation', kind: 'label', png: join(dir, 'infer-seg', `${id}.png`) }];
}
