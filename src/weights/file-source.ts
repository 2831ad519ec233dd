/**
 * Random access to a weight file through one file descriptor: tensors are read straight into
 * their final typed arrays, so a large checkpoint is never held in memory twice.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { endianness } from 'node:os';
import { HfplError } from '../errors.js';

if (endianness() !== 'LE') throw new HfplError('E_ENGINE', 'hfpl weight readers need a little-endian machine');

/** Positioned reads over a file or an in-memory buffer; failures are one line naming the file. */
export interface ByteSource {
  readonly path: string;
  readonly size: number;
  /** Fills `into` byte for byte from offset `pos`; a short source is an E_DATA error saying `what`. */
  readInto(pos: number, into: ArrayBufferView, what: string): Promise<void>;
  /** `n` bytes at `pos` in a fresh buffer. */
  read(pos: number, n: number, what: string): Promise<Uint8Array>;
}

function outOfRange(path: string, pos: number, n: number, size: number, what: string): HfplError {
  return new HfplError('E_DATA', `${path}: truncated or corrupt: ${what} needs bytes ${pos}..${pos + n} but there are ${size}`);
}

/** An in-memory byte source (a decompressed zip record), named after the file it came from. */
export class MemorySource implements ByteSource {
  constructor(
    readonly path: string,
    private readonly bytes: Uint8Array,
  ) {}
  get size(): number {
    return this.bytes.length;
  }
  async readInto(pos: number, into: ArrayBufferView, what: string): Promise<void> {
    const dst = new Uint8Array(into.buffer, into.byteOffset, into.byteLength);
    if (pos < 0 || pos + dst.length > this.bytes.length) throw outOfRange(this.path, pos, dst.length, this.bytes.length, what);
    dst.set(this.bytes.subarray(pos, pos + dst.length));
  }
  async read(pos: number, n: number, what: string): Promise<Uint8Array> {
    const b = new Uint8Array(n);
    await this.readInto(pos, b, what);
    return b;
  }
}

/** An open weight file: its size and positioned reads that fail with one line naming the file. */
export class FileSource implements ByteSource {
  private constructor(
    readonly path: string,
    private readonly fh: FileHandle,
    readonly size: number,
  ) {}

  static async open(path: string): Promise<FileSource> {
    let fh: FileHandle;
    try {
      fh = await open(path, 'r');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new HfplError('E_IO', code === 'ENOENT' ? `${path}: weights file not found` : `${path}: cannot open (${code ?? (e as Error).message})`);
    }
    const st = await fh.stat();
    if (!st.isFile()) {
      await fh.close();
      throw new HfplError('E_IO', `${path}: not a file`);
    }
    return new FileSource(path, fh, st.size);
  }

  /** Fills `into` (any typed array, filled byte for byte) from file offset `pos`; a short file is an E_DATA error saying `what`. */
  async readInto(pos: number, into: ArrayBufferView, what: string): Promise<void> {
    const bytes = new Uint8Array(into.buffer, into.byteOffset, into.byteLength);
    if (pos < 0 || pos + bytes.length > this.size) throw outOfRange(this.path, pos, bytes.length, this.size, what);
    let done = 0;
    while (done < bytes.length) {
      const chunk = Math.min(bytes.length - done, 1 << 30);
      const { bytesRead } = await this.fh.read(bytes, done, chunk, pos + done);
      if (bytesRead === 0) throw new HfplError('E_DATA', `${this.path}: truncated while reading ${what}`);
      done += bytesRead;
    }
  }

  /** `n` bytes at `pos` in a fresh buffer. */
  async read(pos: number, n: number, what: string): Promise<Uint8Array> {
    const b = new Uint8Array(n);
    await this.readInto(pos, b, what);
    return b;
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}

/** Opens `path`, runs `fn`, closes the file whatever happens. */
export async function withFile<T>(path: string, fn: (src: FileSource) => Promise<T>): Promise<T> {
  const src = await FileSource.open(path);
  try {
    return await fn(src);
  } finally {
    await src.close();
  }
}

/** Writes all of `bytes` at the handle's current position (looping over short writes). */
export async function writeAll(fh: FileHandle, bytes: Uint8Array): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const { bytesWritten } = await fh.write(bytes, done, Math.min(bytes.length - done, 1 << 30));
    done += bytesWritten;
  }
}
