/**
 * Renders one sample of the synthetic benchmark: a pure function of (params, split, index).
 *
 * The image poses the two problems the add-on targets (METHOD 1):
 * - discriminative parts: every object is a body of a random solid colour with the same mild
 *   texture for all classes, plus a small class mark (a pattern on 5-15% of the body, see
 *   patterns.ts) that alone tells the class; the mask covers the whole body;
 * - colour-edge contours: bodies differ in colour from the background and from each other;
 *   the background is a smooth gradient with noise and class-free clutter blobs.
 * Objects (1-3, of different classes) are drawn in order, later ones on top. A layout is
 * redrawn when a new body would hide part of an earlier object's mark or leave less than half
 * of an earlier body visible, so every labelled class shows its mark and its body.
 */
import { HfplError } from '../../errors.js';
import { Rng } from '../../engine/random.js';
import type { LabelMap } from '../label-png.js';
import type { RgbImage } from '../types.js';
import { synthSampleId, synthSampleSeed, type SynthParams, type SynthSplit } from './params.js';
import { markInk } from './patterns.js';
import { boxSum, fillPolygon, integral, randomOutline } from './shapes.js';

/** Where one object of a sample lies. */
export interface SynthObject {
  /** Class index (1-based). */
  cls: number;
  /** Body pixels when drawn. */
  area: number;
  /** Body pixels still visible in the final image (in the mask). */
  visible: number;
  /** The class mark's square: top-left corner and side, pixels. */
  mark: { x: number; y: number; size: number };
  /** Body colour (RGB). */
  color: [number, number, number];
}

/** One rendered sample. */
export interface SynthSample {
  id: string;
  image: RgbImage;
  /** Class index per pixel (0 = background). */
  mask: LabelMap;
  /** Classes present, ascending (1-based). */
  labels: number[];
  objects: SynthObject[];
}

type Rgb = [number, number, number];

/** Body radius scale with 1, 2, 3 objects (so several bodies fit). */
const COUNT_SCALE = [1, 0.85, 0.72];
/** Smallest RGB distance between a body and the background, clutter and other bodies. */
const MIN_COLOR_DIST = 90;
/** Smallest luminance difference between a mark's ink and its body. */
const INK_CONTRAST = 100;
const BG_NOISE = 5, BODY_NOISE = 8, BODY_SHADE = 14, INK_NOISE = 4;

const clamp255 = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : v);
const luma = (c: Rgb) => 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2];

/**
 * Renders sample `index` of `split`. Deterministic: the same (params, split, index) gives the
 * same bytes on every run and machine.
 *
 * @example
 * const s = renderSynthSample(resolveSynthParams(), 'train', 0);
 * // s.image: 128 x 128 RGB, s.mask: class per pixel, s.labels e.g. [2, 5]
 */
