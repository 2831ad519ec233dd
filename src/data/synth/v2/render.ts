/**
 * Renders one sample of benchmark v2, a miniature of natural photos: a pure function of
 * (params, split, index). Design (docs/benchmark-v2.md):
 * - a scene background (background.ts) with class-free distractors behind the objects;
 * - 1-3 objects of distinct classes, of log-uniform size, drawn in order (later ones hide
 *   earlier ones, in the image and in the mask). Each carries its class's evidence over the
 *   whole body (shape family, colour family, body texture: species.ts, texture.ts) and one
 *   most-discriminative part, a disc with the class glyph (patterns.ts). Bodies are lit by one
 *   light per image (a gradient, a darker rim) and cast a soft shadow; some have a lighter
 *   belly, so colour edges also run inside objects;
 * - 0-2 class-free occluders in front of the objects (mask 0 where they lie);
 * - camera effects: white balance, vignetting, a 3 x 3 lens blur and sensor noise.
 * A layout is redrawn when it would hide any part of a discriminative part or leave less than
 * 40% of an earlier body visible, so every labelled class shows its part and most of its body.
 */
import { HfplError } from '../../../errors.js';
import { Rng } from '../../../engine/random.js';
import type { LabelMap } from '../../label-png.js';
import type { RgbImage } from '../../types.js';
import { synthSampleId, synthSampleSeed, type SynthSplit } from '../params.js';
import { markInk } from '../patterns.js';
import { boxSum, fillPolygon, integral } from '../shapes.js';
import { makeDistractor, paintBackground, polyBox, type Canvas } from './background.js';
import { hsv, smoothstep, xorshiftNoise } from './noise.js';
import { familyOutline, fromFrame, type Frame } from './outline.js';
import type { SynthV2Params } from './params.js';
import { SPECIES } from './species.js';
import { textureInk, type TextureParams } from './texture.js';

type Rgb = [number, number, number];

/** One object of a v2 sample. */
export interface SynthV2Object {
  /** Class index (1-based). */
  cls: number;
  frame: Frame;
  /** Body pixels when drawn. */
  area: number;
  /** Body pixels visible in the final image (in the mask). */
  visible: number;
  /** The discriminative part: a disc (pixels), centre and radius. */
  part: { cx: number; cy: number; r: number };
  /** Body colour before texture and shading. */
  color: Rgb;
  texture: TextureParams;
}

/** One rendered v2 sample. */
export interface SynthV2Sample {
  id: string;
  image: RgbImage;
  /** Class index per pixel (0 = background, distractors and occluders). */
  mask: LabelMap;
  /** Classes present, ascending (1-based). */
  labels: number[];
  objects: SynthV2Object[];
  /** Occluders drawn in front of the objects. */
  occluders: number;
}

/** Radius scale with 1, 2, 3 objects. */
const COUNT_SCALE = [1, 0.85, 0.75];
/** Smallest visible fraction of an earlier body. */
const MIN_VISIBLE = 0.4;
/** Chance that a body's brightness matches its surroundings. */
const CAMOUFLAGE = 0.4;
/** Chance that a body loses its edge on one side (blends into its surroundings). */
const LOST_EDGE = 0.35;
/** Smallest luminance difference between the glyph ink and the part's base colour. */
const INK_CONTRAST = 95;
const luma = (c: Rgb) => 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2];

/**
 * Renders sample `index` of `split` of benchmark v2. Deterministic: the same (params, split,
 * index) gives the same bytes on every run and machine.
 *
 * @example
 * const s = renderSynthV2Sample(resolveSynthV2Params(), 'train', 0);
 * // s.image: 320 x 240 RGB, s.mask: class per pixel, s.labels e.g. [2, 5]
 */
