/**
 * COCO run-length encoding (RLE), as pycocotools stores masks: runs of alternating 0s and 1s
 * (starting with 0s) over the pixels in column-major order (down each column, then the next
 * column). Uncompressed RLE is the list of run lengths; compressed RLE is the pycocotools
 * string: each count (from the 4th on, minus the count two before it) as a signed LEB128-like
 * number of 5-bit groups, one ASCII character (48 + group, +32 when more groups follow) per
 * group.
 */
import { HfplError } from '../errors.js';

/** A binary mask of h x w pixels as column-major runs, first run of 0s. */
export interface CocoRle {
  h: number;
  w: number;
  counts: Uint32Array;
}

/** The number of 1 pixels (the sum of the odd-indexed runs; pycocotools `area`). */
export function rleArea(rle: CocoRle): number {
  let a = 0;
  for (let j = 1; j < rle.counts.length; j += 2) a += rle.counts[j];
  return a;
}

/**
 * Builds an RLE from uncompressed counts, checking that they are non-negative integers that
 * add up to h * w. `name` goes in the error message.
 */
export function rleFromCounts(counts: ArrayLike<number>, h: number, w: number, name: string): CocoRle {
  const out = new Uint32Array(counts.length);
  let total = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i];
    if (!Number.isInteger(c) || c < 0 || c > 0xffffffff) {
      throw new HfplError('E_DATA', `${name}: RLE count ${i} is ${String(c)}, not a non-negative integer`);
    }
    out[i] = c;
    total += c;
  }
  if (total !== h * w) {
    throw new HfplError('E_DATA', `${name}: RLE counts add up to ${total} pixels, expected ${h}x${w} = ${h * w}`);
  }
  return { h, w, counts: out };
}

/** Decodes a compressed (string) pycocotools RLE; checks the counts as `rleFromCounts`. */
export function rleFromString(s: string, h: number, w: number, name: string): CocoRle {
  const counts: number[] = [];
  let p = 0;
  while (p < s.length) {
    let x = 0;
    let k = 0;
    let more = true;
    while (more) {
      if (p >= s.length) throw new HfplError('E_DATA', `${name}: compressed RLE string ends inside a number`);
      const c = s.charCodeAt(p) - 48;
      if (c < 0 || c > 63) {
        throw new HfplError('E_DATA', `${name}: compressed RLE string has an invalid character '${s[p]}' at ${p}`);
      }
      x += (c & 0x1f) * 2 ** (5 * k);
      more = (c & 0x20) !== 0;
      p++;
      k++;
      if (!more && (c & 0x10) !== 0) x -= 2 ** (5 * k); // sign-extend
    }
    const m = counts.length;
    if (m > 2) x += counts[m - 2];
    counts.push(x);
  }
  return rleFromCounts(counts, h, w, name);
}

/** Encodes an RLE as the compressed pycocotools string (inverse of `rleFromString`). */
export function rleToString(rle: CocoRle): string {
  const chars: number[] = [];
  const cnts = rle.counts;
  for (let i = 0; i < cnts.length; i++) {
    let x = cnts[i] - (i > 2 ? cnts[i - 2] : 0);
    let more = true;
    while (more) {
      let c = x & 0x1f;
      x >>= 5;
      more = (c & 0x10) !== 0 ? x !== -1 : x !== 0;
      if (more) c |= 0x20;
      chars.push(c + 48);
    }
  }
  return String.fromCharCode(...chars);
}

/** Run-length encodes a column-major binary mask (any non-zero byte is 1). */
export function rleEncode(mask: Uint8Array, h: number, w: number): CocoRle {
  const counts: number[] = [];
  let prev = 0;
  let run = 0;
  for (let i = 0; i < h * w; i++) {
    const v = mask[i] ? 1 : 0;
    if (v !== prev) {
      counts.push(run);
      run = 0;
      prev = v;
    }
    run++;
  }
  counts.push(run);
  return { h, w, counts: Uint32Array.from(counts) };
}

/** Decodes an RLE into a new column-major 0/1 mask of h * w bytes. */
export function rleDecode(rle: CocoRle): Uint8Array {
  const out = new Uint8Array(rle.h * rle.w);
  let pos = 0;
  for (let j = 0; j < rle.counts.length; j++) {
    const n = rle.counts[j];
    if (j % 2 === 1) out.fill(1, pos, pos + n);
    pos += n;
  }
  return out;
}

/**
 * Sets `value` at the 1 pixels of `rle` in a row-major label map `out` (length h * w, width
 * `rle.w`), leaving the other pixels as they are (later annotations overwrite earlier ones).
 */
export function rlePaint(rle: CocoRle, out: Uint8Array, value: number): void {
  const { h, w } = rle;
  let pos = 0;
  for (let j = 0; j < rle.counts.length; j++) {
    const n = rle.counts[j];
    if (j % 2 === 1 && n > 0) {
      let x = Math.floor(pos / h);
      let y = pos - x * h;
      for (let t = 0; t < n; t++) {
        out[y * w + x] = value;
        if (++y === h) {
          y = 0;
          x++;
        }
      }
    }
    pos += n;
  }
}

/** The union of RLE masks of one size (pycocotools `merge(rles, intersect=False)`). */
export function rleUnion(rles: readonly CocoRle[], h: number, w: number): CocoRle {
  if (rles.length === 1) return rles[0];
  const acc = new Uint8Array(h * w);
  for (const rle of rles) {
    let pos = 0;
    for (let j = 0; j < rle.counts.length; j++) {
      if (j % 2 === 1) acc.fill(1, pos, pos + rle.counts[j]);
      pos += rle.counts[j];
    }
  }
  return rleEncode(acc, h, w);
}
