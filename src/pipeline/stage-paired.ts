/**
 * The protocol's table (issue 14): per stage (CAM, +CRF, random walk, final segmentation) and
 * split, the paired difference variant - baseline over seeds (same seed: same data order,
 * initialisation, pre-training and sampling), mean and 95% t interval, of mIoU and contour F.
 */
import { meanSd, pairedInterval } from '../util/two-sample.js';
import { FULL_STAGE_ROWS, type FullStageName, type FullStageRow } from './full-stages.js';

/** The full-stage rows of one seed. */
export interface SeedStageRows {
  seed: number;
  rows: FullStageRow[];
}

/** One cell group of the paired table. */
export interface StagePairedRow {
  stage: FullStageName;
  split: string;
  variant: string;
  seeds: number[];
  /** Baseline mean over the same seeds (for scale). */
  baseline: { miou: number; contourF: number };
  miou: { mean: number; lo: number; hi: number };
  contourF: { mean: number; lo: number; hi: number };
}

/**
 * Paired differences of every non-baseline variant against `baseline` per (stage, split), over
 * the seeds where both have the row. Rows in stage order, then split, then variant.
 */
export function stagePairedDifferences(perSeed: SeedStageRows[], baseline = 'baseline'): StagePairedRow[] {
  const all = perSeed.flatMap((p) => p.rows.map((r) => ({ ...r, seed: p.seed })));
  const variants = [...new Set(all.map((r) => r.variant))].filter((v) => v !== baseline);
  const out: StagePairedRow[] = [];
  for (const { row: stage } of FULL_STAGE_ROWS) {
    for (const split of [...new Set(all.filter((r) => r.stage === stage).map((r) => r.split))]) {
      const base = new Map(all.filter((r) => r.stage === stage && r.split === split && r.variant === baseline).map((r) => [r.seed, r]));
      for (const variant of variants) {
        const pairs = all.filter((r) => r.stage === stage && r.split === split && r.variant === variant && base.has(r.seed));
        if (pairs.length === 0) continue;
        const b = pairs.map((r) => base.get(r.seed)!);
        out.push({
          stage, split, variant, seeds: pairs.map((r) => r.seed),
          baseline: { miou: meanSd(b.map((r) => r.miou)).mean, contourF: meanSd(b.map((r) => r.contourF)).mean },
          miou: pairedInterval(pairs.map((r, i) => r.miou - b[i].miou)),
          contourF: pairedInterval(pairs.map((r, i) => r.contourF - b[i].contourF)),
        });
      }
    }
  }
  return out;
}

const pp = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(100 * x).toFixed(1)}`;
const ci = (m: { lo: number; hi: number }, n: number) => (n > 1 ? `[${pp(m.lo)}, ${pp(m.hi)}]` : '(1 seed)');

/**
 * The paired table in Markdown: stage, split, comparison, seeds, baseline mIoU / F, Δ mIoU
 * [95% CI], Δ contour F [95% CI], in percentage points.
 */
export function formatStagePairedTable(rows: StagePairedRow[], label: (variant: string) => string = (v) => v): string {
  const lines = [
    '| stage | split | comparison | seeds | baseline mIoU / F (%) | Δ mIoU (pp) | 95% CI | Δ contour F (pp) | 95% CI |',
    '| --- | --- | --- | --- | ---: | ---: | --- | ---: | --- |',
  ];
  for (const r of rows) {
    lines.push(`| ${r.stage} | ${r.split} | ${label(r.variant)} − baseline | ${r.seeds.join(', ')} | ${(100 * r.baseline.miou).toFixed(1)} / ${(100 * r.baseline.contourF).toFixed(1)} | ` +
      `${pp(r.miou.mean)} | ${ci(r.miou, r.seeds.length)} | ${pp(r.contourF.mean)} | ${ci(r.contourF, r.seeds.length)} |`);
  }
  return lines.join('\n');
}
