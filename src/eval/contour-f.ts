/**
 * Contour F-score (METHOD 4). For each foreground class c the boundary map of the mask
 * [label == c] is b = (m xor east) | (m xor south) | (m xor south-east), the last row compared
 * only eastwards, the last column only southwards, the bottom-right pixel 0. A boundary pixel
 * of one map is matched when a boundary pixel of the other lies in the disk x^2 + y^2 <= r^2,
 * r = ceil(boundTh * sqrt(H^2 + W^2)).
 *
 * Implementation: one scan per map collects, for every class, its boundary pixels as column
 * lists grouped by row (a pixel is on the boundary of every foreground class among its four
 * labels as soon as those labels are not all equal, so all classes come out of one pass). A
 * disk query then becomes, per row offset dy, a merge of two sorted column lists with the
 * half-width floor(sqrt(r^2 - dy^2)): work is proportional to (2r+1) x boundary length, never
 * to the image area. GT ignore pixels (255) are background here: they are never a foreground
 * class, so they only matter where they differ from a class.
 */
import { HfplError } from '../errors.js';
import type { LabelMap } from '../data/label-png.js';
import { checkClasses, checkSameSize, type PairNames } from './confusion.js';

/** Per-class boundary pixels of one map: columns, grouped by row. */
class BoundaryLists {
  xs: Int32Array[] = [];
  n: Int32Array;
  /** rowStart[c * (H + 1) + y] = index of the first entry of row y in xs[c]. */
  rowStart: Int32Array = new Int32Array(0);
  height = 0;

  constructor(readonly numClasses: number) {
    this.n = new Int32Array(numClasses);
    for (let c = 0; c < numClasses; c++) this.xs.push(new Int32Array(c === 0 ? 0 : 256));
  }

  /** Collects the boundary pixels of every foreground class of `labels` (values >= K are no class). */
  collect(labels: Uint8Array, width: number, height: number): void {
    const K = this.numClasses, n = this.n, xs = this.xs;
    n.fill(0);
    this.height = height;
    if (this.rowStart.length < K * (height + 1)) this.rowStart = new Int32Array(K * (height + 1));
    const rs = this.rowStart, H1 = height + 1, W = width;
    const push = (c: number, x: number): void => {
      if (c === 0 || c >= K) return;
      let buf = xs[c];
      if (n[c] === buf.length) {
        const grown = new Int32Array(buf.length * 2);
        grown.set(buf);
        xs[c] = buf = grown;
      }
      buf[n[c]++] = x;
    };
    for (let y = 0; y < height; y++) {
      for (let c = 1; c < K; c++) rs[c * H1 + y] = n[c];
      const row = y * W;
      if (y < height - 1) {
        for (let x = 0; x < W - 1; x++) {
          const i = row + x;
          const a = labels[i], e = labels[i + 1], s = labels[i + W], d = labels[i + W + 1];
          if (a === e && a === s && a === d) continue;
          push(a, x);
          if (e !== a) push(e, x);
          if (s !== a && s !== e) push(s, x);
          if (d !== a && d !== e && d !== s) push(d, x);
        }
        // Last column: compared southwards only.
        const a = labels[row + W - 1], s = labels[row + 2 * W - 1];
        if (a !== s) {
          push(a, W - 1);
          push(s, W - 1);
        }
      } else {
        // Last row: compared eastwards only; the bottom-right pixel is 0.
        for (let x = 0; x < W - 1; x++) {
          const a = labels[row + x], e = labels[row + x + 1];
          if (a !== e) {
            push(a, x);
            push(e, x);
          }
        }
      }
    }
    for (let c = 1; c < K; c++) rs[c * H1 + height] = n[c];
  }
}

/** Half-widths of the disk x^2 + y^2 <= r^2 per row offset |dy| = 0..r. */
function diskHalfWidths(r: number): Int32Array {
  const w = new Int32Array(r + 1);
  for (let dy = 0; dy <= r; dy++) {
    let x = 0;
    while ((x + 1) * (x + 1) + dy * dy <= r * r) x++;
    w[dy] = x;
  }
  return w;
}

