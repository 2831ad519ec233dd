import { describe, expect, it } from 'vitest';
import { createKeyTable } from '../../src/infer/crf/key-table.js';

/** Packed key as documented in key-table.ts: sum_i (key[i] + bound) base^(d-1-i). */
function pack(key: Int32Array, base: number, bound: number): number {
  let p = 0;
  for (const k of key) p = p * base + (k + bound);
  return p;
}

describe('packed key table: findPacked / insertPacked', () => {
  it('assigns the same indices and keys as findOrInsert, across rehashes', () => {
    const d = 5, bound = 40;
    const a = createKeyTable(d, bound);
    const b = createKeyTable(d, bound);
    expect(a.packing).toEqual({ base: 2 * bound + 1, bound });
    let s = 7;
    const rand = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
    const key = new Int32Array(d);
    for (let t = 0; t < 6000; t++) {
      for (let i = 0; i < d; i++) key[i] = Math.floor(rand() * 13) - 6; // many repeats
      const p = pack(key, a.packing!.base, bound);
      let v = a.findPacked(p);
      const before = a.size;
      if (v < 0) v = a.insertPacked(p, key);
      else expect(a.size).toBe(before);
      expect(v).toBe(b.findOrInsert(key));
      expect(a.find(key)).toBe(v);
      expect(a.packedKey(v)).toBe(p);
    }
    expect(a.size).toBe(b.size);
    expect(a.size).toBeGreaterThan(2048); // grew past the initial capacity
    expect(Array.from(a.keys.subarray(0, a.size * d))).toEqual(Array.from(b.keys.subarray(0, b.size * d)));
  });

  it('the general table (keys too wide to pack) has no packing', () => {
    const t = createKeyTable(16, 1e6);
    expect(t.packing).toBeNull();
    expect(() => t.findPacked(0)).toThrow();
  });
});
