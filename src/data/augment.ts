/**
 * Training augmentation of the CAM network (METHOD 3.1, the reference's transform chain):
 * random long-side resize -> horizontal flip -> colour jitter -> ImageNet normalisation ->
 * random crop with zero padding. sharp decodes off the main thread (and shrinks images below
 * half size); resize (bilinear, where the reference uses PIL bicubic), flip, jitter,
 * normalisation and crop are typed-array passes over the crop window only. Jitter follows
 * torchvision's ColorJitter on PIL images: factors uniform in [1 - s, 1 + s], hue shift in
 * [-h, h], the four operations in a random order per image (option `jitterOrder`), 8-bit
 * rounding after every step.
 *
 * All randomness is drawn from the `Rng` passed in, in a fixed order (long side, flip, jitter
 * order and factors, crop offsets) before any pixel is touched, so a sample's augmentation
 * depends only on that generator's seed.
 */
import sharp from 'sharp';
import { z } from 'zod';
import { HfplError } from '../errors.js';
import type { Rng } from '../engine/random.js';
import { imageReadError } from './image-io.js';
import type { RgbImage } from './types.js';

sharp.concurrency(1);

/** Colour jitter strengths, torchvision `ColorJitter` semantics. */
export interface ColorJitterOptions {
  /** Brightness factor drawn in [1 - b, 1 + b]. Default 0.3. */
  brightness: number;
  /** Contrast factor drawn in [1 - c, 1 + c]. Default 0.3. */
  contrast: number;
  /** Saturation factor drawn in [1 - s, 1 + s]. Default 0.3. */
  saturation: number;
  /** Hue shift drawn in [-h, h], in turns (0.5 = half the colour circle). Default 0.1. */
  hue: number;
}

/** Augmentation options; defaults are METHOD 3.1's. */
export interface AugmentOptions {
  /** Random long side [min, max] in pixels (inclusive; the short side keeps the aspect ratio), or null to keep the size. Default [448, 768]. */
  resizeLong: [number, number] | null;
  /** Random horizontal flip with probability 0.5. Default true. */
  flip: boolean;
  /** Colour jitter, or null for none. Default 0.3 / 0.3 / 0.3 / 0.1. */
  colorJitter: ColorJitterOptions | null;
  /** 'random': the four jitter operations in a random order per image (torchvision); 'fixed': brightness, contrast, saturation, hue. Default 'random'. */
  jitterOrder: 'random' | 'fixed';
  /** Square crop side in pixels; smaller images are placed at a random offset and padded with 0 (after normalisation). Default 448. */
  crop: number;
  /** Per-channel mean subtracted from RGB in [0, 1]. Default ImageNet (0.485, 0.456, 0.406). */
  mean: [number, number, number];
  /** Per-channel std dividing RGB in [0, 1]. Default ImageNet (0.229, 0.224, 0.225). */
  std: [number, number, number];
  /** Also return the jittered crop as RGB in [0, 1] (0 in padding), e.g. for the FSL. Default false. */
  keepRaw: boolean;
}

export const IMAGENET_MEAN: readonly [number, number, number] = [0.485, 0.456, 0.406];
export const IMAGENET_STD: readonly [number, number, number] = [0.229, 0.224, 0.225];

export const DEFAULT_AUGMENT_OPTIONS: Readonly<AugmentOptions> = Object.freeze({
  resizeLong: [448, 768],
  flip: true,
  colorJitter: { brightness: 0.3, contrast: 0.3, saturation: 0.3, hue: 0.1 },
  jitterOrder: 'random',
  crop: 448,
  mean: [...IMAGENET_MEAN],
  std: [...IMAGENET_STD],
  keepRaw: false,
}) as Readonly<AugmentOptions>;

