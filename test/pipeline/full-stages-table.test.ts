import { describe, expect, it } from 'vitest';
import { formatFullStagesTable, type FullStageRow } from '../../src/pipeline/full-stages.js';

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
