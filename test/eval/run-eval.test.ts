import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultClassNames, readIdList, runEval } from '../../src/eval/run-eval.js';
import { sharedPath } from '../shared-path.js';

const VOC = sharedPath('data/voc-sample/');
const tmp = mkdtempSync(join(tmpdir(), 'hfpl-run-eval-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('runEval helpers', () => {
  it('reads the first token of each non-empty line (ImageSets segmentation and classification styles)', () => {
    const f = join(tmp, 'list.txt');
    writeFileSync(f, '2007_000032\r\n\n2007_000063  1\n  2007_000243 -1\n');
    expect(readIdList(f)).toEqual(['2007_000032', '2007_000063', '2007_000243']);
    writeFileSync(f, '\n\n');
    expect(() => readIdList(f)).toThrow(`${f}: the list holds no ids`);
    expect(() => readIdList(join(tmp, 'none.txt'))).toThrow(`${join(tmp, 'none.txt')}: list file not found or unreadable`);
  });

  it('names VOC classes for K = 21 and numbers them otherwise', () => {
    expect(defaultClassNames(21)[20]).toBe('tvmonitor');
    expect(defaultClassNames(3)).toEqual(['background', 'class 1', 'class 2']);
  });

  it('evaluates the VOC sample against itself in-process and writes JSON with the required keys', async () => {
    const out = join(tmp, 'r.json');
    const r = await runEval({ predDir: join(VOC, 'SegmentationClass'), gtDir: join(VOC, 'SegmentationClass'), listFile: join(VOC, 'ImageSets/Segmentation/train.txt'), numClasses: 21, out });
    expect(r.numImages).toBe(3);
    const j = JSON.parse(readFileSync(out, 'utf8'));
    expect(Object.keys(j)).toEqual(['miou', 'contourF', 'numImages', 'iou', 'contourFPerClass', 'classNames', 'absentClasses', 'confusion']);
    expect(j.confusion[0][0]).toBe(129545 + 72224 + 162962);
  });
});
