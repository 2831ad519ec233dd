import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../../src/engine/init.js';
import { readLabelPng } from '../../src/data/label-png.js';
import { runPipeline, resolvePipelineOptions } from '../../src/pipeline/run-pipeline.js';
import { formatFullStagesTable, runFullStages } from '../../src/pipeline/full-stages.js';
import { decodeNpy } from '../../src/util/npy.js';
import { runCli } from '../../src/cli/program.js';
import { PIPELINE_STAGES } from '../../src/pipeline/stage-io.js';
import type { AffinityDiagnostics } from '../../src/infer/affinity-diagnostics.js';
import sharp from 'sharp';
import { colorizeLabels } from '../../src/viz/colormap.js';
import { writeStagePanels } from '../../src/viz/stage-panels.js';
import { sharedPath } from '../shared-path.js';

const VOC = sharedPath('data/voc-sample/');
const IDS = ['2007_000032', '2007_000063', '2007_000243'];
const SIZES: Record<string, [number, number]> = { '2007_000032': [500, 281], '2007_000063': [500, 375], '2007_000243': [500, 333] };
const tmp = mkdtempSync(join(tmpdir(), 'hfpl-pipe-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// Tiny networks, 2 steps each, batch 3, single scale: the point is the plumbing, not quality.
const OPTS = {
  data: VOC, out: join(tmp, 'run'), backbone: 'tiny' as const, trainSplit: 'train', evalSplit: 'train',
  camSteps: 2, affSteps: 2, segSteps: 2, batchSize: 3, crop: 96, camScales: [0.5], segScales: [0.5], flip: false, crfIterations: 2, crfThresholds: [0.2],
};

describe('runPipeline on voc-sample (tiny models, 2 steps per network)', () => {
  beforeAll(async () => { await initEngine(); });

  it('runs every stage, writes complete outputs for all 3 ids with eval.json, and a rerun skips every stage', async () => {
    const lines: string[] = [];
    const r = await runPipeline(OPTS, { log: (l) => lines.push(l) });
    expect(r.stages.map((s) => s.stage)).toEqual([...PIPELINE_STAGES]);
    expect(r.stages.every((s) => !s.skipped)).toBe(true);
    const out = OPTS.out;
    for (const stage of PIPELINE_STAGES) expect(existsSync(join(out, stage, 'DONE')), stage).toBe(true);
    for (const run of ['train-cam', 'train-aff', 'train-seg']) expect(existsSync(join(out, run, 'model.json')), run).toBe(true);
    // "+CRF" candidates: 0.2 and the CAM stage's best t (when > 0); crf/eval.json is the best of them.
    const camT = (JSON.parse(readFileSync(join(out, 'infer-cam', 'eval.json'), 'utf8')) as { bestThreshold: number }).bestThreshold;
    const crfEval = JSON.parse(readFileSync(join(out, 'crf', 'eval.json'), 'utf8')) as { bestThreshold: number; miou: number; curve: { t: number; miou: number }[] };
    const ts = [...new Set([0.2, ...(camT > 0 ? [camT] : [])])].sort((a, b) => a - b);
    expect(readdirSync(join(out, 'crf')).sort()).toEqual(['DONE', 'alpha1', 'alpha24', 'eval.json', ...ts.map((x) => `threshold${x}`)].sort());
    expect(crfEval.curve.map((c) => c.t)).toEqual(ts);
    expect(crfEval.miou).toBe(Math.max(...crfEval.curve.map((c) => c.miou)));
    const t = crfEval.bestThreshold;
    const pngDirs = ['infer-cam/pseudo', 'crf/alpha1', 'crf/alpha24', `crf/threshold${t}`, 'infer-aff', 'infer-seg'];
    for (const id of IDS) {
      expect(existsSync(join(out, 'infer-cam/cams', `${id}.npy`))).toBe(true);
      for (const d of pngDirs) {
        const m = readLabelPng(join(out, d, `${id}.png`));
        expect([m.width, m.height], `${d}/${id}`).toEqual(SIZES[id]);
        expect(m.data.every((v) => v <= 20), `${d}/${id} values are VOC classes`).toBe(true);
      }
    }
    for (const stage of ['infer-cam', 'crf', 'infer-aff', 'infer-seg'] as const) {
      const ev = JSON.parse(readFileSync(join(out, stage, 'eval.json'), 'utf8')) as { miou: number; contourF: number; numImages: number };
      expect(ev.numImages, stage).toBe(3);
      expect(ev.miou).toBeGreaterThanOrEqual(0);
      expect(ev.miou).toBeLessThanOrEqual(1);
      const rep = r.stages.find((s) => s.stage === stage)!;
      expect(rep.metrics?.miou).toBeCloseTo(ev.miou, 12);
    }
    // Random-walk labels only use background and the image's own classes (CAMs are label-masked).
    const aff = readLabelPng(join(out, 'infer-aff', '2007_000032.png'));
    expect(new Set(aff.data).size).toBeLessThanOrEqual(3); // 2007_000032: aeroplane, person + background
    // Random-walk diagnostics beside the stage's evaluation: affinities in (0, 1], fractions summing to 1.
    const diag = JSON.parse(readFileSync(join(out, 'infer-aff', 'diagnostics.json'), 'utf8')) as AffinityDiagnostics;
    expect([diag.numImages, diag.beta, diag.radius]).toEqual([3, 8, 5]);
    expect(diag.pairs.background + diag.pairs.object + diag.pairs.boundary + diag.pairs.between).toBeGreaterThan(0);
    for (const k of ['background', 'object', 'boundary', 'between'] as const) {
      if (diag.pairs[k] > 0) expect(diag.meanAffinity[k], k).toBeGreaterThan(0);
      if (diag.pairs[k] > 0) expect(diag.meanAffinity[k], k).toBeLessThanOrEqual(1);
    }
    const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);
    expect(sum(diag.targets!.object)).toBeCloseTo(1, 12);
    expect(sum(diag.targets!.background)).toBeCloseTo(1, 12);
    expect(diag.oracleWalk.miou).toBeGreaterThanOrEqual(0);
    expect(diag.oracleWalk.miou).toBeLessThanOrEqual(1);
    expect(lines.some((l) => l.startsWith('pipeline: infer-aff diagnostics: AffinityNet W = a^8 on GT pairs: inside objects'))).toBe(true);

    const mtime = statSync(join(out, 'infer-seg', 'DONE')).mtimeMs;
    const again = await runPipeline(OPTS);
    expect(again.stages.every((s) => s.skipped)).toBe(true);
    expect(again.stages.find((s) => s.stage === 'infer-aff')?.metrics?.miou).toBeCloseTo(r.stages.find((s) => s.stage === 'infer-aff')!.metrics!.miou, 12);
    expect(statSync(join(out, 'infer-seg', 'DONE')).mtimeMs).toBe(mtime);
  });

  it('resumes an interrupted pipeline: only stages without DONE run again', async () => {
    rmSync(join(OPTS.out, 'infer-aff', 'DONE'));
    rmSync(join(OPTS.out, 'infer-aff', '2007_000063.png'));
    rmSync(join(OPTS.out, 'infer-seg'), { recursive: true });
    const r = await runPipeline(OPTS);
    expect(r.stages.filter((s) => !s.skipped).map((s) => s.stage)).toEqual(['infer-aff', 'infer-seg']);
    expect(existsSync(join(OPTS.out, 'infer-aff', '2007_000063.png'))).toBe(true);
  });

  it('CLI: infer-aff --diagnose writes the same diagnostics as the pipeline; --crf without --diagnose is an error', async () => {
    const out = join(tmp, 'cli-aff');
    const args = ['infer-aff', '--run', join(OPTS.out, 'train-aff'), '--data', VOC, '--cams', join(OPTS.out, 'infer-cam', 'cams'), '--out', out, '--quiet'];
    const err: string[] = [];
    expect(await runCli([...args, '--crf', join(OPTS.out, 'crf')], (l) => err.push(l))).toBe(1);
    expect(err).toEqual(['hfpl: error [E_CONFIG]: --crf goes with --diagnose']);
    expect(await runCli([...args, '--diagnose', '--crf', join(OPTS.out, 'crf')])).toBe(0);
    const read = (p: string) => JSON.parse(readFileSync(p, 'utf8')) as AffinityDiagnostics;
    expect(read(join(out, 'diagnostics.json'))).toEqual(read(join(OPTS.out, 'infer-aff', 'diagnostics.json')));
    for (const id of IDS) expect(readLabelPng(join(out, `${id}.png`)).data).toEqual(readLabelPng(join(OPTS.out, 'infer-aff', `${id}.png`)).data);
  });

  it('runFullStages continues a finished CAM run and returns the CAM, +CRF, random walk and final rows', async () => {
    const out = join(tmp, 'full');
    const r = await runFullStages({
      data: VOC, out, variants: [{ name: 'v1', camRun: join(OPTS.out, 'train-cam') }], trainImages: 2, evalSplit: 'train',
      affSteps: 1, segSteps: 1, batchSize: 2, crop: 96, camScales: [0.5], segScales: [0.5], crfIterations: 1, crfThresholds: [0.3],
    });
    // Every row on both splits: the first training images and the evaluation split (here 'train', 3 images).
    expect(r.rows.map((x) => [x.stage, x.split, x.numImages])).toEqual([
      ['CAM', 'train (first 2)', 2], ['CAM', 'train', 3], ['+CRF', 'train (first 2)', 2], ['+CRF', 'train', 3],
      ['random walk', 'train (first 2)', 2], ['random walk', 'train', 3], ['final segmentation', 'train (first 2)', 2], ['final segmentation', 'train', 3],
    ]);
    // The alpha maps keep their CRF probabilities for AffinityNet's pooled targets: [1 + P, H, W].
    const npy = decodeNpy(readFileSync(join(out, 'v1', 'crf', 'alpha24', '2007_000032.npy')));
    expect(npy.shape).toEqual([3, 281, 500]);
    // The other split's +CRF runs once, at the threshold chosen on the training images.
    const crfT = (JSON.parse(readFileSync(join(out, 'v1', 'crf', 'eval.json'), 'utf8')) as { bestThreshold: number }).bestThreshold;
    expect(existsSync(join(out, 'v1', 'other-split', 'crf', `threshold${crfT}`))).toBe(true);
    expect(readFileSync(join(out, 'train-first2.txt'), 'utf8')).toBe('2007_000032\n2007_000063\n');
    expect(existsSync(join(out, 'v1', 'train-cam'))).toBe(false); // the given CAM run is used, not retrained
    const table = formatFullStagesTable(r.rows).split('\n');
    expect(table[0]).toMatch(/^stage\s+split\s+v1 mIoU \/ F$/);
    expect(table[1]).toContain(`${(100 * r.rows[0].miou).toFixed(1)} / ${(100 * r.rows[0].contourF).toFixed(1)}`);
    // The walk on GT affinities is a fifth line, from <variant>/infer-aff/diagnostics.json.
    const d = r.diagnostics.v1!;
    expect(d.numImages).toBe(2);
    const withDiag = formatFullStagesTable(r.rows, r.diagnostics).split('\n');
    expect(withDiag).toHaveLength(10);
    expect(table[2]).toMatch(/^CAM\s+train\s/);
    expect(withDiag[9]).toMatch(/^walk, GT affinities\s+train \(first 2\)\s+[\d.]+ \/ [\d.]+$/);
    expect(withDiag[9]).toContain(`${(100 * d.oracleWalk.miou).toFixed(1)} / ${(100 * d.oracleWalk.contourF).toFixed(1)}`);
    // Stage panels: image | GT | CAM | +CRF | random walk, 4-pixel gaps; tiles are the colourised label maps.
    const [rel] = await writeStagePanels(out, VOC, [{ name: 'v1', dir: join(out, 'v1') }], ['2007_000032']);
    expect(rel).toBe(join('panels', 'stages-2007_000032.png'));
    const png = await sharp(join(out, rel)).raw().toBuffer({ resolveWithObject: true });
    expect([png.info.width, png.info.height]).toEqual([5 * 500 + 4 * 4, 281]);
    const walk = colorizeLabels(readLabelPng(join(out, 'v1', 'infer-aff', '2007_000032.png')));
    const gt = colorizeLabels(readLabelPng(join(VOC, 'SegmentationClass', '2007_000032.png')));
    for (const [x, y] of [[10, 10], [250, 140], [499, 280]]) {
      const at = (tile: number) => [...png.data.subarray(((y * png.info.width) + tile * 504 + x) * png.info.channels, ((y * png.info.width) + tile * 504 + x) * png.info.channels + 3)];
      expect(at(1), `GT ${x},${y}`).toEqual([...gt.data.subarray(3 * (y * 500 + x), 3 * (y * 500 + x) + 3)]);
      expect(at(4), `walk ${x},${y}`).toEqual([...walk.data.subarray(3 * (y * 500 + x), 3 * (y * 500 + x) + 3)]);
    }
  });

  it('runFullStages with parallel 2 refines the variants in threads and gives the rows of a sequential run', async () => {
    const base = {
      data: VOC, variants: [{ name: 'a', camRun: join(OPTS.out, 'train-cam') }, { name: 'b', camRun: join(OPTS.out, 'train-cam') }], trainImages: 2, evalSplit: 'train',
      affSteps: 1, segSteps: 1, batchSize: 2, crop: 96, camScales: [0.5], segScales: [0.5], crfIterations: 1, crfThresholds: [0.3], bothSplits: false, seed: 3,
    };
    const lines: string[] = [];
    const threaded = await runFullStages({ ...base, out: join(tmp, 'full-par'), parallel: 2 }, { log: (l) => lines.push(l) });
    const serial = await runFullStages({ ...base, out: join(tmp, 'full-seq') });
    expect(threaded.rows).toEqual(serial.rows);
    expect(threaded.rows.map((r) => r.variant)).toEqual(['a', 'a', 'a', 'a', 'b', 'b', 'b', 'b']);
    // Each thread's log lines carry its variant's name; stage ends are logged in place of bars.
    expect(lines.some((l) => /^b: stages for b /.test(l))).toBe(true);
    expect(lines.some((l) => /^a: .*: done in [\d.]+ s$/.test(l))).toBe(true);
  });

  it('a pipeline folder is only resumed with the same options', async () => {
    await expect(runPipeline({ ...OPTS, islWeight: 0 })).rejects.toThrow(`${OPTS.out}: holds a pipeline run with other options (islWeight 0.2 there, 0 now); use another --out or delete it`);
  });

  it('a listed id without a CAM file stops the CRF stage with an error naming the file', async () => {
    const out = OPTS.out;
    rmSync(join(out, 'infer-cam', 'cams', '2007_000063.json'));
    rmSync(join(out, 'crf', 'DONE'));
    rmSync(join(out, 'crf', 'alpha1', '2007_000063.png'));
    await expect(runPipeline(OPTS)).rejects.toThrow(`${join(out, 'infer-cam', 'cams', '2007_000063.json')}: CAM file not found`);
  });

  it('CLI: a bad flag value is one line naming the flag', async () => {
    const err: string[] = [];
    const code = await runCli(['pipeline', '--data', VOC, '--out', join(tmp, 'x'), '--isl-weight', 'abc'], (l) => err.push(l));
    expect(code).toBe(1);
    expect(err).toEqual(["hfpl: error [E_CONFIG]: --isl-weight: expected a number, got 'abc'"]);
  });

  it('rejects bad options naming the option and the value', () => {
    expect(() => resolvePipelineOptions({ data: VOC, out: 'x', islWeight: 2 })).toThrow(/option islWeight = 2 is invalid/);
    expect(() => resolvePipelineOptions({ data: VOC, out: 'x', bogus: 1 } as never)).toThrow(/unknown option "bogus"/);
  });
});
