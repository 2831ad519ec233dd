/**
 * `hfpl infer-cam --weights <file> --arch seam-resnet38` on the shared VOC sample with the scaled
 * SEAM fixture weights: the output layout, equality with a direct `referenceCams` call, and the
 * one-line errors (nothing written) for a file that does not fit.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCliText } from './run-cli.js';
import { readRgbImage } from '../../src/data/image-io.js';
import { readLabelPng } from '../../src/data/label-png.js';
import { initEngine } from '../../src/engine/init.js';
import { readCamFile } from '../../src/eval/cam-files.js';
import { referenceCams } from '../../src/infer/reference-cam.js';
import { loadReferenceNet } from '../../src/models/reference/architectures.js';
import type { RefSeamNet } from '../../src/models/reference/seam.js';
import { readStateDict, writeSafetensors } from '../../src/weights/index.js';
import { refFile } from '../models/reference-helpers.js';
import { sharedPath } from '../shared-path.js';

const VOC = sharedPath('data/voc-sample/');
const IDS = ['2007_000032', '2007_000063', '2007_000243'];
afterEach(() => vi.restoreAllMocks());
beforeAll(async () => {
  await initEngine();
});

const run = runCliText;

describe('hfpl infer-cam --weights (reference checkpoint)', () => {
  it('writes cams/<id>.npy|json and pseudo/<id>.png for the split, equal to referenceCams; a rerun resumes', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'hfpl-refcam-')), 'infer');
    const args = ['infer-cam', '--weights', refFile('seam-legacy.pth'), '--arch', 'seam-resnet38', '--data', VOC, '--split', 'train', '--out', out, '--scales', '0.5', '--quiet'];
    let r = await run(args);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/seam-resnet38 from .*seam-legacy\.pth\): 3 images \(3 inferred\)/);
    const { net } = await loadReferenceNet('seam-resnet38', refFile('seam.pth'));
    for (const id of IDS) {
      const cam = await readCamFile(join(out, 'cams'), id);
      const gt = readLabelPng(join(VOC, 'SegmentationClass', `${id}.png`));
      const present = [...new Set(gt.data)].filter((c) => c !== 0 && c !== 255).sort((a, b) => a - b);
      expect(cam.labels).toEqual(present);
      expect([cam.height, cam.width]).toEqual([gt.height, gt.width]);
      const direct = referenceCams(net as RefSeamNet, await readRgbImage(join(VOC, 'JPEGImages', `${id}.jpg`)), present, { scales: [0.5] });
      expect(Array.from(cam.cams)).toEqual(Array.from(direct.cams));
      const pseudo = readLabelPng(join(out, 'pseudo', `${id}.png`));
      expect([pseudo.height, pseudo.width]).toEqual([gt.height, gt.width]);
      expect([...new Set(pseudo.data)].every((c) => c === 0 || present.includes(c))).toBe(true);
    }
    net.dispose();
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect([summary.numImages, summary.arch, summary.scales]).toEqual([3, 'seam-resnet38', [0.5]]);
    r = await run(args);
    expect(r.out).toMatch(/3 images \(0 inferred\)/);
  });

  it('a parameter whose shape does not fit, another architecture, --run with --weights: one line, exit 1, nothing written', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hfpl-refcam-bad-'));
    const sd = (await readStateDict(refFile('seam.safetensors'))).tensors;
    sd.set('b3_1.bn_branch2b1.running_var', { ...sd.get('b3_1.bn_branch2b1.running_var')!, shape: [4, 4], data: new Float32Array(16) });
    await writeSafetensors(join(dir, 'bad.safetensors'), sd);
    const cases: [string[], RegExp][] = [
      [['--weights', join(dir, 'bad.safetensors')], /bad\.safetensors: shape mismatch b3_1\.bn_branch2b1\.running_var: file \[4, 4\], architecture \[16\]$/],
      [['--weights', refFile('aff.pth'), '--arch', 'seam-resnet38'], /aff\.pth: a checkpoint of architecture aff-resnet38, not seam-resnet38 \(use --arch aff-resnet38\)$/],
      [['--weights', refFile('aff.pth'), '--arch', 'aff-resnet38'], /--arch aff-resnet38: infer-cam runs seam-resnet38$/],
      [['--weights', refFile('seam.pth'), '--run', dir], /exactly one of --run <dir> and --weights <file>$/],
    ];
    for (const [extra, msg] of cases) {
      const out = join(dir, 'out');
      const r = await run(['infer-cam', ...extra, '--data', VOC, '--split', 'train', '--out', out, '--quiet']);
      expect(r.code).toBe(1);
      expect(r.err.split('\n').length).toBe(1);
      expect(r.err).toMatch(msg);
      expect(existsSync(out)).toBe(false);
    }
  });
});
