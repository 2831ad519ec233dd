/**
 * Class marks of the synthetic benchmark: one coarse ink pattern per class, drawn on a square
 * patch of the object's body. Patterns are told apart by shape only (their colours are random),
 * survive 0.3x downscales (at most 3 features across the patch) and map to themselves under a
 * horizontal flip, so flip augmentation never turns one class into another.
 */

/** Pattern names in class order (class k = pattern k - 1). */
export const SYNTH_PATTERNS: readonly string[] = Object.freeze([
  'stripes', // 2 horizontal bars (an equals sign)
  'checker', // 3 x 3 checkerboard, corners inked
  'dots', // 2 x 2 round dots
  'cross', // plus sign
  'ring', // annulus
  'triangle', // filled, apex up
  'bars', // 2 vertical bars
  'saltire', // diagonal X
  'diamond', // filled rhombus
  'frame', // square outline
]);

type Ink = (u: number, v: number) => boolean;

const INK: readonly Ink[] = [
  (_u, v) => Math.floor(v * 3) !== 1,
  (u, v) => (Math.floor(u * 3) + Math.floor(v * 3)) % 2 === 0,
  (u, v) => {
    const du = u - (u < 0.5 ? 0.25 : 0.75), dv = v - (v < 0.5 ? 0.25 : 0.75);
    return du * du + dv * dv < 0.2 * 0.2;
  },
  (u, v) => Math.abs(u - 0.5) < 1 / 6 || Math.abs(v - 0.5) < 1 / 6,
  (u, v) => {
    const r2 = (u - 0.5) ** 2 + (v - 0.5) ** 2;
    return r2 < 0.25 && r2 > 0.26 * 0.26;
  },
  (u, v) => v > 0.08 && v < 0.92 && Math.abs(u - 0.5) <= (0.5 * (v - 0.08)) / 0.84,
  (u) => Math.floor(u * 3) !== 1,
  (u, v) => Math.abs(u - v) < 0.17 || Math.abs(u + v - 1) < 0.17,
  (u, v) => Math.abs(u - 0.5) + Math.abs(v - 0.5) < 0.47,
  (u, v) => Math.max(Math.abs(u - 0.5), Math.abs(v - 0.5)) > 0.3,
];

const cache = new Map<number, Uint8Array>();

/**
 * The ink mask of class `cls` (1-based) on an s x s patch: 1 where the mark is inked, row-major.
 * Pixel centres are sampled on the unit square; results are cached per (class, size).
 */
export function markInk(cls: number, size: number): Uint8Array {
  const key = cls * 65536 + size;
  let m = cache.get(key);
  if (m) return m;
  const ink = INK[cls - 1];
  m = new Uint8Array(size * size);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) m[y * size + x] = ink((x + 0.5) / size, (y + 0.5) / size) ? 1 : 0;
  }
  if (cache.size > 4096) cache.clear();
  cache.set(key, m);
  return m;
}
