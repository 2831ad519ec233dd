import { describe, expect, it } from 'vitest';
import { confidentLabels, countPairs, extractPairLabels, pairOffsets, pairWindow, resizeLabelsNearest } from '../../src/infer/aff-labels.js';

const map = (w: number, h: number, data: number[]) => ({ width: w, height: h, data: Uint8Array.from(data) });

describe('pair offsets and window', () => {
  it('radius 5 gives the reference 34 half-disk offsets, none with dy < 0 or (dy = 0, dx <= 0)', () => {
    const offs = pairOffsets(5);
    expect(offs.length).toBe(34);
    expect(offs.slice(0, 5)).toEqual([[0, 1], [0, 2], [0, 3], [0, 4], [1, -4]]);
    expect(offs.every(([dy, dx]) => dy * dy + dx * dx < 25 && (dy > 0 || dx > 0))).toBe(true);
    expect(pairOffsets(2)).toEqual([[0, 1], [1, -1], [1, 0], [1, 1]]);
  });

  it('window of a 56 x 56 grid (448 crop) is 52 x 48; too small grids are refused', () => {
    expect(pairWindow(56, 56, 5)).toEqual({ height: 52, width: 48 });
    expect(() => pairWindow(8, 8, 5)).toThrow(/8 x 8 grid is too small for pair radius 5/);
    expect(() => pairOffsets(1)).toThrow(/radius must be an integer >= 2/);
  });
});

describe('confidentLabels', () => {
  it('alpha-1 foreground, alpha-24 background (wins), the rest 255', () => {
    const low = map(4, 1, [0, 1, 2, 0]);
    const high = map(4, 1, [0, 0, 2, 3]);
    expect([...confidentLabels(low, high).data]).toEqual([0, 0, 2, 255]);
  });
  it('maps of different sizes are an E_DATA error naming both', () => {
    expect(() => confidentLabels(map(2, 1, [0, 0]), map(1, 2, [0, 0]), { low: 'a.png', high: 'b.png' })).toThrow(/b\.png is 1x2, a\.png is 2x1/);
  });
});

describe('resizeLabelsNearest', () => {
  it('samples pixel centres: 16 -> 2 takes columns/rows 4 and 12', () => {
    const data = Array.from({ length: 256 }, (_, i) => (i % 16) + 16 * Math.floor(i / 16)) .map((v) => v % 256);
    const r = resizeLabelsNearest(map(16, 16, data), 2, 2);
    expect([...r.data]).toEqual([4 * 16 + 4, 4 * 16 + 12, 12 * 16 + 4, 12 * 16 + 12]);
  });
});

describe('extractPairLabels', () => {
  it('hand-built 3 x 4 grid, radius 2: 2 bg, 4 fg, 9 neg pairs, 1 ignored', () => {
    // 0 0 1 1 / 0 0 1 1 / 255 2 2 2; window = rows 0-1, columns 1-2; offsets (0,1) (1,-1) (1,0) (1,1).
    const grid = map(4, 3, [0, 0, 1, 1, 0, 0, 1, 1, 255, 2, 2, 2]);
    const p = extractPairLabels(grid, 2);
    expect([p.numOffsets, p.numPixels]).toEqual([4, 4]);
    expect(countPairs(p)).toEqual({ bg: 2, fg: 4, neg: 9 });
    // Offset (1, 0): (0,1)=0 -> (1,1)=0 bg, (0,2)=1 -> (1,2)=1 fg, (1,1)=0 -> (2,1)=2 and (1,2)=1 -> (2,2)=2 neg.
    expect([...p.bg.subarray(2 * 4, 3 * 4)]).toEqual([1, 0, 0, 0]);
    expect([...p.fg.subarray(2 * 4, 3 * 4)]).toEqual([0, 1, 0, 0]);
    expect([...p.neg.subarray(2 * 4, 3 * 4)]).toEqual([0, 0, 1, 1]);
    // Offset (1, -1) from (1, 1) reaches the ignored (2, 0): no label at all.
    expect([p.bg[4 + 2], p.fg[4 + 2], p.neg[4 + 2]]).toEqual([0, 0, 0]);
  });

  it('counts equal a brute-force enumeration of unordered pairs at distance < 5 (random 12 x 14 grid)', () => {
    let s = 7;
    const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 16) % 4;
    const h = 12, w = 14, vals = [0, 1, 2, 255];
    const grid = map(w, h, Array.from({ length: h * w }, () => vals[rnd()]));
    const want = { bg: 0, fg: 0, neg: 0 };
    for (let y = 0; y < h - 4; y++) {
      for (let x = 4; x < w - 4; x++) {
        for (let y2 = y; y2 < h; y2++) {
          for (let x2 = 0; x2 < w; x2++) {
            const dy = y2 - y, dx = x2 - x;
            if ((dy === 0 && dx <= 0) || dy * dy + dx * dx >= 25) continue;
            const a = grid.data[y * w + x], b = grid.data[y2 * w + x2];
            if (a === 255 || b === 255) continue;
            if (a !== b) want.neg++;
            else if (a === 0) want.bg++;
            else want.fg++;
          }
        }
      }
    }
    expect(countPairs(extractPairLabels(grid, 5))).toEqual(want);
    expect(want.bg + want.fg + want.neg).toBeGreaterThan(100);
  });
});
