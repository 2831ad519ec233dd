/**
 * RGB image decode and encode through sharp. Decoding fails with an `E_IMAGE` error naming the
 * file for corrupt or truncated images (sharp's `failOn: 'truncated'`).
 */
import { existsSync } from 'node:fs';
import sharp from 'sharp';
import { HfplError } from '../errors.js';
import type { RgbImage } from './types.js';

sharp.concurrency(1);

/** Decodes an image file (JPEG, PNG, ...) to 8-bit interleaved RGB. */
export async function readRgbImage(path: string): Promise<RgbImage> {
  try {
    const { data, info } = await sharp(path, { failOn: 'truncated' })
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`expected 3 channels, got ${info.channels}`);
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
  } catch (e) {
    throw imageReadError(path, e);
  }
}

/**
 * The one-line error for an image `source` (a path, or 'image' for bytes) that could not be
 * decoded: E_IO when the file does not exist (asked of the file system: sharp's own message for
 * a missing file is not stable), else E_IMAGE with the decoder's first line.
 */
export function imageReadError(source: string, e: unknown): HfplError {
  if (e instanceof HfplError) return e;
  const msg = (e as Error).message.split('\n')[0];
  if (source !== 'image' && !existsSync(source)) return new HfplError('E_IO', `${source}: image file not found`);
  return new HfplError('E_IMAGE', `${source}: corrupt or unreadable image (${msg})`);
}

/** Encodes 8-bit RGB as JPEG bytes (quality 0-100, default 95). */
export async function encodeJpeg(img: RgbImage, quality = 95): Promise<Uint8Array> {
  const buf = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .jpeg({ quality, chromaSubsampling: '4:4:4' })
    .toBuffer();
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
}

/** Encodes 8-bit RGB as PNG bytes. */
export async function encodeRgbPng(img: RgbImage): Promise<Uint8Array> {
  const buf = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } }).png().toBuffer();
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
}
