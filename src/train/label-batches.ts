/**
 * Training batches of images with per-pixel label maps (AffinityNet and the segmentation
 * network): the image goes through the CAM training augmentation (`augment.ts`: random
 * long-side resize, flip, colour jitter, normalisation, crop), and its label map through the
 * same geometry with nearest-neighbour sampling, 255 (ignore) in the crop padding. Samples
 * with score maps (`loadScores`, AffinityNet's CRF scores) instead give grid labels: the score
 * maps go through the same geometry (0 in the padding), then `pooledConfidentLabels` (the
 * reference's 8 x 8 average pooling and argmax per cell).
 *
 * Reproducible like `BatchLoader`: the order of epoch e depends on (seed, e), the
 * augmentation of sample i in epoch e on (seed, e, i).
 */
import * as tf from '@tensorflow/tfjs-core';
import { HfplError } from '../errors.js';
import { Rng } from '../engine/random.js';
import { augmentPixels, drawAugmentParams, resolveAugmentOptions, type AugmentOptions, type AugmentParams } from '../data/augment.js';
import { readRgbImage } from '../data/image-io.js';
import type { LabelMap } from '../data/label-png.js';
import type { RgbImage } from '../data/types.js';
import { IGNORE_LABEL, pooledConfidentLabels, type ScoreMap } from '../infer/aff-labels.js';

/** Grid cell of pooled labels (the feature stride). */
export const LABEL_POOL = 8;

/** One training sample: an image and a loader of its label map (same size). */
export interface LabelSample {
  id: string;
  imagePath: string;
  loadLabels: () => Promise<LabelMap>;
  /**
   * Optional: the low- and high-alpha CRF score maps (same size as the image). When given,
   * the sample's labels are pooled grid labels, crop/8 x crop/8 (`pooledConfidentLabels`).
   */
  loadScores?: () => Promise<{ low: ScoreMap; high: ScoreMap }>;
}

/** A batch: normalised images (tensor, caller disposes) and crop-size label maps. */
export interface LabelBatch {
  images: tf.Tensor4D;
  /** N x crop x crop label values (255 = ignore), row-major per image; N x crop/8 x crop/8 for score samples. */
  labels: Uint8Array;
  ids: string[];
  epoch: number;
  index: number;
}

/** Options of `LabelBatchLoader`. */
export interface LabelBatchOptions {
  /** Images per batch (the last incomplete batch of an epoch is dropped). Default 8. */
  batchSize?: number;
  /** Default 0. */
  seed?: number;
  augment?: Partial<AugmentOptions>;
}

/**
 * Copies `channels` planes of a W x H map (channel-major) through the geometry of `p` with
 * nearest sampling at pixel centres (resize, flip, crop) into `out`, crop x crop per plane;
 * the padding keeps what `out` was filled with.
 */
function resampleNearest(src: ArrayLike<number>, channels: number, width: number, height: number, p: AugmentParams, crop: number, out: Uint8Array | Float32Array): void {
  const { width: W, height: H, cropW, cropH } = p;
  const cols = new Int32Array(cropW);
  for (let x = 0; x < cropW; x++) {
    const X = p.flip ? W - 1 - (p.imgLeft + x) : p.imgLeft + x;
    cols[x] = Math.min(width - 1, Math.floor(((X + 0.5) * width) / W));
  }
  for (let c = 0; c < channels; c++) {
    const plane = c * width * height;
    for (let y = 0; y < cropH; y++) {
      const sy = Math.min(height - 1, Math.floor(((p.imgTop + y + 0.5) * height) / H));
      const from = plane + sy * width, to = c * crop * crop + (p.contTop + y) * crop + p.contLeft;
      for (let x = 0; x < cropW; x++) out[to + x] = src[from + cols[x]];
    }
  }
}

/**
 * Applies the geometry of `p` (resize, flip, crop) to a label map with nearest sampling;
 * returns crop x crop labels with 255 in the padding.
 */
export function augmentLabels(map: LabelMap, p: AugmentParams, crop: number): Uint8Array {
  const out = new Uint8Array(crop * crop).fill(IGNORE_LABEL);
  resampleNearest(map.data, 1, map.width, map.height, p, crop, out);
  return out;
}

/**
 * Applies the geometry of `p` (resize nearest, flip, crop) to every channel of a score map;
 * returns a crop x crop score map with 0 in the padding (the reference crops the image and
 * score maps together into a zero container, tool/imutils.py:103-127).
 */
export function augmentScores(map: ScoreMap, p: AugmentParams, crop: number): ScoreMap {
  const out = new Float32Array(map.channels * crop * crop);
  resampleNearest(map.data, map.channels, map.width, map.height, p, crop, out);
  return { data: out, channels: map.channels, width: crop, height: crop };
}

