/**
 * The resumable per-image loop shared by the label-map stages (infer-aff, infer-seg): for each
 * sample, skip it when `<out>/<id>.png` exists, otherwise produce its label map and write it
 * atomically; report progress and images/s.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { writeLabelPng, type LabelMap } from '../data/label-png.js';
import type { SampleRecord } from '../data/types.js';
import type { ProgressReporter } from '../util/progress.js';

/** Result of a label-map stage. */
export interface LabelMapRunResult {
  out: string;
  numImages: number;
  /** Images processed in this call (the others had their PNG already). */
  inferred: number;
  seconds: number;
}

/** Writes `<out>/<id>.png` for every sample that lacks it, with `produce(sample)`. */
export async function writeLabelMapsResumable(
  samples: SampleRecord[],
  out: string,
  label: string,
  reporter: ProgressReporter,
  produce: (sample: SampleRecord) => Promise<LabelMap>,
): Promise<LabelMapRunResult> {
  reporter.start(label, samples.length, 'img');
  const t0 = performance.now();
  let inferred = 0;
  for (let i = 0; i < samples.length; i++) {
    const outPath = join(out, `${samples[i].id}.png`);
    if (!existsSync(outPath)) {
      await writeLabelPng(outPath, await produce(samples[i]));
      inferred++;
    }
    reporter.step({ done: i + 1, total: samples.length });
  }
  const seconds = (performance.now() - t0) / 1000;
  reporter.end({ 'img/s': Number((inferred / Math.max(seconds, 1e-9)).toFixed(2)) });
  return { out, numImages: samples.length, inferred, seconds };
}
