import { describe, expect, it } from 'vitest';
import { decodeLabelPng, encodeLabelPng, readLabelPng } from '../../src/data/label-png.js';
import { vocColorMap } from '../../src/data/voc-classes.js';
import { decode } from 'fast-png';
import { sharedPath } from '../shared-path.js';

const VOC = sharedPath('data/voc-sample/');

function counts(data: Uint8Array): Record<number, number> {
  const c: Record<number, number> = {};
  for (const v of data) c[v] = (c[v] ?? 0) + 1;
  return c;
}

describe('label PNG', () => {
  it('reads the VOC sample masks with the pixel counts of SOURCES.md', () => {
    expect(counts(readLabelPng(VOC + 'SegmentationClass/2007_000032.png').data)).toEqual({ 0: 129545, 1: 4734, 15: 866, 255: 5355 });
    expect(counts(readLabelPng(VOC + 'SegmentationClass/2007_000063.png').data)).toEqual({ 0: 72224, 9: 78930, 12: 27632, 255: 8714 });
    expect(counts(readLabelPng(VOC + 'SegmentationClass/2007_000243.png').data)).toEqual({ 0: 162962, 1: 2090, 255: 1448 });
  });

  it('round-trips indices exactly and writes the VOC colour map', () => {
    const data = new Uint8Array(7 * 5);
    for (let i = 0; i < data.length; i++) data[i] = i % 3 === 0 ? 255 : i % 21;
    const png = encodeLabelPng({ data, width: 7, height: 5 });
    const back = decodeLabelPng(png, 'mem');
    expect(back.width).toBe(7);
    expect(back.height).toBe(5);
    expect(Array.from(back.data)).toEqual(Array.from(data));
    const raw = decode(png);
    const cmap = vocColorMap();
    expect(raw.palette![1]).toEqual([128, 0, 0]);
    expect(raw.palette![15]).toEqual([192, 128, 128]);
    expect(raw.palette![255]).toEqual([224, 224, 192]);
    expect([cmap[3 * 20], cmap[3 * 20 + 1], cmap[3 * 20 + 2]]).toEqual([0, 64, 128]);
  });

  it('names the file when it is not a PNG', () => {
    expect(() => decodeLabelPng(new Uint8Array([1, 2, 3]), 'x/bad.png')).toThrow(/x\/bad\.png: not a readable PNG/);
  });
});
