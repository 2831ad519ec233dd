import { describe, expect, it } from 'vitest';
import { colorizeLabels, heatmapOverlay, jet, maxOverMaps } from '../../src/viz/colormap.js';
import { composeGrid } from '../../src/viz/panels.js';

describe('colour maps', () => {
  it('jet runs dark blue -> cyan/yellow -> dark red and clamps', () => {
    expect(jet(0)).toEqual([0, 0, 128]);
    expect(jet(1)).toEqual([128, 0, 0]);
    expect(jet(0.5)).toEqual([128, 255, 128]);
    expect(jet(-3)).toEqual(jet(0));
    expect(jet(Number.NaN)).toEqual(jet(0));
  });

  it('blends the heat map over the image and takes the max over maps', () => {
    const img = { data: new Uint8Array([100, 100, 100, 0, 0, 0]), width: 2, height: 1 };
    const o = heatmapOverlay(img, Float32Array.from([0, 1]), 0.5);
    expect(Array.from(o.data)).toEqual([50, 50, 114, 64, 0, 0]);
    expect(Array.from(maxOverMaps(Float32Array.from([0.1, 0.9, 0.5, 0.2]), 2, 2))).toEqual([0.5, 0.9].map(Math.fround));
    expect(() => heatmapOverlay(img, new Float32Array(3))).toThrow(/map has 3 values, image 2 x 1/);
  });

  it('colours labels with the VOC palette (255 = void beige)', () => {
    const c = colorizeLabels({ data: new Uint8Array([0, 1, 15, 255]), width: 4, height: 1 });
    expect(Array.from(c.data)).toEqual([0, 0, 0, 128, 0, 0, 192, 128, 128, 224, 224, 192]);
  });
});

describe('composeGrid', () => {
  it('lays tiles out in rows and columns with a white gap', () => {
    const t = (v: number, w: number, h: number) => ({ data: new Uint8Array(w * h * 3).fill(v), width: w, height: h });
    const g = composeGrid([[t(1, 2, 1), t(2, 1, 1)], [t(3, 1, 2)]], 1);
    expect([g.width, g.height]).toEqual([2 + 1 + 1, 1 + 1 + 2]);
    const px = (x: number, y: number) => g.data[(y * g.width + x) * 3];
    expect([px(0, 0), px(1, 0), px(2, 0), px(3, 0)]).toEqual([1, 1, 255, 2]);
    expect([px(0, 1), px(0, 2), px(0, 3), px(1, 2)]).toEqual([255, 3, 3, 255]);
    expect(() => composeGrid([])).toThrow(/every row needs at least one tile/);
  });
});
