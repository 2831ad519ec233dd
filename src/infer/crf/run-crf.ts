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
import { join } from 'node:path';
import { HfplError } from '../../errors.js';
import { readRgbImage } from '../../data/image-io.js';
import { writeLabelPng } from '../../data/label-png.js';
import { readCamFile } from '../../eval/cam-files.js';
import { readIdList } from '../../eval/run-eval.js';
import { silentReporter, type ProgressReporter } from '../../util/progress.js';
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

/** Runs the CRF stage; see the file comment. */
export async function runCrf(options: CrfRunOptions, reporter: ProgressReporter = silentReporter): Promise<CrfRunResult> {
  const crf = resolveDenseCrfOptions(options.crf);
  const bg = options.background ?? { alphas: [1, 24] };
  const settings: { dir: string; score: BackgroundScore }[] =
    'threshold' in bg
      ? [{ dir: join(options.outDir, `threshold${bg.threshold}`), score: { threshold: bg.threshold } }]
      : bg.alphas.map((a) => ({ dir: join(options.outDir, `alpha${a}`), score: { alpha: a } }));
  if (settings.length === 0) throw new HfplError('E_CONFIG', 'crf: no background setting (give at least one alpha)');
  const ids = readIdList(options.listFile);
  let written = 0, skipped = 0;
  reporter.start('crf', ids.length, 'img');
  for (let k = 0; k < ids.length; k++) {
    const id = ids[k];
    const scores = (s: { score: BackgroundScore }) => (options.saveScores ?? true) && 'alpha' in s.score;
    const todo = settings.filter((s) => !existsSync(join(s.dir, `${id}.png`)) || (scores(s) && !existsSync(join(s.dir, `${id}.npy`))));
    if (todo.length === 0) {
      skipped++;
    } else {
      const cam = await readCamFile(options.camDir, id);
      const path = imagePath(options.dataDir, id);
      const image = await readRgbImage(path);
      if (image.height !== cam.height || image.width !== cam.width) {
        const npy = join(options.camDir, `${id}.npy`);
        throw new HfplError('E_DATA', `${npy}: CAMs are [${cam.labels.length}, ${cam.height}, ${cam.width}] but image ${path} is ${image.height} x ${image.width} (H x W)`);
      }
      for (const s of todo) {
        const r = camCrf(image, cam.cams, cam.labels, s.score, crf);
        if (scores(s)) await writeFileAtomic(join(s.dir, `${id}.npy`), encodeNpy(r.scores, [cam.labels.length + 1, image.height, image.width]));
        await writeLabelPng(join(s.dir, `${id}.png`), r.map);
      }
      written++;
    }
    reporter.step({ done: k + 1, total: ids.length });
  }
  reporter.end({ written, skipped });
  return { outputs: settings.map((s) => s.dir), written, skipped };
}