const pos = z.number().int().min(1).max(8192);
const triple = z.tuple([z.number(), z.number(), z.number()]);
const schema = z
  .object({
    resizeLong: z.tuple([pos, pos]).refine((r) => r[0] <= r[1], 'expected [min, max] with min <= max').nullable(),
    flip: z.boolean(),
    colorJitter: z
      .object({ brightness: z.number().min(0).max(1), contrast: z.number().min(0).max(1), saturation: z.number().min(0).max(1), hue: z.number().min(0).max(0.5) })
      .strict()
      .nullable(),
    jitterOrder: z.enum(['random', 'fixed']),
    crop: pos,
    mean: triple,
    std: triple.refine((s) => s.every((v) => v > 0), 'std must be > 0'),
    keepRaw: z.boolean(),
  })
  .strict();

/**
 * Fills defaults and validates; throws `E_CONFIG` naming the option, the value and what is
 * allowed.
 *
 * @example resolveAugmentOptions({ resizeLong: [112, 160], crop: 128 })
 */
export function resolveAugmentOptions(partial: Partial<AugmentOptions> = {}): AugmentOptions {
  const merged = { ...DEFAULT_AUGMENT_OPTIONS, ...Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined)) };
  const r = schema.safeParse(merged);
  if (!r.success) {
    const issue = r.error.issues[0];
    if (issue.code === 'unrecognized_keys') {
      throw new HfplError('E_CONFIG', `augment option ${issue.keys.join(', ')}: unknown (allowed: ${Object.keys(DEFAULT_AUGMENT_OPTIONS).join(', ')})`);
    }
    const key = issue.path.length ? String(issue.path[0]) : '?';
    throw new HfplError('E_CONFIG', `augment option ${key}: ${JSON.stringify((merged as Record<string, unknown>)[key])} is invalid (${issue.message})`);
  }
  return r.data as AugmentOptions;
}

/** The random choices of one augmentation. */
export interface AugmentParams {
  /** Size after the long-side resize (before cropping). */
  width: number;
  height: number;
  flip: boolean;
  /** Jitter operations in application order: 0 brightness, 1 contrast, 2 saturation, 3 hue. */
  order: number[];
  brightness: number;
  contrast: number;
  saturation: number;
  hue: number;
  /** Crop window in the (resized, flipped) image and its place in the crop container. */
  imgTop: number;
  imgLeft: number;
  contTop: number;
  contLeft: number;
  cropH: number;
  cropW: number;
}

/** Draws the augmentation of one image of `srcWidth` x `srcHeight`, always in the same order. */
export function drawAugmentParams(rng: Rng, srcWidth: number, srcHeight: number, o: AugmentOptions): AugmentParams {
  let width = srcWidth, height = srcHeight;
  if (o.resizeLong) {
    // imutils.RandomResizeLong: long side uniform in [min, max], short side rounded.
    const long = rng.int(o.resizeLong[0], o.resizeLong[1] + 1);
    if (srcWidth < srcHeight) [width, height] = [Math.max(1, Math.round((srcWidth * long) / srcHeight)), long];
    else [width, height] = [long, Math.max(1, Math.round((srcHeight * long) / srcWidth))];
  }
  const flip = o.flip ? rng.bernoulli(0.5) : false;
  const j = o.colorJitter;
  const order = j && o.jitterOrder === 'random' ? (rng.shuffle([0, 1, 2, 3]) as number[]) : [0, 1, 2, 3];
  const factor = (s: number) => (s > 0 ? rng.uniform(Math.max(0, 1 - s), 1 + s) : 1);
  const brightness = j ? factor(j.brightness) : 1;
  const contrast = j ? factor(j.contrast) : 1;
  const saturation = j ? factor(j.saturation) : 1;
  const hue = j && j.hue > 0 ? rng.uniform(-j.hue, j.hue) : 0;
  // imutils.RandomCrop: a random window of a larger side, a random container offset of a smaller one.
  const [imgLeft, contLeft] = cropOffsets(rng, width, o.crop);
  const [imgTop, contTop] = cropOffsets(rng, height, o.crop);
  return { width, height, flip, order, brightness, contrast, saturation, hue, imgTop, imgLeft, contTop, contLeft, cropH: Math.min(o.crop, height), cropW: Math.min(o.crop, width) };
}

