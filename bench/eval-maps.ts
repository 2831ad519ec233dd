/**
 * VOC-like synthetic label-map pairs for the evaluation benches: a few ellipses and rectangles
 * over background, a 1-pixel void band along GT object edges, and a prediction that is a
 * shifted, rescaled and partly relabelled copy of the GT.
 */
import type { Rng } from '../src/engine/random.js';
import type { LabelMap } from '../src/data/label-png.js';

interface Shape { c: number; cx: number; cy: number; rx: number; ry: number; disk: boolean }

function draw(shapes: Shape[], W: number, H: number, dx: number, dy: number): Uint8Array {
  const data = new Uint8Array(W * H);
  for (const s of shapes) {
    const y0 = Math.max(0, Math.floor(s.cy + dy - s.ry)), y1 = Math.min(H - 1, Math.ceil(s.cy + dy + s.ry));
    for (let y = y0; y <= y1; y++) {
      const v = (y - s.cy - dy) / s.ry;
      const half = s.disk ? s.rx * Math.sqrt(Math.max(0, 1 - v * v)) : s.rx;
      const x0 = Math.max(0, Math.ceil(s.cx + dx - half)), x1 = Math.min(W - 1, Math.floor(s.cx + dx + half));
      if (x1 >= x0) data.fill(s.c, y * W + x0, y * W + x1 + 1);
    }
  }
  return data;
}

/** One prediction / GT pair of size W x H with classes 0..K-1 (GT void = 255). */
export function makeEvalPair(rng: Rng, W: number, H: number, K: number): { pred: LabelMap; gt: LabelMap } {
  const shapes: Shape[] = [];
  const n = rng.int(1, 6);
  for (let i = 0; i < n; i++) {
    shapes.push({ c: rng.int(1, K), cx: rng.uniform(0, W), cy: rng.uniform(0, H), rx: rng.uniform(15, 150), ry: rng.uniform(15, 120), disk: rng.next() < 0.6 });
  }
  const gtData = draw(shapes, W, H, 0, 0);
  const g2 = gtData.slice();
  for (let y = 0; y < H - 1; y++) {
    for (let x = 0; x < W - 1; x++) {
      const i = y * W + x;
      if (gtData[i] !== gtData[i + 1] || gtData[i] !== gtData[i + W]) g2[i] = 255;
    }
  }
  const predShapes = shapes.map((s) => ({ ...s, c: rng.next() < 0.2 ? rng.int(1, K) : s.c, rx: s.rx * rng.uniform(0.8, 1.2), ry: s.ry * rng.uniform(0.8, 1.2) }));
  const predData = draw(predShapes, W, H, rng.uniform(-10, 10), rng.uniform(-10, 10));
  return { pred: { data: predData, width: W, height: H }, gt: { data: g2, width: W, height: H } };
}
