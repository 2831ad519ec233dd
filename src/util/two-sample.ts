/**
 * Two-sample tests for comparing small sets of run outcomes (e.g. 5 seeds on each engine path):
 * Welch's t test (unequal variances) and the Mann-Whitney U test (exact for small samples
 * without ties, normal approximation with tie correction otherwise). Both two-sided. And the
 * paired 95% t interval of per-seed differences (add-on - baseline on the same seeds).
 */

/** Two-sided 95% Student t quantiles t(0.975, df) for df = 1 ... 30 (beyond: 1.96). */
const T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042];

/** t(0.975, df); 1.96 above 30 degrees of freedom. */
export function tQuantile975(df: number): number {
  return df >= 1 && df <= 30 ? T975[df - 1] : 1.96;
}

/** Mean and 95% t interval of paired differences `d` (n >= 2; the interval is [mean, mean] for n = 1). */
export function pairedInterval(d: number[]): { n: number; mean: number; lo: number; hi: number } {
  const n = d.length;
  if (n === 0) return { n, mean: 0, lo: 0, hi: 0 };
  const { mean, sd } = meanSd(d);
  if (n < 2) return { n, mean, lo: mean, hi: mean };
  const half = tQuantile975(n - 1) * (sd / Math.sqrt(n));
  return { n, mean, lo: mean - half, hi: mean + half };
}

/** Mean and sample standard deviation (n - 1). */
export function meanSd(x: readonly number[]): { mean: number; sd: number } {
  const n = x.length;
  const mean = x.reduce((s, v) => s + v, 0) / n;
  const ss = x.reduce((s, v) => s + (v - mean) ** 2, 0);
  return { mean, sd: n > 1 ? Math.sqrt(ss / (n - 1)) : 0 };
}

function lnGamma(z: number): number {
  // Lanczos approximation (g = 7, n = 9), |error| < 1e-13 for z > 0.
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  if (z < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * z)) - lnGamma(1 - z);
  z -= 1;
  let a = c[0];
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += c[i] / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Continued fraction of the incomplete beta function (modified Lentz). */
function betaCf(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1, d = 1 - ((a + b) * x) / (a + 1);
  d = 1 / (Math.abs(d) < tiny ? tiny : d);
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 / (Math.abs(1 + aa * d) < tiny ? tiny : 1 + aa * d);
    c = Math.abs(1 + aa / c) < tiny ? tiny : 1 + aa / c;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 / (Math.abs(1 + aa * d) < tiny ? tiny : 1 + aa * d);
    c = Math.abs(1 + aa / c) < tiny ? tiny : 1 + aa / c;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-15) break;
  }
  return h;
}

/** Regularised incomplete beta I_x(a, b). */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(lnGamma(a + b) - lnGamma(a) - lnGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  return x < (a + 1) / (a + b + 2) ? (front * betaCf(a, b, x)) / a : 1 - (front * betaCf(b, a, 1 - x)) / b;
}

/** Two-sided p of Student's t with `df` degrees of freedom. */
export function studentTwoSidedP(t: number, df: number): number {
  if (!Number.isFinite(t)) return Number.isNaN(t) ? Number.NaN : 0;
  return incompleteBeta(df / (df + t * t), df / 2, 0.5);
}

/** Result of `welchTTest`. */
export interface WelchResult {
  t: number;
  /** Welch-Satterthwaite degrees of freedom. */
  df: number;
  /** Two-sided p (1 when both samples are constant and equal, 0 when constant and different). */
  p: number;
}

/**
 * Welch's t test of equal means. Needs at least 2 values per sample.
 *
 * @example welchTTest([1, 2, 3], [4, 5, 6]) // { t: -3.674, df: 4, p: 0.0213 }
 */
