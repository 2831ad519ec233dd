import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { readLabelPng } from '../../src/data/label-png.js';
import { resolveSynthParams } from '../../src/data/synth/params.js';

const tmp = mkdtempSync(join(tmpdir(), 'hfpl-cli-synth-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

async function run(args: string[]): Promise<{ code: number; err: string[]; out: string[] }> {
  const err: string[] = [], out: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((s: string) => void out.push(s));
  const code = await runCli(args, (l) => err.push(l));
  vi.restoreAllMocks();
  return { code, err, out };
}

describe('hfpl synth', () => {
  it('passes its options to the generator and reports what it wrote', async () => {
    const out = join(tmp, 'set');
    const r = await run(['synth', '--out', out, '--train', '4', '--val', '2', '--size', '80x64', '--classes', '3', '--seed', '5', '--quiet']);
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.out).toHaveLength(1);
    expect(r.out[0]).toMatch(new RegExp(`^synth: 4 train \\+ 2 val images of 80x64, 3 classes \\(stripes, checker, dots\\) in ${out}: 6 written, 0 present, `));
    const manifest = JSON.parse(readFileSync(join(out, 'synth.json'), 'utf8'));
    expect(manifest).toEqual({ generator: 'hfpl synth', version: 1, params: resolveSynthParams({ width: 80, height: 64, classes: 3, seed: 5 }), train: 4, val: 2 });
    expect(readFileSync(join(out, 'ImageSets/Segmentation/val.txt'), 'utf8')).toBe('val_000000\nval_000001\n');
    expect(readLabelPng(join(out, 'SegmentationClass/train_000003.png')).width).toBe(80);
    const again = await run(['synth', '--out', out, '--train', '4', '--val', '2', '--size', '80x64', '--classes', '3', '--seed', '5', '--quiet']);
    expect(again.out[0]).toMatch(/0 written, 6 present/);
  });

  it('--bench v2 writes the natural-photo benchmark at its default size', async () => {
    const out = join(tmp, 'v2');
    const r = await run(['synth', '--bench', 'v2', '--out', out, '--train', '2', '--val', '1', '--classes', '3', '--quiet']);
    expect(r.err).toEqual([]);
    expect(r.out[0]).toMatch(new RegExp(`^synth v2: 2 train \\+ 1 val images of 320x240, 3 classes \\(banded, spotted, mottled\\) in ${out}: 3 written, 0 present, `));
    expect(JSON.parse(readFileSync(join(out, 'synth.json'), 'utf8')).bench).toBe('v2');
    expect(readLabelPng(join(out, 'SegmentationClass/val_000000.png')).height).toBe(240);
    const bad = await run(['synth', '--bench', 'v3', '--out', out, '--quiet']);
    expect(bad.code).toBe(1);
    expect(bad.err.join('\n')).toMatch(/--bench <name>' argument 'v3' is invalid. Allowed choices are v1, v2/);
  });

  it('fails with one line naming a bad option', async () => {
    const out = join(tmp, 'bad');
    expect(await run(['synth', '--out', out, '--classes', '11', '--quiet'])).toMatchObject({ code: 1, err: ['hfpl: error [E_CONFIG]: synth option classes: 11 is invalid (Too big: expected number to be <=10)'] });
    expect(await run(['synth', '--out', out, '--size', '12x', '--quiet'])).toMatchObject({ code: 1, err: ["hfpl: error [E_CONFIG]: --size: '12x' is not S or WxH (pixels), e.g. 128 or 500x375"] });
    expect(await run(['synth', '--out', out, '--train', '-1', '--quiet'])).toMatchObject({ code: 1, err: ["hfpl: error [E_CONFIG]: --train: '-1' is not a non-negative integer"] });
    const miss = await run(['synth']);
    expect(miss.code).toBe(1);
    expect(miss.err.join('\n')).toMatch(/required option '--out <dir>' not specified/);
  });
});
