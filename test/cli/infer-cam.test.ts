/**
 * train-cam, infer-cam and eval on the shared VOC sample with a small model: the files and
 * their layout, classification scores and an evaluation that reads them.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runCliText } from './run-cli.js';
import { parseScales } from '../../src/cli/commands/infer-cam.js';
import { readCamFile } from '../../src/eval/cam-files.js';
import { readLabelPng } from '../../src/data/label-png.js';
import { sharedPath } from '../shared-path.js';

const VOC = sharedPath('data/voc-sample/');
const IDS = ['2007_000032', '2007_000063', '2007_000243'];
afterEach(() => vi.restoreAllMocks());

const run = runCliText;

describe('hfpl infer-cam', () => {
  it('parses --scales and rejects bad lists', () => {
    expect(parseScales('0.5,1,1.5,2')).toEqual([0.5, 1, 1.5, 2]);
    expect(() => parseScales('1,,2')).toThrow("--scales: expected comma-separated numbers in (0, 8], got '1,,2'");
    expect(() => parseScales('0,1')).toThrow(/--scales/);
  });

  it('trains a tiny model on the VOC sample, infers CAMs and pseudo-labels, and hfpl eval reads them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hfpl-infer-'));
    const runDir = join(dir, 'run'), out = join(dir, 'infer');
    let r = await run(['train-cam', '--data', VOC, '--out', runDir, '--backbone', 'tiny', '--crop', '64', '--batch-size', '2', '--steps', '2', '--quiet']);
    expect(r.code, r.err).toBe(0);
    const meta = JSON.parse(readFileSync(join(runDir, 'model.json'), 'utf8')).hfpl;
    expect(meta.classNames.length).toBe(21);
    expect(meta.model.numClasses).toBe(20);

    r = await run(['infer-cam', '--run', runDir, '--data', VOC, '--split', 'train', '--out', out, '--scales', '0.5,1', '--quiet']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/3 images \(3 inferred\) .* images\/s; classification mAP/);
    for (const id of IDS) {
      const cam = await readCamFile(join(out, 'cams'), id);
      const gt = readLabelPng(join(VOC, 'SegmentationClass', `${id}.png`));
      expect([cam.height, cam.width]).toEqual([gt.height, gt.width]);
      const present = [...new Set(gt.data)].filter((c) => c !== 0 && c !== 255).sort((a, b) => a - b);
      expect(cam.labels).toEqual(present);
      expect(cam.cams.length).toBe(present.length * gt.height * gt.width);
      const pseudo = readLabelPng(join(out, 'pseudo', `${id}.png`));
      expect(pseudo.width).toBe(gt.width);
      expect([...new Set(pseudo.data)].every((c) => c === 0 || present.includes(c))).toBe(true);
    }
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(summary.numImages).toBe(3);
    expect(summary.classification.ap.length).toBe(20);

    // a second call skips finished images
    r = await run(['infer-cam', '--run', runDir, '--data', VOC, '--split', 'train', '--out', out, '--scales', '0.5,1', '--quiet']);
    expect(r.out).toMatch(/3 images \(0 inferred\)/);

    r = await run(['eval', '--pred', join(out, 'cams'), '--cams', '--gt', join(VOC, 'SegmentationClass'), '--list', join(VOC, 'ImageSets/Segmentation/train.txt'), '--out', join(dir, 'eval.json'), '--quiet']);
    expect(r.code, r.err).toBe(0);
    const ev = JSON.parse(readFileSync(join(dir, 'eval.json'), 'utf8'));
    expect(ev.numImages).toBe(3);
    expect(ev.miou).toBeGreaterThan(0);
    expect(ev.miou).toBeLessThan(1);
    expect(existsSync(join(out, 'scores.jsonl'))).toBe(true);
  }, 120_000);

  it('fails clearly without a trained model and for conflicting options', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hfpl-infer-'));
    let r = await run(['infer-cam', '--run', dir, '--data', VOC, '--out', join(dir, 'o')]);
    expect(r.err).toBe(`hfpl: error [E_IO]: ${join(dir, 'model.json')}: no trained model (run hfpl train-cam first, or it has not finished)`);
    r = await run(['infer-cam', '--run', dir, '--data', VOC, '--out', join(dir, 'o'), '--threshold', '0.2', '--alpha', '4']);
    expect(r.err).toBe('hfpl: error [E_CONFIG]: --threshold and --alpha exclude each other');
  });
});