function cropOffsets(rng: Rng, size: number, crop: number): [number, number] {
  const space = size - crop;
  return space > 0 ? [rng.int(0, space + 1), 0] : [0, rng.int(0, -space + 1)];
}

/** One augmented image: HWC float32 crop x crop x 3. */
export interface AugmentedImage {
  /** Normalised RGB, 0 in the padding. */
  image: Float32Array;
  /** RGB in [0, 1] after jitter, 0 in the padding (only with `keepRaw`). */
  raw: Float32Array | null;
  /** 1 where the crop holds image pixels, 0 in the padding (crop x crop). */
  valid: Uint8Array | Float32Array;
  params: AugmentParams;
  /** Size of the source image before resizing. */
  source: { width: number; height: number };
}

/** Where to write an augmented image (e.g. views into a batch buffer); zeros are written to the padding. */
export interface AugmentTarget {
  image: Float32Array;
  raw: Float32Array | null;
  valid: Uint8Array | Float32Array;
}

/**
 * Augments an image file or an in-memory RGB image: sharp decodes (and does the resize when it
 * shrinks below half size, where bilinear would alias), then `augmentPixels` does the rest.
 * `size` (the source size) saves a header read when known; `target` receives the output.
 */
export async function augmentImage(src: string | RgbImage, rng: Rng, o: AugmentOptions, size?: { width: number; height: number }, target?: AugmentTarget): Promise<AugmentedImage> {
  const name = typeof src === 'string' ? src : 'image';
  try {
    const dims = size ?? (typeof src === 'string' ? await fileSize(src) : src);
    const p = drawAugmentParams(rng, dims.width, dims.height, o);
    let decoded: RgbImage;
    let win = { left: 0, top: 0, width: 0, height: 0 };
    const shrink = p.width < dims.width / 2 || p.height < dims.height / 2;
    if (typeof src !== 'string' && !shrink) {
      decoded = src;
    } else {
      let pipe = typeof src === 'string' ? sharp(src, { failOn: 'truncated' }) : sharp(src.data, { raw: { width: src.width, height: src.height, channels: 3 } });
      if (shrink) pipe = pipe.resize(p.width, p.height, { kernel: 'cubic', fit: 'fill' });
      else {
        // Only the source pixels the crop window reads.
        win = sourceWindow(p, dims.width, dims.height);
        pipe = pipe.extract(win);
      }
      const { data, info } = await pipe.removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
      const want = shrink ? [p.width, p.height] : [win.width, win.height];
      if (info.channels !== 3 || info.width !== want[0] || info.height !== want[1]) {
        throw new Error(`decoded ${info.width}x${info.height}x${info.channels}, expected ${want[0]}x${want[1]}x3 (wrong size hint?)`);
      }
      decoded = { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
    }
    const full = { width: shrink ? p.width : dims.width, height: shrink ? p.height : dims.height };
    return { ...augmentWindow(decoded, win.left, win.top, full, p, o, target), source: { width: dims.width, height: dims.height } };
  } catch (e) {
    throw imageReadError(name, e);
  }
}

async function fileSize(path: string): Promise<{ width: number; height: number }> {
  const m = await sharp(path).metadata();
  if (!m.width || !m.height) throw new Error('no image size in header');
  return { width: m.width, height: m.height };
}

/**
 * The typed-array half of `augmentImage` (pure): resizes `src` to `p.width` x `p.height`
 * (bilinear, half-pixel centres; a copy when the sizes agree), flips, jitters, normalises and
 * crops, computing only the pixels of the crop window. Like PIL, every step rounds to 8 bits
 * (half to even) and clamps to [0, 255]; contrast blends with the mean gray of the crop window
 * (torchvision: of the whole image; the same when the image fits in the crop).
 *
 * Fused, row by row: resize a window row, run the jitter steps on it while it is in cache,
 * write it normalised. Contrast needs the mean gray of the image as it stands before
 * contrast, so then the steps up to contrast run first over the whole window (summing the
 * channels), and the rest in a second pass.
 */
export function augmentPixels(src: RgbImage, p: AugmentParams, o: AugmentOptions, target?: AugmentTarget): Omit<AugmentedImage, 'source'> {
  return augmentWindow(src, 0, 0, src, p, o, target);
}

/** The source pixels (rectangle) that the crop window of `p` reads from a `sw` x `sh` image. */
function sourceWindow(p: AugmentParams, sw: number, sh: number): { left: number; top: number; width: number; height: number } {
  const range = (lo: number, hi: number, s: number, S: number) => {
    const u = (X: number) => (s === S ? X : Math.min(s - 1, Math.max(0, ((X + 0.5) * s) / S - 0.5)));
    return [Math.floor(u(lo)), Math.min(s - 1, Math.floor(u(hi)) + 1)];
  };
  const same = sw === p.width && sh === p.height;
  const [x0, x1] = range(p.flip ? p.width - p.imgLeft - p.cropW : p.imgLeft, p.flip ? p.width - 1 - p.imgLeft : p.imgLeft + p.cropW - 1, sw, same ? sw : p.width);
  const [y0, y1] = range(p.imgTop, p.imgTop + p.cropH - 1, sh, same ? sh : p.height);
  return { left: x0, top: y0, width: x1 - x0 + 1, height: y1 - y0 + 1 };
}

/** `augmentPixels` of a `full`-size source of which `src` holds the part at (`left`, `top`). */
function augmentWindow(src: RgbImage, left: number, top: number, full: { width: number; height: number }, p: AugmentParams, o: AugmentOptions, target?: AugmentTarget): Omit<AugmentedImage, 'source'> {
  const { cropW, cropH } = p;
  const C = o.crop, n3 = 3 * cropW;
  // The jitter as steps: 8-bit lookups (brightness; contrast once its mean is known) and
  // per-pixel saturation / hue, split at contrast.
  const pre: Step[] = [], post: Step[] = [];
  let contrast = false;
  if (o.colorJitter) {
    for (const op of p.order) {
      const steps = contrast ? post : pre;
      if (op === 0 && p.brightness !== 1) steps.push(blendLut(p.brightness, 0));
      else if (op === 1 && p.contrast !== 1) contrast = true;
      else if (op === 2 && p.saturation !== 1) steps.push(SAT);
      else if (op === 3 && p.hue !== 0) steps.push(HUE);
    }
  }
  const image = target?.image ?? new Float32Array(C * C * 3);
  const raw = target ? target.raw : o.keepRaw ? new Float32Array(C * C * 3) : null;
  const valid = target?.valid ?? new Uint8Array(C * C);
  if (target && (cropW < C || cropH < C)) {
    zeroPadding(image, 3, C, p);
    if (raw) zeroPadding(raw, 3, C, p);
    zeroPadding(valid, 1, C, p);
  }
  const rs = new RowResizer(src, left, top, full, p);
  // Contrast: first the window up to contrast, with its channel sums (integers, so exact), ...
  let buf = scratch.row(n3), last: Program;
  if (contrast) {
    buf = scratch.window(n3 * cropH);
    const seg = compile(pre, p.saturation, p.hue);
    let r = 0, g = 0, b = 0;
    for (let y = 0, off = 0; y < cropH; y++, off += n3) {
      rs.row(y, buf, off);
      runSteps(buf, off, n3, seg, true);
      for (let x = off; x < off + n3; x += 3) {
        r += buf[x];
        g += buf[x + 1];
        b += buf[x + 2];
      }
    }
    // ... then contrast with the mean gray (0.299 R + 0.587 G + 0.114 B) and the rest.
    const mean = (0.299 * r + 0.587 * g + 0.114 * b) / (cropW * cropH);
    last = compile([blendLut(p.contrast, mean), ...post], p.saturation, p.hue);
  } else {
    last = compile(pre, p.saturation, p.hue);
  }
  // Normalisation by lookup, with the last jitter table: (lut(v) / 255 - mean) / std per channel.
  const lut = last.luts[last.ops.length];
  const norm = new Float32Array(768), unit = new Float32Array(256);
  for (let v = 0; v < 256; v++) {
    const w = lut ? lut[v] : v;
    unit[v] = w / 255;
    for (let c = 0; c < 3; c++) norm[3 * v + c] = (w / 255 - o.mean[c]) / o.std[c];
  }
  for (let y = 0; y < cropH; y++) {
    const off = contrast ? y * n3 : 0;
    if (!contrast) rs.row(y, buf, 0);
    runSteps(buf, off, n3, last, false);
    const t0 = (p.contTop + y) * C + p.contLeft;
    for (let x = 0, q = off, i = 3 * t0; x < cropW; x++, q += 3, i += 3) {
      image[i] = norm[3 * buf[q]];
      image[i + 1] = norm[3 * buf[q + 1] + 1];
      image[i + 2] = norm[3 * buf[q + 2] + 2];
    }
    if (raw) for (let x = 0, i = 3 * t0; x < n3; x++, i++) raw[i] = unit[buf[off + x]];
    valid.fill(1, t0, t0 + cropW);
  }
  return { image, raw, valid, params: p };
}

/** Writes 0 to the padding of a crop x crop x `ch` buffer (everything outside the window). */
function zeroPadding(a: Float32Array | Uint8Array, ch: number, C: number, p: AugmentParams): void {
  const top = p.contTop, bottom = p.contTop + p.cropH, left = p.contLeft, right = p.contLeft + p.cropW;
  a.fill(0, 0, ch * top * C);
  a.fill(0, ch * bottom * C, ch * C * C);
  if (left === 0 && right === C) return;
  for (let y = top; y < bottom; y++) {
    a.fill(0, ch * y * C, ch * (y * C + left));
    a.fill(0, ch * (y * C + right), ch * (y + 1) * C);
  }
}

const SAT = 2, HUE = 3;
/** A jitter step: an 8-bit lookup table or a per-pixel operation (SAT, HUE). */
type Step = Uint8ClampedArray | number;
/** Steps as table, operation, table, ..., table (consecutive tables composed, null = identity); `f` the saturation factor, `dh` the hue shift in turns. */
interface Program {
  luts: (Uint8ClampedArray | null)[];
  ops: number[];
  f: number;
  dh: number;
}

function compile(steps: Step[], f: number, dh: number): Program {
  const luts: (Uint8ClampedArray | null)[] = [], ops: number[] = [];
  let lut: Uint8ClampedArray | null = null;
  for (const s of steps) {
    if (typeof s !== 'number') lut = compose(lut, s);
    else {
      luts.push(lut);
      ops.push(s);
      lut = null;
    }
  }
  luts.push(lut);
  return { luts, ops, f, dh };
}

/** Buffers reused across calls (`augmentPixels` is synchronous, so never shared by two). */
const scratch = {
  rowBuf: new Uint8ClampedArray(0),
  winBuf: new Uint8ClampedArray(0),
  row(n: number): Uint8ClampedArray {
    if (this.rowBuf.length < n) this.rowBuf = new Uint8ClampedArray(n);
    return this.rowBuf;
  },
  window(n: number): Uint8ClampedArray {
    if (this.winBuf.length < n) this.winBuf = new Uint8ClampedArray(n);
    return this.winBuf;
  },
};

/**
 * Rows of the crop window of the resized, flipped image, 8-bit. Bilinear with 8-bit
 * fixed-point weights: each source row is interpolated horizontally once (kept exact, at
 * 16 bits) and shared by the output rows between it and the next.
 */
class RowResizer {
  private readonly x0: Int32Array;
  private readonly x1: Int32Array;
  private readonly fx: Int32Array;
  private readonly same: boolean;
  private hA: Int32Array;
  private hB: Int32Array;
  private tagA = -1;
  private tagB = -1;

  private readonly sh: number;

  /** `src` holds the part at (`left`, `top`) of a `full`-size source. */
  constructor(private readonly src: RgbImage, left: number, private readonly top: number, full: { width: number; height: number }, private readonly p: AugmentParams) {
    const { width: W, height: H, cropW } = p;
    const sw = full.width;
    this.sh = full.height;
    this.same = sw === W && full.height === H;
    // Source column and weight per window column (half-pixel centres, clamped).
    this.x0 = new Int32Array(cropW);
    this.x1 = new Int32Array(cropW);
    this.fx = new Int32Array(cropW);
    for (let x = 0; x < cropW; x++) {
      const X = p.flip ? W - 1 - (p.imgLeft + x) : p.imgLeft + x;
      const u = this.same ? X : Math.min(sw - 1, Math.max(0, ((X + 0.5) * sw) / W - 0.5));
      this.x0[x] = 3 * (Math.floor(u) - left);
      this.x1[x] = 3 * (Math.min(sw - 1, Math.floor(u) + 1) - left);
      this.fx[x] = Math.round(256 * (u - Math.floor(u)));
    }
    this.hA = new Int32Array(3 * cropW);
    this.hB = new Int32Array(3 * cropW);
  }

  /** Window row `y` into out[off, off + 3 cropW). */
  row(y: number, out: Uint8ClampedArray, off: number): void {
    const { p, src } = this;
    const s = src.data, sw = src.width, sh = this.sh, cropW = p.cropW, x0 = this.x0;
    if (this.same) {
      const r0 = 3 * sw * (p.imgTop + y - this.top);
      for (let x = 0, q = off; x < cropW; x++, q += 3) {
        const a = r0 + x0[x];
        out[q] = s[a];
        out[q + 1] = s[a + 1];
        out[q + 2] = s[a + 2];
      }
      return;
    }
    const v = Math.min(sh - 1, Math.max(0, ((p.imgTop + y + 0.5) * sh) / p.height - 0.5));
    const i0 = Math.floor(v), i1 = Math.min(sh - 1, i0 + 1);
    const fy = Math.round(256 * (v - i0)), gy = 256 - fy;
    if (this.tagA !== i0) {
      if (this.tagB === i0) [this.hA, this.hB, this.tagA, this.tagB] = [this.hB, this.hA, this.tagB, this.tagA];
      else this.interpolate(i0, (this.tagA = i0, this.hA));
    }
    const a = this.hA;
    let b = a;
    if (fy !== 0 && i1 !== i0) {
      if (this.tagB !== i1) this.interpolate(i1, (this.tagB = i1, this.hB));
      b = this.hB;
    }
    for (let q = 0; q < 3 * cropW; q++) out[off + q] = (a[q] * gy + b[q] * fy + 32768) >> 16;
  }

  /** Source row `i` interpolated horizontally into `h`: s[x0] (256 - fx) + s[x1] fx per value. */
  private interpolate(i: number, h: Int32Array): void {
    const s = this.src.data, r = 3 * this.src.width * (i - this.top), x0 = this.x0, x1 = this.x1, fx = this.fx;
    for (let x = 0, q = 0; x < this.p.cropW; x++, q += 3) {
      const a = r + x0[x], b = r + x1[x], w = fx[x], vw = 256 - w;
      h[q] = s[a] * vw + s[b] * w;
      h[q + 1] = s[a + 1] * vw + s[b + 1] * w;
      h[q + 2] = s[a + 2] * vw + s[b + 2] * w;
    }
  }
}

/** Lookup table of v -> f v + (1 - f) c: brightness (c = 0) and contrast (c = mean gray), PIL ImageEnhance. */
function blendLut(f: number, c: number): Uint8ClampedArray {
  const lut = new Uint8ClampedArray(256);
  for (let v = 0; v < 256; v++) lut[v] = f * v + (1 - f) * c;
  return lut;
}

/** `a` then `b` as one table (`a` null = identity). */
function compose(a: Uint8ClampedArray | null, b: Uint8ClampedArray): Uint8ClampedArray {
  return a ? b.map((_, v) => b[a[v]]) : b;
}

/** Identity table, for operations without a table before them. */
const IDENTITY = Uint8ClampedArray.from({ length: 256 }, (_, v) => v);

/**
 * Runs a program in place over a[off, off + len): each operation reads through the table
 * before it; the last table is applied only with `applyLast` (else the caller folds it into
 * the normalisation).
 */
function runSteps(a: Uint8ClampedArray, off: number, len: number, prog: Program, applyLast: boolean): void {
  const { luts, ops } = prog;
  for (let k = 0; k < ops.length; k++) {
    if (ops[k] === SAT) saturate(a, off, len, prog.f, luts[k] ?? IDENTITY);
    else shiftHue(a, off, len, prog.dh, luts[k] ?? IDENTITY);
  }
  const last = luts[ops.length];
  if (applyLast && last) for (let i = off; i < off + len; i++) a[i] = last[a[i]];
}

/** v <- f v + (1 - f) gray(pixel) (PIL ImageEnhance.Color), reading through `lut`. */
function saturate(a: Uint8ClampedArray, off: number, len: number, f: number, lut: Uint8ClampedArray): void {
  const kr = (1 - f) * 0.299, kg = (1 - f) * 0.587, kb = (1 - f) * 0.114;
  for (let i = off; i < off + len; i += 3) {
    const r = lut[a[i]], g = lut[a[i + 1]], b = lut[a[i + 2]];
    const m = kr * r + kg * g + kb * b;
    a[i] = f * r + m;
    a[i + 1] = f * g + m;
    a[i + 2] = f * b + m;
  }
}

const RECIPROCALS = Float64Array.from({ length: 256 }, (_, d) => (d ? 1 / d : 0));

/** Rotates the HSV hue by `dh` turns (|dh| <= 0.5), keeping value and saturation (torchvision adjust_hue), reading through `lut`. */
function shiftHue(buf: Uint8ClampedArray, off: number, len: number, dh: number, lut: Uint8ClampedArray): void {
  const dh6 = dh * 6;
  const inv = RECIPROCALS;
  for (let i = off; i < off + len; i += 3) {
    const r = lut[buf[i]], g = lut[buf[i + 1]], b = lut[buf[i + 2]];
    const max = r > g ? (r > b ? r : b) : g > b ? g : b, min = r < g ? (r < b ? r : b) : g < b ? g : b, d = max - min;
    if (d === 0) {
      buf[i] = r;
      buf[i + 1] = g;
      buf[i + 2] = b;
      continue;
    }
    const k = inv[d];
    let h6 = (max === r ? (g - b) * k : max === g ? 2 + (b - r) * k : 4 + (r - g) * k) + dh6; // hue in sixths of a turn
    if (h6 < 0) h6 += 6;
    else if (h6 >= 6) h6 -= 6;
    const sector = h6 | 0, up = min + d * (h6 - sector), down = max - d * (h6 - sector);
    if (sector === 0) {
      buf[i] = max;
      buf[i + 1] = up;
      buf[i + 2] = min;
    } else if (sector === 1) {
      buf[i] = down;
      buf[i + 1] = max;
      buf[i + 2] = min;
    } else if (sector === 2) {
      buf[i] = min;
      buf[i + 1] = max;
      buf[i + 2] = up;
    } else if (sector === 3) {
      buf[i] = min;
      buf[i + 1] = down;
      buf[i + 2] = max;
    } else if (sector === 4) {
      buf[i] = up;
      buf[i + 1] = min;
      buf[i + 2] = max;
    } else {
      buf[i] = max;
      buf[i + 1] = min;
      buf[i + 2] = down;
    }
  }
}
