import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { annotationRle, cocoAreaChecks, cocoSemanticMask, readCocoInstances, summariseAreaChecks } from '../../src/data/coco.js';
import { rleArea, rleDecode, rleToString } from '../../src/data/coco-rle.js';
import { labelsFromMask } from '../../src/data/voc.js';
import { sharedPath } from '../shared-path.js';

const COCO = sharedPath('data/coco-sample/');
const ann = (split: string) => `${COCO}annotations/instances_${split}.json`;
const train = readCocoInstances(ann('train2017'));
const val = readCocoInstances(ann('val2017'));
const tmp = mkdtempSync(join(tmpdir(), 'hfpl-coco-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function hist(d: Uint8Array): Record<number, number> {
  const h: Record<number, number> = {};
  for (const v of d) h[v] = (h[v] ?? 0) + 1;
  return h;
}

describe('readCocoInstances', () => {
  it('reads the sample: 424 annotations, 80 categories ranked by id', () => {
    expect(train.annotations.length + val.annotations.length).toBe(424);
    expect([train.images.length, val.images.length]).toEqual([32, 6]);
    for (const inst of [train, val]) {
      expect(inst.categories.length).toBe(80);
      expect(inst.classNames.length).toBe(81);
      expect(inst.classNames.slice(0, 3)).toEqual(['background', 'person', 'bicycle']);
      expect(inst.classNames[80]).toBe('toothbrush');
      // ids 1..90 with 10 gaps: id 13 (stop sign) is the 12th category, id 90 the 80th.
      expect([inst.classOf.get(1), inst.classOf.get(13), inst.classOf.get(90)]).toEqual([1, 12, 80]);
      expect(inst.classNames[12]).toBe('stop sign');
    }
  });

  it('names the file and the problem for bad annotation files', () => {
    const bad = (name: string, text: string) => {
      const p = join(tmp, name);
      writeFileSync(p, text);
      return p;
    };
    const p1 = bad('trunc.json', readFileSync(ann('val2017'), 'utf8').slice(0, 5000));
    expect(() => readCocoInstances(p1)).toThrow(new RegExp(`^${p1}: not valid JSON \\(`));
    expect(() => readCocoInstances(join(tmp, 'none.json'))).toThrow(`${join(tmp, 'none.json')}: annotation file not found or unreadable`);
    const p2 = bad('nocat.json', JSON.stringify({ images: [], annotations: [] }));
    expect(() => readCocoInstances(p2)).toThrow(`${p2}: "categories" is missing or not an array`);
    const p3 = bad('unknown.json', JSON.stringify({
      images: [{ id: 1, file_name: 'a.jpg', width: 2, height: 2 }],
      categories: [{ id: 5, name: 'x' }],
      annotations: [{ id: 9, image_id: 1, category_id: 6, segmentation: [] }],
    }));
    expect(() => readCocoInstances(p3)).toThrow(`${p3}: annotation 9 has category id 6, which is not in "categories"`);
  });
});

describe('COCO masks against pycocotools', () => {
  it('decodes the 5 crowd RLEs with exact pixel sums, column-major', () => {
    const rows: [number, number, number][] = [];
    for (const inst of [train, val]) {
      const raw = JSON.parse(readFileSync(inst.file, 'utf8')) as { annotations: { id: number; iscrowd: number; bbox: number[]; segmentation: { counts: number[] } }[] };
      for (const a of raw.annotations.filter((x) => x.iscrowd)) {
        const image = inst.images.find((im) => im.id === inst.annotations.find((x) => x.id === a.id)!.imageId)!;
        const rle = annotationRle(inst, inst.annotations.find((x) => x.id === a.id)!, image);
        const oddSum = a.segmentation.counts.filter((_, i) => i % 2 === 1).reduce((s, c) => s + c, 0);
        const m = rleDecode(rle);
        let ones = 0, x0 = Infinity, y0 = Infinity, x1 = -1;
        for (let i = 0; i < m.length; i++) {
          if (!m[i]) continue;
          ones++;
          const x = Math.floor(i / image.height), y = i % image.height;
          x0 = Math.min(x0, x);
          y0 = Math.min(y0, y);
          x1 = Math.max(x1, x);
        }
        expect(ones).toBe(oddSum);
        // Column-major: the decoded box starts at the annotation's bbox (COCO crowd boxes are 1 px short).
        expect([x0, y0, x1 - x0]).toEqual([a.bbox[0], a.bbox[1], a.bbox[2]]);
        rows.push([a.id, ones, inst.annotations.find((x) => x.id === a.id)!.area!]);
      }
    }
    // The `area` fields of 4 of the 5 differ from their RLE (as shipped in the data).
    expect(rows).toEqual([
      [908400386912, 37950, 40881],
      [900100296649, 1004, 1340],
      [900100463730, 2740, 2843],
      [900100087038, 6125, 6443],
      [904600516168, 5733, 5733],
    ]);
  });

  it('rasterises all 419 polygon annotations like pycocotools', () => {
    // Reference: cocoapi maskApi.c compiled unmodified, run on every polygon annotation.
    const all = [...train.annotations.map((a) => [train, a] as const), ...val.annotations.map((a) => [val, a] as const)].filter(([, a]) => !a.iscrowd);
    expect(all.length).toBe(419);
    let total = 0;
    const strings = new Map<number, string>();
    for (const [inst, a] of all) {
      const rle = annotationRle(inst, a, inst.images.find((im) => im.id === a.imageId)!);
      total += rleArea(rle);
      strings.set(a.id, rleToString(rle));
    }
    expect(total).toBe(2823117);
    expect(strings.get(22328)).toBe('SXg04Q73M3N3M4L000eWf1');
    expect(strings.get(1804403)).toBe('na<3Q<1O00000^QT7');
    expect(strings.get(2054512)).toBe('R]e73kbf1');
    expect(strings.get(82445)!.slice(0, 40)).toBe('YUk2f0c<9G2N3M2N2N2O1N2O1N2O1OkNXDj0e;WO');
  });

  it('agrees with the polygon `area` fields within 2% for 89% of annotations', () => {
    const checks = [...cocoAreaChecks(train), ...cocoAreaChecks(val)];
    const s = summariseAreaChecks(checks);
    expect(s).toMatchObject({ polygons: 419, within1: 326, within2: 373, within5: 403, rles: 5, rleExact: 1 });
    expect(s.median).toBeCloseTo(0.00255, 4);
    expect(s.max).toBeCloseTo(0.2699, 3);
    // Disagreement is a small-object effect: every polygon of >= 1000 px is within 2%.
    const big = checks.filter((c) => c.polygon && c.area >= 1000);
    expect(big.length).toBe(215);
    expect(big.every((c) => c.relDiff <= 0.02)).toBe(true);
  });

  it('paints semantic masks in file order with category ranks (pycocotools + numpy reference)', () => {
    const img = (id: number) => val.images.find((im) => im.id === id)!;
    const m1 = cocoSemanticMask(val, img(444010));
    expect([m1.width, m1.height]).toEqual([640, 480]);
    expect(hist(m1.data)).toEqual({ 0: 32175, 1: 156411, 41: 15292, 42: 9222, 43: 902, 44: 951, 45: 787, 46: 1760, 52: 957, 57: 7128, 61: 81615 });
    const m2 = cocoSemanticMask(val, img(516168)); // holds a crowd RLE
    expect(hist(m2.data)).toEqual({ 0: 146296, 1: 18409, 29: 7862, 40: 6820, 41: 12722, 57: 8518, 61: 98543, 74: 8030 });
    expect(labelsFromMask(m2, { numClasses: 81 })).toEqual([1, 29, 40, 41, 57, 61, 74]);
  });

  it('lets later annotations overwrite earlier ones (a covered class vanishes); compressed RLE', () => {
    const p = join(tmp, 'overwrite.json');
    writeFileSync(p, JSON.stringify({
      images: [{ id: 1, file_name: 'a.jpg', width: 4, height: 3 }],
      categories: [{ id: 7, name: 'b' }, { id: 9, name: 'c' }, { id: 3, name: 'a' }],
      annotations: [
        { id: 1, image_id: 1, category_id: 7, segmentation: [[0, 0, 2, 0, 2, 2, 0, 2]] },
        { id: 2, image_id: 1, category_id: 3, segmentation: { size: [3, 4], counts: [0, 9, 3] } },
        { id: 3, image_id: 1, category_id: 9, segmentation: { size: [3, 4], counts: '525' } }, // counts [5, 2, 5]
      ],
    }));
    const inst = readCocoInstances(p);
    expect(inst.classNames).toEqual(['background', 'a', 'b', 'c']);
    const m = cocoSemanticMask(inst, inst.images[0]);
    // ann 1 ('b') is covered by ann 2 (columns 0..2, 'a' = 1); ann 3 sets column-major pixels
    // 5, 6 = (x1, y2), (x2, y0) to 'c' = 3. 'b' is drawn but absent from the labels.
    expect(Array.from(m.data)).toEqual([1, 1, 3, 0, 1, 1, 1, 0, 1, 3, 1, 0]);
    expect(labelsFromMask(m, { numClasses: 4 })).toEqual([1, 3]);
    // pycocotools reads a list whose first entry has 4 numbers as [x, y, w, h] boxes
    // (reference: rleFrBbox of maskApi.c gives ';230004' and '`03204' for these two).
    const box = (b: number[]) => annotationRle(inst, { ...inst.annotations[0], segmentation: [b] }, { id: 1, fileName: 'a.jpg', width: 6, height: 5 });
    expect(rleToString(box([2, 1, 3, 2]))).toBe(';230004');
    expect(rleToString(box([2.5, 1.2, 2.1, 2.5]))).toBe('`03204');
    const p2 = join(tmp, 'badsize.json');
    writeFileSync(p2, JSON.stringify({ ...JSON.parse(readFileSync(p, 'utf8')), annotations: [{ id: 4, image_id: 1, category_id: 3, segmentation: { size: [4, 3], counts: [12] } }] }));
    const inst2 = readCocoInstances(p2);
    expect(() => cocoSemanticMask(inst2, inst2.images[0])).toThrow(`${p2}: annotation 4: RLE size is [4,3], expected [3, 4] (the image size)`);
  });
});
