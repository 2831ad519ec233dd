/**
 * Training batches from a `DatasetSplit`: shuffled per epoch, augmented (augment.ts) and
 * stacked into NHWC tensors, with asynchronous prefetch so that decoding (sharp, off the main
 * thread) overlaps the training step. The typed-array half of the augmentation (resize,
 * jitter, normalisation: a few ms per 448-px image) runs on the main thread whenever the
 * consumer awaits. Batches are prepared as typed arrays; tensors are made only when a batch is
 * handed out, so abandoned prefetches hold no tensor memory.
 *
 * Reproducibility: the order of epoch e comes from a generator seeded by (seed, e), and the
 * augmentation of sample i in epoch e from one seeded by (seed, e, i), so batches are the
 * same whatever the prefetch depth, timing or starting point.
 */
import * as tf from '@tensorflow/tfjs-core';
import { HfplError } from '../errors.js';
import { Rng } from '../engine/random.js';
import { augmentImage, resolveAugmentOptions, type AugmentOptions, type AugmentTarget, type AugmentedImage } from './augment.js';
import type { DatasetSplit } from './types.js';

/** Options of `BatchLoader`. */
export interface BatchLoaderOptions {
  /** Images per batch. Default 8. */
  batchSize?: number;
  /** Master seed of order and augmentation. Default 0. */
  seed?: number;
  /** Shuffle each epoch. Default true. */
  shuffle?: boolean;
  /** Drop the last incomplete batch of an epoch. Default true. */
  dropLast?: boolean;
  /** Batches prepared ahead of the consumer (0 = none). Default 2. */
  prefetch?: number;
  /** Augmentation (METHOD 3.1 defaults); `keepRaw` adds `raw` to each batch. */
  augment?: Partial<AugmentOptions>;
  /** Also return the valid-pixel mask (1 image, 0 padding) as `valid` (N, crop, crop). Default false. */
  keepValid?: boolean;
}

/** One batch. The consumer owns the tensors and disposes them (`disposeBatch`). */
export interface Batch {
  /** Normalised images, N x crop x crop x 3 float32 (0 in padding). */
  images: tf.Tensor4D;
  /** Multi-hot image labels, N x K float32 (K foreground classes, class k at column k - 1). */
  labels: tf.Tensor2D;
  /** Jittered RGB in [0, 1], N x crop x crop x 3 (0 in padding); with `augment.keepRaw`. */
  raw?: tf.Tensor4D;
  /** 1 on image pixels, 0 on padding, N x crop x crop float32; with `keepValid`. */
  valid?: tf.Tensor3D;
  ids: string[];
  epoch: number;
  /** Index of the batch within its epoch. */
  index: number;
}

/** Disposes every tensor of a batch. */
export function disposeBatch(b: Batch): void {
  b.images.dispose();
  b.labels.dispose();
  b.raw?.dispose();
  b.valid?.dispose();
}

/**
 * Undoes the normalisation: x * std + mean (padding becomes the mean colour). Returns a new
 * tensor; the input is not disposed.
 */
export function unnormalizeImages(images: tf.Tensor4D, mean: readonly number[] = [0.485, 0.456, 0.406], std: readonly number[] = [0.229, 0.224, 0.225]): tf.Tensor4D {
  return tf.tidy(() => tf.add(tf.mul(images, tf.tensor1d(std as number[])), tf.tensor1d(mean as number[])) as tf.Tensor4D);
}

interface HostBatch {
  images: Float32Array;
  raw: Float32Array | null;
  valid: Float32Array | null;
  labels: Float32Array;
  ids: string[];
  epoch: number;
  index: number;
}

/**
 * Batches of a split, epoch after epoch.
 *
 * @example
 * const loader = new BatchLoader(split, { batchSize: 8, augment: { resizeLong: [112, 160], crop: 128, keepRaw: true } });
 * for await (const b of loader.batches({ epochs: 8 })) { ...; disposeBatch(b); }
 */
export class BatchLoader {
  readonly augment: AugmentOptions;
  readonly batchSize: number;
  readonly numClasses: number;
  private readonly seed: number;
  private readonly shuffle: boolean;
  private readonly dropLast: boolean;
  private readonly prefetch: number;
  private readonly keepValid: boolean;
  private readonly sizes = new Map<string, { width: number; height: number }>();
  private orderCache: { epoch: number; order: number[] } | null = null;
  private scratchValid: Uint8Array | null = null;

  constructor(readonly split: DatasetSplit, options: BatchLoaderOptions = {}) {
    const { batchSize = 8, seed = 0, shuffle = true, dropLast = true, prefetch = 2, keepValid = false } = options;
    const ints: [string, number, number][] = [['batchSize', batchSize, 1], ['prefetch', prefetch, 0], ['seed', seed, 0]];
    for (const [name, v, min] of ints) {
      if (!Number.isInteger(v) || v < min) throw new HfplError('E_CONFIG', `loader option ${name}: ${v} is invalid (expected an integer >= ${min})`);
    }
    if (split.samples.length === 0) throw new HfplError('E_DATA', `${split.root}: split '${split.split}' has no samples`);
    if (dropLast && split.samples.length < batchSize) {
      throw new HfplError('E_CONFIG', `loader option batchSize: ${batchSize} exceeds the ${split.samples.length} samples of split '${split.split}' (with dropLast)`);
    }
    this.augment = resolveAugmentOptions(options.augment);
    this.batchSize = batchSize;
    this.seed = seed >>> 0;
    this.shuffle = shuffle;
    this.dropLast = dropLast;
    this.prefetch = prefetch;
    this.keepValid = keepValid;
    this.numClasses = split.classNames.length - 1;
    for (const s of split.samples) {
      const bad = s.labels.find((c) => !Number.isInteger(c) || c < 1 || c > this.numClasses);
      if (bad !== undefined) throw new HfplError('E_DATA', `${s.id}: label ${bad} is not a foreground class index in 1..${this.numClasses}`);
    }
  }

