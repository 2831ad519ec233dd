/**
 * Figure panels: tiles laid out in a grid with a gap, e.g. one row per method of
 * image | GT | CAM heat map | pseudo-label, written as PNG.
 */
import { HfplError } from '../errors.js';
import type { RgbImage } from '../data/types.js';
import { encodeRgbPng } from '../data/image-io.js';
import { writeFileAtomic } from '../util/atomic-write.js';

/**
 * Composes rows of tiles into one image. Tiles may differ in size; each cell is as large as
 * the largest tile of its column/row and tiles sit at the cell's top-left. `gap` pixels
 * (default 4) of `background` (default white) separate cells.
 */
export function composeGrid(rows: RgbImage[][], gap = 4, background: [number, number, number] = [255, 255, 255]): RgbImage {
  if (rows.length === 0 || rows.some((r) => r.length === 0)) throw new HfplError('E_ARG', 'composeGrid: every row needs at least one tile');
  const cols = Math.max(...rows.map((r) => r.length));
  const colW = Array.from({ length: cols }, (_, c) => Math.max(0, ...rows.map((r) => r[c]?.width ?? 0)));
  const rowH = rows.map((r) => Math.max(...r.map((t) => t.height)));
  const width = colW.reduce((a, b) => a + b, 0) + gap * (cols - 1);
  const height = rowH.reduce((a, b) => a + b, 0) + gap * (rows.length - 1);
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) data.set(background, 3 * i);
  let y0 = 0;
  rows.forEach((r, ri) => {
    let x0 = 0;
    r.forEach((t, ci) => {
      for (let y = 0; y < t.height; y++) {
        data.set(t.data.subarray(y * t.width * 3, (y + 1) * t.width * 3), ((y0 + y) * width + x0) * 3);
      }
      x0 += colW[ci] + gap;
    });
    y0 += rowH[ri] + gap;
  });
  return { data, width, height };
}

/** Writes an RGB image as PNG, atomically. */
export async function writeRgbPng(path: string, image: RgbImage): Promise<void> {
  await writeFileAtomic(path, await encodeRgbPng(image));
}
