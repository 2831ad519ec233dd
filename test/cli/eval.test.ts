import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { encode } from 'fast-png';
import { runCli } from '../../src/cli/program.js';
import { readLabelPng } from '../../src/data/label-png.js';
import { writeCamFile } from '../../src/eval/cam-files.js';
import { sharedPath } from '../shared-path.js';

const VOC = sharedPath('data/voc-sample/');
const GT = join(VOC, 'SegmentationClass');
const LIST = join(VOC, 'ImageSets/Segmentation/train.txt');
const IDS = ['2007_000032', '2007_000063', '2007_000243'];
// Valid (non-void) GT pixels of the three masks (SOURCES.md): class 0 and all classes.
const BG = 129545 + 72224 + 162962;
const VALID = BG + 4734 + 866 + 78930 + 27632 + 2090;

const tmp = mkdtempSync(join(tmpdir(), 'hfpl-eval-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

async function run(args: string[]): Promise<{ code: number; out: string; err: string[] }> {
  const err: string[] = [];
  const logged: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void logged.push(a.join(' ')));
  const code = await runCli(['eval', '--quiet', ...args], (l) => err.push(l));
  vi.restoreAllMocks();
  return { code, out: logged.join('\n'), err };
}

function grayPng(path: string, width: number, height: number, value: (i: number) => number): void {
  const data = new Uint8Array(width * height).map((_, i) => value(i));
  writeFileSync(path, encode({ width, height, data, depth: 8, channels: 1 }));
}

describe('hfpl eval', () => {
  it('GT against itself: IoU 1 on the 5 classes present, 0 on the 16 absent (mean over all 21), contour F 1', async () => {
    const out = join(tmp, 'self.json');
    const r = await run(['--pred', GT, '--gt', GT, '--list', LIST, '--out', out]);
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    const j = JSON.parse(readFileSync(out, 'utf8'));
    const present = [0, 1, 9, 12, 15];
    expect(j.iou).toEqual(Array.from({ length: 21 }, (_, c) => (present.includes(c) ? 1 : 0)));
    expect(j.miou).toBeCloseTo(5 / 21, 12);
    expect(j.contourFPerClass).toEqual(new Array(20).fill(1));
    expect(j.contourF).toBe(1);
    expect(j.numImages).toBe(3);
    expect(j.classNames[15]).toBe('person');
    expect(j.confusion[9][9]).toBe(78930);
    expect(r.out).toMatch(/aeroplane\s+100\.0\s+100\.0/);
    expect(r.out).toMatch(/mean\s+23\.8\s+100\.0/);
    expect(j.absentClasses).toEqual([2, 3, 4, 5, 6, 7, 8, 10, 11, 13, 14, 16, 17, 18, 19, 20]);
    expect(r.out).toContain('note: 16 of 21 classes occur in neither GT nor prediction; they count as IoU 0 in the mean (METHOD 4); the mean over the 5 others is 100.0');
  });

  it('grayscale all-background predictions: IoU_0 = background / valid pixels, contour F 16/20', async () => {
    const dir = join(tmp, 'zeros');
    mkdirSync(dir);
    for (const id of IDS) {
      const gt = readLabelPng(join(GT, `${id}.png`));
      grayPng(join(dir, `${id}.png`), gt.width, gt.height, () => 0);
    }
    const out = join(tmp, 'zeros.json');
    const r = await run(['--pred', dir, '--gt', GT, '--list', LIST, '--out', out]);
    expect(r.code).toBe(0);
    const j = JSON.parse(readFileSync(out, 'utf8'));
    expect(j.iou[0]).toBeCloseTo(BG / VALID, 12);
    expect(j.miou).toBeCloseTo(BG / VALID / 21, 12);
    // Classes 1, 9, 12, 15 have GT boundaries and no predicted ones (0); the other 16 have none (1).
    expect(j.contourF).toBeCloseTo(16 / 20, 12);
  });

  it('CAM files: sweeps t = 0.00 ... 0.59, reports the best t and the curve, metrics at the best t', async () => {
    const dir = join(tmp, 'cams');
    for (const id of IDS) {
      const gt = readLabelPng(join(GT, `${id}.png`));
      const labels = [...new Set(gt.data)].filter((c) => c > 0 && c < 255).sort((a, b) => a - b);
      const n = gt.width * gt.height;
      const cams = new Float32Array(labels.length * n);
      labels.forEach((c, p) => {
        for (let i = 0; i < n; i++) cams[p * n + i] = gt.data[i] === c ? 0.3 : 0.05;
      });
      await writeCamFile(dir, id, cams, labels, gt.height, gt.width);
    }
    const out = join(tmp, 'cams.json');
    const r = await run(['--pred', dir, '--gt', GT, '--list', LIST, '--cams', '--out', out]);
    expect(r.err).toEqual([]);
    const j = JSON.parse(readFileSync(out, 'utf8'));
    expect(j.curve).toHaveLength(60);
    expect(j.curve[59].t).toBe(0.59);
    // t in [0.05, 0.30): exact labels (ties at t go to background); t >= 0.30: all background.
    for (let k = 5; k < 30; k++) expect(j.curve[k].miou).toBeCloseTo(5 / 21, 12);
    for (let k = 30; k < 60; k++) expect(j.curve[k].miou).toBeCloseTo(BG / VALID / 21, 12);
    expect(j.curve[0].miou).toBeLessThan(5 / 21);
    expect(j.bestThreshold).toBe(0.05);
    expect(j.miou).toBeCloseTo(5 / 21, 12);
    expect(j.contourF).toBe(1);
    expect(r.out).toMatch(/best background threshold t = 0\.05/);
  });

  it('names the missing prediction file in one line', async () => {
    const dir = join(tmp, 'partial');
    mkdirSync(dir);
    grayPng(join(dir, `${IDS[0]}.png`), 500, 281, () => 0);
    const r = await run(['--pred', dir, '--gt', GT, '--list', LIST]);
    expect(r.code).toBe(1);
    expect(r.err).toEqual([`hfpl: error [E_IO]: ${join(dir, IDS[1] + '.png')}: prediction file not found (id ${IDS[1]} is listed)`]);
  });

  it('names both files and sizes on a size mismatch, and a value that is no class', async () => {
    const dir = join(tmp, 'bad');
    mkdirSync(dir);
    const list = join(tmp, 'one.txt');
    writeFileSync(list, `${IDS[2]}\n`);
    const gt = readLabelPng(join(GT, `${IDS[2]}.png`));
    grayPng(join(dir, `${IDS[2]}.png`), gt.width - 1, gt.height, () => 0);
    let r = await run(['--pred', dir, '--gt', GT, '--list', list]);
    expect(r.err).toEqual([
      `hfpl: error [E_MASK]: ${join(dir, IDS[2] + '.png')} is ${gt.width - 1}x${gt.height} but ${join(GT, IDS[2] + '.png')} is ${gt.width}x${gt.height}`,
    ]);
    grayPng(join(dir, `${IDS[2]}.png`), gt.width, gt.height, (i) => (i === 7 ? 30 : 0));
    r = await run(['--pred', dir, '--gt', GT, '--list', list]);
    expect(r.code).toBe(1);
    expect(r.err).toEqual([`hfpl: error [E_MASK]: ${join(dir, IDS[2] + '.png')}: value 30 is not a class (allowed 0..20 and 255), 1 pixels`]);
  });

  it('rejects a bad --classes value naming it', async () => {
    const r = await run(['--pred', GT, '--gt', GT, '--list', LIST, '--classes', 'pascal']);
    expect(r.code).toBe(1);
    expect(r.err[0]).toMatch(/--classes: expected voc, coco or an integer 2\.\.255 .*got 'pascal'/);
  });
});
