import { describe, expect, it } from 'vitest';
import { ContourAccumulator, contourCounts, contourFFromCounts, contourTolerance } from '../../src/eval/contour-f.js';
import type { LabelMap } from '../../src/data/label-png.js';
import { Rng } from '../../src/engine/random.js';

/** METHOD 4 written out literally: boundary maps, disk dilation by stamping, counts. */
function naiveCounts(pred: LabelMap, gt: LabelMap, K: number, boundTh = 0.008) {
  const { width: W, height: H } = pred;
  const r = Math.ceil(boundTh * Math.sqrt(W * W + H * H));
  const bmap = (m: Uint8Array): Uint8Array => {
    const b = new Uint8Array(W * H);
    const at = (x: number, y: number) => (x < W && y < H ? m[y * W + x] : 0);
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
      const v = m[y * W + x];
      if (y === H - 1 && x === W - 1) b[y * W + x] = 0;
      else if (y === H - 1) b[y * W + x] = v ^ at(x + 1, y);
      else if (x === W - 1) b[y * W + x] = v ^ at(x, y + 1);
      else b[y * W + x] = (v ^ at(x + 1, y)) | (v ^ at(x, y + 1)) | (v ^ at(x + 1, y + 1));
    }
    return b;
  };
  const dilate = (b: Uint8Array): Uint8Array => {
    const d = new Uint8Array(W * H);
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
      if (!b[y * W + x]) continue;
      for (let dy = -r; dy <= r; dy++) for (let dx = -r; dx <= r; dx++) {
        const xx = x + dx, yy = y + dy;
        if (dx * dx + dy * dy <= r * r && xx >= 0 && yy >= 0 && xx < W && yy < H) d[yy * W + xx] = 1;
      }
    }
    return d;
  };
  const out = { matchedPred: [0], matchedGt: [0], nPred: [0], nGt: [0] };
  for (let c = 1; c < K; c++) {
    const mp = pred.data.map((v) => (v === c ? 1 : 0));
    const mg = gt.data.map((v) => (v === c ? 1 : 0)); // 255 != c: background
    const bp = bmap(mp), bg = bmap(mg), dp = dilate(bp), dg = dilate(bg);
    let a = 0, b = 0, np = 0, ng = 0;
    for (let i = 0; i < W * H; i++) {
      a += bp[i] & dg[i];
      b += bg[i] & dp[i];
      np += bp[i];
      ng += bg[i];
    }
    out.matchedPred.push(a);
    out.matchedGt.push(b);
    out.nPred.push(np);
    out.nGt.push(ng);
  }
  return out;
}

/** Piecewise-constant random map: a few rectangles and disks over background, some void. */
function randomMap(rng: Rng, W: number, H: number, K: number, voidToo: boolean): LabelMap {
  const data = new Uint8Array(W * H);
  const shapes = 1 + Math.floor(rng.next() * 5);
  for (let s = 0; s < shapes; s++) {
    const c = 1 + Math.floor(rng.next() * (K - 1));
    const cx = rng.next() * W, cy = rng.next() * H, rx = 1 + rng.next() * W * 0.4, ry = 1 + rng.next() * H * 0.4;
    const disk = rng.next() < 0.5;
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
      const u = (x - cx) / rx, v = (y - cy) / ry;
      if (disk ? u * u + v * v <= 1 : Math.abs(u) <= 1 && Math.abs(v) <= 1) data[y * W + x] = c;
    }
  }
  if (voidToo) for (let i = 0; i < data.length; i++) if (rng.next() < 0.02) data[i] = 255;
  return { data, width: W, height: H };
}

describe('contour counts', () => {
  it('tolerance r = ceil(0.008 * diagonal): 5 px for 500 x 375, 4 px for 320 x 240', () => {
    expect(contourTolerance(0.008, 375, 500)).toBe(5);
    expect(contourTolerance(0.008, 240, 320)).toBe(4);
    expect(contourTolerance(3, 10, 10)).toBe(3);
  });

  it('equals a literal per-class dilation on random maps, edge sizes included', () => {
    const rng = new Rng(11);
    const K = 6;
    const sizes: [number, number][] = [[1, 1], [1, 9], [9, 1], [2, 2], [37, 23], [64, 48], [130, 90], [150, 149]];
    for (const [W, H] of sizes) {
      for (let rep = 0; rep < 3; rep++) {
        const pred = randomMap(rng, W, H, K, false);
        const gt = randomMap(rng, W, H, K, rep > 0);
        const got = contourCounts(pred, gt, { numClasses: K, boundTh: rep === 2 ? 0.03 : 0.008 });
        const want = naiveCounts(pred, gt, K, rep === 2 ? 0.03 : 0.008);
        expect(Array.from(got.matchedPred)).toEqual(want.matchedPred);
        expect(Array.from(got.matchedGt)).toEqual(want.matchedGt);
        expect(Array.from(got.nPred)).toEqual(want.nPred);
        expect(Array.from(got.nGt)).toEqual(want.nGt);
      }
    }
  });

  it('sums over images per class before taking F (not a mean of per-image F)', () => {
    const rng = new Rng(5);
    const acc = new ContourAccumulator({ numClasses: 4 });
    const sum = { matchedPred: [0, 0, 0, 0], matchedGt: [0, 0, 0, 0], nPred: [0, 0, 0, 0], nGt: [0, 0, 0, 0] };
    for (let i = 0; i < 4; i++) {
      const pred = randomMap(rng, 60, 40, 4, false), gt = randomMap(rng, 60, 40, 4, true);
      acc.add(pred, gt);
      const n = naiveCounts(pred, gt, 4);
      for (const k of ['matchedPred', 'matchedGt', 'nPred', 'nGt'] as const) n[k].forEach((v, c) => (sum[k][c] += v));
    }
    const want = contourFFromCounts({
      matchedPred: Float64Array.from(sum.matchedPred), matchedGt: Float64Array.from(sum.matchedGt),
      nPred: Float64Array.from(sum.nPred), nGt: Float64Array.from(sum.nGt),
    });
    expect(acc.result()).toEqual(want);
  });

  it('scores a class with boundary in one map only 0, in neither 1', () => {
    const W = 20, H = 10;
    const gt: LabelMap = { data: new Uint8Array(W * H), width: W, height: H };
    const pred: LabelMap = { data: new Uint8Array(W * H), width: W, height: H };
    pred.data[5 * W + 5] = 1; // class 1 only in the prediction
    const f = new ContourAccumulator({ numClasses: 3 });
    f.add(pred, gt);
    expect(f.result()).toEqual({ contourFPerClass: [0, 1], contourF: 0.5 });
  });

  it('treats GT void as background: a void region next to background is no boundary', () => {
    const W = 8, H = 8;
    const gt: LabelMap = { data: new Uint8Array(W * H).map((_, i) => (i % W < 4 ? 0 : 255)), width: W, height: H };
    const c = contourCounts(gt, gt, { numClasses: 2 });
    expect(Array.from(c.nGt)).toEqual([0, 0]);
  });
});