export function renderSynthSample(params: SynthParams, split: SynthSplit, index: number): SynthSample {
  const rng = new Rng(synthSampleSeed(params.seed, split, index));
  const W = params.width, H = params.height, N = W * H, side = Math.min(W, H);
  const img = new Uint8Array(N * 3);
  const mask = new Uint8Array(N);
  const cov = new Uint8Array(N);
  let noise = rng.nextUint32() | 1; // xorshift32 state for per-pixel noise
  const nextNoise = () => {
    noise ^= noise << 13;
    noise ^= noise >>> 17;
    noise ^= noise << 5;
    return (noise >>> 0) / 4294967296 - 0.5;
  };

  // Background: linear gradient between two colours, with gray noise.
  const bg0 = randomColor(rng);
  const bg1 = bg0.map((c) => clamp255(c + rng.uniform(-70, 70))) as Rgb;
  const ga = rng.uniform(0, 2 * Math.PI), gx = Math.cos(ga) / Math.hypot(W, H), gy = Math.sin(ga) / Math.hypot(W, H);
  const bgAt = (x: number, y: number): Rgb => {
    const t = Math.min(1, Math.max(0, 0.5 + (x - W / 2) * gx + (y - H / 2) * gy));
    return [bg0[0] + t * (bg1[0] - bg0[0]), bg0[1] + t * (bg1[1] - bg0[1]), bg0[2] + t * (bg1[2] - bg0[2])];
  };
  for (let y = 0, p = 0; y < H; y++) {
    for (let x = 0; x < W; x++, p++) {
      const t = Math.min(1, Math.max(0, 0.5 + (x + 0.5 - W / 2) * gx + (y + 0.5 - H / 2) * gy));
      const n = 2 * BG_NOISE * nextNoise();
      img[3 * p] = clamp255(bg0[0] + t * (bg1[0] - bg0[0]) + n);
      img[3 * p + 1] = clamp255(bg0[1] + t * (bg1[1] - bg0[1]) + n);
      img[3 * p + 2] = clamp255(bg0[2] + t * (bg1[2] - bg0[2]) + n);
    }
  }
  const avoid: Rgb[] = [bg0, bg1];

  // Clutter: small class-free blobs (mask stays 0).
  const nClutter = rng.int(params.clutter[0], params.clutter[1] + 1);
  for (let k = 0; k < nClutter; k++) {
    const r = rng.uniform(0.04, 0.1) * side;
    cov.fill(0);
    fillPolygon(randomOutline(rng, rng.uniform(0, W), rng.uniform(0, H), r), cov, W, H);
    const c = randomColor(rng);
    avoid.push(c);
    paintBody(img, cov, W, H, c, rng, nextNoise, 0, null);
  }

  // Objects of distinct classes.
  const n = rng.int(params.objects[0], params.objects[1] + 1);
  const classes = rng.shuffle(Array.from({ length: params.classes }, (_, i) => i + 1)).slice(0, n) as number[];
  const scale = COUNT_SCALE[n - 1];
  const owner = new Int8Array(N).fill(-1);
  const objects: SynthObject[] = [];
  const minMark = Math.ceil(params.minMark * side);
  const margin = Math.max(1, Math.round(0.015 * side));
  for (const cls of classes) {
    const maxTries = objects.length === 0 ? 500 : 60;
    for (let attempt = 0; attempt < maxTries; attempt++) {
      const r = rng.uniform(params.radius[0], params.radius[1]) * side * scale;
      const cx = rng.uniform(0.15, 0.85) * W, cy = rng.uniform(0.15, 0.85) * H;
      const poly = randomOutline(rng, cx, cy, r);
      cov.fill(0);
      const area = fillPolygon(poly, cov, W, H);
      const size = Math.max(Math.round(Math.sqrt(rng.uniform(params.markFraction[0], params.markFraction[1]) * area)), minMark);
      if (size < 2 || size * size > params.markFraction[1] * area) continue;
      const sat = integral(cov, W, H);
      const mark = placeMark(rng, sat, W, H, cx, cy, r, size, margin);
      if (!mark) continue;
      if (objects.some((o) => boxSum(sat, W, H, o.mark.x - 1, o.mark.y - 1, o.mark.size + 2, o.mark.size + 2) > 0)) continue;
      if (!keepsHalfVisible(cov, owner, objects)) continue;
      const color = pickColor(rng, [...avoid, bgAt(cx, cy), ...objects.map((o) => o.color)]);
      const oi = objects.length;
      for (let p = 0; p < N; p++) {
        if (cov[p]) {
          const prev = owner[p];
          if (prev >= 0) objects[prev].visible--;
          owner[p] = oi;
          mask[p] = cls;
        }
      }
      paintBody(img, cov, W, H, color, rng, nextNoise, r, [cx, cy]);
      paintMark(img, W, cls, mark, inkColor(rng, color), nextNoise);
      objects.push({ cls, area, visible: area, mark, color });
      break;
    }
    if (objects.length === 0) {
      throw new HfplError('E_CONFIG', `synth: no object with a mark fits ${W}x${H} images with radius ${JSON.stringify(params.radius)}; raise radius or lower minMark`);
    }
  }
  const labels = objects.map((o) => o.cls).sort((a, b) => a - b);
  return { id: synthSampleId(split, index), image: { data: img, width: W, height: H }, mask: { data: mask, width: W, height: H }, labels, objects };
}

function randomColor(rng: Rng): Rgb {
  return [rng.int(0, 256), rng.int(0, 256), rng.int(0, 256)];
}