/** Disk offsets ordered 0, -1, +1, -2, +2, ... so that most matches are found early. */
function dyOrder(r: number): Int32Array {
  const o = new Int32Array(2 * r + 1);
  for (let k = 1; k <= r; k++) {
    o[2 * k - 1] = -k;
    o[2 * k] = k;
  }
  return o;
}

/** Tolerance radius in pixels: boundTh itself when >= 1, else ceil(boundTh * image diagonal). */
export function contourTolerance(boundTh: number, height: number, width: number): number {
  return boundTh >= 1 ? Math.round(boundTh) : Math.ceil(boundTh * Math.sqrt(height * height + width * width));
}

/** Per-class contour counts: matched and total boundary pixels of prediction and GT. */
export interface ContourCounts {
  /** m_p[c]: prediction boundary pixels of class c with a GT boundary pixel within r. */
  matchedPred: Float64Array;
  /** m_g[c]: GT boundary pixels of class c with a prediction boundary pixel within r. */
  matchedGt: Float64Array;
  /** n_p[c]: prediction boundary pixels of class c. */
  nPred: Float64Array;
  /** n_g[c]: GT boundary pixels of class c. */
  nGt: Float64Array;
}

/** Options of the contour F-score. */
export interface ContourOptions {
  /** K, classes 0..K-1; class 0 (background) gets no boundary counts. */
  numClasses: number;
  /** GT value treated as background (default 255). */
  ignoreIndex?: number;
  /** Tolerance as a fraction of the image diagonal, or pixels when >= 1 (default 0.008). */
  boundTh?: number;
}

/**
 * Computes per-image contour counts with reusable scratch memory, adding into running sums
 * (`add`) or returning them for one image (`counts`). Memory stays bounded by the largest image.
 */
export class ContourAccumulator {
  readonly numClasses: number;
  readonly boundTh: number;
  readonly sums: ContourCounts;
  private readonly predLists: BoundaryLists;
  private readonly gtLists: BoundaryLists;
  private matched: Uint8Array = new Uint8Array(256);
  private radius = -1;
  private halfWidths: Int32Array = new Int32Array(0);
  private order: Int32Array = new Int32Array(0);

  constructor(options: ContourOptions) {
    this.numClasses = options.numClasses;
    this.boundTh = options.boundTh ?? 0.008;
    checkClasses(this.numClasses, options.ignoreIndex ?? 255);
    if (!(this.boundTh > 0)) throw new HfplError('E_CONFIG', `boundTh must be > 0, got ${this.boundTh}`);
    this.predLists = new BoundaryLists(this.numClasses);
    this.gtLists = new BoundaryLists(this.numClasses);
    this.sums = emptyCounts(this.numClasses);
  }

  /** Adds the counts of one pair to `sums`. Label values are not validated here. */
  add(pred: LabelMap, gt: LabelMap, names: PairNames = {}): void {
    this.accumulate(pred, gt, this.sums, names);
  }

  /** The counts of one pair alone. */
  counts(pred: LabelMap, gt: LabelMap, names: PairNames = {}): ContourCounts {
    const out = emptyCounts(this.numClasses);
    this.accumulate(pred, gt, out, names);
    return out;
  }

  /** Per-foreground-class F (entry i is class i + 1) and their mean, from `sums`. */
  result(): { contourFPerClass: number[]; contourF: number } {
    return contourFFromCounts(this.sums);
  }

