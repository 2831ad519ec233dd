/**
 * The resumable per-image loop shared by the label-map stages (infer-aff, infer-seg): for each
 * sample, skip it when `<out>/<id>.png` exists, otherwise produce its label map and write it
 * atomically; report progress and images/s. The images run through src/scale (threads or a
 * queue); each stage's per-image work is a task built with `labelMapTask`.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeLabelPng, type LabelMap } from '../data/label-png.js';
import type { SampleRecord } from '../data/types.js';
import type { ProgressReporter } from '../util/progress.js';
import { runImages, type ScaleOptions } from '../scale/run-images.js';
import type { ImageTask, TaskName } from '../scale/tasks.js';

/** Result of a label-map stage. */
export interface LabelMapRunResult {
  out: string;
  numImages: number;
  /** Images processed in this call (the others had their PNG already). */
  inferred: number;
  seconds: number;
}

/** What a label-map task gets per image: the sample's image path (and labels). */
export interface LabelMapItemData {
  imagePath: string;
  labels: number[];
}

/** A task writing `<out>/<id>.png` with `produce` unless present; `close` frees the model. */
export function labelMapTask(out: string, produce: (id: string, d: LabelMapItemData) => Promise<LabelMap>, close: () => void): ImageTask {
  return {
    async run({ id, data }) {
      const outPath = join(out, `${id}.png`);
      if (!existsSync(outPath)) await writeLabelPng(outPath, await produce(id, data as LabelMapItemData));
      return null;
    },
    close,
  };
}

/** Writes `<out>/<id>.png` for every sample that lacks it, with the task `task` built from `setup` in each worker. */
export async function writeLabelMapsResumable(
  samples: SampleRecord[],
  out: string,
  label: string,
  reporter: ProgressReporter,
  task: TaskName,
  setup: unknown,
  scale: ScaleOptions = {},
): Promise<LabelMapRunResult> {
  const r = await runImages({
    ...scale,
    task,
    setup,
    items: samples.map((s) => ({ id: s.id, data: { imagePath: resolve(s.imagePath), labels: s.labels } satisfies LabelMapItemData })),
    isDone: ({ id }) => existsSync(join(out, `${id}.png`)),
    label,
    reporter,
    outputDirs: [out],
  });
  reporter.end({ 'img/s': Number((r.processed / Math.max(r.seconds, 1e-9)).toFixed(2)) });
  return { out, numImages: samples.length, inferred: r.processed, seconds: r.seconds };
}
