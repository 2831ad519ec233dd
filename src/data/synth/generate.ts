/**
 * Writes the synthetic benchmark in the VOC layout:
 * `JPEGImages/<id>.jpg`, `SegmentationClass/<id>.png` (palette), `ImageSets/Segmentation/
 * {train,val}.txt`, `labels.json` (LabelsFile) and `synth.json` (the parameters). Every file is
 * written atomically; a rerun into the same folder with the same parameters skips samples whose
 * image and mask are both present, so an interrupted run resumes.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { HfplError } from '../../errors.js';
import { writeFileAtomic } from '../../util/atomic-write.js';
import { silentReporter, type ProgressReporter } from '../../util/progress.js';
import { runImages, type ScaleOptions } from '../../scale/run-images.js';
import type { ImageTask } from '../../scale/tasks.js';
import { encodeJpeg } from '../image-io.js';
import { encodeLabelPng } from '../label-png.js';
import type { LabelsFile } from '../types.js';
import { resolveSynthParams, synthClassNames, synthSampleId, type SynthParams, type SynthSplit } from './params.js';
import { renderSynthSample } from './render.js';

/** Options of `generateSynthDataset`. */
export interface SynthDatasetOptions extends Partial<SynthParams> {
  /** Output folder (created). */
  out: string;
  /** Training images. Default 2000. */
  train?: number;
  /** Validation images. Default 300. */
  val?: number;
  /** Regenerate every file even when present, and replace a synth.json of other parameters. Default false. */
  force?: boolean;
  /** Samples encoded concurrently (JPEG encoding runs off the main thread). Default 4. */
  concurrency?: number;
}

/** What `generateSynthDataset` did. */
export interface SynthDatasetResult {
  out: string;
  params: SynthParams;
  train: number;
  val: number;
  /** Samples written in this call. */
  written: number;
  /** Samples skipped because their files were already present. */
  skipped: number;
  classNames: string[];
}

/** Contents of `synth.json`. */
export interface SynthManifest {
  generator: 'hfpl synth';
  version: 1;
  params: SynthParams;
  train: number;
  val: number;
}

/**
 * Generates (or completes) a synthetic data set under `opts.out`; see the module comment for
 * the layout. Progress goes to `reporter` in images.
 *
 * @example
 * await generateSynthDataset({ out: 'data/synth', train: 2000, val: 300, seed: 1 });
 */
export async function generateSynthDataset(opts: SynthDatasetOptions, reporter: ProgressReporter = silentReporter, scale: ScaleOptions = {}): Promise<SynthDatasetResult> {
  const { out, train = 2000, val = 300, force = false, concurrency = 4, ...rest } = opts;
  for (const [name, v] of [['train', train], ['val', val], ['concurrency', concurrency]] as const) {
    if (!Number.isInteger(v) || v < (name === 'concurrency' ? 1 : 0)) {
      throw new HfplError('E_CONFIG', `synth option ${name}: ${v} is invalid (expected an integer >= ${name === 'concurrency' ? 1 : 0})`);
    }
  }
  const params = resolveSynthParams(rest);
  const manifest: SynthManifest = { generator: 'hfpl synth', version: 1, params, train, val };
  const manifestPath = join(out, 'synth.json');
  if (!force && existsSync(manifestPath)) {
    let old: SynthManifest | null;
    try {
      old = JSON.parse(readFileSync(manifestPath, 'utf8')) as SynthManifest;
    } catch {
      old = null;
    }
    if (!old || JSON.stringify(old.params) !== JSON.stringify(params)) {
      throw new HfplError('E_RUN', `${manifestPath}: the folder holds a synthetic set of other parameters; use another --out or --force`);
    }
  }
  await writeFileAtomic(manifestPath, JSON.stringify(manifest, null, 2) + '\n');

  const classNames = synthClassNames(params.classes);
  const labels: LabelsFile = { classes: classNames, labels: {} };
  const jobs: [SynthSplit, number][] = [];
  for (let i = 0; i < train; i++) jobs.push(['train', i]);
  for (let i = 0; i < val; i++) jobs.push(['val', i]);
  let written = 0, skipped = 0;
  const setup: SynthTaskSetup = { out: resolve(out), params, force };
  // Every sample is rendered (its labels go to labels.json); the task skips writing present files.
  await runImages({
    ...scale,
    task: 'synth',
    setup,
    items: jobs.map(([split, i]) => ({ id: synthSampleId(split, i), data: [split, i] })),
    label: 'synth',
    reporter,
    inProcessConcurrency: concurrency,
    onResult: (_i, item, r) => {
      const res = r as SynthTaskResult;
      labels.labels[item.id] = res.labels;
      if (res.written) written++;
      else skipped++;
    },
  });

  for (const split of ['train', 'val'] as const) {
    const list = jobs.filter((j) => j[0] === split).map(([sp, i]) => synthSampleId(sp, i));
    await writeFileAtomic(join(out, 'ImageSets', 'Segmentation', `${split}.txt`), list.length ? list.join('\n') + '\n' : '');
  }
  const ordered: LabelsFile = { classes: classNames, labels: {} };
  for (const [split, i] of jobs) ordered.labels[synthSampleId(split, i)] = labels.labels[synthSampleId(split, i)];
  await writeFileAtomic(join(out, 'labels.json'), JSON.stringify(ordered) + '\n');
  reporter.end({ written, skipped });
  return { out, params, train, val, written, skipped, classNames };
}

/** Setup of the synth task (src/scale/tasks.ts). */
export interface SynthTaskSetup {
  out: string;
  params: SynthParams;
  force: boolean;
}

/** Result of one synth image: its labels, and whether its files were written (else present). */
export interface SynthTaskResult {
  labels: number[];
  written: boolean;
}

/** The per-image synth work: renders sample [split, index] and writes its JPEG and mask unless present. */
export async function createSynthTask(setup: SynthTaskSetup): Promise<ImageTask> {
  const { out, params, force } = setup;
  return {
    async run(item): Promise<SynthTaskResult> {
      const [split, index] = item.data as [SynthSplit, number];
      const s = renderSynthSample(params, split, index);
      const jpg = join(out, 'JPEGImages', `${s.id}.jpg`), png = join(out, 'SegmentationClass', `${s.id}.png`);
      if (!force && nonEmpty(jpg) && nonEmpty(png)) return { labels: s.labels, written: false };
      const maskBytes = encodeLabelPng(s.mask);
      const jpegBytes = await encodeJpeg(s.image, params.jpegQuality);
      await Promise.all([writeFileAtomic(jpg, jpegBytes), writeFileAtomic(png, maskBytes)]);
      return { labels: s.labels, written: true };
    },
  };
}

function nonEmpty(path: string): boolean {
  try {
    return statSync(path).size > 0;
  } catch {
    return false;
  }
}
