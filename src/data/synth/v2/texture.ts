/**
 * Body textures of benchmark v2 (species.ts): ink coverage in [0, 1] at a point (u, v) of the
 * object's own frame, in units of the body's mean radius. Every texture is even in v (a mirror
 * of the frame gives the same statistics) and varies per object through its period, phase and
 * noise seed.
 */
import type { TextureKind } from './species.js';
import { fbm, hash2, smoothstep, valueNoise } from './noise.js';

/** The per-object parameters of a texture. */
export interface TextureParams {
  kind: TextureKind;
  /** Period in units of the body radius. */
  period: number;
  /** Phase in [0, 1). */
  phase: number;
  seed: number;
}

const TAU = 2 * Math.PI;
const frac = (x: number) => x - Math.floor(x);
/** A soft square wave of a sine: 0/1 plateaus with short ramps. */
const wave = (s: number) => smoothstep(-0.35, 0.35, s);

/** Ink coverage of texture `t` at frame point (u, v). */
export function textureInk(t: TextureParams, u: number, v: number): number {
  const p = t.period;
  switch (t.kind) {
    case 'bands': // dark bands across the major axis, slightly wavy
      return wave(Math.sin(TAU * (u / p + t.phase) + 0.8 * Math.sin(2.5 * Math.abs(v) + TAU * t.phase)));
    case 'streaks': // thin stripes along the major axis
      return smoothstep(0.3, 0.8, Math.sin(TAU * (Math.abs(v) / p + t.phase) + 0.6 * Math.sin(1.7 * u)));
    case 'rings': // concentric rings about the centre
      return wave(Math.sin(TAU * (Math.hypot(u, v) / p + t.phase)));
    case 'chevrons': // V-shaped veins pointing along the axis
      return smoothstep(0.45, 0.85, Math.sin(TAU * ((u + 0.9 * Math.abs(v)) / p + t.phase)));
    case 'spots':
      return cellDots(u, v, p, 0.3, t.seed);
    case 'speckles':
      return cellDots(u, v, p, 0.22, t.seed);
    case 'blotches': // camouflage: thresholded low-frequency noise
      return smoothstep(0.05, 0.25, fbm(u / p + 7.3 * t.phase, Math.abs(v) / p, t.seed, 3));
    case 'scales': { // offset rows of arcs
      const row = Math.floor(Math.abs(v) / p + t.phase);
      const fu = frac(u / p + 0.5 * (row & 1)) - 0.5, fv = frac(Math.abs(v) / p + t.phase);
      const d = Math.hypot(fu, fv);
      return 1 - smoothstep(0.05, 0.12, Math.abs(d - 0.5));
    }
    case 'plates': { // large plates separated by dark seams, rows offset
      const col = Math.floor(u / p + t.phase);
      const fu = frac(u / p + t.phase), fv = frac(Math.abs(v) / p + 0.5 * (col & 1));
      const e = Math.min(fu, 1 - fu, fv, 1 - fv);
      return 1 - smoothstep(0.04, 0.09, e);
    }
    case 'fur': // anisotropic fine noise along the axis
      return smoothstep(-0.4, 0.6, valueNoise(u / (5 * p), Math.abs(v) / p, t.seed) + 0.5 * valueNoise(u / (2.5 * p), Math.abs(v) / (0.5 * p), t.seed ^ 0x55));
  }
}

/** Round dots, one per cell of a square lattice of period p, jittered inside the cell. */
function cellDots(u: number, v: number, p: number, radius: number, seed: number): number {
  const x = u / p, y = Math.abs(v) / p;
  const ix = Math.floor(x), iy = Math.floor(y);
  const room = 0.5 - radius;
  const jx = 0.5 + room * (2 * hash2(ix, iy, seed) - 1), jy = 0.5 + room * (2 * hash2(ix, iy, seed ^ 0x9e37) - 1);
  const present = hash2(ix, iy, seed ^ 0x7f4a) < 0.85;
  if (!present) return 0;
  const r = radius * (0.7 + 0.3 * hash2(ix, iy, seed ^ 0x1234));
  return 1 - smoothstep(r - 0.06, r + 0.02, Math.hypot(x - ix - jx, y - iy - jy));
}