export function renderSynthV2Sample(params: SynthV2Params, split: SynthSplit, index: number): SynthV2Sample {
  const rng = new Rng((synthSampleSeed(params.seed, split, index) ^ 0x2b5e2b5e) >>> 0);
  const W = params.width, H = params.height, N = W * H, side = Math.min(W, H);
  const canvas: Canvas = { width: W, height: H, rgb: new Float32Array(3 * N) };
  const mask = new Uint8Array(N), owner = new Int8Array(N).fill(-1), cov = new Uint8Array(N);
  paintBackground(rng, canvas);
  const la = rng.uniform(0, 2 * Math.PI), light: [number, number] = [Math.cos(la), Math.sin(la)];

  const nBehind = rng.int(params.distractors[0], params.distractors[1] + 1);
  for (let k = 0; k < nBehind; k++) makeDistractor(rng, W, H, cov, ['stick', 'board', 'pebble', 'pebble', 'bush']).paint(canvas, cov);

  const n = rng.int(params.objects[0], params.objects[1] + 1);
  const classes = rng.shuffle(Array.from({ length: params.classes }, (_, i) => i + 1)).slice(0, n) as number[];
  const objects: SynthV2Object[] = [];
  for (const cls of classes) {
    const sp = SPECIES[cls - 1];
    const maxTries = objects.length === 0 ? 400 : 80;
    for (let attempt = 0; attempt < maxTries; attempt++) {
      const r = side * COUNT_SCALE[n - 1] * Math.exp(rng.uniform(Math.log(params.radius[0]), Math.log(params.radius[1])));
      const aspect = rng.uniform(sp.aspect[0], sp.aspect[1]);
      let cx: number, cy: number;
      if (objects.length > 0 && rng.bernoulli(0.5)) {
        const o = objects[rng.int(0, objects.length)].frame, t = rng.uniform(0, 2 * Math.PI), d = rng.uniform(0.6, 1.1) * (o.r + r);
        cx = o.cx + d * Math.cos(t);
        cy = o.cy + d * Math.sin(t);
      } else {
        cx = rng.uniform(0.12, 0.88) * W;
        cy = rng.uniform(0.2, 0.88) * H;
      }
      const frame: Frame = { cx, cy, theta: rng.uniform(0, 2 * Math.PI), r, a: r * Math.sqrt(aspect), b: r / Math.sqrt(aspect) };
      const poly = familyOutline(rng, sp.shape, frame);
      cov.fill(0);
      const area = fillPolygon(poly, cov, W, H);
      if (area < 0.3 * Math.PI * r * r) continue; // mostly outside the image
      const rp = Math.max(Math.sqrt((rng.uniform(params.partFraction[0], params.partFraction[1]) * area) / Math.PI), params.minPart * side);
      if (Math.PI * rp * rp > 0.3 * area) continue;
      const part = placePart(rng, frame, cov, W, H, rp);
      if (!part) continue;
      if (objects.some((o) => discTouches(o.part, cov, W, H, 1))) continue;
      if (!keepsVisible(cov, owner, objects)) continue;
      const obj = paintObject(rng, canvas, cov, poly, frame, part, cls, params.bodyCue, light, area);
      const oi = objects.length;
      for (let p = 0; p < N; p++) {
        if (!cov[p]) continue;
        if (owner[p] >= 0) objects[owner[p]].visible--;
        owner[p] = oi;
        mask[p] = cls;
      }
      objects.push(obj);
      break;
    }
    if (objects.length === 0) {
      throw new HfplError('E_CONFIG', `synth v2: no object with a part fits ${W}x${H} images with radius ${JSON.stringify(params.radius)}; raise radius or lower minPart`);
    }
  }

  // Occluders in front: they must not touch a part nor hide too much of a body.
  let occluders = 0;
  const nFront = rng.int(params.occluders[0], params.occluders[1] + 1);
  for (let k = 0; k < nFront; k++) {
    for (let t = 0; t < 10; t++) {
      const d = makeDistractor(rng, W, H, cov, ['stick', 'stick', 'board', 'bush']);
      if (objects.some((o) => discTouches(o.part, cov, W, H, 2))) continue;
      if (!keepsVisible(cov, owner, objects)) continue;
      d.paint(canvas, cov);
      for (let p = 0; p < N; p++) {
        if (!cov[p] || owner[p] < 0) continue;
        objects[owner[p]].visible--;
        owner[p] = -1;
        mask[p] = 0;
      }
      occluders++;
      break;
    }
  }

  const img = finishPhoto(rng, canvas);
  const labels = objects.map((o) => o.cls).sort((a, b) => a - b);
  return { id: synthSampleId(split, index), image: { data: img, width: W, height: H }, mask: { data: mask, width: W, height: H }, labels, objects, occluders };
}

/** The part disc near one end of the major axis, moved inward until it lies inside the body with a margin. */
function placePart(rng: Rng, f: Frame, cov: Uint8Array, W: number, H: number, rp: number): SynthV2Object['part'] | null {
  const end = rng.bernoulli(0.5) ? 1 : -1, off = rng.uniform(-0.15, 0.15);
  for (let k = 0.8; k >= 0; k -= 0.05) {
    const [px, py] = fromFrame(f, (end * k * f.a) / f.r, (off * f.b) / f.r);
    const part = { cx: px, cy: py, r: rp };
    if (discInside(part, cov, W, H, Math.max(1, 0.1 * rp))) return part;
  }
  return null;
}

