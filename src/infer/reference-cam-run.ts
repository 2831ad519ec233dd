/**
 * `hfpl infer-cam --weights <file> --arch seam-resnet38`: CAM inference of a split with a
 * published reference checkpoint, as the reference's `infer_cam_voc.py` computes it
 * (`referenceCams`), written in the layout of `hfpl infer-cam` (src/infer/cam-run.ts):
 *
 * ```
 * <out>/cams/<id>.npy, <id>.json   normalised CAMs of the labelled classes (= the reference's cam_dict)
 * <out>/pseudo/<id>.png            argmax of [background score, CAMs] (the reference's --out_cam_pred)
 * <out>/summary.json               images, seconds, weights, arch, scales, background
 * ```
 * No scores.jsonl: the reference's inference has no image-level scores. Resumable: an id whose
 * CAM .json and pseudo-label exist is skipped. The weights are checked before anything is written.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { HfplError } from '../errors.js';
import { readRgbImage } from '../data/image-io.js';
import { writeLabelPng } from '../data/label-png.js';
import { readVocSplit } from '../data/voc.js';
import { writeCamFile } from '../eval/cam-files.js';
import { loadReferenceNet, type ReferenceArch } from '../models/reference/architectures.js';
import type { RefSeamNet } from '../models/reference/seam.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { silentReporter, type ProgressReporter } from '../util/progress.js';
import { pseudoLabelFromCams, type BackgroundScore } from './pseudo-labels.js';
import { REFERENCE_CAM_SCALES, referenceCams } from './reference-cam.js';

/** Architectures `runInferCamReference` can run. */
export const INFER_CAM_ARCHS: readonly ReferenceArch[] = Object.freeze(['seam-resnet38']);

export interface InferCamReferenceOptions {
  /** Checkpoint (.pth, .safetensors, TF.js from convert-weights). */
  weights: string;
  /** Default 'seam-resnet38'. */
  arch?: ReferenceArch;
  data: string;
  split: string;
  out: string;
  /** Default [0.5, 1, 1.5, 2] (the reference's). */
  scales?: number[];
  /** Background score of the pseudo-labels; default { threshold: 0.26 } (the reference's --out_cam_pred_alpha). */
  background?: BackgroundScore;
  limit?: number;
}

export interface InferCamReferenceResult {
  out: string;
  numImages: number;
  inferred: number;
  seconds: number;
}

/**
 * Runs the reference CAM inference over a split; see the module comment.
 *
 * @example
 * await runInferCamReference({ weights: 'resnet38_SEAM.pth', data: 'VOC2012', split: 'train', out: 'runs/seam-cams' });
 */
export async function runInferCamReference(opts: InferCamReferenceOptions, reporter: ProgressReporter = silentReporter): Promise<InferCamReferenceResult> {
  const arch = opts.arch ?? 'seam-resnet38';
  if (!INFER_CAM_ARCHS.includes(arch)) throw new HfplError('E_CONFIG', `--arch ${arch}: infer-cam runs ${INFER_CAM_ARCHS.join(', ')}`);
  const split = readVocSplit(opts.data, opts.split);
  const { net } = await loadReferenceNet(arch, opts.weights);
  const seam = net as RefSeamNet;
  try {
    if (split.classNames.length !== seam.head.classes) {
      throw new HfplError('E_DATA', `${opts.data}: ${split.classNames.length - 1} classes, ${opts.weights} has ${seam.head.classes - 1} foreground classes`);
    }
    const bg = opts.background ?? { threshold: 0.26 };
    const scales = opts.scales ?? [...REFERENCE_CAM_SCALES];
    const samples = opts.limit ? split.samples.slice(0, opts.limit) : split.samples;
    const camDir = join(opts.out, 'cams'), pseudoDir = join(opts.out, 'pseudo');
    reporter.start(`infer-cam ${opts.split} (${arch})`, samples.length, 'img');
    const t0 = performance.now();
    let inferred = 0;
    for (let i = 0; i < samples.length; i++) {
      const s = samples[i];
      if (!(existsSync(join(camDir, `${s.id}.json`)) && existsSync(join(pseudoDir, `${s.id}.png`)))) {
        const image = await readRgbImage(s.imagePath);
        const r = referenceCams(seam, image, s.labels, { scales });
        await writeCamFile(camDir, s.id, r.cams, r.labels, r.height, r.width);
        await writeLabelPng(join(pseudoDir, `${s.id}.png`), pseudoLabelFromCams(r.cams, r.labels, r.height, r.width, bg));
        inferred++;
      }
      reporter.step({ done: i + 1, total: samples.length });
    }
    const seconds = (performance.now() - t0) / 1000;
    const result: InferCamReferenceResult = { out: opts.out, numImages: samples.length, inferred, seconds };
    await writeFileAtomic(join(opts.out, 'summary.json'), JSON.stringify({ ...result, weights: opts.weights, arch, split: opts.split, scales, flip: true, background: bg, classNames: split.classNames }, null, 2) + '\n');
    reporter.end({ images: samples.length });
    return result;
  } finally {
    net.dispose();
  }
}
