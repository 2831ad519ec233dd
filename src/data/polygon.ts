/**
 * Polygon rasterisation exactly as pycocotools (`frPyObjects` + `decode`, i.e. `rleFrPoly` of
 * its maskApi.c), so COCO polygon masks agree pixel for pixel with the reference tools:
 * 1. scale the vertices by 5 and round them (C cast: truncation of v * 5 + 0.5);
 * 2. walk every edge with a DDA, one point per step along its major axis;
 * 3. keep the points where the walk crosses a pixel-centre column x + 0.5 (in original
 *    pixels) and record the first pixel row at or below the edge there (ceil, clamped);
 * 4. those (x, y) points, sorted in column-major order, are where the inside/outside state
 *    toggles: their differences are the RLE counts (empty runs merged).
 */
import type { CocoRle } from './coco-rle.js';

const SCALE = 5;

/**
 * Rasterises one polygon `xy` = [x0, y0, x1, y1, ...] (pixel coordinates, the COCO
 * convention: pixel (0, 0) covers [0, 1) x [0, 1)) into an h x w RLE. An odd trailing value is
 * ignored (pycocotools uses floor(len / 2) vertices).
 */
export function rleFromPolygon(xy: ArrayLike<number>, h: number, w: number): CocoRle {
  const k = Math.floor(xy.length / 2);
  if (k === 0) return { h, w, counts: Uint32Array.of(h * w) };
  // 1. Upsampled, rounded vertices, closed.
  const x = new Int32Array(k + 1);
  const y = new Int32Array(k + 1);
  for (let j = 0; j < k; j++) {
    x[j] = Math.trunc(SCALE * xy[2 * j] + 0.5);
    y[j] = Math.trunc(SCALE * xy[2 * j + 1] + 0.5);
  }
  x[k] = x[0];
  y[k] = y[0];
  // 2. Dense boundary points, one per unit step along each edge's major axis.
  let m = 0;
  for (let j = 0; j < k; j++) m += Math.max(Math.abs(x[j] - x[j + 1]), Math.abs(y[j] - y[j + 1])) + 1;
  const u = new Int32Array(m);
  const v = new Int32Array(m);
  m = 0;
  for (let j = 0; j < k; j++) {
    let xs = x[j], xe = x[j + 1], ys = y[j], ye = y[j + 1];
    const dx = Math.abs(xe - xs);
    const dy = Math.abs(ys - ye);
    const flip = (dx >= dy && xs > xe) || (dx < dy && ys > ye);
    if (flip) {
      [xs, xe] = [xe, xs];
      [ys, ye] = [ye, ys];
    }
    if (dx >= dy) {
      const s = (ye - ys) / dx;
      for (let d = 0; d <= dx; d++) {
        const t = flip ? dx - d : d;
        u[m] = t + xs;
        v[m] = Math.trunc(ys + s * t + 0.5);
        m++;
      }
    } else {
      const s = (xe - xs) / dy;
      for (let d = 0; d <= dy; d++) {
        const t = flip ? dy - d : d;
        v[m] = t + ys;
        u[m] = Math.trunc(xs + s * t + 0.5);
        m++;
      }
    }
  }
  // 3. Crossings of pixel-centre columns, downsampled to pixel coordinates.
  const toggles: number[] = [];
  for (let j = 1; j < m; j++) {
    if (u[j] === u[j - 1]) continue;
    const xd = ((u[j] < u[j - 1] ? u[j] : u[j] - 1) + 0.5) / SCALE - 0.5;
    if (Math.floor(xd) !== xd || xd < 0 || xd > w - 1) continue;
    let yd = ((v[j] < v[j - 1] ? v[j] : v[j - 1]) + 0.5) / SCALE - 0.5;
    if (yd < 0) yd = 0;
    else if (yd > h) yd = h;
    yd = Math.ceil(yd);
    toggles.push(xd * h + yd);
  }
  // 4. Sorted toggle positions -> run lengths; a zero-length run merges its neighbours.
  toggles.push(h * w);
  toggles.sort((a, b) => a - b);
  const a = new Array<number>(toggles.length);
  let prev = 0;
  for (let j = 0; j < toggles.length; j++) {
    a[j] = toggles[j] - prev;
    prev = toggles[j];
  }
  const counts: number[] = [a[0]];
  for (let j = 1; j < a.length; ) {
    if (a[j] > 0) counts.push(a[j++]);
    else {
      j++;
      if (j < a.length) counts[counts.length - 1] += a[j++];
    }
  }
  return { h, w, counts: Uint32Array.from(counts) };
}
