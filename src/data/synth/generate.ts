/**
 * Writes a synthetic benchmark (v1, or v2 with `bench: 'v2'`) in the VOC layout:
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
import { resolveSynthV2Params, synthV2ClassNames, type SynthV2Params } from './v2/params.js';
import { renderSynthV2Sample } from './v2/render.js';

/** Which synthetic benchmark: v1 (patterned marks on plain bodies, the default) or v2 (natural-photo miniature, docs/benchmark-v2.md). */
export type SynthBench = 'v1' | 'v2';

/** Options of `generateSynthDataset`: the common ones plus the parameters of the chosen benchmark. */
export type SynthDatasetOptions = SynthCommonOptions & (({ bench?: 'v1' } & Partial<SynthParams>) | ({ bench: 'v2' } & Partial<SynthV2Params>));

/** Options of `generateSynthDataset` shared by both benchmarks. */
export interface SynthCommonOptions {
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
  bench: SynthBench;
  params: SynthParams | SynthV2Params;
  train: number;
  val: number;
  /** Samples written in this call. */
  written: number;
  /** Samples skipped because their files were already present. */
  skipped: number;
  classNames: string[];
}

/** Contents of `synth.json` (`bench` is absent for v1, so v1 sets stay byte-identical). */
export interface SynthManifest {
  generator: 'hfpl synth';
  version: 1;
  bench?: 'v2';
  params: SynthParams | SynthV2Params;
  train: number;
  val: number;
}

/**
 * Generates (or completes) a synthetic data set under `opts.out`; see the module comment for
 * the layout. Progress goes to `reporter` in images.
 *
 * @example
 * await generateSynthDataset({ out: 'data/synth', train: 2000, val: 300, seed: 1 });
 * await generateSynthDataset({ out: 'data/synth-v2', bench: 'v2', seed: 1 }); // 320 x 240, docs/benchmark-v2.md
 */
export async function generateSynthDataset(opts: SynthDatasetOptions, reporter: ProgressReporter = silentReporter, scale: ScaleOptions = {}): Promise<SynthDatasetResult> {
  const { out, train = 2000, val = 300, force = false, concurrency = 4, bench = 'v1', ...rest } = opts;
  if (bench !== 'v1' && bench !== 'v2') throw new HfplError('E_CONFIG', `synth option bench: '${String(bench)}' is unknown (allowed: v1, v2)`);
  for (const [name, v] of [['train', train], ['val', val], ['concurrency', concurrency]] as const) {
    if (!Number.isInteger(v) || v < (name === 'concurrency' ? 1 : 0)) {
      throw new HfplError('E_CONFIG', `synth option ${name}: ${v} is invalid (expected an integer >= ${name === 'concurrency' ? 1 : 0})`);
    }
  }
  const params = bench === 'v2' ? resolveSynthV2Params(rest as Partial<SynthV2Params>) : resolveSynthParams(rest as Partial<SynthParams>);
  const manifest: SynthManifest = bench === 'v2' ? { generator: 'hfpl synth', version: 1, bench, params, train, val } : { generator: 'hfpl synth', version: 1, params, train, val };
  const manifestPath = join(out, 'synth.json');
  if (!force && existsSync(manifestPath)) {
    let old: SynthManifest | null;
    try {
      old = JSON.parse(readFileSync(manifestPath, 'utf8')) as SynthManifest;
    } catch {
      old = null;
    }
    if (!old || (old.bench ?? 'v1') !== bench || JSON.stringify(old.params) !== JSON.stringify(params)) {
      throw new HfplError('E_RUN', `${manifestPath}: the folder holds a synthetic set of other parameters; use another --out or --force`);
    }
  }
  await writeFileAtomic(manifestPath, JSON.stringify(manifest, null, 2) + '\n');

  const classNames = bench === 'v2' ? synthV2ClassNames(params.classes) : synthClassNames(params.classes);
  const labels: LabelsFile = { classes: classNames, labels: {} };
  const jobs: [SynthSplit, number][] = [];
  for (let i = 0; i < train; i++) jobs.push(['train', i]);
  for (let i = 0; i < val; i++) jobs.push(['val', i]);
  let written = 0, skipped = 0;
  const setup: SynthTaskSetup = { out: resolve(out), bench, params, force };
  // Every sample is rendered (its labels go to labels.json); the task skips writing present files.
  await runImages({
    ...scale,
    task: 'synth',
    setup,
    items: jobs.map(([split, i]) => ({ id: synthSampleId(split, i), data: [split, i] })),
    label: 'synth',
    reporter,
    outputDirs: [join(out, 'JPEGImages'), join(out, 'SegmentationClass')],
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
  return { out, bench, params, train, val, written, skipped, classNames };
}

/** Setup of the synth task (src/scale/tasks.ts). */
export interface SynthTaskSetup {
  out: string;
  bench: SynthBench;
  params: SynthParams | SynthV2Params;
  force: boolean;
}

/** Result of one synth image: its labels, and whether its files were written (else present). */
export interface SynthTaskResult {
  labels: number[];
  written: boolean;
}

/** The per-image synth work: renders sample [split, index] and writes its JPEG and mask unless present. */
export async function createSynthTask(setup: SynthTaskSetup): Promise<ImageTask> {
  const { out, bench, params, force } = setup;
  const render = bench === 'v2'
    ? (sp: SynthSplit, i: number) => renderSynthV2Sample(params as SynthV2Params, sp, i)
    : (sp: SynthSplit, i: number) => renderSynthSample(params as SynthParams, sp, i);
  return {
    async run(item): Promise<SynthTaskResult> {
      const [split, index] = item.data as [SynthSplit, number];
      const s = render(split, index);
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