/** True when the disc grown by `margin` lies inside the image and inside `cov`. */
function discInside(d: SynthV2Object['part'], cov: Uint8Array, W: number, H: number, margin: number): boolean {
  const R = d.r + margin;
  if (d.cx - R < 0 || d.cy - R < 0 || d.cx + R > W || d.cy + R > H) return false;
  for (let y = Math.floor(d.cy - R); y <= Math.ceil(d.cy + R); y++) {
    for (let x = Math.floor(d.cx - R); x <= Math.ceil(d.cx + R); x++) {
      if ((x + 0.5 - d.cx) ** 2 + (y + 0.5 - d.cy) ** 2 <= R * R && (x < 0 || y < 0 || x >= W || y >= H || !cov[y * W + x])) return false;
    }
  }
  return true;
}

/** True when `cov` covers any pixel of the disc grown by `margin`. */
function discTouches(d: SynthV2Object['part'], cov: Uint8Array, W: number, H: number, margin: number): boolean {
  const R = d.r + margin;
  for (let y = Math.max(0, Math.floor(d.cy - R)); y <= Math.min(H - 1, Math.ceil(d.cy + R)); y++) {
    for (let x = Math.max(0, Math.floor(d.cx - R)); x <= Math.min(W - 1, Math.ceil(d.cx + R)); x++) {
      if (cov[y * W + x] && (x + 0.5 - d.cx) ** 2 + (y + 0.5 - d.cy) ** 2 <= R * R) return true;
    }
  }
  return false;
}

/** True when drawing `cov` on top leaves at least MIN_VISIBLE of every earlier body visible. */
function keepsVisible(cov: Uint8Array, owner: Int8Array, objects: SynthV2Object[]): boolean {
  if (objects.length === 0) return true;
  const hidden = new Int32Array(objects.length);
  for (let p = 0; p < cov.length; p++) if (cov[p] && owner[p] >= 0) hidden[owner[p]]++;
  return objects.every((o, i) => o.visible - hidden[i] >= MIN_VISIBLE * o.area);
}

/**
 * Paints one object: its soft cast shadow on what lies below, then the body (colour family,
 * belly, texture, light gradient and darker rim, fine noise) and the part disc with its glyph.
 */
