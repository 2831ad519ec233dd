import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../../src/engine/init.js';
import { addAffinityPairStats, addTargetCoverage, emptyCoverage, emptyPairStats, formatAffinityDiagnostics, meanPairAffinity, oracleFeatures } from '../../src/infer/affinity-diagnostics.js';
import { walkCamLabels } from '../../src/infer/infer-aff.js';
import { affinityTransition } from '../../src/infer/random-walk.js';

describe('addAffinityPairStats', () => {
  it('splits W = exp(-beta mean |f_i - f_j|) by the GT kinds of the pairs (hand-derived, radius 2)', () => {
    // 2 x 2 grid, labels [0 0; 1 1], 1-d features [0 0.25; 1 1], beta 2.
    // Radius-2 offsets: (0,1), (1,-1), (1,0), (1,1).
    // (0,1): cells 0-1 background |0.25| -> e^-0.5; cells 2-3 object 0 -> 1.
    // (1,-1): 1-2 boundary 0.75 -> e^-1.5. (1,0): 0-2 boundary 1 -> e^-2, 1-3 boundary 0.75 -> e^-1.5.
    // (1,1): 0-3 boundary 1 -> e^-2.
    const s = addAffinityPairStats(emptyPairStats(), new Float32Array([0, 0.25, 1, 1]), 1, { data: new Uint8Array([0, 0, 1, 1]), width: 2, height: 2 }, 2, 2);
    expect(s.background.pairs).toBe(1);
    expect(s.background.sum).toBeCloseTo(Math.exp(-0.5), 6);
    expect(s.object).toEqual({ sum: 1, pairs: 1 });
    expect(s.boundary.pairs).toBe(4);
    expect(s.boundary.sum).toBeCloseTo(2 * Math.exp(-1.5) + 2 * Math.exp(-2), 6);
    expect(s.between).toEqual({ sum: 0, pairs: 0 });
    const m = meanPairAffinity(s);
    expect(m.boundary).toBeCloseTo((2 * Math.exp(-1.5) + 2 * Math.exp(-2)) / 4, 6);
    expect(Number.isNaN(m.between)).toBe(true);
  });

  it('pairs touching an ignored cell are left out; two object classes are "between"', () => {
    const s = addAffinityPairStats(emptyPairStats(), new Float32Array(3), 1, { data: new Uint8Array([1, 2, 255]), width: 3, height: 1 }, 3, 8);
    // Offsets of radius 3 on a 1 x 3 row: (0,1), (0,2): pairs 0-1 (between), 1-2 and 0-2 (ignored).
    expect(s.between).toEqual({ sum: 1, pairs: 1 });
    expect(s.object.pairs + s.background.pairs + s.boundary.pairs).toBe(0);
  });
});

describe('oracle walk', () => {
  beforeAll(async () => {
    await initEngine();
  });

  // 32 x 32 image, 4 x 4 grid; GT: class 3 in the left half (grid columns 0-1), background right.
  // CAM of class 3: 0.6 in the top-left cell, 0.3 in the rest of the left half, 0 on the right.
  const W = 32, H = 32;
  const cams = new Float32Array(W * H);
  for (let y = 0; y < H; y++) for (let x = 0; x < 16; x++) cams[y * W + x] = x < 8 && y < 8 ? 0.6 : 0.3;
  const cam = { id: 'x', labels: [3], width: W, height: H, cams };
  const grid = { data: new Uint8Array(16).map((_, i) => (i % 4 < 2 ? 3 : 0)), width: 4, height: 4 };
  const centre = (m: { data: Uint8Array }, gx: number, gy: number) => m.data[(8 * gy + 4) * W + 8 * gx + 4];

  it('on GT affinities the class fills its object and stops at its edge', () => {
    const o = oracleFeatures(grid);
    expect(o.dim).toBe(2);
    const t = affinityTransition(o.features, 4, 4, o.dim);
    // Only equal-label pairs survive: 8 cells per side, fully connected within radius 5.
    for (let j = 0; j < 16; j++) expect(t.indptr[j + 1] - t.indptr[j]).toBe(8);
    const m = walkCamLabels(t, cam);
    for (let gy = 0; gy < 4; gy++) for (let gx = 0; gx < 4; gx++) expect(centre(m, gx, gy), `cell ${gx},${gy}`).toBe(gx < 2 ? 3 : 0);
  });

  it('on a graph without edges (W = 1 everywhere) the object is averaged away into background', () => {
    const o = oracleFeatures({ data: new Uint8Array(16), width: 4, height: 4 });
    const m = walkCamLabels(affinityTransition(o.features, 4, 4, o.dim), cam);
    // Mean class score (0.6 + 7 * 0.3) / 16 = 0.17 < mean background (0.4^6 + 7 * 0.7^6 + 8) / 16 = 0.55.
    expect(m.data.every((v) => v === 0)).toBe(true);
  });

  it('a grid that does not fit the image is an error', () => {
    const o = oracleFeatures(grid);
    expect(() => walkCamLabels(affinityTransition(o.features, 4, 4, o.dim), { ...cam, width: 48, cams: new Float32Array(48 * 32) })).toThrow(/a 4 x 4 grid does not fit a 48x32 image/);
  });
});

describe('addTargetCoverage', () => {
  it('counts GT object pixels as right / wrong / ignored / background and GT background as background / ignored / object', () => {
    const gt = { data: new Uint8Array([0, 0, 0, 1, 1, 1, 1, 2, 255]), width: 9, height: 1 };
    const tg = { data: new Uint8Array([0, 255, 2, 1, 255, 0, 2, 2, 1]), width: 9, height: 1 };
    const c = addTargetCoverage(emptyCoverage(), tg, gt);
    expect(c).toEqual({ object: { right: 2, wrong: 1, ignored: 1, background: 1 }, background: { background: 1, ignored: 1, object: 1 } });
    expect(() => addTargetCoverage(emptyCoverage(), { ...tg, width: 3, height: 3 }, gt)).toThrow(/labels are 3x3, GT 9x1/);
  });

  it('formats one line with the figures', () => {
    const line = formatAffinityDiagnostics({
      numImages: 2, beta: 8, radius: 5,
      meanAffinity: { background: 0.32, object: 0.084, boundary: 0.04, between: Number.NaN },
      pairs: { background: 10, object: 5, boundary: 3, between: 0 },
      oracleWalk: { miou: 0.576, contourF: 0.445 },
      targets: { object: { right: 0.139, wrong: 0.01, ignored: 0.674, background: 0.177 }, background: { background: 0.87, ignored: 0.125, object: 0.005 } },
    });
    expect(line).toBe('AffinityNet W = a^8 on GT pairs: inside objects 0.084, background 0.320, across object boundaries 0.040, between objects -; ' +
      'walk with GT affinities: mIoU 57.6, contour F 44.5; confident targets on GT object pixels: 13.9% right class, 67.4% ignored, 17.7% background, 1.0% other class');
  });
});
