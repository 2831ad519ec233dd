/**
 * A preview grid of synthetic samples: each sample as image | GT mask (VOC palette), pairs laid
 * out `cols` per row, for eyeballing a generated set (written by bench/synth-v2-stats.ts).
 */
import type { LabelMap } from '../../label-png.js';
import type { RgbImage } from '../../types.js';
import { vocColorMap } from '../../voc-classes.js';

/** Lays out (image, mask) pairs of equal size, `cols` pairs per row, 4-pixel white gutters. */
export function previewGrid(samples: { image: RgbImage; mask: LabelMap }[], cols = 2): RgbImage {
  const w = samples[0].image.width, h = samples[0].image.height, gap = 4;
  const rows = Math.ceil(samples.length / cols);
  const W = cols * (2 * w + gap) + (cols - 1) * gap * 2, H = rows * h + (rows - 1) * gap;
  const out = new Uint8Array(W * H * 3).fill(255), cmap = vocColorMap();
  samples.forEach((s, i) => {
    const x0 = (i % cols) * (2 * w + 3 * gap), y0 = Math.floor(i / cols) * (h + gap);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const p = y * w + x, q = (y0 + y) * W + x0 + x, r = q + w + gap, c = s.mask.data[p];
        for (let k = 0; k < 3; k++) {
          out[3 * q + k] = s.image.data[3 * p + k];
          out[3 * r + k] = cmap[3 * c + k];
        }
      }
    }
  });
  return { data: out, width: W, height: H };
}
