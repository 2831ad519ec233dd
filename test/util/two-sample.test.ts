// Two-sample tests against SciPy 1.x (scipy.stats.ttest_ind(equal_var=False), mannwhitneyu).
import { describe, expect, it } from 'vitest';
import { incompleteBeta, mannWhitneyU, meanSd, welchTTest } from '../../src/util/two-sample.js';

describe('welchTTest', () => {
  it('matches scipy on equal-size samples (t -3.6742, df 4, p 0.0213116)', () => {
    const r = welchTTest([1, 2, 3], [4, 5, 6]);
    expect(r.t).toBeCloseTo(-3.6742346141747673, 10);
    expect(r.df).toBeCloseTo(4, 10);
    expect(r.p).toBeCloseTo(0.021311641128756713, 8);
  });
  it('matches scipy with unequal variances (df 7.9449, p 0.0378751)', () => {
    const r = welchTTest([0.1, 0.4, 0.35, 0.2, 0.3], [0.5, 0.45, 0.3, 0.6, 0.41]);
    expect(r.t).toBeCloseTo(-2.487323107692688, 10);
    expect(r.df).toBeCloseTo(7.944868514083451, 8);
    expect(r.p).toBeCloseTo(0.03787513218130427, 8);
  });
  it('constant samples: p 1 when equal, 0 when not', () => {
    expect(welchTTest([2, 2], [2, 2]).p).toBe(1);
    expect(welchTTest([2, 2], [3, 3]).p).toBe(0);
  });
  it('rejects samples of one value', () => {
    expect(() => welchTTest([1], [1, 2])).toThrow(/at least 2 values/);
  });
});

describe('mannWhitneyU', () => {
  it('exact p of separated samples is 2 / C(10, 5) = 0.0079365', () => {
    const r = mannWhitneyU([1, 2, 3, 4, 5], [6, 7, 8, 9, 10]);
    expect(r).toMatchObject({ u: 0, exact: true });
    expect(r.p).toBeCloseTo(2 / 252, 12);
  });
  it('exact p of interleaved samples (U 10, p 0.690476)', () => {
    const r = mannWhitneyU([1, 3, 5, 7, 9], [2, 4, 6, 8, 10]);
    expect(r.u).toBe(10);
    expect(r.p).toBeCloseTo(0.6904761904761905, 12);
  });
  it('ties: normal approximation with tie and continuity correction (U 4, p 0.089686)', () => {
    const r = mannWhitneyU([1, 2, 2, 3, 5], [2, 4, 6, 6, 7]);
    expect(r).toMatchObject({ u: 4, exact: false });
    expect(r.p).toBeCloseTo(0.08968602177036457, 6);
  });
});

describe('helpers', () => {
  it('meanSd uses n - 1', () => {
    expect(meanSd([1, 2, 3, 4])).toEqual({ mean: 2.5, sd: Math.sqrt(5 / 3) });
  });
  it('incompleteBeta: I_0.5(a, a) = 0.5 and I_x(1, 1) = x', () => {
    expect(incompleteBeta(0.5, 3.7, 3.7)).toBeCloseTo(0.5, 12);
    expect(incompleteBeta(0.3, 1, 1)).toBeCloseTo(0.3, 12);
  });
});
