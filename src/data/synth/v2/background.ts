/**
 * Backgrounds and class-free distractors of benchmark v2. A scene is either an outdoor view
 * (sky or wall above a tilted horizon, a treeline of noisy height, textured ground whose grain
 * grows toward the bottom) or one textured surface, lit by a gradient. Distractors use only
 * shapes and textures no class uses: sticks (thick segments), boards (rotated rectangles,
 * plain or plaid), pebbles (small plain blobs) and bushes (noise-edged foliage).
 */
import type { Rng } from '../../../engine/random.js';
import { fillPolygon, randomOutline } from '../shapes.js';
import { fbm, hsv, valueNoise } from './noise.js';
import { segmentPolygon } from './outline.js';

/** A float RGB image being painted (values in 0..255, unclamped until the end). */
export interface Canvas {
  width: number;
  height: number;
  rgb: Float32Array;
}

type Rgb = [number, number, number];

const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[rng.int(0, xs.length)];
const hsvIn = (rng: Rng, h: [number, number], s: [number, number], v: [number, number]): Rgb => hsv(rng.uniform(h[0], h[1]), rng.uniform(s[0], s[1]), rng.uniform(v[0], v[1]));

const UPPER = [
  { h: [190, 225], s: [0.1, 0.45], v: [0.72, 0.95] }, // sky
  { h: [0, 360], s: [0.04, 0.25], v: [0.5, 0.9] }, // wall
] as const;
const GROUND = [
  { h: [70, 130], s: [0.3, 0.6], v: [0.3, 0.6] }, // grass
  { h: [18, 40], s: [0.3, 0.6], v: [0.28, 0.55] }, // soil
  { h: [35, 50], s: [0.2, 0.4], v: [0.6, 0.85] }, // sand
  { h: [0, 360], s: [0.0, 0.1], v: [0.35, 0.7] }, // stone, asphalt
  { h: [0, 360], s: [0.1, 0.4], v: [0.3, 0.8] }, // floor, table
] as const;

/** Paints the whole canvas with a random scene background. */
export function paintBackground(rng: Rng, c: Canvas): void {
  const W = c.width, H = c.height, side = Math.min(W, H);
  const outdoor = rng.bernoulli(0.65);
  const up = pick(rng, UPPER), gr = pick(rng, GROUND);
  const upper = hsvIn(rng, [up.h[0], up.h[1]], [up.s[0], up.s[1]], [up.v[0], up.v[1]]);
  const ground = hsvIn(rng, [gr.h[0], gr.h[1]], [gr.s[0], gr.s[1]], [gr.v[0], gr.v[1]]);
  const tree = hsvIn(rng, [80, 160], [0.2, 0.5], [0.2, 0.45]);
  const horizon = rng.uniform(0.2, 0.5) * H, tilt = rng.uniform(-0.12, 0.12);
  const treeH = rng.bernoulli(0.6) ? rng.uniform(0.04, 0.14) * H : 0;
  const seed = rng.nextUint32();
  const gA = rng.uniform(0, 2 * Math.PI), gAmp = rng.uniform(10, 35);
  const gx = Math.cos(gA) / side, gy = Math.sin(gA) / side;
  const grain = rng.uniform(0.015, 0.04) * side, grainAmp = rng.uniform(10, 28), blotch = rng.uniform(0.2, 0.5) * side, blotchAmp = rng.uniform(10, 30);
  const tint = [rng.uniform(-1, 1), rng.uniform(-1, 1), rng.uniform(-1, 1)];
  const rgb = c.rgb;
  for (let y = 0, p = 0; y < H; y++) {
    for (let x = 0; x < W; x++, p++) {
      const lit = gAmp * ((x - W / 2) * gx + (y - H / 2) * gy);
      const hz = horizon + tilt * (x - W / 2);
      let base: Rgb, amp: number;
      if (!outdoor || y >= hz) {
        // Ground or surface: blotches plus grain that grows toward the viewer.
        // Ground coordinates: scale 1 / persp with depth (the row integral of it is a logarithm).
        const persp = outdoor ? 0.3 + (1.7 * (y - hz)) / H : 1;
        const gxc = (x - W / 2) / (grain * persp), gyc = outdoor ? (H / 1.7) * Math.log(persp) / (0.6 * grain) : y / grain;
        const g = valueNoise(gxc, gyc, seed) + 0.5 * valueNoise(2 * gxc, 2 * gyc, seed ^ 7);
        base = ground;
        amp = grainAmp * g + blotchAmp * fbm(x / blotch, y / blotch, seed ^ 0x51, 3);
      } else if (treeH > 0 && y >= hz - treeH * (0.55 + 0.45 * fbm(x / (0.08 * side), 0, seed ^ 0x33, 3))) {
        base = tree; // treeline
        amp = 18 * fbm(x / (0.03 * side), y / (0.03 * side), seed ^ 0x77, 2);
      } else {
        base = upper;
        amp = 0.6 * blotchAmp * fbm(x / (1.5 * blotch), y / (0.6 * blotch), seed ^ 0x99, 3);
      }
      const v = lit + amp;
      rgb[3 * p] = base[0] + v + 6 * tint[0] * (amp / 30);
      rgb[3 * p + 1] = base[1] + v + 6 * tint[1] * (amp / 30);
      rgb[3 * p + 2] = base[2] + v + 6 * tint[2] * (amp / 30);
    }
  }
}

/** A class-free distractor whose coverage is set in `cov`; `paint` draws it where `cov` is 1. */
export interface Distractor {
  kind: 'stick' | 'board' | 'pebble' | 'bush';
  /** Pixels covered. */
  area: number;
  /** Bounding box of the covered pixels, [x0, y0, x1, y1] inclusive-exclusive. */
  box: [number, number, number, number];
  paint(c: Canvas, cov: Uint8Array): void;
}