function mix(seed: number, a: number, b: number): number {
  let h = Math.imul(seed ^ 0x5bd1e995, 0x9e3779b1) >>> 0;
  for (const v of [a, b]) {
    h = Math.imul(h ^ (v >>> 0), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    h = (h ^ (h >>> 16)) >>> 0;
  }
  return h;
}

/** Batches of (image, label map) samples, epoch after epoch. */
export class LabelBatchLoader {
  readonly augment: AugmentOptions;
  readonly batchSize: number;
  private readonly seed: number;

  constructor(readonly samples: LabelSample[], opts: LabelBatchOptions = {}) {
    this.batchSize = opts.batchSize ?? 8;
    this.seed = (opts.seed ?? 0) >>> 0;
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1) throw new HfplError('E_CONFIG', `batchSize: ${this.batchSize} is invalid (expected an integer >= 1)`);
    if (samples.length < this.batchSize) throw new HfplError('E_CONFIG', `batchSize: ${this.batchSize} exceeds the ${samples.length} training samples`);
    this.augment = resolveAugmentOptions(opts.augment);
  }

  get batchesPerEpoch(): number {
    return Math.floor(this.samples.length / this.batchSize);
  }

  /** Sample order of an epoch. */
  epochOrder(epoch: number): number[] {
    return new Rng(mix(this.seed, 0xe90c, epoch)).shuffle(Array.from({ length: this.samples.length }, (_, i) => i)) as number[];
  }

  /** One augmented sample. */
  async sample(epoch: number, i: number): Promise<{ image: Float32Array; labels: Uint8Array }> {
    const s = this.samples[i];
    if (s.loadScores) {
      const [img, { low, high }] = await Promise.all([readRgbImage(s.imagePath), s.loadScores()]);
      for (const m of [low, high]) {
        if (m.width !== img.width || m.height !== img.height) throw new HfplError('E_DATA', `${s.id}: CRF score map is ${m.width}x${m.height}, image ${s.imagePath} is ${img.width}x${img.height}`);
      }
      const p = drawAugmentParams(new Rng(mix(this.seed, epoch + 1, i)), img.width, img.height, this.augment);
      const { image } = augmentPixels(img, p, { ...this.augment, keepRaw: false });
      const C = this.augment.crop;
      return { image, labels: pooledConfidentLabels(augmentScores(low, p, C), augmentScores(high, p, C), LABEL_POOL).data };
    }
    const [img, lab]: [RgbImage, LabelMap] = await Promise.all([readRgbImage(s.imagePath), s.loadLabels()]);
    if (img.width !== lab.width || img.height !== lab.height) {
      throw new HfplError('E_DATA', `${s.id}: label map is ${lab.width}x${lab.height}, image ${s.imagePath} is ${img.width}x${img.height}`);
    }
    const p = drawAugmentParams(new Rng(mix(this.seed, epoch + 1, i)), img.width, img.height, this.augment);
    const { image } = augmentPixels(img, p, { ...this.augment, keepRaw: false });
    return { image, labels: augmentLabels(lab, p, this.augment.crop) };
  }

  /** Batch `index` of epoch `epoch`, on the host (images as a typed array). */
  async hostBatch(epoch: number, index: number): Promise<Omit<LabelBatch, 'images'> & { images: Float32Array }> {
    const order = this.epochOrder(epoch).slice(index * this.batchSize, (index + 1) * this.batchSize);
    const C = this.augment.crop, px = C * C, n = order.length;
    const parts = await Promise.all(order.map((i) => this.sample(epoch, i)));
    const lpx = parts[0]?.labels.length ?? px;
    const images = new Float32Array(n * px * 3), labels = new Uint8Array(n * lpx);
    parts.forEach((p, b) => {
      images.set(p.image, b * px * 3);
      labels.set(p.labels, b * lpx);
    });
    return { images, labels, ids: order.map((i) => this.samples[i].id), epoch, index };
  }

  /** Batch `index` of epoch `epoch`. */
  async batch(epoch: number, index: number): Promise<LabelBatch> {
    return this.toTensors(await this.hostBatch(epoch, index));
  }

  private toTensors(h: Omit<LabelBatch, 'images'> & { images: Float32Array }): LabelBatch {
    const C = this.augment.crop;
    return { ...h, images: tf.tensor4d(h.images, [h.ids.length, C, C, 3]) };
  }

  /** Batches from (startEpoch, startBatch) on, endlessly; the next batch is prepared during the current step. */
  async *batches(startEpoch = 0, startBatch = 0): AsyncGenerator<LabelBatch> {
    const per = this.batchesPerEpoch;
    let e = startEpoch, b = startBatch;
    const advance = () => {
      b++;
      if (b >= per) {
        b = 0;
        e++;
      }
    };
    let next = this.hostBatch(e, b);
    for (;;) {
      const current = await next;
      advance();
      next = this.hostBatch(e, b);
      next.catch(() => undefined); // surfaced when awaited
      yield this.toTensors(current);
    }
  }
}
