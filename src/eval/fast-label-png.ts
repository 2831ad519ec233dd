/**
 * A fast path for reading label-map PNGs in bulk (`hfpl eval` reads thousands): 8-bit palette
 * or grayscale, non-interlaced PNGs are inflated with Node's native zlib and unfiltered in one
 * typed-array pass (about 3x faster than the pure-JS decoder). Anything else (other bit
 * depths, interlacing, colour types) goes to `decodeLabelPng`, which accepts or rejects it
 * with its usual messages.
 */
import { inflateSync } from 'node:zlib';
import { HfplError } from '../errors.js';
import { decodeLabelPng, type LabelMap } from '../data/label-png.js';

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function u32(b: Uint8Array, o: number): number {
  return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}

/** Decodes a label-map PNG (see `decodeLabelPng`; same result, faster for 8-bit 1-sample PNGs). */
export function decodeLabelPngFast(bytes: Uint8Array, name: string): LabelMap {
  if (bytes.length < 33 || SIGNATURE.some((v, i) => bytes[i] !== v)) return decodeLabelPng(bytes, name);
  // IHDR: width, height, bit depth, colour type, compression, filter, interlace.
  const width = u32(bytes, 16), height = u32(bytes, 20);
  const depth = bytes[24], colorType = bytes[25], interlace = bytes[28];
  if (depth !== 8 || (colorType !== 0 && colorType !== 3) || interlace !== 0 || width === 0 || height === 0) {
    return decodeLabelPng(bytes, name);
  }
  const parts: Uint8Array[] = [];
  let o = 8;
  while (o + 8 <= bytes.length) {
    const len = u32(bytes, o);
    const type = String.fromCharCode(bytes[o + 4], bytes[o + 5], bytes[o + 6], bytes[o + 7]);
    if (type === 'IDAT') parts.push(bytes.subarray(o + 8, o + 8 + len));
    if (type === 'IEND') break;
    o += 12 + len;
  }
  let raw: Uint8Array;
  try {
    raw = inflateSync(parts.length === 1 ? parts[0] : Buffer.concat(parts));
  } catch {
    return decodeLabelPng(bytes, name); // let the reference decoder report the problem
  }
  const stride = width + 1;
  if (raw.length < stride * height) throw new HfplError('E_MASK', `${name}: not a readable PNG (truncated image data)`);
  const out = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * stride], src = y * stride + 1, dst = y * width, up = dst - width;
    switch (filter) {
      case 0:
        out.set(raw.subarray(src, src + width), dst);
        break;
      case 1: // Sub
        out[dst] = raw[src];
        for (let x = 1; x < width; x++) out[dst + x] = (raw[src + x] + out[dst + x - 1]) & 255;
        break;
      case 2: // Up
        if (y === 0) out.set(raw.subarray(src, src + width), dst);
        else for (let x = 0; x < width; x++) out[dst + x] = (raw[src + x] + out[up + x]) & 255;
        break;
      case 3: // Average
        for (let x = 0; x < width; x++) {
          const a = x > 0 ? out[dst + x - 1] : 0, b = y > 0 ? out[up + x] : 0;
          out[dst + x] = (raw[src + x] + ((a + b) >> 1)) & 255;
        }
        break;
      case 4: // Paeth
        for (let x = 0; x < width; x++) {
          const a = x > 0 ? out[dst + x - 1] : 0, b = y > 0 ? out[up + x] : 0, c = x > 0 && y > 0 ? out[up + x - 1] : 0;
          const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
          out[dst + x] = (raw[src + x] + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c)) & 255;
        }
        break;
      default:
        throw new HfplError('E_MASK', `${name}: not a readable PNG (unknown filter type ${filter} in row ${y})`);
    }
  }
  return { data: out, width, height };
}