/**
 * Draws a random distractor's coverage into `cov` (cleared first) and returns it with its
 * painter. `kinds` limits the choice (occluders in front of objects are sticks, boards and
 * bushes).
 */
export function makeDistractor(rng: Rng, W: number, H: number, cov: Uint8Array, kinds: readonly Distractor['kind'][]): Distractor {
  const side = Math.min(W, H), kind = pick(rng, kinds);
  cov.fill(0);
  const x = rng.uniform(0, W), y = rng.uniform(0, H);
  const light = rng.uniform(-12, 12), seed = rng.nextUint32();
  let box: Distractor['box'] = [0, 0, W, H], area = 0, colour: Rgb, colour2: Rgb | null = null, stripe = 0, ang = 0;
  if (kind === 'stick' || kind === 'board') {
    ang = rng.bernoulli(0.4) ? rng.uniform(-0.15, 0.15) + (rng.bernoulli(0.5) ? Math.PI / 2 : 0) : rng.uniform(0, Math.PI);
    const len = (kind === 'stick' ? rng.uniform(0.3, 0.9) : rng.uniform(0.2, 0.5)) * side;
    const w = kind === 'stick' ? rng.uniform(0.012, 0.03) * side : len / rng.uniform(1.8, 4);
    const dx = (Math.cos(ang) * len) / 2, dy = (Math.sin(ang) * len) / 2;
    const poly = segmentPolygon(x - dx, y - dy, x + dx, y + dy, w);
    area = fillPolygon(poly, cov, W, H);
    box = polyBox(poly, W, H);
    colour = kind === 'stick' ? hsvIn(rng, [15, 40], [0.2, 0.6], [0.15, 0.45]) : hsvIn(rng, [0, 360], [0.05, 0.5], [0.3, 0.9]);
    if (kind === 'board' && rng.bernoulli(0.6)) {
      colour2 = hsvIn(rng, [0, 360], [0.3, 0.8], [0.2, 0.9]);
      stripe = rng.uniform(0.03, 0.07) * side;
    }
  } else if (kind === 'pebble') {
    const poly = randomOutline(rng, x, y, rng.uniform(0.025, 0.07) * side);
    area = fillPolygon(poly, cov, W, H);
    box = polyBox(poly, W, H);
    colour = hsvIn(rng, [0, 360], [0, 0.25], [0.3, 0.85]);
  } else {
    const R = rng.uniform(0.08, 0.2) * side, s = rng.uniform(0.04, 0.08) * side;
    box = [Math.max(0, Math.floor(x - 1.3 * R)), Math.max(0, Math.floor(y - 1.3 * R)), Math.min(W, Math.ceil(x + 1.3 * R)), Math.min(H, Math.ceil(y + 1.3 * R))];
    for (let yy = box[1]; yy < box[3]; yy++) {
      for (let xx = box[0]; xx < box[2]; xx++) {
        const d = Math.hypot(xx + 0.5 - x, yy + 0.5 - y) / R;
        if (1 - d + 0.45 * fbm((xx + 0.5) / s, (yy + 0.5) / s, seed, 3) > 0.35) {
          cov[yy * W + xx] = 1;
          area++;
        }
      }
    }
    colour = hsvIn(rng, [60, 150], [0.3, 0.7], [0.15, 0.45]);
  }
  const paint = (c: Canvas, m: Uint8Array) => {
    const rgb = c.rgb, ca = Math.cos(ang), sa = Math.sin(ang);
    for (let yy = box[1]; yy < box[3]; yy++) {
      for (let xx = box[0]; xx < box[2]; xx++) {
        const p = yy * W + xx;
        if (!m[p]) continue;
        let col = colour, v = light * (((xx - x) * ca + (yy - y) * sa) / side) * 4;
        if (kind === 'bush') v += 40 * valueNoise(xx / (0.012 * side), yy / (0.012 * side), seed ^ 0x3c);
        else v += 6 * valueNoise(xx / 3, yy / 3, seed);
        if (colour2) {
          // Plaid: two crossing sets of coloured stripes in the board's frame.
          const u = ((xx - x) * ca + (yy - y) * sa) / stripe, w = (-(xx - x) * sa + (yy - y) * ca) / stripe;
          const a = u - Math.floor(u) < 0.35, b = w - Math.floor(w) < 0.35;
          if (a && b) col = colour2;
          else if (a || b) col = [(col[0] + colour2[0]) / 2, (col[1] + colour2[1]) / 2, (col[2] + colour2[2]) / 2];
        }
        rgb[3 * p] = col[0] + v;
        rgb[3 * p + 1] = col[1] + v;
        rgb[3 * p + 2] = col[2] + v;
      }
    }
  };
  return { kind, area, box, paint };
}

/** Bounding box of a polygon clipped to the image, [x0, y0, x1, y1) in whole pixels. */
export function polyBox(poly: Float64Array, W: number, H: number): [number, number, number, number] {
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (let i = 0; i < poly.length; i += 2) {
    x0 = Math.min(x0, poly[i]);
    x1 = Math.max(x1, poly[i]);
    y0 = Math.min(y0, poly[i + 1]);
    y1 = Math.max(y1, poly[i + 1]);
  }
  return [Math.max(0, Math.floor(x0)), Math.max(0, Math.floor(y0)), Math.min(W, Math.ceil(x1) + 1), Math.min(H, Math.ceil(y1) + 1)];
}
