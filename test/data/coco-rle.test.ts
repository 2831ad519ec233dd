import { describe, expect, it } from 'vitest';
import { rleArea, rleDecode, rleEncode, rleFromCounts, rleFromString, rlePaint, rleToString, rleUnion } from '../../src/data/coco-rle.js';

describe('COCO RLE', () => {
  it('decodes column-major: runs go down the columns', () => {
    // 3 rows x 2 cols; counts 1 zero, 3 ones, 2 zeros -> column-major 0 1 1 1 0 0
    const rle = rleFromCounts([1, 3, 2], 3, 2, 'x');
    expect(Array.from(rleDecode(rle))).toEqual([0, 1, 1, 1, 0, 0]);
    const out = new Uint8Array(6).fill(9);
    rlePaint(rle, out, 4); // row-major, width 2: (x0,y1) (x0,y2) (x1,y0)
    expect(Array.from(out)).toEqual([9, 4, 4, 9, 4, 9]);
    expect(rleArea(rle)).toBe(3);
  });

  it('round-trips encode/decode and the compressed string, including negative deltas', () => {
    let s = 12345;
    const rand = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const h = 37, w = 23;
    const m = new Uint8Array(h * w);
    for (let i = 0; i < m.length; i++) m[i] = rand() < 0.3 + 0.4 * Math.sin(i / 50) ** 2 ? 1 : 0;
    const rle = rleEncode(m, h, w);
    expect(Array.from(rleDecode(rle))).toEqual(Array.from(m));
    const str = rleToString(rle);
    expect(Array.from(rleFromString(str, h, w, 'x').counts)).toEqual(Array.from(rle.counts));
    // Large counts need several 5-bit groups, some deltas are negative.
    const big = rleFromCounts([100000, 3, 99000, 2000, 7, 990], 2000, 101, 'x');
    expect(Array.from(rleFromString(rleToString(big), 2000, 101, 'x').counts)).toEqual(Array.from(big.counts));
  });

  it('decodes a hand-made compressed string', () => {
    // counts [0, 10, 10, 10]: '0' = 0, ':' = 10, ':' = 10, '0' = delta 0 from counts[1]
    expect(Array.from(rleFromString('0::0', 5, 6, 'x').counts)).toEqual([0, 10, 10, 10]);
  });

  it('rejects counts that do not cover the image and bad strings, naming the source', () => {
    expect(() => rleFromCounts([1, 2], 2, 2, 'f.json: annotation 7')).toThrow('f.json: annotation 7: RLE counts add up to 3 pixels, expected 2x2 = 4');
    expect(() => rleFromCounts([1, -2, 5], 2, 2, 'a')).toThrow('a: RLE count 1 is -2, not a non-negative integer');
    expect(() => rleFromString('0 :', 2, 2, 'a')).toThrow("a: compressed RLE string has an invalid character ' ' at 1");
    expect(() => rleFromString('0`', 2, 2, 'a')).toThrow('a: compressed RLE string ends inside a number');
  });

  it('unites masks', () => {
    const a = rleEncode(Uint8Array.from([1, 0, 0, 0, 1, 0]), 3, 2);
    const b = rleEncode(Uint8Array.from([0, 0, 1, 0, 1, 1]), 3, 2);
    expect(Array.from(rleDecode(rleUnion([a, b], 3, 2)))).toEqual([1, 0, 1, 0, 1, 1]);
  });
});
