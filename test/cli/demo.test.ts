import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode } from 'fast-png';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { demoPlanFromFlags, demoRefinedVariants } from '../../src/cli/commands/demo.js';
import { DEMO_PLANS, DEMO_PLANS_BY_BENCH, demoPretrainRun, demoTrainConfig } from '../../src/train/demo-run.js';
import { formatDemoTable, meanStd } from '../../src/viz/demo-report.js';
import type { DemoRow } from '../../src/train/demo-run.js';

afterEach(() => vi.restoreAllMocks());

describe('hfpl demo options', () => {
  it('selects a plan and applies --seeds, --variants and --steps', () => {
    expect(demoPlanFromFlags({ out: 'x' })).toEqual(DEMO_PLANS.default);
    const p = demoPlanFromFlags({ out: 'x', quick: true, seeds: '0, 1,2', variants: 'baseline,both', steps: '7' });
    expect([p.seeds, p.variants, p.steps, p.train]).toEqual([[0, 1, 2], ['baseline', 'both'], 7, DEMO_PLANS.quick.train]);
    expect(() => demoPlanFromFlags({ out: 'x', quick: true, full: true })).toThrow('--quick and --full exclude each other');
    expect(() => demoPlanFromFlags({ out: 'x', variants: 'baseline,crf' })).toThrow("--variants: 'crf' is unknown; must be a list of baseline, isl, fsl, both, isl-mn, both-mn");
    expect(demoPlanFromFlags({ out: 'x', bench: 'v1' })).toEqual(DEMO_PLANS_BY_BENCH.v1.default);
    expect(demoPlanFromFlags({ out: 'x', bench: 'v1', spatialScale: 'auto' }).spatialScale).toBe('auto');
    expect(demoPlanFromFlags({ out: 'x' }).spatialScale).toBe('auto');
    expect(() => demoPlanFromFlags({ out: 'x', bench: 'v3' })).toThrow("--bench: 'v3' is unknown; must be v1 or v2");
    const six = { out: 'x', full: true, variants: 'baseline,isl,fsl,both,isl-mn,both-mn' };
    expect(demoRefinedVariants({ ...six, fullVariants: 'baseline,both' }, demoPlanFromFlags(six))).toEqual(['baseline', 'both']);
    expect(demoRefinedVariants(six, demoPlanFromFlags(six))).toHaveLength(6);
    expect(() => demoRefinedVariants({ out: 'x', full: true, fullVariants: 'isl' }, demoPlanFromFlags({ out: 'x' }))).toThrow("--full-variants: 'isl' is not among --variants (baseline, both)");
    expect(() => demoRefinedVariants({ out: 'x', fullVariants: 'both' }, demoPlanFromFlags({ out: 'x' }))).toThrow('--full-variants goes with --full');
    expect(() => demoPlanFromFlags({ out: 'x', seeds: '0,a' })).toThrow("--seeds: expected an integer, got 'a'");
    expect(demoPlanFromFlags({ out: 'x', pretrainSteps: '0' }).pretrainSteps).toBe(0);
    expect(() => demoPlanFromFlags({ out: 'x', pretrainSteps: '-1' })).toThrow("--pretrain-steps: expected an integer >= 0, got '-1'");
  });

  it('gives every seed its own pre-training, and the multinomial variants the multinomial ISL', () => {
    const plan = DEMO_PLANS.default;
    expect(demoPretrainRun('o', 3)).toBe(join('o', 'runs', 'pretrain-s3'));
    expect(demoTrainConfig(plan, null, 3).seed).toBe(3);
    const mn = demoTrainConfig(plan, 'isl-mn', 1, 'p/model.json');
    expect([mn.isl.form, mn.islWeight, mn.fslWeight, mn.isl.numSamples]).toEqual(['multinomial', 0.2, 0, 10]);
    expect(demoTrainConfig(plan, 'both', 1, 'p/model.json').isl.form).toBe('binomial');
    expect(demoTrainConfig(plan, 'baseline', 1, 'p/model.json').data.colorJitter).toBeNull();
    expect(demoTrainConfig(DEMO_PLANS_BY_BENCH.v1.default, 'baseline', 1, 'p/model.json').data.colorJitter).not.toBeNull();
  });

  it('tabulates mean ± sample std over seeds', () => {
    expect(meanStd([1, 3])).toEqual({ mean: 2, std: Math.SQRT2 });
    const row = (variant: 'baseline' | 'both', seed: number, miou: number): DemoRow => ({
      variant, seed, run: '', miou, contourF: miou / 2, bestThreshold: 0.2, mAP: 0.9, exactMatch: 0.5, finalLoss: 0.3,
      trainImagesPerSec: 1, trainSeconds: 1, inferImagesPerSec: 1, inferSeconds: 1,
    });
    const t = formatDemoTable([row('baseline', 0, 0.3), row('both', 0, 0.4), row('baseline', 1, 0.32), row('both', 1, 0.42)]);
    expect(t.split('\n')[2]).toBe('| baseline | 31.0 ± 1.4 | 15.5 ± 0.7 | 0.20 | 90.0 ± 0.0 | 50.0 ± 0.0 | 0, 1 |');
    expect(t.split('\n')[3]).toMatch(/^\| \+ISL \+FSL \| 41\.0 ± 1\.4 \| 20\.5 ± 0\.7 \|/);
  });
});

