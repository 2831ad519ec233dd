import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveTrainCamConfig, trainCamPresets } from '../../src/train/config.js';

describe('train-cam config', () => {
  it('defaults to the cpu preset and layers file and overrides', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hfpl-cfg-'));
    const file = join(dir, 'c.json');
    writeFileSync(file, JSON.stringify({ optim: { lr: 0.02 }, data: { crop: 96 }, seed: 3 }));
    const c = resolveTrainCamConfig({ file, overrides: { seed: 4, fslWeight: 0 } });
    expect(c.optim).toEqual({ ...trainCamPresets.cpu.optim, lr: 0.02 });
    expect(c.data.crop).toBe(96);
    expect(c.data.resizeLong).toEqual([112, 160]);
    expect(c.seed).toBe(4);
    expect(c.fslWeight).toBe(0);
    expect(c.islWeight).toBe(0.2);
    expect(resolveTrainCamConfig({ preset: 'reference' }).model.backbone).toBe('resnet38');
  });

  it('model.dropout: the reference 0.5 before fc8 in both presets, settable, range-checked', () => {
    expect(trainCamPresets.reference.model.dropout).toBe(0.5);
    expect(trainCamPresets.cpu.model.dropout).toBe(0.5);
    expect(resolveTrainCamConfig({ overrides: { model: { dropout: 0 } } }).model.dropout).toBe(0);
    expect(() => resolveTrainCamConfig({ overrides: { model: { dropout: 1 } } })).toThrow(/option "model.dropout": .*\(got 1\)/);
  });

  it('rejects unknown keys, wrong types and bad presets with messages naming them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hfpl-cfg-'));
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ optim: { learningRate: 0.1 } }));
    expect(() => resolveTrainCamConfig({ file })).toThrow(`${file}: unknown option "optim.learningRate"`);
    writeFileSync(file, JSON.stringify({ batchSize: 'eight' }));
    expect(() => resolveTrainCamConfig({ file })).toThrow(new RegExp(`${file}: option "batchSize": .*number.* \\(got "eight"\\)`));
    writeFileSync(file, JSON.stringify({ islWeight: 1.5 }));
    expect(() => resolveTrainCamConfig({ file })).toThrow(/option "islWeight": .*1.* \(got 1\.5\)/);
    writeFileSync(file, '{ nope');
    expect(() => resolveTrainCamConfig({ file })).toThrow(/bad\.json: not valid JSON/);
    expect(() => resolveTrainCamConfig({ file: join(dir, 'missing.json') })).toThrow(/missing\.json: config file not found/);
    expect(() => resolveTrainCamConfig({ overrides: { baseline: 'irn' } })).toThrow(/options: option "baseline": .*\(got "irn"\)/);
    expect(() => resolveTrainCamConfig({ preset: 'gpu' })).toThrow('preset "gpu" is unknown: must be one of reference, cpu');
  });
});
