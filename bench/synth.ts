/**
 * Synthetic benchmark generation speed (issue 4 item 3): 128 x 128 samples, default
 * parameters, on one core. Measures rendering alone, rendering + PNG mask + JPEG encoding in
 * sequence, and `generateSynthDataset` writing a whole set (files included). Figures are wall
 * images/s and images per CPU-second of this process (less sensitive to other load on the
 * machine). Target: >= 200 images/s with encoding. Last line: JSON. Run: `npm run bench:synth`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeJpeg } from '../src/data/image-io.js';
import { encodeLabelPng } from '../src/data/label-png.js';
import { generateSynthDataset } from '../src/data/synth/generate.js';
import { resolveSynthParams } from '../src/data/synth/params.js';
import { renderSynthSample } from '../src/data/synth/render.js';

const N = Number(process.env.HFPL_BENCH_IMAGES ?? 1000);

async function timed(label: string, n: number, fn: () => Promise<void>): Promise<{ perSec: number; perCpuSec: number }> {
  const c0 = process.cpuUsage(), t0 = performance.now();
  await fn();
  const wall = (performance.now() - t0) / 1000, cu = process.cpuUsage(c0), cpu = (cu.user + cu.system) / 1e6;
  const r = { perSec: n / wall, perCpuSec: n / cpu };
  console.log(`${label.padEnd(34)} ${r.perSec.toFixed(0).padStart(6)} img/s   ${r.perCpuSec.toFixed(0).padStart(6)} img/CPU-s   (${n} images, ${wall.toFixed(2)} s)`);
  return r;
}

async function main(): Promise<void> {
  const params = resolveSynthParams();
  console.log(`synthetic ${params.width}x${params.height}, ${params.classes} classes; load average ${loadavg()[0].toFixed(2)}`);
  for (let i = 0; i < 50; i++) renderSynthSample(params, 'val', i); // warm-up
  const render = await timed('render', N, async () => {
    for (let i = 0; i < N; i++) renderSynthSample(params, 'train', i);
  });
  const encode = await timed('render + PNG + JPEG (sequential)', N, async () => {
    for (let i = 0; i < N; i++) {
      const s = renderSynthSample(params, 'train', i);
      encodeLabelPng(s.mask);
      await encodeJpeg(s.image, params.jpegQuality);
    }
  });
  const out = mkdtempSync(join(tmpdir(), 'hfpl-bench-synth-'));
  try {
    const gen = await timed('generateSynthDataset (files)', N, async () => {
      await generateSynthDataset({ out, train: N, val: 0 });
    });
    console.log(JSON.stringify({ bench: 'synth', size: params.width, images: N, renderPerSec: Math.round(render.perSec), encodePerSec: Math.round(encode.perSec), encodePerCpuSec: Math.round(encode.perCpuSec), generatePerSec: Math.round(gen.perSec), generatePerCpuSec: Math.round(gen.perCpuSec), loadAverage: Number(loadavg()[0].toFixed(2)) }));
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

await main();
