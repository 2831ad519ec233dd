/**
 * The CAM inference stage (`hfpl infer-cam`, METHOD 3.2-3.3). Output folder:
 *
 * ```
 * <out>/cams/<id>.npy, <id>.json   normalised CAMs of the present classes (src/eval/cam-files.ts)
 * <out>/pseudo/<id>.png            pseudo-label palette PNG (background threshold or alpha)
 * <out>/scores.jsonl               per image: { id, scores } sigmoid GAP scores of all K classes
 * <out>/summary.json               images, images/s, classification metrics, options
 * ```
 * Resumable: an id whose CAM .json, pseudo-label and score line exist is skipped.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { HfplError } from '../errors.js';
import { readRgbImage } from '../data/image-io.js';
import { writeLabelPng } from '../data/label-png.js';
import { readVocSplit } from '../data/voc.js';
import { writeCamFile } from '../eval/cam-files.js';
import { loadCamModel } from '../models/load-model.js';
import { initEngine } from '../engine/init.js';
import { runImages, type ScaleOptions } from '../scale/run-images.js';
import type { ImageTask } from '../scale/tasks.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { JsonlWriter, silentReporter, type ProgressReporter } from '../util/progress.js';
import { DEFAULT_CAM_SCALES, inferCams } from './cam-inference.js';
import { classificationMetrics, type ClassificationMetrics } from './cam-scores.js';
import { pseudoLabelFromCams, type BackgroundScore } from './pseudo-labels.js';

/** Options of `runInferCam`. */
export interface InferCamOptions {
  /** Run folder of `hfpl train-cam` (or a model.json). */
  run: string;
  /** VOC-layout dataset folder. */
  data: string;
  /** Split list name under ImageSets/Segmentation (e.g. "val"). */
  split: string;
  out: string;
  /** Default [0.5, 1, 1.5, 2]. */
  scales?: number[];
  /** Default true. */
  flip?: boolean;
  /** Scale of the classification scores (`inferCams`' `scoreScale`); default the scale nearest 1. */
  scoreScale?: number;
  /** Background score of the pseudo-labels; default { threshold: 0.26 } (the reference's SEAM value). */
  background?: BackgroundScore;
  /** Only the first n images of the split (default all). */
  limit?: number;
}

export interface InferCamResult {
  out: string;
  numImages: number;
  /** Images inferred in this call (the rest were already done). */
  inferred: number;
  seconds: number;
  /** Images per second over the inferred ones (scales x flip forward passes each). */
  imagesPerSec: number;
  classification: ClassificationMetrics;
}

function readScores(path: string): Map<string, number[]> {
  const m = new Map<string, number[]>();
  if (!existsSync(path)) return m;
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      const r = JSON.parse(line) as { id: string; scores: number[] };
      m.set(r.id, r.scores);
    } catch {
      // a torn last line of a killed run: that id is inferred again
    }
  }
  return m;
}

/** Setup of the infer-cam task (src/scale/tasks.ts). */
export interface InferCamTaskSetup {
  run: string;
  out: string;
  scales: number[];
  flip: boolean;
  scoreScale?: number;
  background: BackgroundScore;
}

/** The per-image CAM work: its own engine and network in each worker; writes the CAM file and pseudo-label, returns the scores. */
export async function createInferCamTask(setup: InferCamTaskSetup): Promise<ImageTask> {
  await initEngine({ threads: 1 });
  const { model, meta } = loadCamModel(setup.run);
  const camDir = join(setup.out, 'cams'), pseudoDir = join(setup.out, 'pseudo');
  return {
    async run({ id, data }) {
      const d = data as { imagePath: string; labels: number[] };
      const image = await readRgbImage(d.imagePath);
      const r = inferCams(model, image, d.labels, { scales: setup.scales, flip: setup.flip, scoreScale: setup.scoreScale, mean: meta.mean, std: meta.std });
      await writeCamFile(camDir, id, r.cams, r.labels, r.height, r.width);
      await writeLabelPng(join(pseudoDir, `${id}.png`), pseudoLabelFromCams(r.cams, r.labels, r.height, r.width, setup.background));
      return { scores: Array.from(r.scores, (v) => Number(v.toFixed(6))) };
    },
    close: () => model.dispose(),
  };
}

