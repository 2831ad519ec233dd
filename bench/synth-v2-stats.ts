/**
 * Benchmark v2 realism figures (issue 14 item 1, docs/benchmark-v2.md): for N generated images
 * of v2 (default parameters) and of v1, how well GT contours follow colour edges, how many
 * colour edges are not contours, body-only class evidence (nearest-centroid accuracy on simple
 * colour/texture statistics of object pixels outside the part), object sizes, counts and
 * occlusion; the same edge figures on the real COCO sample in shared/ (38 photos) as the
 * target; body accuracy against the `bodyCue` knob; generator speed at 320x240 and 500x375.
 * `--grid <png>` also writes a preview grid of 8 samples (image | GT). Last line: JSON.
 * Run: `npm run bench:synth-v2 [-- --grid samples.png]`; HFPL_BENCH_IMAGES sets N (default 200).
 */
import { existsSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { cocoSemanticMask, readCocoInstances } from '../src/data/coco.js';
import { cocoImagesDir } from '../src/data/coco-export.js';
import { encodeJpeg, readRgbImage } from '../src/data/image-io.js';
import { encodeLabelPng } from '../src/data/label-png.js';
import { resolveSynthParams } from '../src/data/synth/params.js';
import { renderSynthSample } from '../src/data/synth/render.js';
import { synthStats, v1StatsSample, v2StatsSample, type StatsSample, type SynthStats } from '../src/data/synth/stats.js';
import { resolveSynthV2Params } from '../src/data/synth/v2/params.js';
import { previewGrid } from '../src/data/synth/v2/preview.js';
import { renderSynthV2Sample } from '../src/data/synth/v2/render.js';

const N = Number(process.env.HFPL_BENCH_IMAGES ?? 200);
const SHARED = process.env.HFPL_SHARED ?? new URL('../../../shared', import.meta.url).pathname;

function row(name: string, s: SynthStats): string {
  const f = (v: number) => v.toFixed(3);
  return `${name.padEnd(22)} ${f(s.contourOnEdge).padStart(8)} ${f(s.edgeOffContour).padStart(8)} ${f(s.edgeInBackground).padStart(8)}   ${s.objects ? `${f(s.bodyAccuracy)} (${f(s.bodyChance)})` : '      -        '}   ${s.objects ? s.sizeQuantiles.map(f).join('/') : '-'}   ${s.objects ? `${f(s.occludedObjects)} (${f(s.meanHiddenWhenOccluded)})` : '-'}   ${s.objects ? f(s.partShare) : '-'}`;
}

async function cocoReference(): Promise<SynthStats | null> {
  const root = join(SHARED, 'data', 'coco-sample');
  if (!existsSync(root)) return null;
  const samples: StatsSample[] = [];
  for (const split of ['train2017', 'val2017']) {
    const inst = readCocoInstances(join(root, 'annotations', `instances_${split}.json`));
    const dir = cocoImagesDir(root, split);
    for (const im of inst.images) samples.push({ image: await readRgbImage(join(dir, im.fileName)), mask: cocoSemanticMask(inst, im), objects: [] });
  }
  return synthStats(samples, { classes: 80 });
}

async function speed(label: string, n: number, render: (i: number) => { image: { data: Uint8Array; width: number; height: number }; mask: { data: Uint8Array; width: number; height: number } }, quality: number) {
  for (let i = 0; i < 5; i++) render(10_000 + i);
  const c0 = process.cpuUsage(), t0 = performance.now();
  for (let i = 0; i < n; i++) render(i);
  const r1 = performance.now(), cu1 = process.cpuUsage(c0);
  for (let i = 0; i < n; i++) {
    const s = render(i);
    encodeLabelPng(s.mask);
    await encodeJpeg(s.image, quality);
  }
  const wall = (performance.now() - r1) / 1000, cu = process.cpuUsage(c0), cpu = (cu.user + cu.system - cu1.user - cu1.system) / 1e6;
  const r = { renderPerCpuSec: n / ((cu1.user + cu1.system) / 1e6), renderPerSec: n / ((r1 - t0) / 1000), encodePerSec: n / wall, encodePerCpuSec: n / cpu };
  console.log(`${label.padEnd(22)} render ${r.renderPerSec.toFixed(0).padStart(5)} img/s (${r.renderPerCpuSec.toFixed(0)} img/CPU-s)   + PNG + JPEG ${r.encodePerSec.toFixed(0).padStart(5)} img/s (${r.encodePerCpuSec.toFixed(0)} img/CPU-s)`);
  return r;
}

async function main(): Promise<void> {
  const gi = process.argv.indexOf('--grid');
  const p2 = resolveSynthV2Params(), p1 = resolveSynthParams();
  console.log(`benchmark v2 realism figures: ${N} images each (train split, seed 0); load average ${loadavg()[0].toFixed(2)}`);
  console.log(`${'set'.padEnd(22)} contour  edge-off  edge-bg   body acc (chance)   size q10/q50/q90    occluded (hidden)   part`);
  const v2 = synthStats(Array.from({ length: N }, (_, i) => v2StatsSample(renderSynthV2Sample(p2, 'train', i))), { classes: p2.classes });
  console.log(row(`v2 ${p2.width}x${p2.height}`, v2));
  const v1 = synthStats(Array.from({ length: N }, (_, i) => v1StatsSample(renderSynthSample(p1, 'train', i))), { classes: p1.classes });
  console.log(row(`v1 ${p1.width}x${p1.height}`, v1));
  const coco = await cocoReference();
  if (coco) console.log(row(`COCO sample (${coco.images} photos)`, coco));
  console.log(`v2 object counts 1/2/3: ${v2.objectCounts.join('/')}; body feature separation (between/within variance): ${Object.entries(v2.featureSeparation).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  const cue: Record<string, number> = {};
  for (const bodyCue of [0, 0.35, 0.7, 1]) {
    const p = resolveSynthV2Params({ bodyCue });
    cue[bodyCue] = synthStats(Array.from({ length: Math.min(N, 150) }, (_, i) => v2StatsSample(renderSynthV2Sample(p, 'val', i))), { classes: p.classes }).bodyAccuracy;
  }
  console.log(`v2 body-only accuracy vs bodyCue: ${Object.entries(cue).map(([k, v]) => `${k}: ${v}`).join(', ')}`);
  const n = Math.max(10, Math.round(N / 4));
  const s320 = await speed('v2 320x240', n, (i) => renderSynthV2Sample(p2, 'train', i), p2.jpegQuality);
  const pv = resolveSynthV2Params({ width: 500, height: 375 });
  const s500 = await speed('v2 500x375', n, (i) => renderSynthV2Sample(pv, 'train', i), pv.jpegQuality);
  const s128 = await speed('v1 128x128', 4 * n, (i) => renderSynthSample(p1, 'train', i), p1.jpegQuality);
  if (gi >= 0 && process.argv[gi + 1]) {
    const g = previewGrid(Array.from({ length: 8 }, (_, i) => renderSynthV2Sample(p2, 'train', i)), 2);
    writeFileSync(process.argv[gi + 1], await sharp(Buffer.from(g.data), { raw: { width: g.width, height: g.height, channels: 3 } }).png().toBuffer());
    console.log(`preview grid: ${process.argv[gi + 1]}`);
  }
  const pick = (s: SynthStats) => ({ contourOnEdge: s.contourOnEdge, edgeOffContour: s.edgeOffContour, edgeInBackground: s.edgeInBackground, bodyAccuracy: s.bodyAccuracy, bodyChance: s.bodyChance, sizeQuantiles: s.sizeQuantiles, occludedObjects: s.occludedObjects, partShare: s.partShare });
  const rate = (r: { encodePerSec: number; encodePerCpuSec: number }) => ({ perSec: Math.round(r.encodePerSec), perCpuSec: Math.round(r.encodePerCpuSec) });
  console.log(JSON.stringify({ bench: 'synth-v2', images: N, v2: pick(v2), v1: pick(v1), coco: coco && { contourOnEdge: coco.contourOnEdge, edgeOffContour: coco.edgeOffContour, edgeInBackground: coco.edgeInBackground }, bodyCue: cue, speed: { v2_320x240: rate(s320), v2_500x375: rate(s500), v1_128: rate(s128) }, loadAverage: Number(loadavg()[0].toFixed(2)) }));
}

await main();
