import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { readLabelPng } from '../../src/data/label-png.js';
import { generateSynthDataset } from '../../src/data/synth/generate.js';
import { DEFAULT_SYNTH_PARAMS, resolveSynthParams, synthClassNames, synthSampleId } from '../../src/data/synth/params.js';
import { markInk, SYNTH_PATTERNS } from '../../src/data/synth/patterns.js';
import { renderSynthSample } from '../../src/data/synth/render.js';
import { readVocSplit } from '../../src/data/voc.js';
import type { LabelsFile } from '../../src/data/types.js';

const tmp = mkdtempSync(join(tmpdir(), 'hfpl-synth-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function filesUnder(dir: string, base = dir): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) Object.assign(out, filesUnder(p, base));
    else out[p.slice(base.length + 1)] = readFileSync(p);
  }
  return out;
}

const luma = (d: Uint8Array, p: number) => 0.299 * d[3 * p] + 0.587 * d[3 * p + 1] + 0.114 * d[3 * p + 2];

describe('synthetic benchmark parameters', () => {
  it('defaults to 6 classes of 128 x 128 and names classes after their patterns', () => {
    const p = resolveSynthParams();
    expect(p).toEqual({ ...DEFAULT_SYNTH_PARAMS });
    expect([p.width, p.height, p.classes, p.objects]).toEqual([128, 128, 6, [1, 3]]);
    expect(synthClassNames(6)).toEqual(['background', 'stripes', 'checker', 'dots', 'cross', 'ring', 'triangle']);
    expect(synthSampleId('val', 42)).toBe('val_000042');
  });

  it('rejects bad options naming the option and value', () => {
    expect(() => resolveSynthParams({ classes: 11 })).toThrow(/synth option classes: 11 is invalid/);
    expect(() => resolveSynthParams({ radius: [0.4, 0.2] })).toThrow(/synth option radius: \[0.4,0.2\]/);
    expect(() => resolveSynthParams({ classes: 2, objects: [1, 3] })).toThrow(/synth option objects: \[1,3\] is invalid \(max objects exceeds the number of classes/);
    expect(resolveSynthParams({ classes: 2 }).objects).toEqual([1, 2]);
    expect(() => resolveSynthParams({ colour: 1 } as object)).toThrow(/synth option colour: unknown \(allowed: seed, width/);
  });
});

describe('class marks', () => {
  it('are mirror-symmetric (flip augmentation keeps the class) and pairwise distinct', () => {
    for (const size of [15, 16, 24]) {
      const masks = SYNTH_PATTERNS.map((_, k) => markInk(k + 1, size));
      for (const m of masks) {
        const ink = m.reduce((a, v) => a + v, 0) / m.length;
        expect(ink).toBeGreaterThan(0.15);
        expect(ink).toBeLessThan(0.75);
        for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) expect(m[y * size + x]).toBe(m[y * size + size - 1 - x]);
      }
      for (let a = 0; a < masks.length; a++) {
        for (let b = a + 1; b < masks.length; b++) {
          let diff = 0;
          for (let i = 0; i < masks[a].length; i++) diff += masks[a][i] !== masks[b][i] ? 1 : 0;
          expect(diff / masks[a].length).toBeGreaterThan(0.15);
        }
      }
    }
  });
});

describe('renderSynthSample', () => {
  const params = resolveSynthParams({ seed: 7 });

  it('is a pure function of (params, split, index)', () => {
    const a = renderSynthSample(params, 'train', 3), b = renderSynthSample(params, 'train', 3);
    expect(Buffer.from(a.image.data).equals(Buffer.from(b.image.data))).toBe(true);
    expect(Buffer.from(a.mask.data).equals(Buffer.from(b.mask.data))).toBe(true);
    const c = renderSynthSample(params, 'val', 3), d = renderSynthSample(resolveSynthParams({ seed: 8 }), 'train', 3);
    expect(Buffer.from(a.image.data).equals(Buffer.from(c.image.data))).toBe(false);
    expect(Buffer.from(a.image.data).equals(Buffer.from(d.image.data))).toBe(false);
  });

  it('has 1-3 classes whose visible marks and bodies match the labels', () => {
    const counts = [0, 0, 0, 0];
    const classSeen = new Set<number>();
    for (let i = 0; i < 80; i++) {
      const s = renderSynthSample(params, i % 2 ? 'val' : 'train', i);
      const W = s.image.width;
      counts[s.labels.length]++;
      expect(new Set(s.labels).size).toBe(s.labels.length);
      s.labels.forEach((c) => classSeen.add(c));
      // Labels are exactly the classes of the mask.
      const inMask = new Set(s.mask.data);
      inMask.delete(0);
      expect([...inMask].sort((a, b) => a - b)).toEqual(s.labels);
      for (const o of s.objects) {
        const { x, y, size } = o.mark;
        // The mark lies inside the visible body: every pixel of its square has the class.
        let inside = 0, inkL = 0, bodyL = 0, nInk = 0;
        const ink = markInk(o.cls, size);
        for (let v = 0; v < size; v++) {
          for (let u = 0; u < size; u++) {
            const p = (y + v) * W + x + u;
            if (s.mask.data[p] === o.cls) inside++;
            if (ink[v * size + u]) {
              inkL += luma(s.image.data, p);
              nInk++;
            } else bodyL += luma(s.image.data, p);
          }
        }
        expect(inside).toBe(size * size);
        // The mark is a small part of the body (5-15% of it, up to rounding) and stands out from it.
        expect(size * size / o.area).toBeGreaterThan(0.04);
        expect(size * size / o.area).toBeLessThanOrEqual(0.15);
        expect(Math.abs(inkL / nInk - bodyL / (size * size - nInk))).toBeGreaterThan(60);
        // At least half of the body is visible and the mask counts it.
        expect(o.visible).toBeGreaterThanOrEqual(o.area / 2);
        expect(s.mask.data.reduce((a, v) => a + (v === o.cls ? 1 : 0), 0)).toBe(o.visible);
      }
      // Bodies differ in colour from each other.
      for (let a = 0; a < s.objects.length; a++) {
        for (let b = a + 1; b < s.objects.length; b++) {
          const ca = s.objects[a].color, cb = s.objects[b].color;
          expect(Math.hypot(ca[0] - cb[0], ca[1] - cb[1], ca[2] - cb[2])).toBeGreaterThanOrEqual(90);
        }
      }
    }
    expect(counts[0]).toBe(0);
    for (const k of [1, 2, 3]) expect(counts[k]).toBeGreaterThan(10);
    expect([...classSeen].sort()).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('keeps marks visible after a 1/3 downscale (SEAM second view)', () => {
    // 3 x 3 box average, then the luminance range inside the mark's (shrunk) box.
    let minRange = Infinity;
    for (let i = 0; i < 40; i++) {
      const s = renderSynthSample(params, 'train', i);
      const W = s.image.width, w = Math.floor(W / 3);
      const small = new Float64Array(w * w);
      for (let y = 0; y < w; y++) {
        for (let x = 0; x < w; x++) {
          let sum = 0;
          for (let v = 0; v < 3; v++) for (let u = 0; u < 3; u++) sum += luma(s.image.data, (3 * y + v) * W + 3 * x + u);
          small[y * w + x] = sum / 9;
        }
      }
      for (const o of s.objects) {
        let lo = Infinity, hi = -Infinity;
        for (let y = Math.ceil(o.mark.y / 3); y < Math.floor((o.mark.y + o.mark.size) / 3); y++) {
          for (let x = Math.ceil(o.mark.x / 3); x < Math.floor((o.mark.x + o.mark.size) / 3); x++) {
            lo = Math.min(lo, small[y * w + x]);
            hi = Math.max(hi, small[y * w + x]);
          }
        }
        minRange = Math.min(minRange, hi - lo);
      }
    }
    expect(minRange).toBeGreaterThan(60);
  });

  it('renders non-square sizes', () => {
    const s = renderSynthSample(resolveSynthParams({ width: 200, height: 150 }), 'train', 1);
    expect([s.image.width, s.image.height, s.image.data.length, s.mask.data.length]).toEqual([200, 150, 90000, 30000]);
  });
});

describe('generateSynthDataset', () => {
  const params = { width: 64, height: 64, classes: 4, seed: 11 };
  const opts = { train: 6, val: 3, ...params };

  it('writes identical bytes twice with one seed, in the VOC layout', async () => {
    const a = join(tmp, 'a'), b = join(tmp, 'b');
    const ra = await generateSynthDataset({ out: a, ...opts });
    await generateSynthDataset({ out: b, ...opts, concurrency: 1 });
    expect([ra.written, ra.skipped]).toEqual([9, 0]);
    const fa = filesUnder(a), fb = filesUnder(b);
    expect(Object.keys(fa).sort()).toEqual(Object.keys(fb).sort());
    expect(Object.keys(fa).length).toBe(2 * 9 + 4);
    for (const k of Object.keys(fa)) expect(fa[k].equals(fb[k]), k).toBe(true);

    const train = readFileSync(join(a, 'ImageSets/Segmentation/train.txt'), 'utf8').trim().split('\n');
    expect(train).toEqual(Array.from({ length: 6 }, (_, i) => synthSampleId('train', i)));
    const labels = JSON.parse(readFileSync(join(a, 'labels.json'), 'utf8')) as LabelsFile;
    expect(labels.classes).toEqual(synthClassNames(4));
    expect(Object.keys(labels.labels)).toHaveLength(9);
    const manifest = JSON.parse(readFileSync(join(a, 'synth.json'), 'utf8'));
    expect(manifest.params).toEqual(resolveSynthParams(params));
    for (const [id, l] of Object.entries(labels.labels)) {
      const mask = readLabelPng(join(a, 'SegmentationClass', `${id}.png`));
      const present = [...new Set(mask.data)].filter((v) => v !== 0).sort((x, y) => x - y);
      expect(present).toEqual(l);
      const split = id.startsWith('train') ? 'train' : 'val';
      const s = renderSynthSample(resolveSynthParams(params), split, Number(id.split('_')[1]));
      expect(Buffer.from(mask.data).equals(Buffer.from(s.mask.data))).toBe(true);
      const meta = await sharp(join(a, 'JPEGImages', `${id}.jpg`)).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 64, 64]);
    }
    // The layout is what the VOC reader expects.
    const split = readVocSplit(a, 'val');
    expect(split.classNames).toEqual(synthClassNames(4));
    expect(split.samples.map((s) => [s.id, s.labels])).toEqual(['val_000000', 'val_000001', 'val_000002'].map((id) => [id, labels.labels[id]]));
  });

  it('resumes: skips complete samples, rewrites missing ones identically, refuses other parameters', async () => {
    const a = join(tmp, 'a');
    const jpg = join(a, 'JPEGImages', 'train_000002.jpg');
    const before = readFileSync(jpg);
    unlinkSync(jpg);
    const r = await generateSynthDataset({ out: a, ...opts });
    expect([r.written, r.skipped]).toEqual([1, 8]);
    expect(readFileSync(jpg).equals(before)).toBe(true);
    expect(statSync(jpg).size).toBeGreaterThan(0);
    await expect(generateSynthDataset({ out: a, ...opts, seed: 12 })).rejects.toThrow(/other parameters; use another --out or --force/);
  });
});
