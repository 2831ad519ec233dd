import { describe, expect, it } from 'vitest';
import { readRgbImage } from '../../src/data/image-io.js';
import { resizeBicubicPil, roundHalfEven } from '../../src/data/pil-resize.js';
import { sharedPath } from '../shared-path.js';

const dir = sharedPath('fixtures/reference-nets/');

describe('PIL bicubic resize (Pillow 9 Resample.c)', () => {
  it('Python round: half to even (1.5 * 67 = 100.5 -> 100)', () => {
    expect([0.5, 1.5, 2.5, 100.5, 33.5, 134, 2.4, 2.6, -0.5, -1.5].map(roundHalfEven)).toEqual([0, 2, 2, 100, 34, 134, 2, 3, -0, -2]);
  });

  for (const s of [0.5, 1.0, 1.5, 2.0]) {
    it(`scale ${s}: byte-identical to cam-input-s${s.toFixed(1)}.png`, async () => {
      const img = await readRgbImage(`${dir}cam-input.png`);
      const want = await readRgbImage(`${dir}cam-input-s${s.toFixed(1)}.png`);
      const w = roundHalfEven(img.width * s), h = roundHalfEven(img.height * s);
      expect([w, h]).toEqual([want.width, want.height]);
      const got = resizeBicubicPil(img, w, h);
      let diff = 0;
      for (let i = 0; i < got.data.length; i++) if (got.data[i] !== want.data[i]) diff++;
      expect(diff).toBe(0);
    });
  }

  it('keeps a constant image constant and refuses a bad size', () => {
    const img = { width: 7, height: 5, data: new Uint8Array(7 * 5 * 3).fill(200) };
    expect(resizeBicubicPil(img, 3, 11).data.every((v) => v === 200)).toBe(true);
    expect(() => resizeBicubicPil(img, 0, 3)).toThrow(/positive integers/);
  });
});