/**
 * Infers CAMs and pseudo-labels for a split; see the module comment.
 *
 * @example
 * await runInferCam({ run: 'runs/cam', data: 'data/synth', split: 'val', out: 'runs/cam/infer-val' });
 */
export async function runInferCam(opts: InferCamOptions, reporter: ProgressReporter = silentReporter, scale: ScaleOptions = {}): Promise<InferCamResult> {
  const bg = opts.background ?? { threshold: 0.26 };
  const scales = opts.scales ?? [...DEFAULT_CAM_SCALES];
  const flip = opts.flip ?? true;
  const { model, meta } = loadCamModel(opts.run);
  try {
    const split = readVocSplit(opts.data, opts.split, { classNames: meta.classNames });
    if (split.classNames.length !== model.numClasses + 1) {
      throw new HfplError('E_DATA', `${opts.data}: ${split.classNames.length - 1} classes, the model was trained on ${model.numClasses}`);
    }
    const samples = opts.limit ? split.samples.slice(0, opts.limit) : split.samples;
    const camDir = join(opts.out, 'cams'), pseudoDir = join(opts.out, 'pseudo');
    const scorePath = join(opts.out, 'scores.jsonl');
    const scores = readScores(scorePath);
    const scoreLog = new JsonlWriter(scorePath);
    const t0 = performance.now();
    const setup: InferCamTaskSetup = { run: resolve(opts.run), out: resolve(opts.out), scales, flip, scoreScale: opts.scoreScale, background: bg };
    const r = await runImages({
      ...scale,
      task: 'infer-cam',
      setup,
      items: samples.map((s) => ({ id: s.id, data: { imagePath: resolve(s.imagePath), labels: s.labels } })),
      isDone: ({ id }) => scores.has(id) && existsSync(join(camDir, `${id}.json`)) && existsSync(join(pseudoDir, `${id}.png`)),
      label: `infer-cam ${opts.split}`,
      reporter,
      outputDirs: [camDir, pseudoDir],
      // Score lines in list order, so scores.jsonl is the same however many workers ran.
      onResult: (_i, item, res) => {
        const sc = (res as { scores: number[] }).scores;
        scoreLog.write({ id: item.id, scores: sc });
        scores.set(item.id, sc);
      },
    });
    const inferred = r.processed;
    const seconds = (performance.now() - t0) / 1000;
    const classification = classificationMetrics(samples.map((s) => scores.get(s.id)!), samples.map((s) => s.labels));
    let imagesPerSec = inferred / Math.max(1e-9, seconds);
    const summaryPath = join(opts.out, 'summary.json');
    if (inferred === 0 && existsSync(summaryPath)) {
      // Nothing left to infer: keep the speed measured by the call that did the work.
      try {
        imagesPerSec = (JSON.parse(readFileSync(summaryPath, 'utf8')) as { imagesPerSec: number }).imagesPerSec;
      } catch {
        // unreadable summary: report 0
      }
    }
    const result: InferCamResult = { out: opts.out, numImages: samples.length, inferred, seconds, imagesPerSec, classification };
    await writeFileAtomic(summaryPath, JSON.stringify({ ...result, run: opts.run, split: opts.split, scales, flip, scoreScale: opts.scoreScale ?? null, background: bg, classNames: meta.classNames }, null, 2) + '\n');
    reporter.end({ 'img/s': Number(result.imagesPerSec.toFixed(2)), mAP: Number((100 * classification.mAP).toFixed(1)) });
    return result;
  } finally {
    model.dispose();
  }
}
