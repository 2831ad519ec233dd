/**
 * The CRF stage (`hfpl crf`, METHOD 3.4): for every listed id, reads its CAM file
 * (`<cams>/<id>.npy` + `.json`, see eval/cam-files.ts) and image (`<data>/JPEGImages/<id>.jpg`,
 * or .png), runs the dense CRF on [background, CAMs] for each background setting and writes
 * `<out>/alpha<a>/<id>.png` (or `<out>/threshold<t>/<id>.png`) palette label maps with real
 * class indices, atomically; with `saveScores`, also the CRF probabilities of each alpha
 * setting as `<out>/alpha<a>/<id>.npy` (float32, (1 + P) x H x W: background, then the present
 * classes; AffinityNet's pooled targets). Ids whose outputs all exist are skipped, so a
 * stopped run resumes.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { HfplError } from '../../errors.js';
import { readRgbImage } from '../../data/image-io.js';
import { writeLabelPng } from '../../data/label-png.js';
import { readCamFile } from '../../eval/cam-files.js';
import { readIdList } from '../../eval/run-eval.js';
import { silentReporter, type ProgressReporter } from '../../util/progress.js';
import { runImages, type ScaleOptions } from '../../scale/run-images.js';
import type { ImageTask } from '../../scale/tasks.js';
import type { BackgroundScore } from '../pseudo-labels.js';
import { camCrf } from './cam-crf.js';
import { encodeNpy } from '../../util/npy.js';
import { writeFileAtomic } from '../../util/atomic-write.js';
import { resolveDenseCrfOptions, type DenseCrfOptions } from './dense-crf.js';

export interface CrfRunOptions {
  /** Folder of CAM files. */
  camDir: string;
  /** VOC-layout data root (images in JPEGImages/). */
  dataDir: string;
  /** ImageSets-style id list. */
  listFile: string;
  /** Output root; one sub-folder per background setting. */
  outDir: string;
  /** Background settings: alphas (default [1, 24]) or one threshold. */
  background?: { alphas: number[] } | { threshold: number };
  /** Dense CRF options (default METHOD 3.4: 10 iterations, ...). */
  crf?: DenseCrfOptions;
  /** Also write the CRF probabilities of the alpha settings as `<id>.npy` (train-aff's pooled targets); default true. */
  saveScores?: boolean;
}

export interface CrfRunResult {
  /** Output sub-folders, e.g. ['<out>/alpha1', '<out>/alpha24']. */
  outputs: string[];
  written: number;
  skipped: number;
}

function imagePath(dataDir: string, id: string): string {
  const jpg = join(dataDir, 'JPEGImages', `${id}.jpg`);
  if (existsSync(jpg)) return jpg;
  const png = join(dataDir, 'JPEGImages', `${id}.png`);
  return existsSync(png) ? png : jpg;
}

/** Setup of the CRF task (JSON): what every worker needs. */
export interface CrfTaskSetup {
  camDir: string;
  dataDir: string;
  /** `scores`: also write the CRF probabilities `<id>.npy` (alpha settings, train-aff's pooled targets). */
  settings: CrfSetting[];
  crf: DenseCrfOptions;
}

interface CrfSetting {
  dir: string;
  score: BackgroundScore;
  scores: boolean;
}

/** Whether id's outputs of one setting exist (the PNG is written last, so it marks completion). */
function settingDone(s: CrfSetting, id: string): boolean {
  return existsSync(join(s.dir, `${id}.png`)) && (!s.scores || existsSync(join(s.dir, `${id}.npy`)));
}

/** The per-image CRF work (src/scale/tasks.ts): writes the missing outputs of one id; returns whether it wrote any. */
export async function createCrfTask(setup: CrfTaskSetup): Promise<ImageTask> {
  const crf = resolveDenseCrfOptions(setup.crf);
  return {
    async run({ id }) {
      const todo = setup.settings.filter((s) => !settingDone(s, id));
      if (todo.length === 0) return { written: false };
      const cam = await readCamFile(setup.camDir, id);
      const path = imagePath(setup.dataDir, id);
      const image = await readRgbImage(path);
      if (image.height !== cam.height || image.width !== cam.width) {
        const npy = join(setup.camDir, `${id}.npy`);
        throw new HfplError('E_DATA', `${npy}: CAMs are [${cam.labels.length}, ${cam.height}, ${cam.width}] but image ${path} is ${image.height} x ${image.width} (H x W)`);
      }
      for (const s of todo) {
        const r = camCrf(image, cam.cams, cam.labels, s.score, crf);
        if (s.scores) await writeFileAtomic(join(s.dir, `${id}.npy`), encodeNpy(r.scores, [cam.labels.length + 1, image.height, image.width]));
        await writeLabelPng(join(s.dir, `${id}.png`), r.map);
      }
      return { written: true };
    },
  };
}

/** Runs the CRF stage; see the file comment. `scale` spreads the images over threads or a queue. */
export async function runCrf(options: CrfRunOptions, reporter: ProgressReporter = silentReporter, scale: ScaleOptions = {}): Promise<CrfRunResult> {
  const crf = resolveDenseCrfOptions(options.crf);
  const bg = options.background ?? { alphas: [1, 24] };
  const settings: { dir: string; score: BackgroundScore }[] =
    'threshold' in bg
      ? [{ dir: join(options.outDir, `threshold${bg.threshold}`), score: { threshold: bg.threshold } }]
      : bg.alphas.map((a) => ({ dir: join(options.outDir, `alpha${a}`), score: { alpha: a } }));
  if (settings.length === 0) throw new HfplError('E_CONFIG', 'crf: no background setting (give at least one alpha)');
  const ids = readIdList(options.listFile);
  const saveScores = options.saveScores ?? true;
  const setup: CrfTaskSetup = {
    camDir: resolve(options.camDir),
    dataDir: resolve(options.dataDir),
    settings: settings.map((s) => ({ ...s, dir: resolve(s.dir), scores: saveScores && 'alpha' in s.score })),
    crf,
  };
  const r = await runImages({
    ...scale,
    task: 'crf',
    setup,
    items: ids.map((id) => ({ id })),
    isDone: ({ id }) => setup.settings.every((s) => settingDone(s, id)),
    label: 'crf',
    reporter,
    outputDirs: setup.settings.map((s) => s.dir),
  });
  reporter.end({ written: r.processed, skipped: r.skipped });
  return { outputs: settings.map((s) => s.dir), written: r.processed, skipped: r.skipped };
}
