/**
 * Random object and blob outlines of the synthetic benchmark (wobbly ellipses and star-shaped
 * polygons around a centre) and their rasterisation by scanline fill.
 */
import type { Rng } from '../../engine/random.js';

/** A closed polygon, vertices interleaved x0, y0, x1, y1, ... in pixel units. */
export type Polygon = Float64Array;

/**
 * A random star-shaped outline of mean radius `r` around (cx, cy): half the time a wobbly
 * ellipse (axis ratio 0.7-1.3, random rotation, 2nd-4th harmonic wobble of up to 8% each),
 * otherwise a polygon of 5-9 vertices at jittered angles and radii 0.75-1.15 r.
 */
export function randomOutline(rng: Rng, cx: number, cy: number, r: number): Polygon {
  if (rng.bernoulli(0.5)) {
    const n = 72;
    const ratio = rng.uniform(0.7, 1.3);
    const a = r * Math.sqrt(ratio), b = r / Math.sqrt(ratio);
    const rot = rng.uniform(0, Math.PI);
    const amp = [rng.uniform(0, 0.08), rng.uniform(0, 0.08), rng.uniform(0, 0.06)];
    const ph = [rng.uniform(0, 2 * Math.PI), rng.uniform(0, 2 * Math.PI), rng.uniform(0, 2 * Math.PI)];
    const cr = Math.cos(rot), sr = Math.sin(rot);
    const out = new Float64Array(2 * n);
    for (let i = 0; i < n; i++) {
      const t = (2 * Math.PI * i) / n;
      const w = 1 + amp[0] * Math.sin(2 * t + ph[0]) + amp[1] * Math.sin(3 * t + ph[1]) + amp[2] * Math.sin(4 * t + ph[2]);
      const x = a * w * Math.cos(t), y = b * w * Math.sin(t);
      out[2 * i] = cx + x * cr - y * sr;
      out[2 * i + 1] = cy + x * sr + y * cr;
    }
    return out;
  }
  const n = rng.int(5, 10);
  const rot = rng.uniform(0, 2 * Math.PI);
  const out = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    const t = rot + ((i + rng.uniform(-0.3, 0.3)) * 2 * Math.PI) / n;
    const rr = r * rng.uniform(0.75, 1.15);
    out[2 * i] = cx + rr * Math.cos(t);
    out[2 * i + 1] = cy + rr * Math.sin(t);
  }
  return out;
}

/**
 * Rasterises a polygon into `cov` (width x height, row-major): pixels whose centre lies inside
 * (even-odd rule) are set to 1, others left as they are. Returns the number of pixels set.
 */
export function fillPolygon(poly: Polygon, cov: Uint8Array, width: number, height: number): number {
  const n = poly.length / 2;
  let yMin = Infinity, yMax = -Infinity;
  for (let i = 0; i < n; i++) {
    yMin = Math.min(yMin, poly[2 * i + 1]);
    yMax = Math.max(yMax, poly[2 * i + 1]);
  }
  const y0 = Math.max(0, Math.ceil(yMin - 0.5)), y1 = Math.min(height - 1, Math.floor(yMax - 0.5));
  const xs = new Float64Array(n);
  let count = 0;
  for (let y = y0; y <= y1; y++) {
    const py = y + 0.5;
    let k = 0;
    for (let i = 0, j = n - 1; i < n; j = i++) {
      const yi = poly[2 * i + 1], yj = poly[2 * j + 1];
      if ((yi <= py) !== (yj <= py)) {
        xs[k++] = poly[2 * i] + ((py - yi) / (yj - yi)) * (poly[2 * j] - poly[2 * i]);
      }
    }
    const sorted = xs.subarray(0, k).sort();
    for (let s = 0; s + 1 < k; s += 2) {
      const xa = Math.max(0, Math.ceil(sorted[s] - 0.5)), xb = Math.min(width - 1, Math.floor(sorted[s + 1] - 0.5));
      const row = y * width;
      for (let x = xa; x <= xb; x++) {
        if (cov[row + x] === 0) count++;
        cov[row + x] = 1;
      }
    }
  }
  return count;
}

/** Summed-area table of a 0/1 coverage map: (width+1) x (height+1), entry (y, x) = sum above-left. */
export function integral(cov: Uint8Array, width: number, height: number): Int32Array {
  const w1 = width + 1;
  const sat = new Int32Array(w1 * (height + 1));
  for (let y = 0; y < height; y++) {
    let rowSum = 0;
    for (let x = 0; x < width; x++) {
      rowSum += cov[y * width + x];
      sat[(y + 1) * w1 + x + 1] = sat[y * w1 + x + 1] + rowSum;
    }
  }
  return sat;
}

/** Sum of the coverage over the box [x, x+w) x [y, y+h) (clipped to the map). */
export function boxSum(sat: Int32Array, width: number, height: number, x: number, y: number, w: number, h: number): number {
  const xa = Math.max(0, x), ya = Math.max(0, y), xb = Math.min(width, x + w), yb = Math.min(height, y + h);
  if (xb <= xa || yb <= ya) return 0;
  const w1 = width + 1;
  return sat[yb * w1 + xb] - sat[ya * w1 + xb] - sat[yb * w1 + xa] + sat[ya * w1 + xa];
}
