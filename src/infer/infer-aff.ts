/**
 * The random-walk stage (`hfpl infer-aff`, METHOD 3.5), per image as the reference's
 * `infer_aff.py`:
 * 1. AffinityNet features of the image zero-padded (after normalisation) to a multiple of 8;
 * 2. the CAMs of the present classes with background (1 - max)^6 at full resolution,
 *    zero-padded and average-pooled 8 x 8 to the feature grid;
 * 3. the random walk (beta 8, 2^6 steps) on the sparse radius-5 graph (`random-walk.ts`);
 * 4. bilinear upsampling x8, crop to the image, argmax -> label map `<out>/<id>.png`.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { HfplError } from '../errors.js';
import { labelMapTask, writeLabelMapsResumable, type LabelMapRunResult } from './label-map-run.js';
import { initEngine } from '../engine/init.js';
import type { ScaleOptions } from '../scale/run-images.js';
import type { ImageTask } from '../scale/tasks.js';
import { readRgbImage } from '../data/image-io.js';
import type { LabelMap } from '../data/label-png.js';
import type { RgbImage } from '../data/types.js';
import { readVocSplit } from '../data/voc.js';
import { readCamFile, type CamFile } from '../eval/cam-files.js';
import type { AffinityNet } from '../models/affinity-net.js';
import { loadAffinityNet } from '../models/affinity-net.js';
import { silentReporter, type ProgressReporter } from '../util/progress.js';
import { affinityTransition, randomWalk, withBackground, type AffinityTransition, type RandomWalkOptions } from './random-walk.js';

/** Normalised image tensor 1 x H' x W' x 3, zero-padded at the bottom/right to multiples of `multiple`. */
export function imageTensor(image: RgbImage, mean: readonly number[], std: readonly number[], multiple = 8, scale = 1): tf.Tensor4D {
  return tf.tidy(() => {
    const { width: W, height: H } = image;
    let x = tf.div(tf.sub(tf.div(tf.cast(tf.tensor3d(image.data, [H, W, 3], 'int32'), 'float32'), 255), tf.tensor1d([...mean])), tf.tensor1d([...std])) as tf.Tensor3D;
    if (scale !== 1) x = tf.image.resizeBilinear(x, [Math.max(1, Math.round(H * scale)), Math.max(1, Math.round(W * scale))], false, true);
    const [h, w] = x.shape;
    const ph = Math.ceil(h / multiple) * multiple - h, pw = Math.ceil(w / multiple) * multiple - w;
    if (ph > 0 || pw > 0) x = tf.pad(x, [[0, ph], [0, pw], [0, 0]]);
    return tf.expandDims(x, 0) as tf.Tensor4D;
  });
}

/** Options of `randomWalkLabels`. */
export interface RandomWalkLabelOptions extends RandomWalkOptions {
  /** Normalisation of RGB in [0, 1]; default ImageNet. */
  mean?: readonly number[];
  std?: readonly number[];
}

/**
 * The label map of one image: AffinityNet features -> random walk of its CAMs (steps 1-4 of
 * the module comment). `cam` must have the image's size.
 */
export function randomWalkLabels(model: AffinityNet, image: RgbImage, cam: CamFile, opts: RandomWalkLabelOptions = {}): LabelMap {
  const { width: W, height: H } = image;
  if (cam.width !== W || cam.height !== H) throw new HfplError('E_DATA', `CAMs of ${cam.id} are ${cam.width}x${cam.height}, the image is ${W}x${H}`);
  const { mean = [0.485, 0.456, 0.406], std = [0.229, 0.224, 0.225], ...walk } = opts;
  if (cam.labels.length === 0) return { data: new Uint8Array(W * H), width: W, height: H };
  const feats = tf.tidy(() => model.forward(imageTensor(image, mean, std), { training: false }));
  const [, h, w, dim] = feats.shape;
  const features = feats.dataSync() as Float32Array;
  feats.dispose();
  return walkCamLabels(affinityTransition(features, h, w, dim, walk), cam, walk);
}

/**
 * Steps 2-4 of the module comment for a transition `t` on the stride-8 grid of `cam`'s image
 * (grid ceil(H/8) x ceil(W/8)): background, 8 x 8 pooling, the walk, x8 upsampling, argmax.
 */