export function welchTTest(a: readonly number[], b: readonly number[]): WelchResult {
  if (a.length < 2 || b.length < 2) throw new Error('welchTTest: each sample needs at least 2 values');
  const x = meanSd(a), y = meanSd(b);
  const va = (x.sd * x.sd) / a.length, vb = (y.sd * y.sd) / b.length;
  const se = Math.sqrt(va + vb);
  if (se === 0) return { t: x.mean === y.mean ? 0 : Math.sign(x.mean - y.mean) * Infinity, df: a.length + b.length - 2, p: x.mean === y.mean ? 1 : 0 };
  const t = (x.mean - y.mean) / se;
  const df = (va + vb) ** 2 / ((va * va) / (a.length - 1) + (vb * vb) / (b.length - 1));
  return { t, df, p: studentTwoSidedP(t, df) };
}

/** Result of `mannWhitneyU`. */
export interface MannWhitneyResult {
  /** U of the first sample (pairs where a > b, ties counting 1/2). */
  u: number;
  /** Two-sided p. */
  p: number;
  /** True when p is exact (no ties, n1 * n2 <= 400). */
  exact: boolean;
}

/** Number of ways each rank-sum-U value arises for sizes m, n (no ties): counts[u]. */
function uCounts(m: number, n: number): number[] {
  // f(m, n, u) = f(m - 1, n, u - n) + f(m, n - 1, u), by dynamic programming over (i, j).
  const max = m * n;
  let prev: number[][] = Array.from({ length: n + 1 }, () => [1]);
  for (let i = 1; i <= m; i++) {
    const cur: number[][] = [];
    for (let j = 0; j <= n; j++) {
      const row = new Array<number>(i * j + 1).fill(0);
      const a = prev[j];
      for (let u = 0; u < a.length; u++) row[u + j] += a[u];
      if (j > 0) {
        const b = cur[j - 1];
        for (let u = 0; u < b.length; u++) row[u] += b[u];
      }
      cur.push(row);
    }
    prev = cur;
  }
  const out = prev[n];
  while (out.length < max + 1) out.push(0);
  return out;
}

function normalTwoSidedP(z: number): number {
  // erfc via the complementary error function's Chebyshev fit (Numerical Recipes erfcc), |rel err| < 1.2e-7.
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * x);
  const r = t * Math.exp(-x * x - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
    t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return Math.min(1, r);
}

/**
 * Mann-Whitney U test (two-sided) of equal distributions.
 *
 * @example mannWhitneyU([1, 2, 3, 4, 5], [6, 7, 8, 9, 10]) // { u: 0, p: 0.00794, exact: true }
 */
export function mannWhitneyU(a: readonly number[], b: readonly number[]): MannWhitneyResult {
  const m = a.length, n = b.length;
  if (m === 0 || n === 0) throw new Error('mannWhitneyU: both samples need values');
  let u = 0;
  for (const x of a) for (const y of b) u += x > y ? 1 : x === y ? 0.5 : 0;
  const all = [...a, ...b].sort((p, q) => p - q);
  const tieGroups: number[] = [];
  for (let i = 0; i < all.length;) {
    let j = i;
    while (j + 1 < all.length && all[j + 1] === all[i]) j++;
    if (j > i) tieGroups.push(j - i + 1);
    i = j + 1;
  }
  if (tieGroups.length === 0 && m * n <= 400) {
    const counts = uCounts(m, n);
    const total = counts.reduce((s, c) => s + c, 0);
    const lo = Math.min(u, m * n - u);
    let tail = 0;
    for (let k = 0; k <= lo; k++) tail += counts[k];
    return { u, p: Math.min(1, (2 * tail) / total), exact: true };
  }
  const N = m + n;
  const tie = tieGroups.reduce((s, t) => s + t ** 3 - t, 0);
  const sigma = Math.sqrt(((m * n) / 12) * (N + 1 - tie / (N * (N - 1))));
  if (sigma === 0) return { u, p: 1, exact: false };
  const z = (Math.abs(u - (m * n) / 2) - 0.5) / sigma; // continuity correction
  return { u, p: normalTwoSidedP(Math.max(0, z)), exact: false };
}
