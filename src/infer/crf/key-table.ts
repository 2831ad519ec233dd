/**
 * Open-addressing hash tables from integer keys of length d (permutohedral lattice vertices)
 * to dense indices 0, 1, 2, ... in insertion order. Keys whose components lie in [-B, B] with
 * (2B+1)^d < 2^52 are packed into one float64 (one compare per probe); others use the general
 * table. Both keep the keys, `keys[v*d + i]`, and grow to stay at most half full.
 */

export interface KeyTable {
  /** Number of keys. */
  readonly size: number;
  /** Keys in insertion order, `size` x d (the array may be longer). */
  readonly keys: Int32Array;
  /** Index of `key`, or -1. */
  find(key: Int32Array): number;
  /** Index of `key`, inserting it when new. */
  findOrInsert(key: Int32Array): number;
  /**
   * The packing of a packed table (p = sum_i (key[i] + bound) base^(d-1-i), exact in float64),
   * or null for the general table.
   */
  readonly packing: { readonly base: number; readonly bound: number } | null;
  /** Packed tables: index of the packed key `p`, or -1 (then `insertPacked` may follow). */
  findPacked(p: number): number;
  /** Packed tables: inserts `key` (packing to `p`) right after a `findPacked(p)` that returned -1. */
  insertPacked(p: number, key: Int32Array): number;
  /** Packed tables: the packed key of index `v`. */
  packedKey(v: number): number;
}

/** A table for keys of length d with components bounded by |k| <= bound. */
export function createKeyTable(d: number, bound: number): KeyTable {
  const base = 2 * bound + 1;
  return Math.pow(base, d) < 2 ** 52 ? new PackedKeyTable(d, bound, base) : new GeneralKeyTable(d);
}

const INITIAL = 1024;

function mix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return h ^ (h >>> 16);
}

class PackedKeyTable implements KeyTable {
  size = 0;
  keys: Int32Array;
  private packed = new Float64Array(INITIAL);
  private slots = new Int32Array(2 * INITIAL).fill(-1);
  private mask = 2 * INITIAL - 1;
  private lastSlot = -1;
  readonly packing: { readonly base: number; readonly bound: number };

  constructor(private readonly d: number, private readonly bound: number, private readonly base: number) {
    this.keys = new Int32Array(INITIAL * d);
    this.packing = { base, bound };
  }

  findPacked(p: number): number {
    for (let h = this.slot(p); ; h = (h + 1) & this.mask) {
      const v = this.slots[h];
      if (v < 0) {
        this.lastSlot = h;
        return -1;
      }
      if (this.packed[v] === p) return v;
    }
  }

  insertPacked(p: number, key: Int32Array): number {
    return this.insertAt(this.lastSlot, p, key);
  }

  packedKey(v: number): number {
    return this.packed[v];
  }

  private pack(key: Int32Array): number {
    let p = 0;
    for (let i = 0; i < this.d; i++) p = p * this.base + (key[i] + this.bound);
    return p;
  }

  private slot(p: number): number {
    const hi = Math.floor(p / 4294967296); // exact: 0 <= p < 2^52 (no float modulo)
    return mix((p - hi * 4294967296) ^ Math.imul(hi, 0x9e3779b1)) & this.mask;
  }

  find(key: Int32Array): number {
    for (let i = 0; i < this.d; i++) if (key[i] < -this.bound || key[i] > this.bound) return -1;
    const p = this.pack(key);
    for (let h = this.slot(p); ; h = (h + 1) & this.mask) {
      const v = this.slots[h];
      if (v < 0 || this.packed[v] === p) return v;
    }
  }

  findOrInsert(key: Int32Array): number {
    const p = this.pack(key);
    let h = this.slot(p);
    for (; ; h = (h + 1) & this.mask) {
      const v = this.slots[h];
      if (v < 0) break;
      if (this.packed[v] === p) return v;
    }
    return this.insertAt(h, p, key);
  }

  private insertAt(h: number, p: number, key: Int32Array): number {
    const v = this.size++;
    if (v >= this.packed.length) {
      const packed = new Float64Array(this.packed.length * 2);
      packed.set(this.packed);
      this.packed = packed;
      const keys = new Int32Array(this.keys.length * 2);
      keys.set(this.keys);
      this.keys = keys;
    }
    this.packed[v] = p;
    this.keys.set(key, v * this.d);
    this.slots[h] = v;
    if (this.size * 2 > this.mask) this.rehash();
    return v;
  }

  private rehash(): void {
    this.slots = new Int32Array(this.slots.length * 2).fill(-1);
    this.mask = this.slots.length - 1;
    for (let v = 0; v < this.size; v++) {
      let h = this.slot(this.packed[v]);
      while (this.slots[h] >= 0) h = (h + 1) & this.mask;
      this.slots[h] = v;
    }
  }
}

class GeneralKeyTable implements KeyTable {
  size = 0;
  readonly packing = null;
  keys: Int32Array;
  private slots = new Int32Array(2 * INITIAL).fill(-1);
  private mask = 2 * INITIAL - 1;

  constructor(private readonly d: number) {
    this.keys = new Int32Array(INITIAL * d);
  }

  private hash(key: Int32Array, at: number): number {
    let h = 0x811c9dc5; // FNV-1a over the integers, then a finaliser
    for (let i = 0; i < this.d; i++) h = Math.imul(h ^ key[at + i], 16777619);
    return mix(h) & this.mask;
  }

  private equals(key: Int32Array, v: number): boolean {
    const base = v * this.d;
    for (let i = 0; i < this.d; i++) if (this.keys[base + i] !== key[i]) return false;
    return true;
  }

  find(key: Int32Array): number {
    for (let h = this.hash(key, 0); ; h = (h + 1) & this.mask) {
      const v = this.slots[h];
      if (v < 0 || this.equals(key, v)) return v;
    }
  }

  findOrInsert(key: Int32Array): number {
    let h = this.hash(key, 0);
    for (; ; h = (h + 1) & this.mask) {
      const v = this.slots[h];
      if (v < 0) break;
      if (this.equals(key, v)) return v;
    }
    const v = this.size++;
    if ((v + 1) * this.d > this.keys.length) {
      const keys = new Int32Array(this.keys.length * 2);
      keys.set(this.keys);
      this.keys = keys;
    }
    this.keys.set(key, v * this.d);
    this.slots[h] = v;
    if (this.size * 2 > this.mask) this.rehash();
    return v;
  }

  findPacked(): number {
    throw new Error('GeneralKeyTable: keys are not packed');
  }

  insertPacked(): number {
    throw new Error('GeneralKeyTable: keys are not packed');
  }

  packedKey(): number {
    throw new Error('GeneralKeyTable: keys are not packed');
  }

  private rehash(): void {
    this.slots = new Int32Array(this.slots.length * 2).fill(-1);
    this.mask = this.slots.length - 1;
    for (let v = 0; v < this.size; v++) {
      let h = this.hash(this.keys, v * this.d);
      while (this.slots[h] >= 0) h = (h + 1) & this.mask;
      this.slots[h] = v;
    }
  }
}