/** A random colour at least MIN_COLOR_DIST from all of `avoid` (the farthest of 40 draws otherwise). */
function pickColor(rng: Rng, avoid: Rgb[]): Rgb {
  let best: Rgb = randomColor(rng), bestD = -1;
  for (let t = 0; t < 40; t++) {
    const c = t === 0 ? best : randomColor(rng);
    let d = Infinity;
    for (const a of avoid) d = Math.min(d, Math.hypot(c[0] - a[0], c[1] - a[1], c[2] - a[2]));
    if (d > bestD) {
      best = c;
      bestD = d;
    }
    if (d >= MIN_COLOR_DIST) break;
  }
  return best;
}

/** A random hue pushed darker or lighter than the body so that the luminance differs by INK_CONTRAST. */
function inkColor(rng: Rng, body: Rgb): Rgb {
  const c = randomColor(rng), lb = luma(body), lc = Math.max(1, luma(c));
  if (lb >= 128) {
    const k = Math.min(1, (lb - INK_CONTRAST) / lc);
    return c.map((v) => Math.round(v * k)) as Rgb;
  }
  const target = lb + INK_CONTRAST;
  const k = lc >= target ? 0 : (target - lc) / (255 - lc);
  return c.map((v) => Math.round(v + (255 - v) * k)) as Rgb;
}

/** A random top-left corner for a size x size mark whose margin-expanded box lies inside the body. */
function placeMark(rng: Rng, sat: Int32Array, W: number, H: number, cx: number, cy: number, r: number, size: number, margin: number): SynthObject['mark'] | null {
  const full = (size + 2 * margin) ** 2;
  const x0 = Math.max(margin, Math.floor(cx - 1.2 * r)), x1 = Math.min(W - size - margin, Math.ceil(cx + 1.2 * r - size));
  const y0 = Math.max(margin, Math.floor(cy - 1.2 * r)), y1 = Math.min(H - size - margin, Math.ceil(cy + 1.2 * r - size));
  if (x1 < x0 || y1 < y0) return null;
  for (let t = 0; t < 30; t++) {
    const x = rng.int(x0, x1 + 1), y = rng.int(y0, y1 + 1);
    if (boxSum(sat, W, H, x - margin, y - margin, size + 2 * margin, size + 2 * margin) === full) return { x, y, size };
  }
  return null;
}

/** True when drawing `cov` on top leaves at least half of every earlier body visible. */
function keepsHalfVisible(cov: Uint8Array, owner: Int8Array, objects: SynthObject[]): boolean {
  if (objects.length === 0) return true;
  const hidden = new Int32Array(objects.length);
  for (let p = 0; p < cov.length; p++) if (cov[p] && owner[p] >= 0) hidden[owner[p]]++;
  return objects.every((o, i) => o.visible - hidden[i] >= 0.5 * o.area);
}

/** Paints covered pixels: colour + linear shading across the body (if `centre`) + gray noise. */
function paintBody(img: Uint8Array, cov: Uint8Array, W: number, H: number, c: Rgb, rng: Rng, noise: () => number, r: number, centre: [number, number] | null): void {
  const a = rng.uniform(0, 2 * Math.PI);
  const sx = centre ? (Math.cos(a) * BODY_SHADE) / r : 0, sy = centre ? (Math.sin(a) * BODY_SHADE) / r : 0;
  const cx = centre ? centre[0] : 0, cy = centre ? centre[1] : 0;
  const amp = 2 * (centre ? BODY_NOISE : BG_NOISE);
  for (let y = 0, p = 0; y < H; y++) {
    const dy = (y + 0.5 - cy) * sy;
    for (let x = 0; x < W; x++, p++) {
      if (!cov[p]) continue;
      const v = (x + 0.5 - cx) * sx + dy + amp * noise();
      img[3 * p] = clamp255(c[0] + v);
      img[3 * p + 1] = clamp255(c[1] + v);
      img[3 * p + 2] = clamp255(c[2] + v);
    }
  }
}

function paintMark(img: Uint8Array, W: number, cls: number, m: SynthObject['mark'], ink: Rgb, noise: () => number): void {
  const pattern = markInk(cls, m.size);
  for (let y = 0; y < m.size; y++) {
    for (let x = 0; x < m.size; x++) {
      if (!pattern[y * m.size + x]) continue;
      const p = (m.y + y) * W + m.x + x, v = 2 * INK_NOISE * noise();
      img[3 * p] = clamp255(ink[0] + v);
      img[3 * p + 1] = clamp255(ink[1] + v);
      img[3 * p + 2] = clamp255(ink[2] + v);
    }
  }
}
