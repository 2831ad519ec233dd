/**
 * RGB image decode and encode through sharp. Decoding fails with an `E_IMAGE` error naming the
 * file for corrupt or truncated images (sharp's `failOn: 'truncated'`).
 */
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
    const msg = (e as Error).message.split('\n')[0];
    if (/missing|no such file|ENOENT/i.test(msg)) throw new HfplError('E_IO', `${path}: image file not found`);
    throw new HfplError('E_IMAGE', `${path}: corrupt or unreadable image (${msg})`);
  }
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
