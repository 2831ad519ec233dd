import { readFileSync } from 'node:fs';
import { crc32, deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { decodeLabelPngFast } from '../../src/eval/fast-label-png.js';
import { decodeLabelPng, encodeLabelPng } from '../../src/data/label-png.js';
import { Rng } from '../../src/engine/random.js';
import { sharedPath } from '../shared-path.js';

const VOC = sharedPath('data/voc-sample/SegmentationClass/');

function chunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
  return Buffer.concat([head, data, crc]);
}

/** A grayscale PNG whose row y uses filter type y % 5 (0 none, 1 sub, 2 up, 3 average, 4 Paeth). */
function pngWithAllFilters(data: Uint8Array, w: number, h: number): Buffer {
  const raw = new Uint8Array((w + 1) * h);
  const at = (x: number, y: number) => (x >= 0 && y >= 0 ? data[y * w + x] : 0);
  for (let y = 0; y < h; y++) {
    const f = y % 5;
    raw[y * (w + 1)] = f;
    for (let x = 0; x < w; x++) {
      const a = at(x - 1, y), b = at(x, y - 1), c = at(x - 1, y - 1);
      const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
      const pred = [0, a, b, (a + b) >> 1, pa <= pb && pa <= pc ? a : pb <= pc ? b : c][f];
      raw[y * (w + 1) + 1 + x] = (data[y * w + x] - pred) & 255;
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // grayscale
  const z = deflateSync(raw);
  // Two IDAT chunks, to cover concatenation.
  const cut = Math.floor(z.length / 2);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', z.subarray(0, cut)), chunk('IDAT', z.subarray(cut)), chunk('IEND', new Uint8Array(0))]);
}

describe('decodeLabelPngFast', () => {
  it('reads the VOC palette masks exactly as decodeLabelPng', () => {
    for (const id of ['2007_000032', '2007_000063', '2007_000243']) {
      const bytes = readFileSync(`${VOC}${id}.png`);
      const a = decodeLabelPngFast(bytes, id), b = decodeLabelPng(bytes, id);
      expect([a.width, a.height]).toEqual([b.width, b.height]);
      expect(Buffer.from(a.data).equals(Buffer.from(b.data))).toBe(true);
    }
  });

  it('undoes every PNG filter type (hand-filtered rows) and libpng adaptive filtering (sharp)', async () => {
    const rng = new Rng(9);
    const w = 37, h = 23;
    const data = Uint8Array.from({ length: w * h }, (_, i) => ((i % w) < 15 ? 3 : rng.int(0, 256)));
    const crafted = pngWithAllFilters(data, w, h);
    expect(Array.from(decodeLabelPngFast(crafted, 'crafted').data)).toEqual(Array.from(data));
    expect(Array.from(decodeLabelPng(crafted, 'crafted').data)).toEqual(Array.from(data));
    const viaSharp = await sharp(Buffer.from(data), { raw: { width: w, height: h, channels: 1 } }).toColourspace('b-w').png({ adaptiveFiltering: true, palette: false }).toBuffer();
    expect(Array.from(decodeLabelPngFast(viaSharp, 'sharp').data)).toEqual(Array.from(data));
    const pal = encodeLabelPng({ data: data.map((v) => v % 21), width: w, height: h });
    expect(Array.from(decodeLabelPngFast(pal, 'pal').data)).toEqual(Array.from(data.map((v) => v % 21)));
  });

  it('leaves other formats to decodeLabelPng and its messages', () => {
    expect(() => decodeLabelPngFast(new Uint8Array([1, 2, 3]), 'x/bad.png')).toThrow(/x\/bad\.png: not a readable PNG/);
  });
});
