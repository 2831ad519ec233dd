/**
 * Label maps as PNG: read palette (indexed) or 8-bit grayscale PNGs as class indices, and
 * write palette PNGs with exact indices and the VOC colour map. fast-png is used because
 * sharp's palette output quantises and reorders indices.
 */
import { readFileSync } from 'node:fs';
import { decode as decodePng, encode as encodePng } from 'fast-png';
import { HfplError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { vocColorMap } from './voc-classes.js';

/** A label map: one class index per pixel, row-major. */
export interface LabelMap {
  data: Uint8Array;
  width: number;
  height: number;
}

/**
 * Decodes a PNG label map from bytes. Accepts 8-bit palette PNGs (the palette index is the
 * label) and 8-bit single-channel grayscale PNGs (the gray value is the label). `name` is
 * used in error messages.
 */
export function decodeLabelPng(bytes: Uint8Array, name: string): LabelMap {
  let png;
  try {
    png = decodePng(bytes);
  } catch (e) {
    throw new HfplError('E_MASK', `${name}: not a readable PNG (${(e as Error).message})`);
  }
  if (png.depth !== 8) {
    throw new HfplError('E_MASK', `${name}: label PNG must have 8-bit samples, found ${png.depth}-bit`);
  }
  const channels = png.channels;
  if (!png.palette && channels !== 1) {
    throw new HfplError('E_MASK', `${name}: label PNG must be palette or 1-channel grayscale, found ${channels} channels`);
  }
  const src = png.data as Uint8Array;
  const data = src.length === png.width * png.height ? new Uint8Array(src.buffer, src.byteOffset, src.length) : src.slice(0, png.width * png.height);
  return { data, width: png.width, height: png.height };
}

/** Reads a PNG label map from a file (see `decodeLabelPng`). */
export function readLabelPng(path: string): LabelMap {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch {
    throw new HfplError('E_IO', `${path}: label map not found or unreadable`);
  }
  return decodeLabelPng(bytes, path);
}

let cachedPalette: [number, number, number][] | null = null;
function vocPalette(): [number, number, number][] {
  if (!cachedPalette) {
    const c = vocColorMap();
    cachedPalette = Array.from({ length: 256 }, (_, i) => [c[3 * i], c[3 * i + 1], c[3 * i + 2]]);
  }
  return cachedPalette;
}

/** Encodes a label map as an 8-bit palette PNG with the VOC colour map. */
export function encodeLabelPng(map: LabelMap): Uint8Array {
  if (map.data.length !== map.width * map.height) {
    throw new HfplError('E_ARG', `label map: data length ${map.data.length} != width*height ${map.width * map.height}`);
  }
  return encodePng({ width: map.width, height: map.height, data: map.data, depth: 8, channels: 1, palette: vocPalette() });
}

/** Writes a label map as a palette PNG, atomically. */
export async function writeLabelPng(path: string, map: LabelMap): Promise<void> {
  await writeFileAtomic(path, encodeLabelPng(map));
}