  /** Batches in one epoch. */
  get batchesPerEpoch(): number {
    const n = this.split.samples.length;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  /** Sample indices of epoch `epoch`, in the order they are served. */
  epochOrder(epoch: number): number[] {
    if (this.orderCache?.epoch === epoch) return this.orderCache.order;
    const idx = Array.from({ length: this.split.samples.length }, (_, i) => i);
    const order = this.shuffle ? (new Rng(mix(this.seed, 0, epoch, 0)).shuffle(idx) as number[]) : idx;
    this.orderCache = { epoch, order };
    return order;
  }

  /**
   * Async iterator over batches, from (startEpoch, startBatch) for `epochs` epochs (default:
   * endless). Up to `prefetch` batches are decoded ahead; ending the loop early discards them.
   */
  async *batches(opts: { startEpoch?: number; startBatch?: number; epochs?: number } = {}): AsyncGenerator<Batch> {
    const { startEpoch = 0, startBatch = 0, epochs = Infinity } = opts;
    const coords = this.coords(startEpoch, startBatch, startEpoch + epochs);
    const queue: Promise<HostBatch>[] = [];
    const fill = () => {
      while (queue.length < Math.max(1, this.prefetch + 1)) {
        const c = coords.next();
        if (c.done) return;
        const p = this.hostBatch(c.value[0], c.value[1]);
        p.catch(() => undefined); // surfaced when awaited
        queue.push(p);
      }
    };
    fill();
    while (queue.length > 0) {
      const host = await queue.shift()!;
      fill();
      yield this.toTensors(host);
    }
  }

  /** Prepares one batch on the host (typed arrays), decoding its images concurrently. */
  private async hostBatch(epoch: number, index: number): Promise<HostBatch> {
    const order = this.epochOrder(epoch);
    const members = order.slice(index * this.batchSize, (index + 1) * this.batchSize);
    const C = this.augment.crop, K = this.numClasses, n = members.length, px = C * C;
    const out: HostBatch = {
      images: new Float32Array(n * px * 3),
      raw: this.augment.keepRaw ? new Float32Array(n * px * 3) : null,
      valid: this.keepValid ? new Float32Array(n * px) : null,
      labels: new Float32Array(n * K),
      ids: [],
      epoch,
      index,
    };
    // Each image is written straight into its slot of the batch buffers.
    await Promise.all(
      members.map((i, b) =>
        this.sample(epoch, i, {
          image: out.images.subarray(b * px * 3, (b + 1) * px * 3),
          raw: out.raw ? out.raw.subarray(b * px * 3, (b + 1) * px * 3) : null,
          valid: out.valid ? out.valid.subarray(b * px, (b + 1) * px) : this.validScratch(px),
        }),
      ),
    );
    members.forEach((i, b) => {
      const s = this.split.samples[i];
      out.ids.push(s.id);
      for (const c of s.labels) out.labels[b * K + c - 1] = 1;
    });
    return out;
  }

  /** A mask buffer for images whose mask is not kept: written synchronously and never read, so shared. */
  private validScratch(px: number): Uint8Array {
    if (this.scratchValid?.length !== px) this.scratchValid = new Uint8Array(px);
    return this.scratchValid;
  }

  private async sample(epoch: number, i: number, target: AugmentTarget): Promise<AugmentedImage> {
    const s = this.split.samples[i];
    const a = await augmentImage(s.imagePath, new Rng(mix(this.seed, 1, epoch, i)), this.augment, this.sizes.get(s.imagePath), target);
    // The source size is needed to draw the resize; remembering it skips the header read next epoch.
    this.sizes.set(s.imagePath, a.source);
    return a;
  }

  private *coords(startEpoch: number, startBatch: number, endEpoch: number): Generator<[number, number]> {
    const per = this.batchesPerEpoch;
    for (let e = startEpoch; e < endEpoch; e++) {
      for (let b = e === startEpoch ? startBatch : 0; b < per; b++) yield [e, b];
    }
  }

  private toTensors(h: HostBatch): Batch {
    const n = h.ids.length, C = this.augment.crop;
    const batch: Batch = {
      images: tf.tensor4d(h.images, [n, C, C, 3]),
      labels: tf.tensor2d(h.labels, [n, this.numClasses]),
      ids: h.ids,
      epoch: h.epoch,
      index: h.index,
    };
    if (h.raw) batch.raw = tf.tensor4d(h.raw, [n, C, C, 3]);
    if (h.valid) batch.valid = tf.tensor3d(h.valid, [n, C, C]);
    return batch;
  }
}

/** 32-bit seed of (seed, domain, epoch, index): 0 = epoch order, 1 = sample augmentation. */
function mix(seed: number, domain: number, a: number, b: number): number {
  let h = Math.imul(seed ^ 0x27d4eb2d, 0x9e3779b1) >>> 0;
  for (const v of [domain, a, b]) {
    h = Math.imul(h ^ (v >>> 0), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    h = (h ^ (h >>> 16)) >>> 0;
  }
  return h;
}
