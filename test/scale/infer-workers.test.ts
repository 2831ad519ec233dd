/**
 * `hfpl infer-cam --workers 2` (each thread its own engine and network) writes CAM files,
 * pseudo-labels and scores.jsonl byte-identical to `--workers 1`, and so do infer-seg and infer-aff; the flags parse and the
 * training thread default follows HFPL_THREADS.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { scaleFrom } from '../../src/cli/commands/scale-flags.js';
import { defaultTrainingThreads } from '../../src/engine/init.js';
import { ensureBuilt, tinySet, tree } from './fixture.js';

const tmp = mkdtempSync(join(tmpdir(), 'hfpl-scale-infer-'));
beforeAll(() => ensureBuilt());
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

async function cli(args: string[]): Promise<{ code: number; err: string }> {
  const err: string[] = [];
  vi.spyOn(console, 'log').mockImplementation(() => {});
  const code = await runCli(args, (l) => err.push(l));
  vi.restoreAllMocks();
  return { code, err: err.join('\n') };
}

describe('scale flags', () => {
  it('--workers defaults to every core and rejects bad values; --queue must be redis://host:port/name', () => {
    expect(scaleFrom({})).toEqual({ workers: availableParallelism(), queue: undefined });
    expect(scaleFrom({ workers: '3', queue: 'redis://h:7000/crf-coco' })).toEqual({ workers: 3, queue: 'redis://h:7000/crf-coco' });
    expect(() => scaleFrom({ workers: '0' })).toThrow("--workers: expected an integer 1..1024, got '0'");
    expect(() => scaleFrom({ queue: 'http://h/q' })).toThrow("--queue: expected redis://host:port/name (name of letters, digits, _ . -), got 'http://h/q'");
  });

  it('training threads: HFPL_THREADS, else every core', () => {
    vi.stubEnv('HFPL_THREADS', '');
    expect(defaultTrainingThreads()).toBe(availableParallelism());
    vi.stubEnv('HFPL_THREADS', '3');
    expect(defaultTrainingThreads()).toBe(3);
    vi.stubEnv('HFPL_THREADS', 'x');
    expect(() => defaultTrainingThreads()).toThrow("HFPL_THREADS: expected an integer >= 1, got 'x'");
  });
});

describe('infer-cam, infer-seg and infer-aff --workers', () => {
  it('writes byte-identical CAMs, pseudo-labels, scores, segmentation and random-walk label maps with 1 and 2 threads', async () => {
    const data = join(tmp, 'data');
    await tinySet(data, 5, 48);
    const run = join(tmp, 'run');
    let r = await cli(['train-cam', '--data', data, '--split', 'train', '--out', run, '--backbone', 'tiny', '--crop', '48', '--batch-size', '2', '--steps', '2', '--quiet']);
    expect(r.code, r.err).toBe(0);
    for (const w of ['1', '2']) {
      r = await cli(['infer-cam', '--run', run, '--data', data, '--split', 'train', '--out', join(tmp, `w${w}`), '--scales', '1,1.5', '--workers', w, '--quiet']);
      expect(r.code, r.err).toBe(0);
    }
    const a = tree(join(tmp, 'w1')), b = tree(join(tmp, 'w2'));
    a.delete('summary.json');
    b.delete('summary.json');
    expect([...b.keys()]).toEqual([...a.keys()]);
    expect([...a.keys()].filter((k) => k.startsWith('cams/'))).toHaveLength(10);
    for (const [k, v] of a) expect(b.get(k)!.equals(v), k).toBe(true);
    // infer-seg on the same set: the same label maps from 1 and 2 threads (CRF refinement on).
    r = await cli(['train-seg', '--data', data, '--split', 'train', '--labels', join(data, 'SegmentationClass'), '--out', join(tmp, 'seg'), '--backbone', 'tiny', '--crop', '48', '--batch-size', '2', '--steps', '1', '--quiet']);
    expect(r.code, r.err).toBe(0);
    for (const w of ['1', '2']) {
      r = await cli(['infer-seg', '--run', join(tmp, 'seg'), '--data', data, '--split', 'train', '--out', join(tmp, `seg${w}`), '--scales', '1,1.5', '--workers', w, '--quiet']);
      expect(r.code, r.err).toBe(0);
    }
    const s1 = tree(join(tmp, 'seg1')), s2 = tree(join(tmp, 'seg2'));
    expect([...s1.keys()]).toHaveLength(5);
    expect([...s2.keys()]).toEqual([...s1.keys()]);
    for (const [k, v] of s1) expect(s2.get(k)!.equals(v), k).toBe(true);
    // infer-aff: CRF targets, a one-step AffinityNet, the random walk from 1 and 2 threads.
    r = await cli(['crf', '--cams', join(data, 'cams'), '--data', data, '--list', join(data, 'ImageSets/Segmentation/train.txt'), '--out', join(tmp, 'crf'), '--iters', '2', '--quiet']);
    expect(r.code, r.err).toBe(0);
    r = await cli(['train-aff', '--data', data, '--split', 'train', '--crf', join(tmp, 'crf'), '--out', join(tmp, 'aff'), '--backbone', 'tiny', '--crop', '48', '--batch-size', '2', '--steps', '1', '--radius', '2', '--quiet']);
    expect(r.code, r.err).toBe(0);
    for (const w of ['1', '2']) {
      r = await cli(['infer-aff', '--run', join(tmp, 'aff'), '--data', data, '--split', 'train', '--cams', join(data, 'cams'), '--out', join(tmp, `aff${w}`), '--workers', w, '--quiet']);
      expect(r.code, r.err).toBe(0);
    }
    const f1 = tree(join(tmp, 'aff1')), f2 = tree(join(tmp, 'aff2'));
    expect([...f1.keys()]).toHaveLength(5);
    expect([...f2.keys()]).toEqual([...f1.keys()]);
    for (const [k, v] of f1) expect(f2.get(k)!.equals(v), k).toBe(true);
    const ids = readFileSync(join(tmp, 'w2', 'scores.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { id: string }).id);
    expect(ids).toEqual(['train_000000', 'train_000001', 'train_000002', 'train_000003', 'train_000004']);
  });
});