describe('hfpl demo --quick', () => {
  it('generates data, trains baseline and add-on, infers, evaluates and writes report.md with panels', async () => {
    const out = mkdtempSync(join(tmpdir(), 'hfpl-demo-'));
    const logged: string[] = [], err: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void logged.push(a.join(' ')));
    // Two variants trained at once, a thread each (the default on a 2-core machine).
    const code = await runCli(['demo', '--quick', '--out', out, '--quiet', '--parallel', '2'], (l) => err.push(l));
    vi.restoreAllMocks();
    expect(code, err.join('\n')).toBe(0);
    const report = readFileSync(join(out, 'report.md'), 'utf8');
    expect(report).toContain('| CAM network | mIoU (%) | contour F (%) |');
    expect(report).toMatch(/\| baseline \| \d+\.\d \| \d+\.\d \|/);
    expect(report).toMatch(/\| \+ISL \+FSL \| \d+\.\d \| \d+\.\d \|/);
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    expect(results.rows.map((r: DemoRow) => r.variant)).toEqual(['baseline', 'both']);
    for (const r of results.rows as DemoRow[]) {
      expect(r.miou).toBeGreaterThan(0);
      expect(r.miou).toBeLessThan(1);
      expect(r.contourF).toBeGreaterThanOrEqual(0);
      expect(r.trainImagesPerSec).toBeGreaterThan(0);
      // same seed and steps for both variants
      expect(JSON.parse(readFileSync(join(r.run, 'DONE'), 'utf8')).steps).toBe(DEMO_PLANS.quick.steps);
      // every variant fine-tunes the one shared pre-trained backbone, with METHOD 3.1's 10x new layers
      const cfg = JSON.parse(readFileSync(join(r.run, 'config.json'), 'utf8'));
      expect(cfg.model.pretrained).toBe(join(demoPretrainRun(out, 0), 'model.json'));
      expect([cfg.optim.lr, cfg.optim.newLayerLrMult]).toEqual([DEMO_PLANS.quick.fineTuneLr, 10]);
    }
    expect(JSON.parse(readFileSync(join(demoPretrainRun(out, 0), 'DONE'), 'utf8')).steps).toBe(DEMO_PLANS.quick.pretrainSteps);
    // benchmark v2: no colour jitter, classification scored at the training scale
    expect(JSON.parse(readFileSync(join(out, 'data', 'synth.json'), 'utf8')).bench).toBe('v2');
    expect(JSON.parse(readFileSync(join(results.rows[0].run, 'infer-val', 'summary.json'), 'utf8')).scoreScale).toBe(DEMO_PLANS.quick.scoreScale);
    const panels = [...new Set(report.match(/panels\/val_\d+\.png/g) ?? [])];
    expect(panels.length).toBe(4);
    for (const p of panels) {
      expect(existsSync(join(out, p))).toBe(true);
      const png = decode(readFileSync(join(out, p)));
      const [w, h] = DEMO_PLANS.quick.size!;
      expect([png.width, png.height]).toEqual([4 * w + 3 * 4, 2 * h + 4]); // image | GT | CAM | pseudo, 2 variants
    }
    expect(logged.at(-1)).toMatch(new RegExp(`demo finished in .* min; report .*report\\.md and .*report\\.html \\(\\d+ KB, 5 plots, 6 images\\)$`));
    // report.html beside report.md shows results.json's numbers
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    for (const r of results.rows as DemoRow[]) {
      const label = r.variant === 'both' ? '+ISL +FSL' : 'baseline';
      expect(html).toContain(`data-key="summary:${label}:miou" data-value="${r.miou}">${(100 * r.miou).toFixed(1)}<`);
    }
    // The same demo in one thread gives the same numbers: where a run trains does not change it.
    const out1 = mkdtempSync(join(tmpdir(), 'hfpl-demo-serial-'));
    vi.spyOn(console, 'log').mockImplementation(() => {});
    expect(await runCli(['demo', '--quick', '--out', out1, '--quiet', '--parallel', '1'], (l) => err.push(l)), err.join('\n')).toBe(0);
    vi.restoreAllMocks();
    const serial = JSON.parse(readFileSync(join(out1, 'results.json'), 'utf8')).rows as DemoRow[];
    const pick = (r: DemoRow) => [r.variant, r.finalLoss, r.miou, r.contourF, r.mAP, r.bestThreshold];
    expect(serial.map(pick)).toEqual((results.rows as DemoRow[]).map(pick));
  }, 300_000);
});
