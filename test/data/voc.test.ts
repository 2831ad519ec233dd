import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readLabelPng } from '../../src/data/label-png.js';
import { readLabelsFile, writeLabelsFile } from '../../src/data/labels-file.js';
import type { BadSample } from '../../src/data/sample.js';
import { VOC_CLASSES } from '../../src/data/voc-classes.js';
import { labelsFromMask, readVocSplit } from '../../src/data/voc.js';
import { labelsFromXml, parseVocXml } from '../../src/data/voc-xml.js';
import { VOC_SAMPLE as VOC, vocCopy } from './voc-fixture.js';

const copies: (() => void)[] = [];
afterAll(() => copies.forEach((c) => c()));
function copy(): string {
  const c = vocCopy();
  copies.push(c.cleanup);
  return c.root;
}

describe('VOC annotation XML', () => {
  it('reads the labels of Annotations/2007_000063.xml: chair (9) and dog (12)', () => {
    expect(labelsFromXml(VOC + 'Annotations/2007_000063.xml')).toEqual([9, 12]);
    const objs = parseVocXml(readFileSync(VOC + 'Annotations/2007_000063.xml', 'utf8'), 'x');
    expect(objs).toEqual([
      { name: 'dog', difficult: false, truncated: false },
      { name: 'chair', difficult: false, truncated: true },
    ]);
  });

  it('counts difficult objects, ignores person-layout parts, rejects unknown names and broken files', () => {
    const doc = (objs: string) => `<annotation><filename>a.jpg</filename>${objs}</annotation>`;
    const person = '<object><name>person</name><difficult>1</difficult><part><name>head</name></part><part><name>hand</name></part></object>';
    expect(parseVocXml(doc(person + '<object><name>cat</name></object>'), 'f')).toEqual([
      { name: 'person', difficult: true, truncated: false },
      { name: 'cat', difficult: false, truncated: false },
    ]);
    const dir = copy();
    const p = join(dir, 'Annotations', 'u.xml');
    writeFileSync(p, doc('<object><name>unicorn</name></object>'));
    expect(() => labelsFromXml(p)).toThrow(`${p}: unknown class name 'unicorn' (not one of the 20 classes)`);
    writeFileSync(p, '<annotation><object><name>cat</name></object>'); // cut short
    expect(() => labelsFromXml(p)).toThrow(`${p}: not a VOC annotation (no complete <annotation> element)`);
    writeFileSync(p, doc('<object><name>cat</name>'));
    expect(() => labelsFromXml(p)).toThrow(`${p}: an <object> element is not closed`);
    expect(() => labelsFromXml(join(dir, 'nope.xml'))).toThrow(`${join(dir, 'nope.xml')}: annotation file not found or unreadable`);
  });
});

describe('labelsFromMask', () => {
  it('lists the classes present (0 and 255 excluded) and rejects values that are no class', () => {
    expect(labelsFromMask(readLabelPng(VOC + 'SegmentationClass/2007_000032.png'))).toEqual([1, 15]);
    expect(labelsFromMask(readLabelPng(VOC + 'SegmentationClass/2007_000063.png'))).toEqual([9, 12]);
    const data = Uint8Array.from([0, 3, 255, 30, 3, 0]);
    expect(() => labelsFromMask({ data, width: 3, height: 2 }, { file: 'm.png' })).toThrow('m.png: value 30 at (x 0, y 1) is no class (allowed 0..20 and 255)');
    expect(labelsFromMask({ data, width: 3, height: 2 }, { numClasses: 81 })).toEqual([3, 30]);
  });
});

describe('readVocSplit', () => {
  it('reads the sample: ids, paths, masks and labels (XML where present, else the mask)', () => {
    const s = readVocSplit(VOC, 'train');
    expect(s.split).toBe('train');
    expect(s.classNames).toEqual(VOC_CLASSES);
    expect(s.samples).toEqual([
      { id: '2007_000032', imagePath: VOC + 'JPEGImages/2007_000032.jpg', maskPath: VOC + 'SegmentationClass/2007_000032.png', labels: [1, 15] },
      { id: '2007_000063', imagePath: VOC + 'JPEGImages/2007_000063.jpg', maskPath: VOC + 'SegmentationClass/2007_000063.png', labels: [9, 12] },
      { id: '2007_000243', imagePath: VOC + 'JPEGImages/2007_000243.jpg', maskPath: VOC + 'SegmentationClass/2007_000243.png', labels: [1] },
    ]);
    const byPath = readVocSplit(VOC, VOC + 'ImageSets/Segmentation/train.txt', { labels: 'mask', masks: 'required' });
    expect(byPath.samples.map((r) => r.labels)).toEqual([[1, 15], [9, 12], [1]]);
    expect(readVocSplit(VOC, 'train', { masks: 'none', labels: 'xml', onBad: () => {} }).samples.map((r) => [r.id, r.maskPath])).toEqual([['2007_000063', undefined]]);
  });

  it('prefers SegmentationClassAug, honours --mask-dir, labels.json and path-style list lines', async () => {
    const root = copy();
    mkdirSync(join(root, 'SegmentationClassAug'));
    writeFileSync(join(root, 'SegmentationClassAug', '2007_000243.png'), readFileSync(join(root, 'SegmentationClass', '2007_000243.png')));
    writeFileSync(join(root, 'ImageSets', 'Segmentation', 'aug.txt'), '/JPEGImages/2007_000243.jpg /SegmentationClassAug/2007_000243.png\n\n');
    const aug = readVocSplit(root, 'aug');
    expect(aug.samples.map((r) => [r.id, r.maskPath])).toEqual([['2007_000243', join(root, 'SegmentationClassAug', '2007_000243.png')]]);
    expect(readVocSplit(root, 'aug', { maskDir: 'SegmentationClass' }).samples[0].maskPath).toBe(join(root, 'SegmentationClass', '2007_000243.png'));
    const missing: BadSample[] = [];
    expect(readVocSplit(root, 'train', { onBad: (b) => missing.push(b) }).samples.map((r) => r.id)).toEqual(['2007_000243']);
    expect(missing.map((b) => b.problem)).toEqual(['mask file not found', 'mask file not found']);

    await writeLabelsFile(join(root, 'labels.json'), { classes: [...VOC_CLASSES], labels: { '2007_000243': [1, 19] } });
    expect(readVocSplit(root, 'aug').samples[0].labels).toEqual([1, 19]);
    expect(readLabelsFile(join(root, 'labels.json')).labels).toEqual({ '2007_000243': [1, 19] });
    writeFileSync(join(root, 'labels.json'), JSON.stringify({ classes: ['background', 'a'], labels: { x: [2] } }));
    expect(() => readVocSplit(root, 'aug')).toThrow(`${join(root, 'labels.json')}: labels of 'x' holds 2, expected class indices 1..1`);
  });

  it('reports an id with no image file, naming the list and line', () => {
    const root = copy();
    renameSync(join(root, 'JPEGImages', '2007_000063.jpg'), join(root, 'moved.jpg'));
    const list = join(root, 'ImageSets', 'Segmentation', 'train.txt');
    expect(() => readVocSplit(root, 'train')).toThrow(`${list}: line 2: id '2007_000063' has no image file ${join(root, 'JPEGImages', '2007_000063')}.jpg`);
    expect(() => readVocSplit(root, 'nolist')).toThrow(`${join(root, 'ImageSets', 'Segmentation', 'nolist.txt')}: image list not found or unreadable`);
  });
});
