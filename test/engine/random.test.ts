import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/engine/random.js';

describe('Rng', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const c = new Rng(43);
    const sa = Array.from({ length: 8 }, () => a.nextUint32());
    expect(Array.from({ length: 8 }, () => b.nextUint32())).toEqual(sa);
    expect(Array.from({ length: 8 }, () => c.nextUint32())).not.toEqual(sa);
  });

  it('has uniform mean 1/2, variance 1/12 and normal mean 0, variance 1 (n = 200000)', () => {
    const r = new Rng(7);
    const n = 200_000;
    let s = 0, s2 = 0, g = 0, g2 = 0;
    for (let i = 0; i < n; i++) {
      const u = r.next();
      s += u; s2 += u * u;
      const z = r.normal();
      g += z; g2 += z * z;
    }
    expect(s / n).toBeCloseTo(0.5, 2);
    expect(s2 / n - (s / n) ** 2).toBeCloseTo(1 / 12, 3);
    expect(g / n).toBeCloseTo(0, 2);
    expect(g2 / n).toBeCloseTo(1, 1);
  });

  it('int stays in range and shuffle is a permutation', () => {
    const r = new Rng(1);
    for (let i = 0; i < 1000; i++) {
      const k = r.int(3, 9);
      expect(k).toBeGreaterThanOrEqual(3);
      expect(k).toBeLessThan(9);
    }
    const a = Array.from({ length: 50 }, (_, i) => i);
    r.shuffle(a);
    expect([...a].sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });
});
