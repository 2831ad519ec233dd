import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { evaluateSegmentation } from '../../src/eval/evaluate.js';
import { ConfusionAccumulator } from '../../src/eval/confusion.js';
import type { LabelMap } from '../../src/data/label-png.js';
import { sharedPath } from '../shared-path.js';

const FIXTURES = sharedPath('fixtures/reference-cases.json');

interface MetricsCase {
  num_classes: number;
  ignore_index: number;
  bound_th: number;
  preds: number[][][];
  gts: number[][][];
  confusion: number[][];
  iou: number[];
  miou: number;
  contour_f_per_class: number[];
  contour_f_mean: number;
}

function toMap(rows: number[][]): LabelMap {
  const height = rows.length, width = rows[0].length;
  return { data: Uint8Array.from(rows.flat()), width, height };
}

function map(width: number, height: number, f: (x: number, y: number) => number): LabelMap {
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + x] = f(x, y);
  return { data, width, height };
}

const ref = (JSON.parse(readFileSync(FIXTURES, 'utf8')) as { segmentation_metrics: MetricsCase }).segmentation_metrics;

describe('evaluateSegmentation', () => {
  it('matches the reference metrics case exactly (confusion) and to 1e-9 (IoU, F)', async () => {
    const pairs = ref.preds.map((p, i) => ({ pred: toMap(p), gt: toMap(ref.gts[i]) }));
    const m = await evaluateSegmentation(pairs, { numClasses: ref.num_classes, ignoreIndex: ref.ignore_index, boundTh: ref.bound_th });
    expect(m.confusion).toEqual(ref.confusion);
    expect(m.iou).toHaveLength(ref.iou.length);
    m.iou.forEach((v, c) => expect(Math.abs(v - ref.iou[c])).toBeLessThan(1e-9));
    expect(Math.abs(m.miou - ref.miou)).toBeLessThan(1e-9);
    expect(m.contourFPerClass).toHaveLength(ref.contour_f_per_class.length);
    m.contourFPerClass.forEach((v, c) => expect(Math.abs(v - ref.contour_f_per_class[c])).toBeLessThan(1e-9));
    expect(Math.abs(m.contourF - ref.contour_f_mean)).toBeLessThan(1e-9);
    expect(m.numImages).toBe(4);
  });

  it('accepts an async iterable and gives the same result', async () => {
    async function* gen() {
      for (let i = 0; i < ref.preds.length; i++) yield { pred: toMap(ref.preds[i]), gt: toMap(ref.gts[i]) };
    }
    const m = await evaluateSegmentation(gen(), { numClasses: ref.num_classes });
    expect(Math.abs(m.contourF - ref.contour_f_mean)).toBeLessThan(1e-9);
    expect(m.confusion).toEqual(ref.confusion);
  });

  it('scores a map against itself 1 everywhere; absent classes: IoU 0, contour F 1', async () => {
    const gt = map(40, 30, (x, y) => (x < 10 ? 0 : y < 15 ? 1 : x > 35 ? 255 : 2));
    const m = await evaluateSegmentation([{ pred: gt, gt }], { numClasses: 4 });
    expect(m.iou).toEqual([1, 1, 1, 0]);
    expect(m.miou).toBe(0.75);
    expect(m.contourFPerClass).toEqual([1, 1, 1]);
    expect(m.absentClasses).toEqual([3]);
  });

  it('counts a void prediction on a valid GT pixel as a miss of the GT class', () => {
    const gt = map(4, 1, (x) => (x < 2 ? 0 : 1));
    const pred = map(4, 1, (x) => [0, 255, 1, 255][x]);
    const acc = new ConfusionAccumulator(2);
    acc.add(pred, gt);
    expect(acc.confusion()).toEqual([[1, 0], [0, 1]]);
    // class 0: TP 1, T 2, P 1 -> 1/2; class 1 likewise.
    expect(acc.iou()).toEqual([0.5, 0.5]);
  });

  it('names the file and the value for a prediction that is no class, and counts nothing', () => {
    const gt = map(3, 2, () => 0);
    const pred = map(3, 2, (x) => (x === 2 ? 7 : 0));
    const acc = new ConfusionAccumulator(5);
    expect(() => acc.add(pred, gt, { pred: 'p/a.png', gt: 'g/a.png' })).toThrow('p/a.png: value 7 is not a class (allowed 0..4 and 255), 2 pixels');
    expect(acc.numImages).toBe(0);
    acc.add(gt, gt);
    expect(acc.confusion()[0][0]).toBe(6);
  });

  it('names both files and sizes on a size mismatch', async () => {
    const a = map(3, 2, () => 0), b = map(2, 3, () => 0);
    await expect(evaluateSegmentation([{ pred: a, gt: b, names: { pred: 'p.png', gt: 'g.png' } }], { numClasses: 21 }))
      .rejects.toThrow('p.png is 3x2 but g.png is 2x3');
  });

  it('rejects bad options naming the option', async () => {
    await expect(evaluateSegmentation([], { numClasses: 1 })).rejects.toThrow(/numClasses/);
    await expect(evaluateSegmentation([], { numClasses: 21, ignoreIndex: 3 })).rejects.toThrow(/ignoreIndex/);
  });
});
