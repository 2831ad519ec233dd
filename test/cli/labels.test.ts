import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { encodeLabelPng, readLabelPng } from '../../src/data/label-png.js';
import { VOC_CLASSES } from '../../src/data/voc-classes.js';
import { VOC_SAMPLE as VOC, truncateInto, vocCopy } from '../data/voc-fixture.js';

const cleanups: (() => void)[] = [];
afterAll(() => cleanups.forEach((c) => c()));
afterEach(() => vi.restoreAllMocks());
function copy(): string {
  const c = vocCopy('hfpl-cli-labels-');
  cleanups.push(c.cleanup);
  return c.root;
}

async function run(args: string[]): Promise<{ code: number; err: string[]; out: string[]; stderr: string[] }> {
  const err: string[] = [], out: string[] = [], stderr: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((s: string) => void out.push(s));
  vi.spyOn(console, 'error').mockImplementation((s: string) => void stderr.push(s));
  const code = await runCli(args, (l) => err.push(l));
  vi.restoreAllMocks();
  return { code, err, out, stderr };
}

const EXPECTED = { '2007_000032': [1, 15], '2007_000063': [9, 12], '2007_000243': [1] };

describe('hfpl labels', () => {
  it('writes labels.json of the sample (XML for 2007_000063, masks for the rest)', async () => {
    const root = copy();
    const outFile = join(root, 'out', 'labels.json');
    const r = await run(['labels', '--voc', VOC, '--out', outFile]);
    expect(r.code).toBe(0);
    expect(r.out).toEqual([`labels: wrote ${outFile} (3 images, 20 classes)`]);
    expect(JSON.parse(readFileSync(outFile, 'utf8'))).toEqual({ classes: VOC_CLASSES, labels: EXPECTED });
    const m = await run(['labels', '--voc', VOC, '--source', 'mask', '--no-verify', '--out', outFile]);
    expect(m.code).toBe(0);
    expect(JSON.parse(readFileSync(outFile, 'utf8')).labels).toEqual(EXPECTED);
  });

  it('rejects an unknown --source with exit 1', async () => {
    // Commander writes its message to process.stderr (subcommands do not inherit runCli's writer).
    const written: string[] = [];
    const w = (s: string | Uint8Array) => (written.push(String(s)), true);
    vi.spyOn(process.stderr, 'write').mockImplementation(w);
    vi.spyOn(process.stdout, 'write').mockImplementation(w);
    const code = await runCli(['labels', '--voc', VOC, '--source', 'csv', '--out', 'x.json'], (l) => written.push(l));
    vi.restoreAllMocks();
    expect(code).toBe(1);
    expect(written.join('')).toMatch(/option '--source <source>' argument 'csv' is invalid\. Allowed choices are auto, xml, mask\./);
  });

  // Each bad input: one line naming the file and the problem, exit 1, nothing written.
  const cases: [string, (root: string) => string, string[]][] = [
    ['a truncated JPEG', (root) => {
      const p = join(root, 'JPEGImages', '2007_000063.jpg');
      truncateInto(join(VOC, 'JPEGImages', '2007_000063.jpg'), p);
      return `[E_IMAGE]: ${p}: corrupt or unreadable image (VipsJpeg: premature end of JPEG image)`;
    }, []],
    ['a missing mask', (root) => {
      const p = join(root, 'SegmentationClass', '2007_000243.png');
      rmSync(p);
      return `[E_MASK]: ${p}: mask file not found`;
    }, ['--source', 'mask']],
    ['a mask of another size', (root) => {
      const p = join(root, 'SegmentationClass', '2007_000063.png');
      writeFileSync(p, encodeLabelPng({ data: new Uint8Array(6), width: 3, height: 2 }));
      return `[E_MASK]: ${p}: mask is 3x2 but its image ${join(root, 'JPEGImages', '2007_000063.jpg')} is 500x375`;
    }, []],
    ['a mask value that is no class', (root) => {
      const p = join(root, 'SegmentationClass', '2007_000032.png');
      const m = readLabelPng(p);
      m.data[5] = 30;
      writeFileSync(p, encodeLabelPng(m));
      return `[E_MASK]: ${p}: value 30 at (x 5, y 0) is no class (allowed 0..20 and 255)`;
    }, []],
    ['a list id with no file', (root) => {
      writeFileSync(join(root, 'ImageSets', 'Segmentation', 'train.txt'), '2007_000032\n2007_999999\n');
      return `[E_DATA]: ${join(root, 'ImageSets', 'Segmentation', 'train.txt')}: line 2: id '2007_999999' has no image file ${join(root, 'JPEGImages', '2007_999999')}.jpg`;
    }, []],
    ['an unreadable annotation file', (root) => {
      const p = join(root, 'Annotations', '2007_000063.xml');
      writeFileSync(p, readFileSync(p, 'utf8').slice(0, 300));
      return `[E_DATA]: ${p}: not a VOC annotation (no complete <annotation> element)`;
    }, []],
  ];

  for (const [what, spoil, extra] of cases) {
    it(`stops at ${what} with one line and exit 1; --skip-bad skips and reports it`, async () => {
      const root = copy();
      const expected = spoil(root);
      const outFile = join(root, 'labels.json');
      const r = await run(['labels', '--voc', root, ...extra, '--out', outFile]);
      expect(r.code).toBe(1);
      expect(r.err).toEqual([`hfpl: error ${expected}`]);
      expect(existsSync(outFile)).toBe(false);
      expect(readdirSync(root).filter((f) => f.includes('.tmp-'))).toEqual([]);

      const s = await run(['labels', '--voc', root, ...extra, '--skip-bad', '--out', outFile]);
      expect(s.code).toBe(0);
      expect(s.stderr).toEqual(['skipped 1 bad sample:', `  ${expected.replace(']: ', '] ')}`]);
      const written = JSON.parse(readFileSync(outFile, 'utf8')).labels as Record<string, number[]>;
      expect(Object.keys(written).length).toBe(what === 'a list id with no file' ? 1 : 2);
      for (const [id, l] of Object.entries(written)) expect(l).toEqual(EXPECTED[id as keyof typeof EXPECTED]);
    });
  }
});
