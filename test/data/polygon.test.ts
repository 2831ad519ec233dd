import { describe, expect, it } from 'vitest';
import { rleArea, rleDecode, rleToString, rleUnion } from '../../src/data/coco-rle.js';
import { rleFromPolygon } from '../../src/data/polygon.js';

// Reference strings: pycocotools' C code (cocoapi common/maskApi.c, rleFrPoly + rleMerge +
// rleToString) compiled unmodified and run on these polygons.
describe('rleFromPolygon (pycocotools rleFrPoly)', () => {
  it('fills an axis-aligned square [0,10]^2 as the 10x10 pixels 0..9', () => {
    const rle = rleFromPolygon([0, 0, 10, 0, 10, 10, 0, 10], 20, 20);
    expect(Array.from(rle.counts)).toEqual([0, ...Array<number>(19).fill(10), 210]);
    expect(rleToString(rle)).toBe('0::00000000000000000X6');
    const m = rleDecode(rle); // column-major
    expect(m[9 * 20 + 9]).toBe(1);
    expect(m[10 * 20 + 9]).toBe(0);
    expect(m[9 * 20 + 10]).toBe(0);
  });

  it('matches the reference on a sub-pixel triangle', () => {
    const rle = rleFromPolygon([1.3, 2.7, 15.2, 4.1, 6.6, 17.9], 20, 18);
    expect(rleArea(rle)).toBe(100);
    expect(rleToString(rle)).toBe('[13a03M3M3M3MN3N1N2O1N2N2O1Nj1');
    expect(Array.from(rle.counts)).toEqual([43, 3, 17, 6, 14, 9, 11, 12, 8, 15, 5, 13, 8, 11, 9, 9, 11, 8, 12, 6, 14, 4, 16, 3, 17, 1, 75]);
  });

  it('clips a polygon reaching outside the image like the reference', () => {
    const rle = rleFromPolygon([-3, -2, 8, -1, 9, 7, -1, 9], 10, 12);
    expect(rleArea(rle)).toBe(68);
    expect(rleToString(rle)).toBe('09100O1000000O103Mk0');
  });

  it('unites the polygons of one annotation (self-intersecting bow-tie + triangle)', () => {
    const polys = [[0, 0, 10, 10, 10, 0, 0, 10], [2, 2, 4, 3, 3, 5]];
    const rle = rleUnion(polys.map((p) => rleFromPolygon(p, 12, 12)), 12, 12);
    expect(rleArea(rle)).toBe(50);
    expect(rleToString(rle)).toBe('094N2N2N2N10O2N2N2N2g0');
  });

  it('gives an empty mask for a polygon with no vertices', () => {
    expect(rleArea(rleFromPolygon([], 4, 5))).toBe(0);
    expect(Array.from(rleFromPolygon([], 4, 5).counts)).toEqual([20]);
  });
});
