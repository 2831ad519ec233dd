/**
 * Outlines of benchmark v2: the shape families of the classes (species.ts) in the object's
 * own frame, and simple class-free shapes for distractors (thick segments, rotated
 * rectangles). Polygons use the interleaved layout of shapes.ts and rasterise with its
 * `fillPolygon`.
 */
import type { Rng } from '../../../engine/random.js';
import type { Polygon } from '../shapes.js';
import type { ShapeFamily } from './species.js';

/** Where an object lies: centre, rotation of its major axis and its two semi-axes (pixels). */
export interface Frame {
  cx: number;
  cy: number;
  /** Angle of the major axis (radians). */
  theta: number;
  /** Mean radius: the unit of the texture frame (pixels). */
  r: number;
  /** Semi-axes along and across the major axis (pixels); a * b = r^2. */
  a: number;
  b: number;
}

/** Frame coordinates (u along the major axis, v across) of image point (x, y), in units of r. */
export function toFrame(f: Frame, x: number, y: number): [number, number] {
  const dx = x - f.cx, dy = y - f.cy, c = Math.cos(f.theta), s = Math.sin(f.theta);
  return [(dx * c + dy * s) / f.r, (-dx * s + dy * c) / f.r];
}

/** Image point of frame point (u, v) (units of r). */
export function fromFrame(f: Frame, u: number, v: number): [number, number] {
  const c = Math.cos(f.theta), s = Math.sin(f.theta);
  return [f.cx + f.r * (u * c - v * s), f.cy + f.r * (u * s + v * c)];
}

/**
 * A random outline of `family` around frame `f` (image coordinates). Every family is mirror
 * symmetric about one of its axes up to a small random wobble; with the frame's angle uniform
 * over the full circle, a horizontal flip of the image draws from the same distribution.
 */
export function familyOutline(rng: Rng, family: ShapeFamily, f: Frame): Polygon {
  const n = 96;
  const wob = [rng.uniform(0, 0.05), rng.uniform(0, 0.04), rng.uniform(0, 0.03)];
  const ph = [rng.uniform(0, 2 * Math.PI), rng.uniform(0, 2 * Math.PI), rng.uniform(0, 2 * Math.PI)];
  const lobes = rng.int(5, 8), lobeAmp = rng.uniform(0.1, 0.18), lobePh = rng.bernoulli(0.5) ? 0 : Math.PI / lobes;
  const pearE = rng.uniform(0.18, 0.32), beanD = rng.uniform(0.18, 0.28), sq = rng.uniform(2.6, 3.6);
  const poly = family === 'polygon' ? polygonRadii(rng) : null;
  const out = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    const t = (2 * Math.PI * i) / n;
    const w = 1 + wob[0] * Math.sin(2 * t + ph[0]) + wob[1] * Math.sin(3 * t + ph[1]) + wob[2] * Math.sin(5 * t + ph[2]);
    let x = Math.cos(t), y = Math.sin(t);
    switch (family) {
      case 'ellipse':
      case 'round':
        break;
      case 'lobed': {
        const k = 1 + lobeAmp * Math.cos(lobes * t + lobePh);
        x *= k;
        y *= k;
        break;
      }
      case 'pear': {
        const k = 1 + pearE * Math.cos(t);
        x *= k;
        y *= k;
        break;
      }
      case 'lens': // pointed at both ends of the major axis
        y *= 0.3 + 0.7 * Math.abs(Math.sin(t));
        break;
      case 'bean': { // a dent on one side
        const d = Math.atan2(Math.sin(t - Math.PI / 2), Math.cos(t - Math.PI / 2));
        const k = 1 - beanD * Math.exp(-(d * d) / 0.25);
        x *= k;
        y *= k;
        break;
      }
      case 'squircle':
        x = Math.sign(x) * Math.abs(x) ** (2 / sq);
        y = Math.sign(y) * Math.abs(y) ** (2 / sq);
        break;
      case 'polygon': {
        const k = polygonAt(poly!, t);
        x *= k;
        y *= k;
        break;
      }
    }
    const [px, py] = fromFrame(f, (w * x * f.a) / f.r, (w * y * f.b) / f.r);
    out[2 * i] = px;
    out[2 * i + 1] = py;
  }
  return out;
}

/** Radii of an angular polygon of 5-8 vertices (mirror-symmetric about the major axis). */
function polygonRadii(rng: Rng): { angles: number[]; radii: number[] } {
  const half = rng.int(3, 5);
  const angles: number[] = [0], radii: number[] = [rng.uniform(0.9, 1.15)];
  for (let i = 1; i < half; i++) {
    angles.push(((i + rng.uniform(-0.25, 0.25)) * Math.PI) / half);
    radii.push(rng.uniform(0.85, 1.15));
  }
  angles.push(Math.PI);
  radii.push(rng.uniform(0.9, 1.15));
  return { angles, radii };
}

/** Radius scale of the polygon at angle t: the straight edge between the neighbouring vertices. */
function polygonAt(p: { angles: number[]; radii: number[] }, t: number): number {
  const a = t > Math.PI ? 2 * Math.PI - t : t; // mirror about the major axis
  let i = 0;
  while (i < p.angles.length - 2 && a > p.angles[i + 1]) i++;
  const a0 = p.angles[i], a1 = p.angles[i + 1];
  const x0 = p.radii[i] * Math.cos(a0), y0 = p.radii[i] * Math.sin(a0), x1 = p.radii[i + 1] * Math.cos(a1), y1 = p.radii[i + 1] * Math.sin(a1);
  // Intersection of the ray at angle a with the segment (x0, y0) - (x1, y1).
  const dx = Math.cos(a), dy = Math.sin(a), ex = x1 - x0, ey = y1 - y0;
  const den = dx * ey - dy * ex;
  return Math.abs(den) < 1e-9 ? p.radii[i] : (x0 * ey - y0 * ex) / den;
}

/** A thick segment from (x0, y0) to (x1, y1) of width w (a rotated rectangle). */
export function segmentPolygon(x0: number, y0: number, x1: number, y1: number, w: number): Polygon {
  const len = Math.hypot(x1 - x0, y1 - y0) || 1, nx = (-(y1 - y0) / len) * (w / 2), ny = ((x1 - x0) / len) * (w / 2);
  return Float64Array.from([x0 + nx, y0 + ny, x1 + nx, y1 + ny, x1 - nx, y1 - ny, x0 - nx, y0 - ny]);
}
