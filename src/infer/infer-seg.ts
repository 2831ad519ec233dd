/**
 * Final segmentation inference (`hfpl infer-seg`, METHOD 3.6), as the reference's
 * eval_final_voc.py:77-98: for every scale (default 0.5, 0.75, 1, 1.25, 1.5, 1.75) and its
 * horizontal flip, the network's logits are upsampled (bilinear; align corners for the
 * deeplabv1 head) to the image size; the logits are averaged, then the softmax is taken
 * (:89 `F.softmax(torch.mean(prob_seg, dim=0))`); one mean-field iteration of the dense CRF
 * (bilateral sxy 32, `segmentationCrfOptions`) refines the probabilities by default (TEST_CRF
 * True, voc12/config_voc2012.py:45; `crf: false` skips it); the argmax is `<out>/<id>.png`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { HfplError } from '../errors.js';
import { resolve } from 'node:path';
import { labelMapTask, writeLabelMapsResumable, type LabelMapRunResult } from './label-map-run.js';
import { initEngine } from '../engine/init.js';
import type { ScaleOptions } from '../scale/run-images.js';
import type { ImageTask } from '../scale/tasks.js';
import { readRgbImage } from '../data/image-io.js';
import type { LabelMap } from '../data/label-png.js';
import type { RgbImage } from '../data/types.js';
import { readVocSplit } from '../data/voc.js';
import { loadDeepLab, type DeepLab } from '../models/deeplab.js';
import { silentReporter, type ProgressReporter } from '../util/progress.js';
import { argmaxLabels, denseCrf, segmentationCrfOptions, type DenseCrfOptions } from './crf/dense-crf.js';
import { imageTensor } from './infer-aff.js';

export const DEFAULT_SEG_SCALES: readonly number[] = Object.freeze([0.5, 0.75, 1, 1.25, 1.5, 1.75]);

/** Options of `segmentImage`. */
export interface SegmentOptions {
  /** Default 0.5 .. 1.75 in steps of 0.25. */
  scales?: readonly number[];
  /** Add flipped copies; default true. */
  flip?: boolean;
  /** Dense CRF on the averaged probabilities: true (default; METHOD 3.6: 1 iteration, bilateral sxy 32), false or options. */
  crf?: boolean | DenseCrfOptions;
  mean?: readonly number[];
  std?: readonly number[];
}

/** Class probabilities of one image, L x H x W (label-major): softmax of the averaged upsampled logits. */
export function segmentationProbs(model: DeepLab, image: RgbImage, opts: SegmentOptions = {}): Float32Array {
  const scales = opts.scales ?? DEFAULT_SEG_SCALES;
  if (scales.length === 0 || scales.some((s) => !(s > 0))) throw new HfplError('E_CONFIG', `scales must be positive numbers, got ${JSON.stringify(scales)}`);
  const flip = opts.flip ?? true;
  const { width: W, height: H } = image;
  let sum: tf.Tensor3D = tf.zeros([H, W, model.numClasses]);
  for (const s of scales) {
    const next = tf.tidy(() => {
      const x = imageTensor(image, opts.mean ?? [0.485, 0.456, 0.406], opts.std ?? [0.229, 0.224, 0.225], 8, s);
      const h = Math.max(1, Math.round(H * s)), w = Math.max(1, Math.round(W * s));
      const batch = flip ? tf.concat([x, tf.reverse(x, 2)], 0) : x;
      const logits = model.forward(batch as tf.Tensor4D, { training: false });
      // Logits cover the padded image: upsample x8, crop the image part, resize to H x W
      // (align corners for deeplabv1, eval_final_voc.py:84; half-pixel centres otherwise).
      const a = model.alignCorners;
      let p = tf.image.resizeBilinear(model.upsampledLogits(logits, h, w), [H, W], a, !a);
      if (flip) {
        const [a, b] = tf.split(p, 2, 0);
        p = tf.concat([a, tf.reverse(b, 2)], 0) as tf.Tensor4D;
      }
      return tf.add(sum, tf.sum(p, 0)) as tf.Tensor3D;
    });
    sum.dispose();
    sum = next;
  }
  const out = tf.tidy(() => tf.transpose(tf.softmax(tf.div(sum, scales.length * (flip ? 2 : 1))), [2, 0, 1]));
  sum.dispose();
  const probs = out.dataSync() as Float32Array;
  out.dispose();
  return probs;
}

/** The label map of one image (multi-scale + flip, CRF unless `crf: false`). */
export function segmentImage(model: DeepLab, image: RgbImage, opts: SegmentOptions = {}): LabelMap {
  let probs = segmentationProbs(model, image, opts);
  const crf = opts.crf ?? true;
  if (crf) probs = denseCrf(image, probs, crf === true ? segmentationCrfOptions : crf);
  return argmaxLabels(probs, image.width, image.height);
}

/** Options of `runInferSeg`. */
export interface InferSegOptions extends Omit<SegmentOptions, 'mean' | 'std'> {
  /** Run folder of train-seg (or its model.json). */
  run: string;
  data: string;
  split: string;
  /** Output folder of `<id>.png` label maps. */
  out: string;
  limit?: number;
}

/** Setup of the infer-seg task (src/scale/tasks.ts). */
export interface InferSegTaskSetup {
  run: string;
  out: string;
  scales?: readonly number[];
  flip?: boolean;
  crf?: boolean | DenseCrfOptions;
}

/** The per-image segmentation: its own engine and network in each worker. */
export async function createInferSegTask(setup: InferSegTaskSetup): Promise<ImageTask> {
  await initEngine({ threads: 1 });
  const { model, meta } = loadDeepLab(setup.run);
  const opts: SegmentOptions = { scales: setup.scales, flip: setup.flip, crf: setup.crf, mean: meta.mean, std: meta.std };
  return labelMapTask(setup.out, async (_id, d) => segmentImage(model, await readRgbImage(d.imagePath), opts), () => model.dispose());
}

/** Segments a split (resumable: existing PNGs are kept); `scale` spreads the images over threads or a queue. */
export async function runInferSeg(opts: InferSegOptions, reporter: ProgressReporter = silentReporter, scale: ScaleOptions = {}): Promise<LabelMapRunResult> {
  const { model, meta } = loadDeepLab(opts.run);
  model.dispose();
  const split = readVocSplit(opts.data, opts.split, { classNames: meta.classNames });
  if (split.classNames.length !== model.numClasses) throw new HfplError('E_DATA', `${opts.data}: ${split.classNames.length} classes, the model has ${model.numClasses}`);
  const samples = opts.limit ? split.samples.slice(0, opts.limit) : split.samples;
  const setup: InferSegTaskSetup = { run: resolve(opts.run), out: resolve(opts.out), scales: opts.scales, flip: opts.flip, crf: opts.crf };
  return writeLabelMapsResumable(samples, opts.out, `infer-seg ${opts.split}`, reporter, 'infer-seg', setup, scale);
}
