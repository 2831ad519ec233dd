import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeLabelPng, readLabelPng } from '../../src/data/label-png.js';
import { type BadSample, BadInputError, guardSample, loadSample } from '../../src/data/sample.js';
import type { SampleRecord } from '../../src/data/types.js';
import { readVocSplit } from '../../src/data/voc.js';
import { VOC_SAMPLE as VOC, truncateInto, vocCopy } from './voc-fixture.js';

const { root, cleanup } = vocCopy();
afterAll(cleanup);
const rec = (id: string, over: Partial<SampleRecord> = {}): SampleRecord => ({
  id,
  imagePath: join(root, 'JPEGImages', `${id}.jpg`),
  maskPath: join(root, 'SegmentationClass', `${id}.png`),
  labels: [],
  ...over,
});

async function problem(r: SampleRecord): Promise<string> {
  try {
    await loadSample(r);
  } catch (e) {
    expect(e).toBeInstanceOf(BadInputError);
    return (e as Error).message;
  }
  return 'no error';
}

describe('loadSample', () => {
  it('decodes a real sample with a mask of the same size and the SOURCES.md counts', async () => {
    const [first] = readVocSplit(VOC, 'train').samples;
    const { image, mask } = await loadSample(first);
    expect([image.width, image.height, image.data.length]).toEqual([500, 281, 500 * 281 * 3]);
    expect([mask!.width, mask!.height]).toEqual([500, 281]);
    let n15 = 0, n255 = 0;
    for (const v of mask!.data) {
      if (v === 15) n15++;
      else if (v === 255) n255++;
    }
    expect([n15, n255]).toEqual([866, 5355]);
    expect((await loadSample(first, { mask: false })).mask).toBeUndefined();
  });

  it('rejects a truncated JPEG, naming it', async () => {
    const p = join(root, 'JPEGImages', '2007_000032.jpg');
    truncateInto(join(VOC, 'JPEGImages', '2007_000032.jpg'), p);
    expect(await problem(rec('2007_000032'))).toBe(`${p}: corrupt or unreadable image (VipsJpeg: premature end of JPEG image)`);
    writeFileSync(p, 'not an image');
    expect(await problem(rec('2007_000032'))).toBe(`${p}: corrupt or unreadable image (Input file contains unsupported image format)`);
  });

  it('rejects a missing mask, a mask of another size and a value that is no class', async () => {
    const m = join(root, 'SegmentationClass', '2007_000243.png');
    rmSync(m);
    expect(await problem(rec('2007_000243'))).toBe(`${m}: mask file not found`);
    writeFileSync(m, encodeLabelPng({ data: new Uint8Array(12), width: 4, height: 3 }));
    expect(await problem(rec('2007_000243'))).toBe(`${m}: mask is 4x3 but its image ${join(root, 'JPEGImages', '2007_000243.jpg')} is 500x333`);
    const real = readLabelPng(join(VOC, 'SegmentationClass', '2007_000243.png'));
    real.data[3 * real.width + 7] = 30;
    writeFileSync(m, encodeLabelPng(real));
    expect(await problem(rec('2007_000243'))).toBe(`${m}: value 30 at (x 7, y 3) is no class (allowed 0..20 and 255)`);
    await expect(loadSample(rec('2007_000243'), { numClasses: 81 })).resolves.toBeDefined();
    writeFileSync(m, 'garbage');
    expect(await problem(rec('2007_000243'))).toMatch(new RegExp(`^${m}: not a readable PNG \\(`));
  });

  it('guardSample reports bad samples to a handler and skips them, else rethrows', async () => {
    const bad: BadSample[] = [];
    const r = rec('2007_000063', { maskPath: join(root, 'none.png') });
    expect(await guardSample(() => loadSample(r), (b) => bad.push(b))).toBeUndefined();
    expect(bad).toEqual([{ file: join(root, 'none.png'), problem: 'mask file not found', code: 'E_MASK' }]);
    await expect(guardSample(() => loadSample(r))).rejects.toThrow('mask file not found');
    await expect(guardSample(() => { throw new TypeError('bug'); }, () => {})).rejects.toThrow('bug');
  });
});
