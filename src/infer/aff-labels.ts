/**
 * AffinityNet's training targets (METHOD 3.5; Ahn & Kwak, CVPR 2018, `ExtractAffinityLabelInRadius`):
 * 1. a per-pixel label from the two CRF maps: the alpha-1 map (strong background) gives the
 *    confident foreground, the alpha-24 map (weak background) the confident background, the
 *    rest is ignored (255);
 * 2. that map on the stride-8 grid: `pooledConfidentLabels` (the reference, default of
 *    train-aff): the two CRF *score* maps (cropped with the image) are average-pooled 8 x 8,
 *    each argmaxed per cell, and combined as in 1 (arvijj/hfpl voc12/data.py:232-256,
 *    tool/imutils.py:130-138, train_aff_voc.py:64-68); or the per-pixel map of 1 downsampled
 *    nearest (`resizeLabelsNearest`, one pixel decides each cell; train-aff `targets: 'nearest'`);
 * 3. pixel pairs (i, j) with |i - j| < radius on the grid, one direction per unordered pair
 *    (`pairOffsets`), each labelled bg-bg (positive), fg-fg of the same class (positive) or
 *    different classes (negative); pairs touching an ignored pixel carry no label.
 *
 * Pair layout (shared with `AffinityNet.pairAffinities`): "from" pixels are the grid window
 * rows [0, h - r + 1), columns [r - 1, w - r + 1) with r = radius; for offset d = (dy, dx)
 * the "to" pixel is from + d. Arrays are D x P, D = offsets, P = window pixels (row-major).
 */
import { HfplError } from '../errors.js';
import type { LabelMap } from '../data/label-png.js';

/** Ignore value of pixel labels. */
export const IGNORE_LABEL = 255;

/**
 * Pair offsets (dy, dx) within `radius` (dx^2 + dy^2 < radius^2), one per unordered pair:
 * (0, 1 .. r-1) then rows dy = 1 .. r-1 with dx in -(r-1) .. r-1. 34 offsets for radius 5.
 */
export function pairOffsets(radius: number): [number, number][] {
  if (!Number.isInteger(radius) || radius < 2) throw new HfplError('E_CONFIG', `pair radius must be an integer >= 2, got ${radius}`);
  const out: [number, number][] = [];
  for (let dx = 1; dx < radius; dx++) out.push([0, dx]);
  for (let dy = 1; dy < radius; dy++) {
    for (let dx = -radius + 1; dx < radius; dx++) if (dx * dx + dy * dy < radius * radius) out.push([dy, dx]);
  }
  return out;
}

/** Size of the "from" window of a h x w grid: rows h - (r - 1), columns w - 2 (r - 1). */
export function pairWindow(h: number, w: number, radius: number): { height: number; width: number } {
  const f = radius - 1;
  const height = h - f, width = w - 2 * f;
  if (height < 1 || width < 1) throw new HfplError('E_ARG', `a ${h} x ${w} grid is too small for pair radius ${radius} (needs at least ${f + 1} x ${2 * f + 1})`);
  return { height, width };
}

/**
 * Confident pixel labels from the CRF label maps at low and high alpha (METHOD 3.5): the
 * alpha-1 map's class where it is foreground, 0 where the alpha-24 map is background (this
 * wins, as in the reference), 255 elsewhere.
 */
export function confidentLabels(crfLow: LabelMap, crfHigh: LabelMap, names: { low?: string; high?: string } = {}): LabelMap {
  if (crfLow.width !== crfHigh.width || crfLow.height !== crfHigh.height) {
    throw new HfplError('E_DATA', `${names.high ?? 'alpha-24 CRF map'} is ${crfHigh.width}x${crfHigh.height}, ${names.low ?? 'alpha-1 CRF map'} is ${crfLow.width}x${crfLow.height}`);
  }
  const n = crfLow.width * crfLow.height;
  const data = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const lo = crfLow.data[i];
    data[i] = crfHigh.data[i] === 0 ? 0 : lo === 0 ? IGNORE_LABEL : lo;
  }
  return { data, width: crfLow.width, height: crfLow.height };
}

/** Class scores of one image, channel-major C x H x W (e.g. a CRF's output probabilities). */
export interface ScoreMap {
  data: Float32Array;
  channels: number;
  width: number;
  height: number;
}

/**
 * AffinityNet's grid labels from the two CRF score maps (already cropped / flipped with the
 * image, 0 in the crop padding), as the reference's `VOC12AffDataset.__getitem__`
 * (voc12/data.py:232-256): each map average-pooled over `k` x `k` cells
 * (`imutils.AvgPool2d(8)`, skimage block_reduce with mean, tool/imutils.py:130-138; a partial
 * last block is averaged with zeros, as block_reduce pads with 0), argmax per cell (first
 * maximum on ties, as numpy); label = low-alpha argmax, 255 where it is 0 (background), 0 where
 * the high-alpha argmax is 0, 255 where no channel of either pooled map reaches 1e-5 (cells of
 * padding). Labels are channel positions (0 = background, p = the p-th map), which is all the
 * pair labels compare. Returns a ceil(H / k) x ceil(W / k) map.
 */
