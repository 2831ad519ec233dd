import { describe, expect, it } from 'vitest';
import { formatFullStagesTable, refinementLanes, type FullStageRow } from '../../src/pipeline/full-stages.js';

describe('formatFullStagesTable', () => {
  it('a long variant name widens its column, so every cell ends under its header', () => {
    const rows: FullStageRow[] = ['baseline', '+ISL (multinomial) +FSL'].flatMap((variant, i) => [
      { stage: 'CAM', variant, split: 'val', miou: 0.594 + i / 100, contourF: 0.175, numImages: 150 },
      { stage: 'random walk', variant, split: 'train (first 200)', miou: 0.665, contourF: 0.374 + i / 100, numImages: 200 },
    ]);
    const lines = formatFullStagesTable(rows).split('\n');
    expect(lines).toEqual([
      'stage                split                 baseline mIoU / F +ISL (multinomial) +FSL mIoU / F',
      'CAM                  val                         59.4 / 17.5                      60.4 / 17.5',
      'random walk          train (first 200)           66.5 / 37.4                      66.5 / 38.4',
    ]);
  });
});

describe('refinementLanes', () => {
  it('fills the cores, and runs an uneven count of at most 2 x cores at once instead of leaving a core idle in a last round', () => {
    // [variants, cores] -> threads
    const cases: [number, number, number][] = [
      [1, 2, 1], [2, 2, 2], [3, 2, 3], [4, 2, 2], [5, 2, 2], [6, 2, 2],
      [3, 1, 1], [1, 1, 1], [5, 4, 5], [8, 4, 4], [9, 4, 4], [2, 0, 1],
    ];
    expect(cases.map(([v, p]) => refinementLanes(v, p))).toEqual(cases.map(([, , t]) => t));
  });
});
