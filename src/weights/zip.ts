/**
 * A small zip reader for PyTorch checkpoints (torch.save since 1.6 writes an uncompressed zip:
 * `<stem>/data.pkl`, `<stem>/data/<key>`, ...): the central directory (zip64 included) gives each
 * record's offset; stored records are read in place, deflated ones inflated with node:zlib.
 */
import { inflateRawSync } from 'node:zlib';
import { HfplError } from '../errors.js';
import { MemorySource, type ByteSource, type FileSource } from './file-source.js';

/** One record of the central directory. */
export interface ZipEntry {
  name: string;
  /** 0 = stored, 8 = deflate. */
  method: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

const EOCD_SIG = 0x06054b50, EOCD64_LOC_SIG = 0x07064b50, EOCD64_SIG = 0x06064b50, CEN_SIG = 0x02014b50, LOC_SIG = 0x04034b50;

/** True when the file starts like a zip archive ("PK\x03\x04"). */
export function isZipMagic(head: Uint8Array): boolean {
  return head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04;
}

function u64(dv: DataView, at: number): number {
  return Number(dv.getBigUint64(at, true));
}

/** Lists the records of the zip in `src` (by name). */
export async function readZipDirectory(src: FileSource): Promise<Map<string, ZipEntry>> {
  const bad = (what: string): never => {
    throw new HfplError('E_DATA', `${src.path}: truncated or corrupt zip: ${what}`);
  };
  const tailLen = Math.min(src.size, 65535 + 22);
  const tail = await src.read(src.size - tailLen, tailLen, 'zip end record');
  const tv = new DataView(tail.buffer);
  let eocd = -1;
  for (let i = tailLen - 22; i >= 0; i--) {
    if (tv.getUint32(i, true) === EOCD_SIG) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) bad('no end-of-central-directory record (file cut short?)');
  let count = tv.getUint16(eocd + 10, true);
  let cdSize = tv.getUint32(eocd + 12, true);
  let cdOffset = tv.getUint32(eocd + 16, true);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    const loc = eocd - 20;
    if (loc < 0 || tv.getUint32(loc, true) !== EOCD64_LOC_SIG) bad('zip64 locator missing');
    const e64pos = u64(tv, loc + 8);
    const e64 = new DataView((await src.read(e64pos, 56, 'zip64 end record')).buffer);
    if (e64.getUint32(0, true) !== EOCD64_SIG) bad('zip64 end record missing');
    count = u64(e64, 32);
    cdSize = u64(e64, 40);
    cdOffset = u64(e64, 48);
  }
  if (cdOffset + cdSize > src.size) bad(`central directory at ${cdOffset}+${cdSize} lies beyond the end (${src.size} bytes)`);
  const cd = await src.read(cdOffset, cdSize, 'zip central directory');
  const dv = new DataView(cd.buffer);
  const dec = new TextDecoder();
  const entries = new Map<string, ZipEntry>();
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cd.length || dv.getUint32(p, true) !== CEN_SIG) bad(`central directory record ${i} is damaged`);
    const method = dv.getUint16(p + 10, true);
    let compressedSize = dv.getUint32(p + 20, true), size = dv.getUint32(p + 24, true);
    const nameLen = dv.getUint16(p + 28, true), extraLen = dv.getUint16(p + 30, true), commentLen = dv.getUint16(p + 32, true);
    let localHeaderOffset = dv.getUint32(p + 42, true);
    const name = dec.decode(cd.subarray(p + 46, p + 46 + nameLen));
    // zip64 extended information: the 0xFFFFFFFF fields, in the order size, compressed size, offset.
    let x = p + 46 + nameLen;
    const xEnd = x + extraLen;
    while (x + 4 <= xEnd) {
      const id = dv.getUint16(x, true), len = dv.getUint16(x + 2, true);
      if (id === 0x0001) {
        let q = x + 4;
        if (size === 0xffffffff) {
          size = u64(dv, q);
          q += 8;
        }
        if (compressedSize === 0xffffffff) {
          compressedSize = u64(dv, q);
          q += 8;
        }
        if (localHeaderOffset === 0xffffffff) localHeaderOffset = u64(dv, q);
      }
      x += 4 + len;
    }
    entries.set(name, { name, method, compressedSize, size, localHeaderOffset });
    p = xEnd + commentLen;
  }
  return entries;
}

/** File offset of a record's data (after its local header, whose extra field differs from the central one). */
export async function zipDataOffset(src: FileSource, e: ZipEntry): Promise<number> {
  const h = new DataView((await src.read(e.localHeaderOffset, 30, `local header of ${e.name}`)).buffer);
  if (h.getUint32(0, true) !== LOC_SIG) throw new HfplError('E_DATA', `${src.path}: corrupt zip: no local header for ${e.name}`);
  const start = e.localHeaderOffset + 30 + h.getUint16(26, true) + h.getUint16(28, true);
  if (start + e.compressedSize > src.size) throw new HfplError('E_DATA', `${src.path}: truncated: record ${e.name} ends at ${start + e.compressedSize} but the file has ${src.size} bytes`);
  return start;
}

/**
 * A record as a byte source plus the offset of its first byte in that source: stored records
 * read in place from the file (offset = data offset), deflated ones inflated into memory (offset 0).
 */
export async function openZipRecord(src: FileSource, e: ZipEntry): Promise<{ source: ByteSource; offset: number }> {
  const start = await zipDataOffset(src, e);
  if (e.method === 0) return { source: src, offset: start };
  if (e.method !== 8) throw new HfplError('E_DATA', `${src.path}: zip record ${e.name} uses compression method ${e.method} (only stored and deflate are supported)`);
  let bytes: Uint8Array;
  try {
    bytes = inflateRawSync(await src.read(start, e.compressedSize, `record ${e.name}`));
  } catch {
    throw new HfplError('E_DATA', `${src.path}: corrupt zip: record ${e.name} does not inflate`);
  }
  if (bytes.length !== e.size) throw new HfplError('E_DATA', `${src.path}: corrupt zip: record ${e.name} inflates to ${bytes.length} bytes, expected ${e.size}`);
  return { source: new MemorySource(src.path, bytes), offset: 0 };
}

/** The whole record as bytes (for data.pkl). */
export async function readZipRecord(src: FileSource, e: ZipEntry): Promise<Uint8Array> {
  const { source, offset } = await openZipRecord(src, e);
  return source.read(offset, e.size, `record ${e.name}`);
}
