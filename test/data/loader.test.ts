import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../../src/engine/init.js';
import { BatchLoader, disposeBatch, unnormalizeImages } from '../../src/data/loader.js';
import { generateSynthDataset } from '../../src/data/synth/generate.js';
import type { DatasetSplit, LabelsFile } from '../../src/data/types.js';

const tmp = mkdtempSync(join(tmpdir(), 'hfpl-loader-'));
let split: DatasetSplit;

/** A minimal reader of the synthetic layout (id list + labels.json). */
function readSplit(root: string, name: string): DatasetSplit {
  const ids = readFileSync(join(root, 'ImageSets/Segmentation', `${name}.txt`), 'utf8').trim().split('\n');
  const lf = JSON.parse(readFileSync(join(root, 'labels.json'), 'utf8')) as LabelsFile;
  return { root, split: name, classNames: lf.classes, samples: ids.map((id) => ({ id, imagePath: join(root, 'JPEGImages', `${id}.jpg`), labels: lf.labels[id] })) };
}

beforeAll(async () => {
  await initEngine({ backend: 'cpu' });
  await generateSynthDataset({ out: tmp, train: 10, val: 0, width: 64, height: 64, classes: 4, seed: 2 });
  split = readSplit(tmp, 'train');
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const augment = { resizeLong: [56, 80] as [number, number], crop: 64, keepRaw: true };

async function collect(loader: BatchLoader, opts: Parameters<BatchLoader['batches']>[0]): Promise<{ ids: string[]; images: Float32Array; labels: number[][]; epoch: number; index: number }[]> {
  const out = [];
  for await (const b of loader.batches(opts)) {
    out.push({ ids: b.ids, images: b.images.dataSync() as Float32Array, labels: b.labels.arraySync(), epoch: b.epoch, index: b.index });
    disposeBatch(b);
  }
  return out;
}

describe('BatchLoader', () => {
  it('yields NHWC batches with multi-hot labels, raw RGB and valid masks', async () => {
    const loader = new BatchLoader(split, { batchSize: 4, seed: 1, augment, keepValid: true });
    expect(loader.batchesPerEpoch).toBe(2);
    const seen: string[] = [];
    for await (const b of loader.batches({ epochs: 1 })) {
      expect(b.images.shape).toEqual([4, 64, 64, 3]);
      expect(b.raw!.shape).toEqual([4, 64, 64, 3]);
      expect(b.valid!.shape).toEqual([4, 64, 64]);
      expect(b.labels.shape).toEqual([4, 4]);
      const labels = b.labels.arraySync();
      b.ids.forEach((id, n) => {
        const want = [0, 0, 0, 0];
        for (const c of split.samples.find((s) => s.id === id)!.labels) want[c - 1] = 1;
        expect(labels[n]).toEqual(want);
      });
      // images = (raw - mean) / std on image pixels, 0 on padding; raw in [0, 1].
      const img = b.images.dataSync(), raw = b.raw!.dataSync(), valid = b.valid!.dataSync();
      const mean = [0.485, 0.456, 0.406], std = [0.229, 0.224, 0.225];
      let nValid = 0, maxErr = 0, outOfRange = 0;
      for (let t = 0; t < valid.length; t++) {
        nValid += valid[t];
        for (let c = 0; c < 3; c++) {
          const i = 3 * t + c;
          if (raw[i] < 0 || raw[i] > 1) outOfRange++;
          maxErr = Math.max(maxErr, Math.abs(valid[t] ? img[i] - (raw[i] - mean[c]) / std[c] : img[i] + raw[i]));
        }
      }
      expect([outOfRange, maxErr < 1e-4]).toEqual([0, true]);
      expect(nValid).toBeGreaterThan(0.5 * valid.length);
      seen.push(...b.ids);
      disposeBatch(b);
    }
    expect(new Set(seen).size).toBe(8);
  });

  it('is reproducible whatever the prefetch depth, and resumes mid-epoch', async () => {
    const a = await collect(new BatchLoader(split, { batchSize: 3, seed: 9, augment, prefetch: 0 }), { epochs: 2 });
    const b = await collect(new BatchLoader(split, { batchSize: 3, seed: 9, augment, prefetch: 4 }), { epochs: 2 });
    expect(a.map((x) => [x.epoch, x.index])).toEqual([[0, 0], [0, 1], [0, 2], [1, 0], [1, 1], [1, 2]]);
    expect(b.map((x) => x.ids)).toEqual(a.map((x) => x.ids));
    b.forEach((x, i) => expect(Buffer.from(x.images.buffer).equals(Buffer.from(a[i].images.buffer))).toBe(true));
    // Each epoch has its own order and augmentation.
    expect(a[3].ids).not.toEqual(a[0].ids);
    const c = await collect(new BatchLoader(split, { batchSize: 3, seed: 9, augment }), { startEpoch: 1, startBatch: 1, epochs: 1 });
    expect(c.map((x) => x.ids)).toEqual([a[4].ids, a[5].ids]);
    expect(Buffer.from(c[0].images.buffer).equals(Buffer.from(a[4].images.buffer))).toBe(true);
    const d = await collect(new BatchLoader(split, { batchSize: 3, seed: 10, augment }), { epochs: 1 });
    expect(d.map((x) => x.ids)).not.toEqual(a.slice(0, 3).map((x) => x.ids));
  });

  it('serves the dataset order without shuffle and keeps the last partial batch without dropLast', async () => {
    const r = await collect(new BatchLoader(split, { batchSize: 4, shuffle: false, dropLast: false, augment }), { epochs: 1 });
    expect(r.map((x) => x.ids)).toEqual([split.samples.slice(0, 4), split.samples.slice(4, 8), split.samples.slice(8)].map((s) => s.map((x) => x.id)));
  });

  it('leaves tensor memory flat, also when the loop ends early', async () => {
    const before = tf.memory().numTensors;
    const loader = new BatchLoader(split, { batchSize: 2, augment, prefetch: 3, keepValid: true });
    let n = 0;
    for await (const b of loader.batches()) {
      const un = unnormalizeImages(b.images);
      const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(tf.mul(un, tf.expandDims(b.valid!, 3)), b.raw!))).dataSync()[0]);
      expect(diff).toBeLessThan(1e-4);
      un.dispose();
      disposeBatch(b);
      if (++n === 3) break;
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects bad options, labels and images with named errors', async () => {
    expect(() => new BatchLoader(split, { batchSize: 11 })).toThrow(/loader option batchSize: 11 exceeds the 10 samples/);
    expect(() => new BatchLoader(split, { prefetch: -1 })).toThrow(/loader option prefetch: -1 is invalid/);
    expect(() => new BatchLoader(split, { augment: { crop: -3 } })).toThrow(/augment option crop: -3/);
    const bad: DatasetSplit = { ...split, samples: split.samples.map((s, i) => (i === 0 ? { ...s, labels: [7] } : s)) };
    expect(() => new BatchLoader(bad, { augment })).toThrow(/train_000000: label 7 is not a foreground class index in 1..4/);
    // A missing image surfaces from the iterator with the file name.
    const gone: DatasetSplit = { ...split, samples: split.samples.map((s, i) => (i === 0 ? { ...s, imagePath: join(tmp, 'gone.jpg') } : s)) };
    const it0 = new BatchLoader(gone, { batchSize: 10, shuffle: false, augment }).batches();
    await expect(it0.next()).rejects.toThrow(/gone.jpg: image file not found/);
  });
});
