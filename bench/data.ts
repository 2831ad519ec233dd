/**
 * Training input pipeline speed (issue 4 item 4): VOC-size JPEGs (50 synthetic 500 x 375
 * images at quality 95) through the whole METHOD 3.1 augmentation at crop 448: decode, random
 * long-side resize [448, 768], flip, colour jitter, normalisation, padded crop. Measured one
 * image at a time (one core: wall images/s and images per CPU-second of this process, the
 * latter less sensitive to other load), then through `BatchLoader` (batch 8, prefetch 2), and
 * for the synthetic training setting (128 px, resize [112, 160], crop 128). Target: >= 100
 * images/s on one core. Last line: JSON. Run: `npm run bench:data`.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { augmentImage, resolveAugmentOptions } from '../src/data/augment.js';
import { encodeJpeg } from '../src/data/image-io.js';
import { BatchLoader, disposeBatch } from '../src/data/loader.js';
import { resolveSynthParams } from '../src/data/synth/params.js';
import { renderSynthSample } from '../src/data/synth/render.js';
import type { DatasetSplit } from '../src/data/types.js';
import { initEngine } from '../src/engine/init.js';
import { Rng } from '../src/engine/random.js';

const N = Number(process.env.HFPL_BENCH_IMAGES ?? 300);

async function timed(label: string, n: number, fn: () => Promise<void>): Promise<{ perSec: number; perCpuSec: number }> {
  const c0 = process.cpuUsage(), t0 = performance.now();
  await fn();
  const wall = (performance.now() - t0) / 1000, cu = process.cpuUsage(c0), cpu = (cu.user + cu.system) / 1e6;
  const r = { perSec: n / wall, perCpuSec: n / cpu };
  console.log(`${label.padEnd(40)} ${r.perSec.toFixed(0).padStart(5)} img/s   ${r.perCpuSec.toFixed(0).padStart(5)} img/CPU-s   (${n} images, ${wall.toFixed(2)} s)`);
  return r;
}

async function makeSet(dir: string, width: number, height: number, count: number): Promise<DatasetSplit> {
  const params = resolveSynthParams({ width, height });
  const samples = [];
  for (let i = 0; i < count; i++) {
    const s = renderSynthSample(params, 'train', i);
    const imagePath = join(dir, `${s.id}.jpg`);
    writeFileSync(imagePath, await encodeJpeg(s.image, 95));
    samples.push({ id: s.id, imagePath, labels: s.labels });
  }
  return { root: dir, split: 'train', classNames: ['background', 'a', 'b', 'c', 'd', 'e', 'f'], samples };
}

async function main(): Promise<void> {
  await initEngine({ backend: 'cpu' });
  console.log(`load average ${loadavg()[0].toFixed(2)}`);
  const dir = mkdtempSync(join(tmpdir(), 'hfpl-bench-data-'));
  try {
    const voc = await makeSet(dir, 500, 375, 50);
    const paths = voc.samples.map((s) => s.imagePath);
    const o = resolveAugmentOptions();
    const size = { width: 500, height: 375 };
    for (let i = 0; i < 20; i++) await augmentImage(paths[i % 50], new Rng(i), o, size); // warm-up
    const decode = await timed('JPEG decode only (sharp)', N, async () => {
      for (let i = 0; i < N; i++) await sharp(paths[i % 50]).raw().toBuffer();
    });
    // Output buffers reused, as BatchLoader writes into its batch buffers.
    const target = { image: new Float32Array(448 * 448 * 3), raw: null, valid: new Uint8Array(448 * 448) };
    const seq = await timed('full augmentation, one at a time', N, async () => {
      for (let i = 0; i < N; i++) await augmentImage(paths[i % 50], new Rng(i), o, size, target);
    });
    const batches = Math.max(1, Math.round(N / 48));
    const loader = await timed('BatchLoader batch 8, prefetch 2', batches * 48, async () => {
      const l = new BatchLoader(voc, { batchSize: 8 });
      for await (const b of l.batches({ epochs: batches })) disposeBatch(b);
    });
    mkdirSync(join(dir, 'small'));
    const small = await makeSet(join(dir, 'small'), 128, 128, 64);
    const synth = await timed('BatchLoader 128 px, [112, 160], crop 128', 4 * 64, async () => {
      const l = new BatchLoader(small, { batchSize: 16, augment: { resizeLong: [112, 160], crop: 128, keepRaw: true } });
      for await (const b of l.batches({ epochs: 4 })) disposeBatch(b);
    });
    console.log(JSON.stringify({
      bench: 'data', crop: 448, images: N,
      decodePerSec: Math.round(decode.perSec), augmentPerSec: Math.round(seq.perSec), augmentPerCpuSec: Math.round(seq.perCpuSec),
      loaderPerSec: Math.round(loader.perSec), loaderPerCpuSec: Math.round(loader.perCpuSec), synth128PerSec: Math.round(synth.perSec),
      loadAverage: Number(loadavg()[0].toFixed(2)),
    }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
