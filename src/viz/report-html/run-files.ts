/**
 * Reading the files a run leaves behind, tolerant of a partial run: a missing file gives
 * null (the report leaves that part out and says so); an unreadable one is an E_DATA error
 * naming it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HfplError } from '../../errors.js';

/** Parsed JSON of `path`, null when the file does not exist. */
export function readJsonOrNull<T>(path: string): T | null {
  if (!existsSync(path)) return null;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch (e) {
    throw new HfplError('E_DATA', `${path}: unreadable JSON (${(e as Error).message.split('\n')[0]})`);
  }
}

/** The fields of an `eval.json` / `eval-val.json` (src/eval/run-eval.ts) the report uses. */
export interface EvalFile {
  miou: number;
  contourF: number;
  numImages: number;
  bestThreshold?: number;
  iou: number[];
  contourFPerClass: number[];
  classNames: string[];
  curve?: { t: number; miou: number }[];
}

/** An evaluation file, or null when absent. */
export function readEvalFile(path: string): EvalFile | null {
  const j = readJsonOrNull<EvalFile>(path);
  if (j && (typeof j.miou !== 'number' || !Array.isArray(j.iou))) throw new HfplError('E_DATA', `${path}: not an hfpl evaluation (no miou / iou)`);
  return j;
}

/** One logged training step. */
export interface MetricsPoint {
  step: number;
  loss: number;
  lr: number;
}

/**
 * The logged steps of a training run's `metrics.jsonl` (step, loss, lr), null when absent.
 * A torn last line (a run killed while writing) is skipped.
 */
export function readMetricsJsonl(run: string): MetricsPoint[] | null {
  const p = join(run, 'metrics.jsonl');
  if (!existsSync(p)) return null;
  const out: MetricsPoint[] = [];
  for (const line of readFileSync(p, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      const j = JSON.parse(line) as Partial<MetricsPoint>;
      if (typeof j.step === 'number' && typeof j.loss === 'number') out.push({ step: j.step, loss: j.loss, lr: typeof j.lr === 'number' ? j.lr : Number.NaN });
    } catch {
      // a torn line
    }
  }
  return out;
}

/** The best background threshold a stage's eval.json reports, null when absent. */
export function readCamThreshold(stageDir: string): number | null {
  return readEvalFile(join(stageDir, 'eval.json'))?.bestThreshold ?? null;
}
