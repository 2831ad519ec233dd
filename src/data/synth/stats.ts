/**
 * Figures that say how much a synthetic set "behaves like real photos" (docs/benchmark-v2.md):
 * how well object contours follow colour edges (mostly, not always), how many colour edges are
 * not contours, how much class evidence the body carries outside the discriminative part,
 * object sizes and occlusion. Works on v1 and v2 samples alike.
 */
import type { LabelMap } from '../label-png.js';
import type { RgbImage } from '../types.js';

/** What the statistics need of one object. */
export interface StatsObject {
  cls: number;
  /** Pixels when drawn, and still visible. */
  area: number;
  visible: number;
  /** Box of the discriminative part [x0, y0, x1, y1) (excluded, grown by 2 px, from the body statistics). */
  partBox: [number, number, number, number];
  /** Pixels of the part (default: the box area). */
  partArea?: number;
}

/** What the statistics need of one sample. */
export interface StatsSample {
  image: RgbImage;
  mask: LabelMap;
  objects: StatsObject[];
}

/** Options of `synthStats`. */
export interface SynthStatsOptions {
  /** Colour-edge threshold: RGB gradient magnitude (Sobel / 4, i.e. the step height) at least this. Default 24. */
  edgeThreshold?: number;
  /** A contour pixel lies on a colour edge when an edge pixel is within this many pixels (Chebyshev). Default 1. */
  contourTolerance?: number;
  /** An edge pixel is a contour edge when a contour pixel is within this many pixels. Default 2. */
  edgeTolerance?: number;
  /** Number of classes (for the body classifier's chance level). */
  classes: number;
}

/** The figures; fractions in [0, 1]. */
export interface SynthStats {
  images: number;
  objects: number;
  /** Share of GT contour pixels (a 4-neighbour of another label) with a colour edge nearby. */
  contourOnEdge: number;
  /** Share of colour-edge pixels with no GT contour nearby (textures, parts, shading, background). */
  edgeOffContour: number;
  /** Share of colour-edge pixels that lie in the background (mask 0) away from contours. */
  edgeInBackground: number;
  /**
   * Nearest-centroid accuracy of the class from body statistics alone (object pixels 2 px
   * inside the contour, part box grown by 2 px excluded): centroids from even-numbered objects, tested on odd.
   */
  bodyAccuracy: number;
  /** Chance level of `bodyAccuracy` (most frequent class share of the test half). */
  bodyChance: number;
  /** Between-class / within-class variance of each body feature (one-way ANOVA F-like ratio). */
  featureSeparation: Record<string, number>;
  /** Visible object area as a fraction of the image: 10%, 50%, 90% quantiles. */
  sizeQuantiles: [number, number, number];
  /** Images with 1, 2, 3 objects (fractions). */
  objectCounts: number[];
  /** Objects of which more than 1% is hidden (by another object or an occluder). */
  occludedObjects: number;
  /** Mean hidden fraction of the occluded objects. */
  meanHiddenWhenOccluded: number;
  /** Mean part area / visible body area. */
  partShare: number;
}

export const BODY_FEATURES = ['luma', 'red-green', 'yellow-blue', 'luma std', 'edge density', 'gradient', 'coherence'] as const;

/** Per-pixel colour-edge map: 1 where the Sobel RGB gradient magnitude / 4 is >= threshold. */
export function colourEdges(img: RgbImage, threshold: number): { edges: Uint8Array; gx: Float32Array; gy: Float32Array } {
  const W = img.width, H = img.height, d = img.data, edges = new Uint8Array(W * H), gx = new Float32Array(W * H), gy = new Float32Array(W * H);
  const t2 = threshold * threshold;
  for (let y = 1; y < H - 1; y++) {
    for (let x = 1; x < W - 1; x++) {
      let m2 = 0, lx = 0, ly = 0;
      for (let k = 0; k < 3; k++) {
        const at = (xx: number, yy: number) => d[3 * (yy * W + xx) + k];
        const sx = (at(x + 1, y - 1) + 2 * at(x + 1, y) + at(x + 1, y + 1) - at(x - 1, y - 1) - 2 * at(x - 1, y) - at(x - 1, y + 1)) / 4;
        const sy = (at(x - 1, y + 1) + 2 * at(x, y + 1) + at(x + 1, y + 1) - at(x - 1, y - 1) - 2 * at(x, y - 1) - at(x + 1, y - 1)) / 4;
        m2 += sx * sx + sy * sy;
        const w = k === 0 ? 0.299 : k === 1 ? 0.587 : 0.114;
        lx += w * sx;
        ly += w * sy;
      }
      const p = y * W + x;
      edges[p] = m2 >= t2 ? 1 : 0;
      gx[p] = lx;
      gy[p] = ly;
    }
  }
  return { edges, gx, gy };
}