export function pooledConfidentLabels(low: ScoreMap, high: ScoreMap, k = 8): LabelMap {
  if (low.width !== high.width || low.height !== high.height || low.channels !== high.channels) {
    throw new HfplError('E_DATA', `CRF score maps differ: ${low.channels} x ${low.height} x ${low.width} (low alpha) and ${high.channels} x ${high.height} x ${high.width} (high alpha)`);
  }
  const { width: W, height: H, channels: C } = low;
  const gw = Math.ceil(W / k), gh = Math.ceil(H / k), cells = gw * gh;
  const pool = (m: ScoreMap) => {
    const out = new Float32Array(C * cells);
    for (let c = 0; c < C; c++) {
      const src = c * H * W, dst = c * cells;
      for (let y = 0; y < H; y++) {
        const row = dst + Math.floor(y / k) * gw;
        for (let x = 0; x < W; x++) out[row + Math.floor(x / k)] += m.data[src + y * W + x];
      }
    }
    const inv = 1 / (k * k);
    for (let i = 0; i < out.length; i++) out[i] *= inv;
    return out;
  };
  const pl = pool(low), ph = pool(high);
  const data = new Uint8Array(cells);
  for (let i = 0; i < cells; i++) {
    let al = 0, ah = 0, mx = Math.max(pl[i], ph[i]);
    for (let c = 1; c < C; c++) {
      const vl = pl[c * cells + i], vh = ph[c * cells + i];
      if (vl > pl[al * cells + i]) al = c;
      if (vh > ph[ah * cells + i]) ah = c;
      mx = Math.max(mx, vl, vh);
    }
    data[i] = mx < 1e-5 ? IGNORE_LABEL : ah === 0 ? 0 : al === 0 ? IGNORE_LABEL : al;
  }
  return { data, width: gw, height: gh };
}

/**
 * Nearest-neighbour resize of a label map to `width` x `height` (pixel centres, as PIL's
 * NEAREST): source index floor((x + 0.5) * W / width).
 */
export function resizeLabelsNearest(map: LabelMap, width: number, height: number): LabelMap {
  const data = new Uint8Array(width * height);
  const cols = new Int32Array(width);
  for (let x = 0; x < width; x++) cols[x] = Math.min(map.width - 1, Math.floor(((x + 0.5) * map.width) / width));
  for (let y = 0; y < height; y++) {
    const sy = Math.min(map.height - 1, Math.floor(((y + 0.5) * map.height) / height));
    const src = sy * map.width, dst = y * width;
    for (let x = 0; x < width; x++) data[dst + x] = map.data[src + cols[x]];
  }
  return { data, width, height };
}

/** Pair targets of one grid: D x P 0/1 masks (float32, for `affinityPairLoss`). */
export interface PairLabels {
  bg: Float32Array;
  fg: Float32Array;
  neg: Float32Array;
  /** Offsets D and window pixels P. */
  numOffsets: number;
  numPixels: number;
}

/**
 * Pair labels of a grid label map (values 0 = background, 1.. classes, 255 ignore); see the
 * module comment for the layout. Optionally writes into preallocated arrays at `offset`.
 */
export function extractPairLabels(grid: LabelMap, radius = 5, out?: PairLabels, offset = 0): PairLabels {
  const { height: ch, width: cw } = pairWindow(grid.height, grid.width, radius);
  const offs = pairOffsets(radius);
  const D = offs.length, P = ch * cw, f = radius - 1, W = grid.width, g = grid.data;
  const res = out ?? { bg: new Float32Array(D * P), fg: new Float32Array(D * P), neg: new Float32Array(D * P), numOffsets: D, numPixels: P };
  offs.forEach(([dy, dx], d) => {
    const base = offset + d * P;
    for (let y = 0, p = 0; y < ch; y++) {
      for (let x = 0; x < cw; x++, p++) {
        const a = g[y * W + x + f], b = g[(y + dy) * W + x + f + dx];
        const k = base + p;
        if (a === IGNORE_LABEL || b === IGNORE_LABEL) {
          res.bg[k] = res.fg[k] = res.neg[k] = 0;
          continue;
        }
        res.bg[k] = a === b && a === 0 ? 1 : 0;
        res.fg[k] = a === b && a !== 0 ? 1 : 0;
        res.neg[k] = a !== b ? 1 : 0;
      }
    }
  });
  return res;
}

/** Counts of labelled pairs (for logs and tests). */
export function countPairs(p: PairLabels): { bg: number; fg: number; neg: number } {
  const sum = (a: Float32Array) => a.reduce((s, v) => s + v, 0);
  return { bg: sum(p.bg), fg: sum(p.fg), neg: sum(p.neg) };
}
