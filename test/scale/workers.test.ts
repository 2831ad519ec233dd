/**
 * `--workers N` (src/scale/run-images.ts + pool.ts): the outputs of crf, synth and eval on a
 * tiny generated set are byte-identical (eval: exactly equal numbers) to the one-thread run;
 * a bad image stops a threaded run with one line naming it.
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSynthDataset } from '../../src/data/synth/generate.js';
import { readLabelPng } from '../../src/data/label-png.js';
import { runEval } from '../../src/eval/run-eval.js';
import { runCrf } from '../../src/infer/crf/run-crf.js';
import { runImages } from '../../src/scale/run-images.js';
import { ensureBuilt, tinySet, tree } from './fixture.js';

const tmp = mkdtempSync(join(tmpdir(), 'hfpl-scale-'));
const data = join(tmp, 'data');
let ids: string[] = [];
beforeAll(async () => {
  ensureBuilt();
  ids = await tinySet(data, 6);
  writeFileSync(join(tmp, 'list.txt'), ids.join('\n') + '\n');
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('--workers', () => {
  it('synth writes the same files with 1 and 3 threads', async () => {
    const opts = { train: 5, val: 2, width: 40, height: 32, classes: 2, seed: 9 };
    const one = await generateSynthDataset({ ...opts, out: join(tmp, 'synth1') });
    const three = await generateSynthDataset({ ...opts, out: join(tmp, 'synth3') }, undefined, { workers: 3 });
    expect(three.written).toBe(7);
    expect(three.skipped).toBe(0);
    expect(one.written).toBe(7);
    const a = tree(join(tmp, 'synth1')), b = tree(join(tmp, 'synth3'));
    expect([...b.keys()]).toEqual([...a.keys()]);
    expect([...a.keys()].filter((k) => k.endsWith('.jpg'))).toHaveLength(7);
    for (const [k, v] of a) expect(b.get(k)!.equals(v), k).toBe(true);
  });

  it('synth v2 writes the same files with 1 and 2 threads (the task renders the chosen benchmark)', async () => {
    const opts = { bench: 'v2' as const, train: 3, val: 1, width: 96, height: 72, classes: 3, seed: 4 };
    const one = await generateSynthDataset({ ...opts, out: join(tmp, 'synthv2-1') });
    const two = await generateSynthDataset({ ...opts, out: join(tmp, 'synthv2-2') }, undefined, { workers: 2 });
    expect(one.bench).toBe('v2');
    expect(two.written).toBe(4);
    const a = tree(join(tmp, 'synthv2-1')), b = tree(join(tmp, 'synthv2-2'));
    expect([...b.keys()]).toEqual([...a.keys()]);
    for (const [k, v] of a) expect(b.get(k)!.equals(v), k).toBe(true);
    // v2 and v1 differ: the same ids, other pixels.
    const v1 = await generateSynthDataset({ train: 3, val: 1, width: 96, height: 72, classes: 3, seed: 4, out: join(tmp, 'synthv1-x') });
    expect(v1.bench).toBe('v1');
    expect(tree(join(tmp, 'synthv1-x')).get('JPEGImages/train_000000.jpg')!.equals(a.get('JPEGImages/train_000000.jpg')!)).toBe(false);
  });

  it('crf writes byte-identical label maps with 1 and 2 threads, and resumes', async () => {
    const run = (out: string, workers: number) =>
      runCrf({ camDir: join(data, 'cams'), dataDir: data, listFile: join(tmp, 'list.txt'), outDir: out, crf: { iterations: 3 } }, undefined, { workers });
    const r1 = await run(join(tmp, 'crf1'), 1);
    const r2 = await run(join(tmp, 'crf2'), 2);
    expect(r1).toMatchObject({ written: 6, skipped: 0 });
    expect(r2).toMatchObject({ written: 6, skipped: 0 });
    const a = tree(join(tmp, 'crf1')), b = tree(join(tmp, 'crf2'));
    // Label maps and the CRF probabilities (.npy, train-aff's pooled targets) of both alphas.
    expect([...a.keys()]).toEqual(['alpha1', 'alpha24'].flatMap((d) => ids.flatMap((id) => [`${d}/${id}.npy`, `${d}/${id}.png`])).sort((x, y) => x.localeCompare(y)));
    expect([...b.keys()]).toEqual([...a.keys()]);
    for (const [k, v] of a) expect(b.get(k)!.equals(v), k).toBe(true);
    // The CRF of blurred GT indicators recovers most of the GT (an invariant, not a speed figure).
    let agree = 0, total = 0;
    for (const id of ids) {
      const gt = readLabelPng(join(data, 'SegmentationClass', `${id}.png`)), p = readLabelPng(join(tmp, 'crf2', 'alpha1', `${id}.png`));
      for (let i = 0; i < gt.data.length; i++) {
        if (gt.data[i] === 255) continue;
        total++;
        if (gt.data[i] === p.data[i]) agree++;
      }
    }
    expect(agree / total).toBeGreaterThan(0.8);
    expect(await run(join(tmp, 'crf2'), 2)).toMatchObject({ written: 0, skipped: 6 });
  });

  it('eval gives exactly the one-thread numbers (label maps and the CAM sweep)', async () => {
    const base = { gtDir: join(data, 'SegmentationClass'), listFile: join(tmp, 'list.txt'), numClasses: 4 };
    const labels1 = await runEval({ ...base, predDir: join(tmp, 'crf1', 'alpha1') });
    const labels2 = await runEval({ ...base, predDir: join(tmp, 'crf1', 'alpha1') }, undefined, { workers: 2 });
    expect(labels2).toEqual(labels1);
    expect(labels1.numImages).toBe(6);
    expect(labels1.miou).toBeGreaterThan(0.5);
    const cams1 = await runEval({ ...base, predDir: join(data, 'cams'), cams: true });
    const cams2 = await runEval({ ...base, predDir: join(data, 'cams'), cams: true }, undefined, { workers: 2 });
    expect(cams2).toEqual(cams1);
    expect(cams1.curve).toHaveLength(60);
  });

  it('a bad image stops a threaded crf run with one line naming it', async () => {
    const bad = join(tmp, 'badcams');
    cpSync(join(data, 'cams'), bad, { recursive: true });
    writeFileSync(join(bad, `${ids[3]}.npy`), 'not an npy');
    const err = await runCrf({ camDir: bad, dataDir: data, listFile: join(tmp, 'list.txt'), outDir: join(tmp, 'crfbad'), crf: { iterations: 1 } }, undefined, { workers: 2 }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).name).toBe('HfplError');
    expect((err as Error).message).toContain(`${ids[3]}.npy`);
    expect((err as Error).message).not.toContain('\n');
  });

  it('a task that crashes its thread is named by image', async () => {
    const err = await runImages({ task: 'crf', setup: { camDir: '/nonexistent', dataDir: '/nonexistent', settings: 'not a list', crf: {} }, items: [{ id: 'a' }, { id: 'b' }], label: 'crf', workers: 2 }).catch((e: Error) => e);
    expect((err as Error).message).toMatch(/^crf: image [ab] failed in a worker: /);
  });
});
