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
    const shrink = p.width < dims.width / 2 || p.height < dims.height / 2;
    if (typeof src !== 'string' && !shrink) {
      decoded = src;
    } else {
      let pipe = typeof src === 'string' ? sharp(src, { failOn: 'truncated' }) : sharp(src.data, { raw: { width: src.width, height: src.height, channels: 3 } });
      if (shrink) pipe = pipe.resize(p.width, p.height, { kernel: 'cubic', fit: 'fill' });
      const { data, info } = await pipe.removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
      const want = shrink ? [p.width, p.height] : [dims.width, dims.height];
      if (info.channels !== 3 || info.width !== want[0] || info.height !== want[1]) {
        throw new Error(`decoded ${info.width}x${info.height}x${info.channels}, expected ${want[0]}x${want[1]}x3 (wrong size hint?)`);
      }
      decoded = { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
    }
    return { ...augmentPixels(decoded, p, o, target), source: { width: dims.width, height: dims.height } };
  } catch (e) {
    if (e instanceof HfplError) throw e;
    const msg = (e as Error).message.split('\n')[0];
    if (/missing|no such file|ENOENT/i.test(msg)) throw new HfplError('E_IO', `${name}: image file not found`);
    throw new HfplError('E_IMAGE', `${name}: corrupt or unreadable image (${msg})`);
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
 * and clamps to [0, 255]; contrast blends with the mean gray of the crop window (torchvision:
 * of the whole image; the same when the image fits in the crop).
 */
export function augmentPixels(src: RgbImage, p: AugmentParams, o: AugmentOptions, target?: AugmentTarget): Omit<AugmentedImage, 'source'> {
  const { cropW, cropH } = p;
  const C = o.crop;
  const buf = resizeWindow(src, p);
  // Brightness and contrast are per-value lookups: consecutive ones are composed and applied
  // lazily (the last ones together with the normalisation), so they rarely cost a pass.
  let lut: Uint8ClampedArray | null = null;
  if (o.colorJitter) {
    for (const op of p.order) {
      if (op === 0 && p.brightness !== 1) lut = compose(lut, blendLut(p.brightness, 0));
      else if (op === 1 && p.contrast !== 1) lut = compose(lut, blendLut(p.contrast, meanGray(buf, lut)));
      else if ((op === 2 && p.saturation !== 1) || (op === 3 && p.hue !== 0)) {
        if (lut) applyLut(buf, lut);
        lut = null;
        if (op === 2) saturate(buf, p.saturation);
        else shiftHue(buf, p.hue);
      }
    }
  }
  const image = target?.image ?? new Float32Array(C * C * 3);
  const raw = target ? target.raw : o.keepRaw ? new Float32Array(C * C * 3) : null;
  const valid = target?.valid ?? new Uint8Array(C * C);
  if (target && (cropW < C || cropH < C)) {
    image.fill(0);
    raw?.fill(0);
    valid.fill(0);
  }
  // Normalisation by lookup: (lut(v) / 255 - mean) / std per channel.
  const norm = new Float32Array(768), unit = new Float32Array(256);
  for (let v = 0; v < 256; v++) {
    const w = lut ? lut[v] : v;
    unit[v] = w / 255;
    for (let c = 0; c < 3; c++) norm[3 * v + c] = (w / 255 - o.mean[c]) / o.std[c];
  }
  for (let y = 0, q = 0; y < cropH; y++) {
    const t0 = (p.contTop + y) * C + p.contLeft;
    for (let x = 0, i = 3 * t0; x < cropW; x++, q += 3, i += 3) {
      image[i] = norm[3 * buf[q]];
      image[i + 1] = norm[3 * buf[q + 1] + 1];
      image[i + 2] = norm[3 * buf[q + 2] + 2];
    }
    if (raw) for (let x = 0, i = 3 * t0; x < 3 * cropW; x++, i++) raw[i] = unit[buf[3 * y * cropW + x]];
    valid.fill(1, t0, t0 + cropW);
  }
  return { image, raw, valid, params: p };
}

/** The crop window of the resized, flipped image, 8-bit (cropH x cropW x 3). */
function resizeWindow(src: RgbImage, p: AugmentParams): Uint8ClampedArray {
  const { width: W, height: H, cropW, cropH } = p;
  const sw = src.width, sh = src.height, s = src.data;
  const buf = new Uint8ClampedArray(cropW * cropH * 3);
  const same = sw === W && sh === H;
  // Source column/row and 8-bit fixed-point weight per window column/row (half-pixel centres, clamped).
  const x0 = new Int32Array(cropW), x1 = new Int32Array(cropW), fx = new Int32Array(cropW);
  for (let x = 0; x < cropW; x++) {
    const X = p.flip ? W - 1 - (p.imgLeft + x) : p.imgLeft + x;
    const u = same ? X : Math.min(sw - 1, Math.max(0, ((X + 0.5) * sw) / W - 0.5));
    x0[x] = 3 * Math.floor(u);
    x1[x] = 3 * Math.min(sw - 1, Math.floor(u) + 1);
    fx[x] = Math.round(256 * (u - Math.floor(u)));
  }
  for (let y = 0, q = 0; y < cropH; y++) {
    const v = same ? p.imgTop + y : Math.min(sh - 1, Math.max(0, ((p.imgTop + y + 0.5) * sh) / H - 0.5));
    const r0 = 3 * sw * Math.floor(v), r1 = 3 * sw * Math.min(sh - 1, Math.floor(v) + 1);
    const fy = Math.round(256 * (v - Math.floor(v))), gy = 256 - fy;
    if (same) {
      for (let x = 0; x < cropW; x++, q += 3) {
        const a = r0 + x0[x];
        buf[q] = s[a];
        buf[q + 1] = s[a + 1];
        buf[q + 2] = s[a + 2];
      }
      continue;
    }
    for (let x = 0; x < cropW; x++, q += 3) {
      const a = r0 + x0[x], b = r0 + x1[x], c = r1 + x0[x], d = r1 + x1[x], w = fx[x], vw = 256 - w;
      buf[q] = ((s[a] * vw + s[b] * w) * gy + (s[c] * vw + s[d] * w) * fy + 32768) >> 16;
      buf[q + 1] = ((s[a + 1] * vw + s[b + 1] * w) * gy + (s[c + 1] * vw + s[d + 1] * w) * fy + 32768) >> 16;
      buf[q + 2] = ((s[a + 2] * vw + s[b + 2] * w) * gy + (s[c + 2] * vw + s[d + 2] * w) * fy + 32768) >> 16;
    }
  }
  return buf;
}

/** Lookup table of v -> f v + (1 - f) c: brightness (c = 0) and contrast (c = mean gray), PIL ImageEnhance. */
function blendLut(f: number, c: number): Uint8ClampedArray {
  const lut = new Uint8ClampedArray(256);
  for (let v = 0; v < 256; v++) lut[v] = f * v + (1 - f) * c;
  return lut;
}

function applyLut(buf: Uint8ClampedArray, lut: Uint8ClampedArray): void {
  for (let i = 0; i < buf.length; i++) buf[i] = lut[buf[i]];
}

/** `a` then `b` as one table (either may be null = identity). */
function compose(a: Uint8ClampedArray | null, b: Uint8ClampedArray): Uint8ClampedArray {
  return a ? b.map((_, v) => b[a[v]]) : b;
}

/** Mean gray level (0.299 R + 0.587 G + 0.114 B) of an RGB buffer, seen through `lut`. */
function meanGray(buf: Uint8ClampedArray, lut: Uint8ClampedArray | null): number {
  // Per-channel histograms, then the lookup on 256 values instead of every pixel.
  const h = new Int32Array(768);
  for (let i = 0; i < buf.length; i += 3) {
    h[buf[i]]++;
    h[256 + buf[i + 1]]++;
    h[512 + buf[i + 2]]++;
  }
  let r = 0, g = 0, b = 0;
  for (let v = 0; v < 256; v++) {
    const w = lut ? lut[v] : v;
    r += w * h[v];
    g += w * h[256 + v];
    b += w * h[512 + v];
  }
  return (0.299 * r + 0.587 * g + 0.114 * b) / (buf.length / 3);
}

/** v <- f v + (1 - f) gray(pixel) (PIL ImageEnhance.Color). */
function saturate(buf: Uint8ClampedArray, f: number): void {
  const kr = (1 - f) * 0.299, kg = (1 - f) * 0.587, kb = (1 - f) * 0.114;
  for (let i = 0; i < buf.length; i += 3) {
    const r = buf[i], g = buf[i + 1], b = buf[i + 2];
    const a = kr * r + kg * g + kb * b;
    buf[i] = f * r + a;
    buf[i + 1] = f * g + a;
    buf[i + 2] = f * b + a;
  }
}

const RECIPROCALS = Float64Array.from({ length: 256 }, (_, d) => (d ? 1 / d : 0));

/** Rotates the HSV hue by `dh` turns (|dh| <= 0.5), keeping value and saturation (torchvision adjust_hue). */
function shiftHue(buf: Uint8ClampedArray, dh: number): void {
  const dh6 = dh * 6;
  const inv = RECIPROCALS;
  for (let i = 0; i < buf.length; i += 3) {
    const r = buf[i], g = buf[i + 1], b = buf[i + 2];
    const max = r > g ? (r > b ? r : b) : g > b ? g : b, min = r < g ? (r < b ? r : b) : g < b ? g : b, d = max - min;
    if (d === 0) continue;
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