/** 1 where a pixel's right or lower neighbour has another label (and that neighbour too). */
export function maskContours(mask: LabelMap): Uint8Array {
  const W = mask.width, H = mask.height, m = mask.data, out = new Uint8Array(W * H);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const p = y * W + x;
      if (x + 1 < W && m[p] !== m[p + 1]) out[p] = out[p + 1] = 1;
      if (y + 1 < H && m[p] !== m[p + W]) out[p] = out[p + W] = 1;
    }
  }
  return out;
}

/** Square dilation (Chebyshev radius r) of a 0/1 map. */
export function dilate(map: Uint8Array, W: number, H: number, r: number): Uint8Array {
  const tmp = new Uint8Array(W * H), out = new Uint8Array(W * H);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      let v = 0;
      for (let dx = -r; dx <= r && !v; dx++) v = map[y * W + Math.min(W - 1, Math.max(0, x + dx))];
      tmp[y * W + x] = v;
    }
  }
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      let v = 0;
      for (let dy = -r; dy <= r && !v; dy++) v = tmp[Math.min(H - 1, Math.max(0, y + dy)) * W + x];
      out[y * W + x] = v;
    }
  }
  return out;
}

/**
 * Computes the figures over `samples` (see `SynthStats`).
 *
 * @example synthStats(samples.map(v2StatsSample), { classes: 6 }).contourOnEdge // e.g. 0.9
 */
export function synthStats(samples: StatsSample[], opts: SynthStatsOptions): SynthStats {
  const T = opts.edgeThreshold ?? 24, ct = opts.contourTolerance ?? 1, et = opts.edgeTolerance ?? 2;
  let contour = 0, contourHit = 0, edge = 0, edgeOff = 0, edgeBg = 0;
  const feats: { cls: number; f: number[] }[] = [];
  const sizes: number[] = [], counts = [0, 0, 0, 0];
  let occluded = 0, hiddenSum = 0, partSum = 0, nObj = 0;
  for (const s of samples) {
    const W = s.image.width, H = s.image.height, N = W * H;
    const { edges, gx, gy } = colourEdges(s.image, T);
    const cont = maskContours(s.mask);
    const edgeNear = dilate(edges, W, H, ct), contNear = dilate(cont, W, H, et), inner = dilate(cont, W, H, 2);
    for (let p = 0; p < N; p++) {
      if (cont[p]) {
        contour++;
        contourHit += edgeNear[p];
      }
      if (edges[p]) {
        edge++;
        if (!contNear[p]) {
          edgeOff++;
          if (s.mask.data[p] === 0) edgeBg++;
        }
      }
    }
    counts[Math.min(3, s.objects.length)]++;
    for (const o of s.objects) {
      nObj++;
      sizes.push(o.visible / N);
      const hidden = 1 - o.visible / o.area;
      if (hidden > 0.01) {
        occluded++;
        hiddenSum += hidden;
      }
      const [bx0, by0, bx1, by1] = [o.partBox[0] - 2, o.partBox[1] - 2, o.partBox[2] + 2, o.partBox[3] + 2];
      partSum += (o.partArea ?? (o.partBox[2] - o.partBox[0]) * (o.partBox[3] - o.partBox[1])) / Math.max(1, o.visible);
      // Body statistics: object pixels away from the contour, outside the part box.
      let n = 0, sl = 0, sl2 = 0, srg = 0, syb = 0, se = 0, sg = 0, jxx = 0, jyy = 0, jxy = 0;
      for (let y = 1; y < H - 1; y++) {
        for (let x = 1; x < W - 1; x++) {
          const p = y * W + x;
          if (s.mask.data[p] !== o.cls || inner[p] || (x >= bx0 && x < bx1 && y >= by0 && y < by1)) continue;
          const r = s.image.data[3 * p], g = s.image.data[3 * p + 1], b = s.image.data[3 * p + 2];
          const l = 0.299 * r + 0.587 * g + 0.114 * b;
          n++;
          sl += l;
          sl2 += l * l;
          srg += r - g;
          syb += (r + g) / 2 - b;
          se += edges[p];
          const ax = gx[p], ay = gy[p];
          sg += Math.hypot(ax, ay);
          jxx += ax * ax;
          jyy += ay * ay;
          jxy += ax * ay;
        }
      }
      if (n < 20) continue;
      const ml = sl / n;
      feats.push({ cls: o.cls, f: [ml / 255, srg / n / 255, syb / n / 255, Math.sqrt(Math.max(0, sl2 / n - ml * ml)) / 64, se / n, sg / n / 32, Math.hypot(jxx - jyy, 2 * jxy) / Math.max(1e-9, jxx + jyy)] });
    }
  }
  const { accuracy, chance } = nearestCentroid(feats, opts.classes);
  const separation: Record<string, number> = {};
  BODY_FEATURES.forEach((name, j) => (separation[name] = round3(fRatio(feats.map((e) => [e.cls, e.f[j]] as [number, number])))));
  sizes.sort((a, b) => a - b);
  const q = (t: number) => round3(sizes[Math.min(sizes.length - 1, Math.floor(t * sizes.length))] ?? 0);
  return {
    images: samples.length,
    objects: nObj,
    contourOnEdge: round3(contourHit / Math.max(1, contour)),
    edgeOffContour: round3(edgeOff / Math.max(1, edge)),
    edgeInBackground: round3(edgeBg / Math.max(1, edge)),
    bodyAccuracy: round3(accuracy),
    bodyChance: round3(chance),
    featureSeparation: separation,
    sizeQuantiles: [q(0.1), q(0.5), q(0.9)],
    objectCounts: counts.slice(1).map((c) => round3(c / Math.max(1, samples.length))),
    occludedObjects: round3(occluded / Math.max(1, nObj)),
    meanHiddenWhenOccluded: round3(hiddenSum / Math.max(1, occluded)),
    partShare: round3(partSum / Math.max(1, nObj)),
  };
}