export function walkCamLabels(t: AffinityTransition, cam: CamFile, walk: Pick<RandomWalkOptions, 'bgPower' | 'logSteps'> = {}): LabelMap {
  const { width: W, height: H } = cam;
  const { height: h, width: w } = t;
  if (h !== Math.ceil(H / 8) || w !== Math.ceil(W / 8)) throw new HfplError('E_ARG', `walkCamLabels: a ${h} x ${w} grid does not fit a ${W}x${H} image at stride 8`);
  const P = cam.labels.length;
  const n = W * H;
  if (P === 0) return { data: new Uint8Array(n), width: W, height: H };
  // Background at full resolution, then 8 x 8 average pooling of the zero-padded maps.
  const full = withBackground(cam.cams, n, walk.bgPower ?? 6);
  const pooled = new Float32Array((P + 1) * h * w);
  for (let c = 0; c <= P; c++) {
    const src = c * n, dst = c * h * w;
    for (let y = 0; y < H; y++) {
      const row = dst + (y >> 3) * w;
      for (let x = 0; x < W; x++) pooled[row + (x >> 3)] += full[src + y * W + x];
    }
  }
  for (let i = 0; i < pooled.length; i++) pooled[i] /= 64;
  const rw = randomWalk(t, pooled, walk);
  const labelValues = [0, ...cam.labels];
  const up = tf.tidy(() => {
    const g = tf.transpose(tf.tensor3d(rw, [P + 1, h, w]), [1, 2, 0]) as tf.Tensor3D;
    const big = tf.image.resizeBilinear(g, [8 * h, 8 * w], false, true);
    return tf.argMax(tf.slice(big, [0, 0, 0], [H, W, P + 1]), 2);
  });
  const arg = up.dataSync() as Int32Array;
  up.dispose();
  const data = new Uint8Array(n);
  for (let i = 0; i < n; i++) data[i] = labelValues[arg[i]];
  return { data, width: W, height: H };
}

/** Options of `runInferAff`. */
export interface InferAffOptions {
  /** Run folder of train-aff (or its model.json). */
  run: string;
  /** VOC-layout dataset folder. */
  data: string;
  split: string;
  /** CAM files folder (infer-cam's `cams/`). */
  cams: string;
  /** Output folder of `<id>.png` label maps. */
  out: string;
  /** Walk options (defaults METHOD 3.5: beta 8, logSteps 6, bgPower 6; radius from the model). */
  walk?: Omit<RandomWalkOptions, 'radius'>;
  /** Only the first n images. */
  limit?: number;
}

/** Result of `runInferAff`. */
export type InferAffResult = LabelMapRunResult;

/** Setup of the infer-aff task (src/scale/tasks.ts). */
export interface InferAffTaskSetup {
  run: string;
  cams: string;
  out: string;
  walk?: Omit<RandomWalkOptions, 'radius'>;
}

/** The per-image random walk: its own engine and AffinityNet in each worker. */
export async function createInferAffTask(setup: InferAffTaskSetup): Promise<ImageTask> {
  await initEngine({ threads: 1 });
  const { model, meta } = loadAffinityNet(setup.run);
  return labelMapTask(setup.out, async (id, d) => {
    const [image, cam] = await Promise.all([readRgbImage(d.imagePath), readCamFile(setup.cams, id)]);
    return randomWalkLabels(model, image, cam, { ...setup.walk, radius: meta.radius, mean: meta.mean, std: meta.std });
  }, () => model.dispose());
}

/**
 * Random-walk label maps for a split (resumable: existing PNGs are kept). Every listed id
 * must have a CAM file (checked before any work). `scale` spreads the images over threads or a queue.
 */
export async function runInferAff(opts: InferAffOptions, reporter: ProgressReporter = silentReporter, scale: ScaleOptions = {}): Promise<InferAffResult> {
  const split = readVocSplit(opts.data, opts.split);
  const samples = opts.limit ? split.samples.slice(0, opts.limit) : split.samples;
  for (const s of samples) {
    const p = join(opts.cams, `${s.id}.json`);
    if (!existsSync(p)) throw new HfplError('E_IO', `${p}: CAM file not found (id ${s.id} is listed in split '${opts.split}')`);
  }
  // Fail early, in this process, on a missing or foreign model.
  loadAffinityNet(opts.run).model.dispose();
  const setup: InferAffTaskSetup = { run: resolve(opts.run), cams: resolve(opts.cams), out: resolve(opts.out), walk: opts.walk };
  return writeLabelMapsResumable(samples, opts.out, `infer-aff ${opts.split}`, reporter, 'infer-aff', setup, scale);
}
