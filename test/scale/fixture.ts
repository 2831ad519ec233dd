/**
 * A tiny data set for the scale tests: `hfpl synth` images and masks, and CAM files derived from
 * the masks (a 5 x 5 box blur of each present class's indicator), so `hfpl crf` and `hfpl eval`
 * have real inputs in a second.
 */
import { execSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateSynthDataset } from '../../src/data/synth/generate.js';
import { readLabelPng } from '../../src/data/label-png.js';
import { writeCamFile } from '../../src/eval/cam-files.js';

/** Builds dist/ when stale: worker threads and `hfpl worker` processes run the compiled code. */
export function ensureBuilt(): void {
  execSync('node scripts/setup.mjs', { cwd: new URL('../..', import.meta.url).pathname, stdio: 'ignore' });
}

/** The compiled CLI. */
export const CLI = new URL('../../dist/src/cli/main.js', import.meta.url).pathname;

/** Writes a synth set of `n` train images (size x size) with CAM files in `<dir>/cams`; returns the ids. */
export async function tinySet(dir: string, n: number, size = 48): Promise<string[]> {
  await generateSynthDataset({ out: dir, train: n, val: 0, width: size, height: size, classes: 3, seed: 3 });
  const labels = JSON.parse(readFileSync(join(dir, 'labels.json'), 'utf8')) as { labels: Record<string, number[]> };
  const ids = Object.keys(labels.labels);
  for (const id of ids) {
    const mask = readLabelPng(join(dir, 'SegmentationClass', `${id}.png`));
    const { width: W, height: H } = mask;
    const present = labels.labels[id];
    const cams = new Float32Array(present.length * W * H);
    present.forEach((c, k) => {
      let max = 0;
      for (let y = 0; y < H; y++) {
        for (let x = 0; x < W; x++) {
          let s = 0;
          for (let dy = -2; dy <= 2; dy++) for (let dx = -2; dx <= 2; dx++) {
            const yy = Math.min(H - 1, Math.max(0, y + dy)), xx = Math.min(W - 1, Math.max(0, x + dx));
            if (mask.data[yy * W + xx] === c) s++;
          }
          cams[k * W * H + y * W + x] = s / 25;
          max = Math.max(max, s / 25);
        }
      }
      for (let i = 0; i < W * H; i++) cams[k * W * H + i] /= max || 1;
    });
    await writeCamFile(join(dir, 'cams'), id, cams, present, H, W);
  }
  return ids;
}

/** Every file under `dir` (relative paths, sorted) with its bytes. */
export function tree(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string, rel: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (e.isDirectory()) walk(join(d, e.name), join(rel, e.name));
      else out.set(join(rel, e.name), readFileSync(join(d, e.name)));
    }
  };
  walk(dir, '');
  return out;
}