const round3 = (v: number) => Math.round(v * 1000) / 1000;

/** Nearest-centroid accuracy on z-scored features: centroids from even entries, tested on odd ones. */
function nearestCentroid(items: { cls: number; f: number[] }[], classes: number): { accuracy: number; chance: number } {
  if (items.length < 4) return { accuracy: 0, chance: 0 };
  const D = items[0].f.length, mean = new Array(D).fill(0), sd = new Array(D).fill(0);
  for (const it of items) it.f.forEach((v, j) => (mean[j] += v / items.length));
  for (const it of items) it.f.forEach((v, j) => (sd[j] += (v - mean[j]) ** 2 / items.length));
  const z = (f: number[]) => f.map((v, j) => (v - mean[j]) / Math.max(1e-9, Math.sqrt(sd[j])));
  const cent = Array.from({ length: classes + 1 }, () => new Array(D).fill(0)), cnt = new Array(classes + 1).fill(0);
  items.forEach((it, i) => {
    if (i % 2) return;
    z(it.f).forEach((v, j) => (cent[it.cls][j] += v));
    cnt[it.cls]++;
  });
  for (let c = 1; c <= classes; c++) if (cnt[c]) cent[c] = cent[c].map((v) => v / cnt[c]);
  let right = 0, total = 0;
  const freq = new Array(classes + 1).fill(0);
  items.forEach((it, i) => {
    if (!(i % 2)) return;
    const zf = z(it.f);
    let best = -1, bestD = Infinity;
    for (let c = 1; c <= classes; c++) {
      if (!cnt[c]) continue;
      const d = cent[c].reduce((a, v, j) => a + (v - zf[j]) ** 2, 0);
      if (d < bestD) {
        bestD = d;
        best = c;
      }
    }
    right += best === it.cls ? 1 : 0;
    freq[it.cls]++;
    total++;
  });
  return { accuracy: right / total, chance: Math.max(...freq) / total };
}

/** Between-class variance of the class means over the mean within-class variance. */
function fRatio(xs: [number, number][]): number {
  const by = new Map<number, number[]>();
  for (const [c, v] of xs) by.set(c, [...(by.get(c) ?? []), v]);
  const all = xs.map((e) => e[1]), m = all.reduce((a, v) => a + v, 0) / Math.max(1, all.length);
  let between = 0, within = 0;
  for (const vs of by.values()) {
    const mc = vs.reduce((a, v) => a + v, 0) / vs.length;
    between += (vs.length * (mc - m) ** 2) / all.length;
    within += vs.reduce((a, v) => a + (v - mc) ** 2, 0) / all.length;
  }
  return between / Math.max(1e-12, within);
}

/** The statistics view of a v1 sample (the part is the mark square). */
export function v1StatsSample(s: { image: RgbImage; mask: LabelMap; objects: { cls: number; area: number; visible: number; mark: { x: number; y: number; size: number } }[] }): StatsSample {
  return { image: s.image, mask: s.mask, objects: s.objects.map((o) => ({ cls: o.cls, area: o.area, visible: o.visible, partBox: [o.mark.x, o.mark.y, o.mark.x + o.mark.size, o.mark.y + o.mark.size] })) };
}

/** The statistics view of a v2 sample (the part is the disc's bounding square). */
export function v2StatsSample(s: { image: RgbImage; mask: LabelMap; objects: { cls: number; area: number; visible: number; part: { cx: number; cy: number; r: number } }[] }): StatsSample {
  return {
    image: s.image,
    mask: s.mask,
    objects: s.objects.map((o) => ({
      cls: o.cls,
      area: o.area,
      visible: o.visible,
      partBox: [Math.floor(o.part.cx - o.part.r), Math.floor(o.part.cy - o.part.r), Math.ceil(o.part.cx + o.part.r), Math.ceil(o.part.cy + o.part.r)],
      partArea: Math.PI * o.part.r * o.part.r,
    })),
  };
}
