/**
 * A minimal pickle (protocol 2) emitter for writing PyTorch checkpoints: strings, ints, bools,
 * None, tuples, globals, calls, persistent ids and ordered dicts. No memo (optional in pickle).
 */

/** Appends opcodes to a growing byte buffer. */
export class PickleWriter {
  private buf = new Uint8Array(1024);
  private n = 0;

  private ensure(k: number): void {
    if (this.n + k <= this.buf.length) return;
    const b = new Uint8Array(Math.max(this.buf.length * 2, this.n + k));
    b.set(this.buf.subarray(0, this.n));
    this.buf = b;
  }
  byte(...bs: number[]): this {
    this.ensure(bs.length);
    for (const b of bs) this.buf[this.n++] = b;
    return this;
  }
  private raw(b: Uint8Array): this {
    this.ensure(b.length);
    this.buf.set(b, this.n);
    this.n += b.length;
    return this;
  }
  private u32(v: number): this {
    return this.byte(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
  }
  /** PROTO 2 */
  proto(): this {
    return this.byte(0x80, 2);
  }
  stop(): this {
    return this.byte(0x2e);
  }
  mark(): this {
    return this.byte(0x28);
  }
  tuple(): this {
    return this.byte(0x74);
  }
  emptyTuple(): this {
    return this.byte(0x29);
  }
  emptyDict(): this {
    return this.byte(0x7d);
  }
  setItems(): this {
    return this.byte(0x75);
  }
  reduce(): this {
    return this.byte(0x52);
  }
  binPersId(): this {
    return this.byte(0x51);
  }
  none(): this {
    return this.byte(0x4e);
  }
  bool(v: boolean): this {
    return this.byte(v ? 0x88 : 0x89);
  }
  /** BININT1/BININT2/BININT for small ints, LONG1 otherwise. */
  int(v: number | bigint): this {
    if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < 256) return this.byte(0x4b, v);
    if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < 65536) return this.byte(0x4d, v & 0xff, v >> 8);
    if (typeof v === 'number' && Number.isInteger(v) && v >= -(2 ** 31) && v < 2 ** 31) return this.byte(0x4a).u32(v >>> 0);
    let b = BigInt(v);
    const bytes: number[] = [];
    for (;;) {
      const byte = Number(b & 0xffn);
      bytes.push(byte);
      b >>= 8n;
      if ((b === 0n && !(byte & 0x80)) || (b === -1n && byte & 0x80)) break;
    }
    return this.byte(0x8a, bytes.length, ...bytes);
  }
  str(s: string): this {
    const b = new TextEncoder().encode(s);
    return this.byte(0x58).u32(b.length).raw(b);
  }
  /** GLOBAL "module\nname\n" */
  global(module: string, name: string): this {
    return this.byte(0x63).raw(new TextEncoder().encode(`${module}\n${name}\n`));
  }
  /** A tuple of ints. */
  intTuple(vs: readonly number[]): this {
    this.mark();
    for (const v of vs) this.int(v);
    return this.tuple();
  }
  bytes(): Uint8Array {
    return this.buf.slice(0, this.n);
  }
}