  private accumulate(pred: LabelMap, gt: LabelMap, out: ContourCounts, names: PairNames): void {
    checkSameSize(pred, gt, names);
    const { width: W, height: H } = pred;
    if (W === 0 || H === 0) return;
    const r = contourTolerance(this.boundTh, H, W);
    if (r !== this.radius) {
      this.radius = r;
      this.halfWidths = diskHalfWidths(r);
      this.order = dyOrder(r);
    }
    const P = this.predLists, G = this.gtLists;
    P.collect(pred.data, W, H);
    G.collect(gt.data, W, H);
    for (let c = 1; c < this.numClasses; c++) {
      const np = P.n[c], ng = G.n[c];
      if (np === 0 && ng === 0) continue;
      out.nPred[c] += np;
      out.nGt[c] += ng;
      if (np === 0 || ng === 0) continue;
      out.matchedPred[c] += this.countMatched(P, G, c);
      out.matchedGt[c] += this.countMatched(G, P, c);
    }
  }

  /** Number of class-c boundary pixels of `a` with a class-c boundary pixel of `b` in the disk. */
  private countMatched(a: BoundaryLists, b: BoundaryLists, c: number): number {
    const H = a.height, H1 = H + 1, base = c * H1;
    const ax = a.xs[c], bx = b.xs[c], ars = a.rowStart, brs = b.rowStart;
    const order = this.order, hw = this.halfWidths;
    let total = 0;
    for (let y = 0; y < H; y++) {
      const a0 = ars[base + y], a1 = ars[base + y + 1], len = a1 - a0;
      if (len === 0) continue;
      if (this.matched.length < len) this.matched = new Uint8Array(len * 2);
      const m = this.matched;
      m.fill(0, 0, len);
      let left = len;
      for (let k = 0; k < order.length && left > 0; k++) {
        const dy = order[k], yb = y + dy;
        if (yb < 0 || yb >= H) continue;
        let j = brs[base + yb];
        const b1 = brs[base + yb + 1];
        if (j === b1) continue;
        const w = hw[dy < 0 ? -dy : dy];
        for (let i = a0; i < a1; i++) {
          const x = ax[i];
          while (j < b1 && bx[j] < x - w) j++;
          if (j === b1) break;
          if (m[i - a0] === 0 && bx[j] <= x + w) {
            m[i - a0] = 1;
            left--;
          }
        }
      }
      total += len - left;
    }
    return total;
  }
}

function emptyCounts(K: number): ContourCounts {
  return { matchedPred: new Float64Array(K), matchedGt: new Float64Array(K), nPred: new Float64Array(K), nGt: new Float64Array(K) };
}

/**
 * Per-class F from data-set sums (METHOD 4): P = m_p / n_p, R = m_g / n_g, F = 2PR / (P + R);
 * no boundary in one map and some in the other scores 0, none in both scores 1, P = R = 0
 * scores 0. Returns entries for classes 1..K-1 and their mean.
 */
export function contourFFromCounts(counts: ContourCounts): { contourFPerClass: number[]; contourF: number } {
  const perClass: number[] = [];
  for (let c = 1; c < counts.nPred.length; c++) {
    const np = counts.nPred[c], ng = counts.nGt[c];
    let f: number;
    if (np === 0 && ng === 0) f = 1;
    else if (np === 0 || ng === 0) f = 0;
    else {
      const p = counts.matchedPred[c] / np, r = counts.matchedGt[c] / ng;
      f = p + r > 0 ? (2 * p * r) / (p + r) : 0;
    }
    perClass.push(f);
  }
  const contourF = perClass.length > 0 ? perClass.reduce((s, v) => s + v, 0) / perClass.length : 0;
  return { contourFPerClass: perClass, contourF };
}

/**
 * Contour counts of one label-map pair (METHOD 4), for callers that sum their own way.
 *
 * @example
 * const c = contourCounts(pred, gt, { numClasses: 21 });
 * c.matchedPred[15]; // prediction boundary pixels of 'person' near a GT person boundary
 */
export function contourCounts(pred: LabelMap, gt: LabelMap, options: ContourOptions): ContourCounts {
  return new ContourAccumulator(options).counts(pred, gt);
}
