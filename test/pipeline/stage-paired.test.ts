import { describe, expect, it } from 'vitest';
import { formatStagePairedTable, stagePairedDifferences } from '../../src/pipeline/stage-paired.js';
import type { FullStageRow } from '../../src/pipeline/full-stages.js';

const row = (stage: FullStageRow['stage'], variant: string, miou: number, contourF: number, split = 'val'): FullStageRow => ({ stage, variant, split, miou, contourF, numImages: 10 });

describe('stagePairedDifferences', () => {
  it('pairs each variant with the baseline of the same seed, per stage and split, with a 95% t interval', () => {
    // Differences in mIoU 0.02, 0.04, 0.06 over seeds 0..2: mean 0.04, sd 0.02, t(0.975, 2) = 4.303.
    const perSeed = [0, 1, 2].map((seed) => ({
      seed,
      rows: [
        row('CAM', 'baseline', 0.5 + seed / 100, 0.2), row('CAM', 'add-on', 0.5 + seed / 100 + 0.02 * (seed + 1), 0.2 + 0.01),
        row('random walk', 'baseline', 0.6, 0.3, 'train (first 200)'), row('random walk', 'add-on', 0.55, 0.3, 'train (first 200)'),
      ],
    }));
    const p = stagePairedDifferences(perSeed);
    expect(p.map((r) => [r.stage, r.split, r.variant, r.seeds])).toEqual([
      ['CAM', 'val', 'add-on', [0, 1, 2]],
      ['random walk', 'train (first 200)', 'add-on', [0, 1, 2]],
    ]);
    const half = (4.303 * 0.02) / Math.sqrt(3);
    expect(p[0].miou.mean).toBeCloseTo(0.04, 12);
    expect(p[0].miou.lo).toBeCloseTo(0.04 - half, 12);
    expect(p[0].miou.hi).toBeCloseTo(0.04 + half, 12);
    expect(p[0].reference.miou).toBeCloseTo(0.51, 12);
    expect(p.every((r) => r.against === 'baseline')).toBe(true);
    // constant difference: a zero-width interval
    expect([p[1].miou.mean, p[1].miou.lo, p[1].miou.hi].map((x) => Number(x.toFixed(12)))).toEqual([-0.05, -0.05, -0.05]);
    expect(formatStagePairedTable(p).split('\n')[2]).toBe(`| CAM | val | add-on − baseline | 0, 1, 2 | 51.0 / 20.0 | +4.0 | [${(100 * (0.04 - half)) >= 0 ? '+' : '−'}${Math.abs(100 * (0.04 - half)).toFixed(1)}, +${(100 * (0.04 + half)).toFixed(1)}] | +1.0 | [+1.0, +1.0] |`);
  });

  it('leaves out seeds without a baseline row', () => {
    const p = stagePairedDifferences([{ seed: 0, rows: [row('CAM', 'add-on', 0.5, 0.2)] }, { seed: 1, rows: [row('CAM', 'baseline', 0.4, 0.1), row('CAM', 'add-on', 0.5, 0.2)] }]);
    expect(p.map((r) => [r.seeds, Number(r.miou.mean.toFixed(12))])).toEqual([[[1], 0.1]]);
    expect(formatStagePairedTable(p)).toContain('(1 seed)');
  });

  it('adds the comparisons asked for, each against its own reference, after the baseline rows', () => {
    // binomial − multinomial: 0.03, 0.01, 0.02 (mean 0.02, sd 0.01); the multinomial's mean is the reference
    const perSeed = [0, 1, 2].map((seed) => ({
      seed,
      rows: [
        row('CAM', 'baseline', 0.5, 0.2), row('CAM', 'bin', 0.5 + [0.03, 0.01, 0.02][seed], 0.25), row('CAM', 'mn', 0.5, 0.2 + seed / 100),
      ],
    }));
    const p = stagePairedDifferences(perSeed, 'baseline', [['bin', 'mn'], ['absent', 'mn']]);
    expect(p.map((r) => `${r.variant} vs ${r.against}`)).toEqual(['bin vs baseline', 'mn vs baseline', 'bin vs mn']);
    const half = (4.303 * 0.01) / Math.sqrt(3);
    expect(p[2].miou.mean).toBeCloseTo(0.02, 12);
    expect(p[2].miou.hi - p[2].miou.lo).toBeCloseTo(2 * half, 12);
    expect(p[2].reference.contourF).toBeCloseTo(0.21, 12);
    expect(p[2].contourF.mean).toBeCloseTo(0.04, 12);
    expect(formatStagePairedTable(p).split('\n')[4]).toMatch(/^\| CAM \| val \| bin − mn \| 0, 1, 2 \| 50\.0 \/ 21\.0 \| \+2\.0 \| /);
  });
});
