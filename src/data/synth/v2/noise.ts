/**
 * Deterministic procedural noise for benchmark v2: an integer hash, lattice value noise with
 * smoothstep interpolation and its fractal sum (fBm). Pure functions of their arguments, so a
 * sample renders to the same bytes on every run.
 */

/** Hash of two lattice coordinates and a seed to [0, 1). */
export function hash2(ix: number, iy: number, seed: number): number {
  let h = (Math.imul(ix | 0, 0x27d4eb2d) ^ Math.imul(iy | 0, 0x165667b1) ^ seed) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return ((h ^ (h >>> 16)) >>> 0) / 4294967296;
}

/** Value noise in [-1, 1] at (x, y), lattice spacing 1. */
export function valueNoise(x: number, y: number, seed: number): number {
  const ix = Math.floor(x), iy = Math.floor(y);
  const fx = x - ix, fy = y - iy;
  const sx = fx * fx * (3 - 2 * fx), sy = fy * fy * (3 - 2 * fy);
  const a = hash2(ix, iy, seed), b = hash2(ix + 1, iy, seed), c = hash2(ix, iy + 1, seed), d = hash2(ix + 1, iy + 1, seed);
  const top = a + sx * (b - a), bot = c + sx * (d - c);
  return 2 * (top + sy * (bot - top)) - 1;
}

/** Fractal sum of `octaves` value-noise layers (gain 0.5, lacunarity 2), normalised to about [-1, 1]. */
export function fbm(x: number, y: number, seed: number, octaves: number): number {
  let sum = 0, amp = 1, norm = 0, f = 1;
  for (let o = 0; o < octaves; o++) {
    sum += amp * valueNoise(x * f, y * f, (seed + Math.imul(o, 0x9e3779b1)) >>> 0);
    norm += amp;
    amp *= 0.5;
    f *= 2;
  }
  return sum / norm;
}

/** Hermite step: 0 below e0, 1 above e1. */
export function smoothstep(e0: number, e1: number, x: number): number {
  const t = Math.min(1, Math.max(0, (x - e0) / (e1 - e0)));
  return t * t * (3 - 2 * t);
}

/** HSV (h in degrees, s and v in [0, 1]) to RGB in 0..255. */
export function hsv(h: number, s: number, v: number): [number, number, number] {
  const hh = (((h % 360) + 360) % 360) / 60, i = Math.floor(hh), f = hh - i;
  const p = v * (1 - s), q = v * (1 - s * f), t = v * (1 - s * (1 - f));
  const rgb = [[v, t, p], [q, v, p], [p, v, t], [p, q, v], [t, p, v], [v, p, q]][i % 6];
  return [255 * rgb[0], 255 * rgb[1], 255 * rgb[2]];
}

/** A fast xorshift32 stream of uniform values in [-0.5, 0.5), seeded by `seed` (made odd): per-pixel grain. */
export function xorshiftNoise(seed: number): () => number {
  let noise = seed | 1;
  return () => {
    noise ^= noise << 13;
    noise ^= noise >>> 17;
    noise ^= noise << 5;
    return (noise >>> 0) / 4294967296 - 0.5;
  };
}