function paintObject(rng: Rng, c: Canvas, cov: Uint8Array, poly: Float64Array, f: Frame, part: SynthV2Object['part'], cls: number, bodyCue: number, light: [number, number], area: number): SynthV2Object {
  const W = c.width, H = c.height, rgb = c.rgb, sp = SPECIES[cls - 1];
  const randomHue = rng.bernoulli((1 - bodyCue) / 2);
  const hue = randomHue ? rng.uniform(0, 360) : sp.hue[0] + rng.uniform(-sp.hue[1], sp.hue[1]);
  const sat = randomHue ? rng.uniform(0.2, 0.7) : rng.uniform(sp.saturation[0], sp.saturation[1]);
  let val = rng.uniform(sp.value[0], sp.value[1]);
  if (rng.bernoulli(CAMOUFLAGE)) {
    // Camouflage: the body's brightness matches what lies around it, so parts of its contour fade.
    const l = meanLuma(c, f), l0 = luma(hsv(hue, sat, 1));
    val = Math.min(1, Math.max(0.15, (l + rng.uniform(-12, 12)) / Math.max(1, l0)));
  }
  const color = hsv(hue, sat, val);
  const ink = rng.bernoulli(0.75) ? hsv(hue + rng.uniform(-20, 20), Math.min(1, sat + 0.15), val * rng.uniform(0.25, 0.5)) : hsv(hue + rng.uniform(-20, 20), sat * 0.4, Math.min(1, 0.35 + val * 0.75));
  const contrast = 0.5 * (1 + bodyCue) * rng.uniform(sp.contrast[0], sp.contrast[1]);
  const texture: TextureParams = { kind: sp.texture, period: rng.uniform(sp.period[0], sp.period[1]), phase: rng.next(), seed: rng.nextUint32() };
  const belly = rng.bernoulli(0.45) ? { side: rng.bernoulli(0.5) ? 1 : -1, off: rng.uniform(0.05, 0.35) * (f.b / f.r), mix: rng.uniform(0.2, 0.4) } : null;
  const gradient = rng.uniform(0.08, 0.2), rim = rng.uniform(0.05, 0.25), grain = rng.uniform(3, 7);
  // Lost edge: on one side, the body's rim blends into what lies behind it (haze, deep shadow).
  const fa = rng.uniform(0, 2 * Math.PI), lost = rng.bernoulli(LOST_EDGE) ? { x: Math.cos(fa), y: Math.sin(fa), k: rng.uniform(0.5, 0.9) } : null;
  const nextNoise = xorshiftNoise(rng.nextUint32());
  const [bx0, by0, bx1, by1] = polyBox(poly, W, H);
  const sat2 = integral(cov, W, H);

  // Cast shadow: the body's coverage, shifted away from the light and box-blurred.
  const sh = Math.max(2, Math.round(0.12 * f.r)), ox = -light[0] * 0.2 * f.r, oy = -light[1] * 0.2 * f.r, dark = rng.uniform(0.3, 0.5);
  const pad = sh + Math.ceil(Math.abs(ox) + Math.abs(oy));
  for (let y = Math.max(0, by0 - pad); y < Math.min(H, by1 + pad); y++) {
    for (let x = Math.max(0, bx0 - pad); x < Math.min(W, bx1 + pad); x++) {
      const p = y * W + x;
      if (cov[p]) continue;
      const s = boxSum(sat2, W, H, Math.round(x - ox) - sh, Math.round(y - oy) - sh, 2 * sh + 1, 2 * sh + 1) / (2 * sh + 1) ** 2;
      if (s <= 0) continue;
      const k = 1 - dark * s;
      rgb[3 * p] *= k;
      rgb[3 * p + 1] *= k;
      rgb[3 * p + 2] *= k;
    }
  }

  // Body.
  const ct = Math.cos(f.theta), st = Math.sin(f.theta), hd = Math.max(2, Math.round(0.3 * f.r)), box = (2 * hd + 1) ** 2;
  for (let y = by0; y < by1; y++) {
    for (let x = bx0; x < bx1; x++) {
      const p = y * W + x;
      if (!cov[p]) continue;
      const dx = x + 0.5 - f.cx, dy = y + 0.5 - f.cy;
      const u = (dx * ct + dy * st) / f.r, v = (-dx * st + dy * ct) / f.r;
      let r0 = color[0], g0 = color[1], b0 = color[2];
      if (belly && belly.side * v > belly.off) {
        r0 += (255 - r0) * belly.mix;
        g0 += (255 - g0) * belly.mix;
        b0 += (255 - b0) * belly.mix;
      }
      const m = contrast * textureInk(texture, u, v);
      const inner = boxSum(sat2, W, H, x - hd, y - hd, 2 * hd + 1, 2 * hd + 1) / box;
      const shade = (1 + (gradient * (dx * light[0] + dy * light[1])) / f.r) * (1 - rim * Math.max(0, 1.6 - 1.6 * inner));
      const e = grain * nextNoise();
      const t = lost ? lost.k * smoothstep(0.1, 0.6, (dx * lost.x + dy * lost.y) / f.r) * Math.min(1, Math.max(0, 2 - 2.5 * inner)) : 0;
      rgb[3 * p] = (1 - t) * ((r0 + m * (ink[0] - r0)) * shade + e) + t * rgb[3 * p];
      rgb[3 * p + 1] = (1 - t) * ((g0 + m * (ink[1] - g0)) * shade + e) + t * rgb[3 * p + 1];
      rgb[3 * p + 2] = (1 - t) * ((b0 + m * (ink[2] - b0)) * shade + e) + t * rgb[3 * p + 2];
    }
  }

  // The discriminative part: a disc of a lighter or darker tone with the class glyph.
  const base: Rgb = luma(color) > 115 ? [color[0] * 0.45, color[1] * 0.45, color[2] * 0.45] : [color[0] + (255 - color[0]) * 0.55, color[1] + (255 - color[1]) * 0.55, color[2] + (255 - color[2]) * 0.55];
  const glyphInk = inkColor(rng, base);
  const size = Math.max(3, Math.floor(1.38 * part.r)), gx = Math.round(part.cx - size / 2), gy = Math.round(part.cy - size / 2);
  const glyph = markInk(cls, size);
  for (let y = Math.floor(part.cy - part.r); y <= Math.ceil(part.cy + part.r); y++) {
    for (let x = Math.floor(part.cx - part.r); x <= Math.ceil(part.cx + part.r); x++) {
      if ((x + 0.5 - part.cx) ** 2 + (y + 0.5 - part.cy) ** 2 > part.r * part.r) continue;
      const p = y * W + x, gu = x - gx, gv = y - gy;
      const inked = gu >= 0 && gv >= 0 && gu < size && gv < size && glyph[gv * size + gu] === 1;
      const col = inked ? glyphInk : base;
      const shade = 1 + (0.5 * gradient * ((x + 0.5 - f.cx) * light[0] + (y + 0.5 - f.cy) * light[1])) / f.r, e = 3 * nextNoise();
      rgb[3 * p] = col[0] * shade + e;
      rgb[3 * p + 1] = col[1] * shade + e;
      rgb[3 * p + 2] = col[2] * shade + e;
    }
  }
  return { cls, frame: f, area, visible: area, part, color, texture };
}

