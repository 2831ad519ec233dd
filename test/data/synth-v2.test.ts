import { mkdtempSync, readFileSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readLabelPng } from '../../src/data/label-png.js';
import { generateSynthDataset } from '../../src/data/synth/generate.js';
import { resolveSynthParams } from '../../src/data/synth/params.js';
import { renderSynthSample } from '../../src/data/synth/render.js';
import { colourEdges, maskContours, synthStats, v1StatsSample, v2StatsSample, type SynthStats } from '../../src/data/synth/stats.js';
import { DEFAULT_SYNTH_V2_PARAMS, resolveSynthV2Params, synthV2ClassNames } from '../../src/data/synth/v2/params.js';
import { renderSynthV2Sample } from '../../src/data/synth/v2/render.js';
import { SPECIES } from '../../src/data/synth/v2/species.js';
import { textureInk } from '../../src/data/synth/v2/texture.js';
import { readVocSplit } from '../../src/data/voc.js';
import type { LabelsFile } from '../../src/data/types.js';

const tmp = mkdtempSync(join(tmpdir(), 'hfpl-synth-v2-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('benchmark v2 parameters', () => {
  it('defaults to 6 classes of 320 x 240 named after their species', () => {
    const p = resolveSynthV2Params();
    expect(p).toEqual({ ...DEFAULT_SYNTH_V2_PARAMS });
    expect([p.width, p.height, p.classes, p.objects, p.bodyCue]).toEqual([320, 240, 6, [1, 3], 0.7]);
    expect(synthV2ClassNames(6)).toEqual(['background', 'banded', 'spotted', 'mottled', 'ringed', 'streaked', 'speckled']);
    expect(new Set(SPECIES.map((s) => s.name)).size).toBe(SPECIES.length);
  });

  it('textures are mirror-symmetric about the major axis (flip augmentation keeps the class statistics)', () => {
    for (const sp of SPECIES) {
      const t = { kind: sp.texture, period: sp.period[0], phase: 0.3, seed: 77 };
      let ink = 0;
      for (let i = 0; i < 400; i++) {
        const u = ((i % 20) - 10) / 8, v = (Math.floor(i / 20) - 10) / 8;
        expect(textureInk(t, u, v)).toBe(textureInk(t, u, -v));
        ink += textureInk(t, u, v) / 400;
      }
      // Each texture inks a real share of the body, never all of it.
      expect(ink, sp.name).toBeGreaterThan(0.05);
      expect(ink, sp.name).toBeLessThan(0.8);
    }
  });

  it('rejects bad options naming the option and value', () => {
    expect(() => resolveSynthV2Params({ classes: 11 })).toThrow(/synth v2 option classes: 11 is invalid/);
    expect(() => resolveSynthV2Params({ bodyCue: 2 })).toThrow(/synth v2 option bodyCue: 2 is invalid/);
    expect(() => resolveSynthV2Params({ classes: 2, objects: [1, 3] })).toThrow(/max objects exceeds the number of classes/);
    expect(resolveSynthV2Params({ classes: 2 }).objects).toEqual([1, 2]);
    expect(() => resolveSynthV2Params({ markFraction: [0.1, 0.2] } as object)).toThrow(/synth v2 option markFraction: unknown \(allowed: seed, width/);
  });
});

describe('renderSynthV2Sample', () => {
  const params = resolveSynthV2Params({ seed: 5 });

  it('is a pure function of (params, split, index)', () => {
    const a = renderSynthV2Sample(params, 'train', 4), b = renderSynthV2Sample(params, 'train', 4);
    expect(Buffer.from(a.image.data).equals(Buffer.from(b.image.data))).toBe(true);
    expect(Buffer.from(a.mask.data).equals(Buffer.from(b.mask.data))).toBe(true);
    expect(Buffer.from(a.image.data).equals(Buffer.from(renderSynthV2Sample(params, 'val', 4).image.data))).toBe(false);
    expect(Buffer.from(a.image.data).equals(Buffer.from(renderSynthV2Sample(resolveSynthV2Params({ seed: 6 }), 'train', 4).image.data))).toBe(false);
  });

  it('labels its classes, keeps every part fully visible and at least 40% of every body', () => {
    const counts = [0, 0, 0, 0], seen = new Set<number>();
    for (let i = 0; i < 40; i++) {
      const s = renderSynthV2Sample(params, 'train', i), W = s.image.width, m = s.mask.data;
      counts[s.labels.length]++;
      s.labels.forEach((c) => seen.add(c));
      const inMask = new Set(m);
      inMask.delete(0);
      expect([...inMask].sort((a, b) => a - b)).toEqual(s.labels);
      for (const o of s.objects) {
        let disc = 0, inside = 0;
        for (let y = Math.floor(o.part.cy - o.part.r); y <= Math.ceil(o.part.cy + o.part.r); y++) {
          for (let x = Math.floor(o.part.cx - o.part.r); x <= Math.ceil(o.part.cx + o.part.r); x++) {
            if ((x + 0.5 - o.part.cx) ** 2 + (y + 0.5 - o.part.cy) ** 2 > o.part.r ** 2) continue;
            disc++;
            if (m[y * W + x] === o.cls) inside++;
          }
        }
        expect(inside).toBe(disc);
        // The part is one small piece of the body (at most 30% of it, by construction).
        expect(disc / o.area).toBeLessThanOrEqual(0.31);
        expect(o.visible).toBeGreaterThanOrEqual(0.4 * o.area);
        expect(m.reduce((a, v) => a + (v === o.cls ? 1 : 0), 0)).toBe(o.visible);
      }
    }
    expect(counts[0]).toBe(0);
    for (const k of [1, 2, 3]) expect(counts[k]).toBeGreaterThan(6);
    expect([...seen].sort()).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('renders other sizes', () => {
    const s = renderSynthV2Sample(resolveSynthV2Params({ width: 500, height: 375 }), 'val', 2);
    expect([s.image.width, s.image.height, s.image.data.length, s.mask.data.length]).toEqual([500, 375, 562500, 187500]);
  });
});

describe('realism statistics', () => {
  it('edge and contour maps on a hand-made case', () => {
    // A 6 x 6 image: left half black, right half white; the mask labels the right half 1.
    const W = 6, data = new Uint8Array(W * W * 3), mask = new Uint8Array(W * W);
    for (let y = 0; y < W; y++) {
      for (let x = 3; x < W; x++) {
        data.fill(255, 3 * (y * W + x), 3 * (y * W + x) + 3);
        mask[y * W + x] = 1;
      }
    }
    const { edges } = colourEdges({ data, width: W, height: W }, 24);
    const cont = maskContours({ data: mask, width: W, height: W });
    // Step of 255 (per channel): the Sobel/4 magnitude is 255 * sqrt(3) at columns 2 and 3, 0 elsewhere (borders excluded).
    expect(Array.from(edges.subarray(W, 2 * W))).toEqual([0, 0, 1, 1, 0, 0]);
    expect(Array.from(cont.subarray(0, W))).toEqual([0, 0, 1, 1, 0, 0]);
  });

  // 60 images of each benchmark at its default size: figures of docs/benchmark-v2.md (with margins).
  let v1: SynthStats, v2: SynthStats;
  beforeAll(() => {
    v2 = synthStats(Array.from({ length: 60 }, (_, i) => v2StatsSample(renderSynthV2Sample(resolveSynthV2Params(), 'train', i))), { classes: 6 });
    v1 = synthStats(Array.from({ length: 60 }, (_, i) => v1StatsSample(renderSynthSample(resolveSynthParams(), 'train', i))), { classes: 6 });
  });

  it('v2 contours follow colour edges mostly, not always; many colour edges are not contours', () => {
    expect(v2.contourOnEdge).toBe(0.953);
    expect(v2.contourOnEdge).toBeGreaterThan(0.85);
    expect(v2.contourOnEdge).toBeLessThan(0.99);
    expect(v1.contourOnEdge).toBeGreaterThanOrEqual(0.995);
    expect(v2.edgeOffContour).toBeGreaterThan(0.7);
    expect(v2.edgeOffContour - v1.edgeOffContour).toBeGreaterThan(0.3);
    expect(v2.edgeInBackground).toBeGreaterThan(0.3);
  });

  it('v2 bodies carry class evidence outside the part; v1 bodies do not', () => {
    expect(v2.bodyAccuracy).toBeGreaterThan(0.55);
    expect(v2.bodyAccuracy).toBeLessThan(0.95);
    expect(v2.bodyAccuracy).toBeGreaterThan(2 * v2.bodyChance);
    expect(v1.bodyAccuracy).toBeLessThan(v1.bodyChance + 0.1);
    // Texture orientation coherence differs between classes far more than within them.
    expect(v2.featureSeparation.coherence).toBeGreaterThan(5);
    expect(v1.featureSeparation.coherence).toBeLessThan(0.2);
  });

  it('v2 objects vary in size, 1-3 per image, a third occluded, parts small', () => {
    const [q10, q50, q90] = v2.sizeQuantiles;
    expect(q90 / q10).toBeGreaterThan(4);
    expect(q50).toBeGreaterThan(0.04);
    expect(q50).toBeLessThan(0.2);
    for (const f of v2.objectCounts) expect(f).toBeGreaterThan(0.2);
    expect(v2.occludedObjects).toBeGreaterThan(0.2);
    expect(v2.occludedObjects).toBeLessThan(0.6);
    expect(v2.partShare).toBeGreaterThan(0.05);
    expect(v2.partShare).toBeLessThan(0.2);
  });
});

describe('generateSynthDataset --bench v2', () => {
  const opts = { bench: 'v2' as const, train: 4, val: 2, width: 160, height: 120, classes: 4, seed: 3 };

  it('writes the VOC layout with species class names and resumes', async () => {
    const out = join(tmp, 'v2');
    const r = await generateSynthDataset({ out, ...opts });
    expect([r.bench, r.written, r.skipped]).toEqual(['v2', 6, 0]);
    const manifest = JSON.parse(readFileSync(join(out, 'synth.json'), 'utf8'));
    expect(manifest).toEqual({ generator: 'hfpl synth', version: 1, bench: 'v2', params: resolveSynthV2Params({ width: 160, height: 120, classes: 4, seed: 3 }), train: 4, val: 2 });
    const labels = JSON.parse(readFileSync(join(out, 'labels.json'), 'utf8')) as LabelsFile;
    expect(labels.classes).toEqual(['background', 'banded', 'spotted', 'mottled', 'ringed']);
    for (const [id, l] of Object.entries(labels.labels)) {
      const mask = readLabelPng(join(out, 'SegmentationClass', `${id}.png`));
      const s = renderSynthV2Sample(r.params as ReturnType<typeof resolveSynthV2Params>, id.startsWith('train') ? 'train' : 'val', Number(id.split('_')[1]));
      expect(Buffer.from(mask.data).equals(Buffer.from(s.mask.data))).toBe(true);
      expect(s.labels).toEqual(l);
    }
    expect(readVocSplit(out, 'val').samples.map((s) => s.id)).toEqual(['val_000000', 'val_000001']);
    const jpg = join(out, 'JPEGImages', 'train_000001.jpg'), before = readFileSync(jpg);
    unlinkSync(jpg);
    const again = await generateSynthDataset({ out, ...opts });
    expect([again.written, again.skipped]).toEqual([1, 5]);
    expect(readFileSync(jpg).equals(before)).toBe(true);
    // A v1 run into a v2 folder is refused.
    await expect(generateSynthDataset({ out, train: 4, val: 2, classes: 4, seed: 3 })).rejects.toThrow(/other parameters; use another --out or --force/);
  });
});
