import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { augmentImage, augmentPixels, drawAugmentParams, resolveAugmentOptions, type AugmentParams } from '../../src/data/augment.js';
import { readRgbImage } from '../../src/data/image-io.js';
import { Rng } from '../../src/engine/random.js';
import { sharedPath } from '../shared-path.js';

const VOC = sharedPath('data/voc-sample/');
const tmp = mkdtempSync(join(tmpdir(), 'hfpl-augment-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Identity params for a w x h image (no resize, flip or jitter), window at the origin. */
function ident(w: number, h: number, over: Partial<AugmentParams> = {}): AugmentParams {
  return { width: w, height: h, flip: false, order: [0, 1, 2, 3], brightness: 1, contrast: 1, saturation: 1, hue: 0, imgTop: 0, imgLeft: 0, contTop: 0, contLeft: 0, cropW: w, cropH: h, ...over };
}
const plain = (crop: number) => resolveAugmentOptions({ crop, mean: [0, 0, 0], std: [1, 1, 1], keepRaw: true });
const px = (rgb: number[][]) => ({ data: Uint8Array.from(rgb.flat()), width: rgb.length, height: 1 });
const to255 = (a: Float32Array | null, n = a!.length) => Array.from(a!.subarray(0, n), (v) => Math.round(v * 255 * 1000) / 1000);

describe('augment options', () => {
  it('default to METHOD 3.1', () => {
    const o = resolveAugmentOptions();
    expect(o).toEqual({
      resizeLong: [448, 768], flip: true, colorJitter: { brightness: 0.3, contrast: 0.3, saturation: 0.3, hue: 0.1 }, jitterOrder: 'random',
      crop: 448, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], keepRaw: false,
    });
  });

  it('reject bad values naming the option', () => {
    expect(() => resolveAugmentOptions({ crop: 0 })).toThrow(/augment option crop: 0 is invalid/);
    expect(() => resolveAugmentOptions({ resizeLong: [160, 112] })).toThrow(/augment option resizeLong: \[160,112\] is invalid \(expected \[min, max\]/);
    expect(() => resolveAugmentOptions({ flop: true } as object)).toThrow(/augment option flop: unknown \(allowed: resizeLong/);
  });
});

describe('drawAugmentParams', () => {
  it('draws long side, factors and crop offsets in their ranges, reproducibly', () => {
    const o = resolveAugmentOptions();
    const longs = new Set<number>();
    let flips = 0;
    const bad: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const p = drawAugmentParams(new Rng(i), 500, 375, o);
      longs.add(p.width);
      // Short side rounded from the aspect ratio (imutils.RandomResizeLong).
      if (p.height !== Math.round((375 * p.width) / 500)) bad.push(`height ${i}`);
      if (![p.brightness, p.contrast, p.saturation].every((f) => f >= 0.7 && f <= 1.3)) bad.push(`factor ${i}`);
      if (Math.abs(p.hue) > 0.1) bad.push(`hue ${i}`);
      if ([...p.order].sort().join() !== '0,1,2,3') bad.push(`order ${i}`);
      // imutils.RandomCrop: window in the larger dimension, container offset in the smaller one.
      if (p.cropW !== 448 || p.contLeft !== 0 || p.imgLeft < 0 || p.imgLeft > p.width - 448) bad.push(`x crop ${i}`);
      if (p.height < 448 && (p.imgTop !== 0 || p.cropH !== p.height || p.contTop < 0 || p.contTop > 448 - p.height)) bad.push(`y crop ${i}`);
      if (p.height >= 448 && (p.contTop !== 0 || p.imgTop > p.height - 448)) bad.push(`y crop ${i}`);
      flips += p.flip ? 1 : 0;
    }
    expect(bad).toEqual([]);
    expect(Math.min(...longs)).toBe(448);
    expect(Math.max(...longs)).toBe(768);
    expect(flips / 3000).toBeGreaterThan(0.45);
    expect(flips / 3000).toBeLessThan(0.55);
    expect(drawAugmentParams(new Rng(5), 500, 375, o)).toEqual(drawAugmentParams(new Rng(5), 500, 375, o));
    expect(drawAugmentParams(new Rng(5), 375, 500, o).height).toBe(drawAugmentParams(new Rng(5), 500, 375, o).width);
  });

  it("keeps order and factors fixed with jitterOrder 'fixed' or no jitter", () => {
    expect(drawAugmentParams(new Rng(1), 10, 10, resolveAugmentOptions({ jitterOrder: 'fixed' })).order).toEqual([0, 1, 2, 3]);
    const p = drawAugmentParams(new Rng(1), 10, 10, resolveAugmentOptions({ colorJitter: null, resizeLong: null, flip: false }));
    expect([p.width, p.height, p.flip, p.brightness, p.contrast, p.saturation, p.hue]).toEqual([10, 10, false, 1, 1, 1, 0]);
  });
});

describe('augmentPixels', () => {
  it('normalises with mean/std and pads with 0 at the container offset (hand-derived)', () => {
    const img = { data: Uint8Array.from({ length: 2 * 2 * 3 }, (_, i) => i * 20), width: 2, height: 2 };
    const o = resolveAugmentOptions({ crop: 3, keepRaw: true });
    const r = augmentPixels(img, ident(2, 2, { contTop: 1, contLeft: 0 }), o);
    expect(Array.from(r.valid)).toEqual([0, 0, 0, 1, 1, 0, 1, 1, 0]);
    // pixel (row 1, col 0) of the crop = source pixel 0 = (0, 20, 40)
    const t = 3;
    expect(r.image[3 * t]).toBeCloseTo((0 - 0.485) / 0.229, 5);
    expect(r.image[3 * t + 1]).toBeCloseTo((20 / 255 - 0.456) / 0.224, 5);
    expect(r.image[3 * t + 2]).toBeCloseTo((40 / 255 - 0.406) / 0.225, 5);
    // pixel (row 2, col 1) = source pixel 3 = (180, 200, 220)
    expect(r.image[3 * 7 + 2]).toBeCloseTo((220 / 255 - 0.406) / 0.225, 5);
    for (const p of [0, 1, 2, 5, 8]) expect(Array.from(r.image.slice(3 * p, 3 * p + 3))).toEqual([0, 0, 0]);
    expect(to255(r.raw).slice(9, 15)).toEqual([0, 20, 40, 60, 80, 100]);
  });

  it('flips and resizes bilinearly with half-pixel centres', () => {
    const img = px([[0, 0, 0], [100, 50, 10]]);
    expect(to255(augmentPixels(img, ident(2, 1, { flip: true }), plain(2)).raw, 6)).toEqual([100, 50, 10, 0, 0, 0]);
    // 2 -> 4 columns: source x = (X + 0.5) / 2 - 0.5 = -0.25 (clamped), 0.25, 0.75, 1.25 (clamped)
    const r = augmentPixels(img, ident(4, 1), plain(4));
    expect(to255(r.raw, 12).filter((_, i) => i % 3 === 0)).toEqual([0, 25, 75, 100]);
  });

  it('applies brightness, contrast, saturation and hue as PIL/torchvision do (hand-derived)', () => {
    const one = (rgb: number[][], over: Partial<AugmentParams>) => to255(augmentPixels(px(rgb), ident(rgb.length, 1, over), plain(rgb.length)).raw, 3 * rgb.length);
    expect(one([[100, 200, 250]], { brightness: 1.2 })).toEqual([120, 240, 255]);
    // contrast: blend with the mean gray (0 and 200 -> 100)
    expect(one([[0, 0, 0], [200, 200, 200]], { contrast: 0.5 })).toEqual([50, 50, 50, 150, 150, 150]);
    // saturation: blend with the pixel's gray 0.299 * 200 + 0.587 * 100 + 0.114 * 0 = 118.5
    // (159.25, 109.25, 59.25 and 118.5 rounded to 8 bits, half to even, as every step is)
    expect(one([[200, 100, 0]], { saturation: 0.5 })).toEqual([159, 109, 59]);
    expect(one([[200, 100, 0]], { saturation: 0 })).toEqual([118, 118, 118]);
    // hue: a third of a turn takes red to green, half a turn takes orange (30 deg) to azure (210 deg)
    expect(one([[255, 0, 0]], { hue: 1 / 3 })).toEqual([0, 255, 0]);
    expect(one([[200, 100, 0]], { hue: 0.5 })).toEqual([0, 100, 200]);
    expect(one([[90, 90, 90]], { hue: 0.1 })).toEqual([90, 90, 90]);
    // order matters: brightness 1.5 then contrast 0 gives the mean of the brightened, clamped
    // image (150 + 255) / 2 = 202.5 -> 202
    expect(one([[100, 100, 100], [200, 200, 200]], { brightness: 1.5, contrast: 0, order: [0, 1, 2, 3] })).toEqual([202, 202, 202, 202, 202, 202]);
    expect(one([[100, 100, 100], [200, 200, 200]], { brightness: 1.5, contrast: 0, order: [1, 0, 2, 3] })).toEqual([225, 225, 225, 225, 225, 225]);
  });
});

describe('augmentImage', () => {
  it('augments a VOC JPEG reproducibly to a crop x crop normalised image', async () => {
    const o = resolveAugmentOptions({ keepRaw: true });
    const a = await augmentImage(VOC + 'JPEGImages/2007_000032.jpg', new Rng(3), o);
    const b = await augmentImage(VOC + 'JPEGImages/2007_000032.jpg', new Rng(3), o, { width: 500, height: 281 });
    expect(a.source).toEqual({ width: 500, height: 281 });
    expect(a.image.length).toBe(448 * 448 * 3);
    expect(Buffer.from(a.image.buffer).equals(Buffer.from(b.image.buffer))).toBe(true);
    const p = a.params;
    expect(Array.from(a.valid).reduce((s, v) => s + v, 0)).toBe(p.cropW * p.cropH);
    expect(a.image.every(Number.isFinite)).toBe(true);
    for (let t = 0; t < 448 * 448; t += 97) {
      for (let c = 0; c < 3; c++) {
        const x = a.image[3 * t + c], r = a.raw![3 * t + c];
        if (a.valid[t]) expect(x).toBeCloseTo((r - o.mean[c]) / o.std[c], 4);
        else expect([x, r]).toEqual([0, 0]);
      }
    }
  });

  it('shrinks in sharp below half size and accepts in-memory images', async () => {
    const img = { data: new Uint8Array(100 * 80 * 3).fill(128), width: 100, height: 80 };
    const r = await augmentImage(img, new Rng(1), resolveAugmentOptions({ resizeLong: [40, 40], crop: 40, colorJitter: null }));
    expect([r.params.width, r.params.height, r.params.cropH]).toEqual([40, 32, 32]);
    const v = (128 / 255 - 0.485) / 0.229;
    for (let t = 0; t < 40 * 40; t++) if (r.valid[t]) expect(r.image[3 * t]).toBeCloseTo(v, 4);
  });

  it('names the file of a missing or corrupt image', async () => {
    const o = resolveAugmentOptions();
    await expect(augmentImage(join(tmp, 'nope.jpg'), new Rng(1), o)).rejects.toThrow(/nope.jpg: image file not found/);
    const bad = join(tmp, 'bad.jpg');
    writeFileSync(bad, Buffer.from('not a jpeg at all'));
    await expect(augmentImage(bad, new Rng(1), o)).rejects.toMatchObject({ code: 'E_IMAGE', message: expect.stringMatching(/bad.jpg: corrupt or unreadable image/) });
  });
});

describe('augmentation windows', () => {
  const same = (a: Float32Array | Uint8Array | null, b: Float32Array | Uint8Array | null) => a !== null && b !== null && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

  // No shrink below half size here (sharp resizes those while decoding).
  it('decoding only the source window the crop reads gives the same bytes as the whole image', async () => {
    const path = VOC + 'JPEGImages/2007_000032.jpg';
    const full = await readRgbImage(path);
    for (const [i, o] of [resolveAugmentOptions({ keepRaw: true }), resolveAugmentOptions({ resizeLong: [300, 900], crop: 200 }), resolveAugmentOptions({ resizeLong: null, crop: 160 })].entries()) {
      for (let s = 0; s < 6; s++) {
        const a = await augmentImage(path, new Rng(10 * i + s), o);
        const b = augmentPixels(full, drawAugmentParams(new Rng(10 * i + s), full.width, full.height, o), o);
        expect(a.params).toEqual(b.params);
        expect(same(a.image, b.image) && same(a.valid, b.valid)).toBe(true);
        if (o.keepRaw) expect(same(a.raw, b.raw)).toBe(true);
      }
    }
  });

  it('writes zeros to the whole padding of a reused target', () => {
    const img = { data: Uint8Array.from({ length: 30 * 20 * 3 }, (_, i) => (i * 37) % 256), width: 30, height: 20 };
    const o = resolveAugmentOptions({ resizeLong: [20, 40], crop: 48, keepRaw: true });
    for (let s = 0; s < 8; s++) {
      const p = drawAugmentParams(new Rng(s), 30, 20, o);
      const t = { image: new Float32Array(48 * 48 * 3).fill(7), raw: new Float32Array(48 * 48 * 3).fill(7), valid: new Uint8Array(48 * 48).fill(7) };
      const a = augmentPixels(img, p, o, t), b = augmentPixels(img, p, o);
      expect(same(a.image, b.image) && same(a.raw, b.raw) && same(a.valid, b.valid)).toBe(true);
    }
  });
});
