/**
 * Colouring for figures: a jet-like colour map for CAM heat maps (blended over the image) and
 * the VOC palette for label maps. Everything is 8-bit interleaved RGB (`RgbImage`).
 */
import { HfplError } from '../errors.js';
import type { LabelMap } from '../data/label-png.js';
import type { RgbImage } from '../data/types.js';
import { vocColorMap } from '../data/voc-classes.js';

/**
 * Jet colour of v in [0, 1] (clamped): dark blue -> blue -> cyan -> yellow -> red -> dark red,
 * the piecewise-linear MATLAB/OpenCV map. Returns [r, g, b] in 0..255.
 *
 * @example jet(0) // [0, 0, 128]; jet(0.5) // [128, 255, 128] (approximately); jet(1) // [128, 0, 0]
 */
export function jet(v: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, Number.isFinite(v) ? v : 0));
  const ch = (d: number) => Math.round(255 * Math.min(1, Math.max(0, 1.5 - Math.abs(4 * x - d))));
  return [ch(3), ch(2), ch(1)];
}

/**
 * Heat map of a single map (H x W values in [0, 1]) blended over an image:
 * out = (1 - opacity) image + opacity jet(map). `opacity` default 0.5.
 */
export function heatmapOverlay(image: RgbImage, map: Float32Array, opacity = 0.5): RgbImage {
  const n = image.width * image.height;
  if (map.length !== n) throw new HfplError('E_ARG', `heatmapOverlay: map has ${map.length} values, image ${image.width} x ${image.height}`);
  const out = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    const c = jet(map[i]);
    for (let k = 0; k < 3; k++) out[3 * i + k] = Math.round((1 - opacity) * image.data[3 * i + k] + opacity * c[k]);
  }
  return { data: out, width: image.width, height: image.height };
}

/** Per-pixel maximum over P maps (P x H x W), 0 when P = 0. */
export function maxOverMaps(cams: Float32Array, p: number, n: number): Float32Array {
  const out = new Float32Array(n);
  for (let k = 0; k < p; k++) for (let i = 0; i < n; i++) out[i] = Math.max(out[i], cams[k * n + i]);
  return out;
}

let palette: Uint8Array | null = null;

/** The VOC palette, RGB triples by class index (computed once). */
export function vocColors(): Uint8Array {
  return (palette ??= vocColorMap());
}

/** A label map coloured with the VOC palette (255 = void is light beige). */
export function colorizeLabels(map: LabelMap): RgbImage {
  palette ??= vocColorMap();
  const n = map.width * map.height;
  const out = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    const c = map.data[i] * 3;
    out[3 * i] = palette[c];
    out[3 * i + 1] = palette[c + 1];
    out[3 * i + 2] = palette[c + 2];
  }
  return { data: out, width: map.width, height: map.height };
}

/** A label map as RGBA for overlays: VOC colours, background (0) transparent, void (255) half transparent. */
export function colorizeLabelsRgba(map: LabelMap): Uint8Array {
  palette ??= vocColorMap();
  const n = map.width * map.height;
  const out = new Uint8Array(4 * n);
  for (let i = 0; i < n; i++) {
    const c = map.data[i];
    out[4 * i] = palette[3 * c];
    out[4 * i + 1] = palette[3 * c + 1];
    out[4 * i + 2] = palette[3 * c + 2];
    out[4 * i + 3] = c === 0 ? 0 : c === 255 ? 128 : 255;
  }
  return out;
}

/** A map of values in [0, 1] as jet colours, RGB interleaved. */
export function jetRgb(map: Float32Array): Uint8Array {
  const out = new Uint8Array(3 * map.length);
  for (let i = 0; i < map.length; i++) out.set(jet(map[i]), 3 * i);
  return out;
}
