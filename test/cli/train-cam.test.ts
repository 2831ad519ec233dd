import { afterEach, describe, expect, it, vi } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { numberFlag, trainCamOverrides } from '../../src/cli/commands/train-cam.js';
import { resolveTrainCamConfig } from '../../src/train/config.js';

afterEach(() => vi.restoreAllMocks());

async function run(args: string[]): Promise<{ code: number; err: string }> {
  const err: string[] = [];
  vi.spyOn(console, 'log').mockImplementation(() => {});
  const code = await runCli(['train-cam', ...args], (l) => err.push(l));
  return { code, err: err.join('\n') };
}

describe('hfpl train-cam flags', () => {
  it('maps flags to config overrides (only the flags given)', () => {
    const o = trainCamOverrides({ data: 'd', out: 'o', preset: 'cpu', baseline: 'seam', islWeight: '0', fslWeight: '0.5', seed: '3', lr: '0.02', backbone: 'small', crop: '96' });
    expect(o).toEqual({ baseline: 'seam', islWeight: 0, fslWeight: 0.5, seed: 3, steps: undefined, epochs: undefined, batchSize: undefined, checkpointEvery: undefined, model: { backbone: 'small', pretrained: undefined }, data: { split: undefined, crop: 96 }, optim: { lr: 0.02 } });
    const c = resolveTrainCamConfig({ overrides: o });
    expect([c.baseline, c.islWeight, c.fslWeight, c.seed, c.optim.lr, c.optim.momentum, c.data.crop, c.data.resizeLong]).toEqual(['seam', 0, 0.5, 3, 0.02, 0.9, 96, [112, 160]]);
    // --epochs without --steps switches from the preset's step count to epochs
    expect(resolveTrainCamConfig({ overrides: trainCamOverrides({ data: 'd', out: 'o', preset: 'cpu', epochs: '2' }) }).steps).toBeNull();
  });

  it('rejects bad numbers and values with one clear line', async () => {
    expect(() => numberFlag('--seed', '1.5', true)).toThrow("--seed: expected an integer, got '1.5'");
    expect(() => numberFlag('--lr', 'fast')).toThrow("--lr: expected a number, got 'fast'");
    let r = await run(['--data', 'x', '--out', 'y', '--isl-weight', 'lots']);
    expect([r.code, r.err]).toEqual([1, "hfpl: error [E_CONFIG]: --isl-weight: expected a number, got 'lots'"]);
    r = await run(['--data', 'x', '--out', 'y', '--baseline', 'irn']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^hfpl: error \[E_CONFIG\]: options: option "baseline": .* \(got "irn"\)$/);
    r = await run(['--data', 'x', '--out', 'y', '--preset', 'gpu']);
    expect(r.err).toBe('hfpl: error [E_CONFIG]: preset "gpu" is unknown: must be one of reference, cpu');
    r = await run(['--out', 'y']);
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/required option '--data <dir>' not specified/);
  });
});