/** Mean luminance of the canvas over the frame's centre box (half the radius wide). */
function meanLuma(c: Canvas, f: Frame): number {
  const h = Math.max(1, Math.round(0.5 * f.r));
  let s = 0, n = 0;
  for (let y = Math.max(0, Math.round(f.cy) - h); y < Math.min(c.height, Math.round(f.cy) + h); y++) {
    for (let x = Math.max(0, Math.round(f.cx) - h); x < Math.min(c.width, Math.round(f.cx) + h); x++) {
      const p = 3 * (y * c.width + x);
      s += 0.299 * c.rgb[p] + 0.587 * c.rgb[p + 1] + 0.114 * c.rgb[p + 2];
      n++;
    }
  }
  return n ? s / n : 128;
}

/** A random hue pushed darker or lighter than `base` so that the luminance differs by INK_CONTRAST. */
function inkColor(rng: Rng, base: Rgb): Rgb {
  const c = hsv(rng.uniform(0, 360), rng.uniform(0.3, 1), rng.uniform(0.3, 1)), lb = luma(base), lc = Math.max(1, luma(c));
  if (lb >= 128) {
    const k = Math.max(0, Math.min(1, (lb - INK_CONTRAST) / lc));
    return [c[0] * k, c[1] * k, c[2] * k];
  }
  const target = lb + INK_CONTRAST, k = lc >= target ? 0 : (target - lc) / (255 - lc);
  return [c[0] + (255 - c[0]) * k, c[1] + (255 - c[1]) * k, c[2] + (255 - c[2]) * k];
}

/**
 * Camera: a 3 x 3 binomial lens blur (repeated on defocused shots), white balance, vignetting
 * and sensor noise; rounds to 8 bits.
 */
function finishPhoto(rng: Rng, c: Canvas): Uint8Array {
  const W = c.width, H = c.height, N = W * H;
  const wb = [1 + rng.uniform(-0.06, 0.06), 1 + rng.uniform(-0.04, 0.04), 1 + rng.uniform(-0.06, 0.06)];
  const vig = rng.uniform(0, 0.25), sigma = rng.uniform(1.5, 3.5), u = rng.next();
  const passes = u < 0.65 ? 1 : u < 0.85 ? 2 : 3;
  const tmp = new Float32Array(3 * N);
  for (let t = 0; t < passes; t++) binomialBlur(c.rgb, tmp, W, H);
  const nextNoise = xorshiftNoise(rng.nextUint32());
  const out = new Uint8Array(3 * N), hw = W / 2, hh = H / 2, diag2 = hw * hw + hh * hh, src = c.rgb;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const p = y * W + x;
      const v = 1 - (vig * ((x + 0.5 - hw) ** 2 + (y + 0.5 - hh) ** 2)) / diag2;
      const e = sigma * 2 * (nextNoise() + nextNoise() + nextNoise()); // about N(0, sigma)
      for (let k = 0; k < 3; k++) {
        const val = src[3 * p + k] * wb[k] * v + e;
        out[3 * p + k] = val < 0 ? 0 : val > 255 ? 255 : Math.round(val);
      }
    }
  }
  return out;
}

/** In-place [1 2 1] / 4 blur, horizontal then vertical, edges clamped (`tmp`: scratch of the same size). */
function binomialBlur(rgb: Float32Array, tmp: Float32Array, W: number, H: number): void {
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const p = y * W + x, l = y * W + Math.max(0, x - 1), r = y * W + Math.min(W - 1, x + 1);
      for (let k = 0; k < 3; k++) tmp[3 * p + k] = 0.25 * rgb[3 * l + k] + 0.5 * rgb[3 * p + k] + 0.25 * rgb[3 * r + k];
    }
  }
  for (let y = 0; y < H; y++) {
    const up = Math.max(0, y - 1) * W, dn = Math.min(H - 1, y + 1) * W;
    for (let x = 0; x < W; x++) {
      const p = y * W + x;
      for (let k = 0; k < 3; k++) rgb[3 * p + k] = 0.25 * tmp[3 * (up + x) + k] + 0.5 * tmp[3 * p + k] + 0.25 * tmp[3 * (dn + x) + k];
    }
  }
}
