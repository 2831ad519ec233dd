/**
 * The protocol's table (issue 14): per stage (CAM, +CRF, random walk, final segmentation) and
 * split, the paired difference variant - baseline over seeds (same seed: same data order,
 * initialisation, pre-training and sampling), mean and 95% t interval, of mIoU and contour F;
 * and any further comparisons asked for, such as the binomial ISL against the multinomial one
 * (the paper's central claim), paired the same way.
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
  /** What the variant is compared with: the baseline, or the variant of a further comparison. */
  against: string;
  seeds: number[];
  /** Mean of `against` over the same seeds (for scale). */
  reference: { miou: number; contourF: number };
  miou: { mean: number; lo: number; hi: number };
  contourF: { mean: number; lo: number; hi: number };
}

/**
 * Paired differences per (stage, split), over the seeds where both sides have the row: every
 * non-baseline variant against `baseline`, then each `[variant, against]` of `comparisons` whose
 * two sides are present. Rows in stage order, then split, then comparison.
 */
export function stagePairedDifferences(perSeed: SeedStageRows[], baseline = 'baseline', comparisons: readonly [string, string][] = []): StagePairedRow[] {
  const all = perSeed.flatMap((p) => p.rows.map((r) => ({ ...r, seed: p.seed })));
  const variants = [...new Set(all.map((r) => r.variant))];
  const pairsAsked: [string, string][] = [
    ...variants.filter((v) => v !== baseline).map((v): [string, string] => [v, baseline]),
    ...comparisons.filter(([a, b]) => variants.includes(a) && variants.includes(b)),
  ];
  const out: StagePairedRow[] = [];
  for (const { row: stage } of FULL_STAGE_ROWS) {
    for (const split of [...new Set(all.filter((r) => r.stage === stage).map((r) => r.split))]) {
      const at = all.filter((r) => r.stage === stage && r.split === split);
      for (const [variant, against] of pairsAsked) {
        const ref = new Map(at.filter((r) => r.variant === against).map((r) => [r.seed, r]));
        const pairs = at.filter((r) => r.variant === variant && ref.has(r.seed));
        if (pairs.length === 0) continue;
        const b = pairs.map((r) => ref.get(r.seed)!);
        out.push({
          stage, split, variant, against, seeds: pairs.map((r) => r.seed),
          reference: { miou: meanSd(b.map((r) => r.miou)).mean, contourF: meanSd(b.map((r) => r.contourF)).mean },
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
 * The paired table in Markdown: stage, split, comparison, seeds, reference mIoU / F, Δ mIoU
 * [95% CI], Δ contour F [95% CI], in percentage points.
 */
export function formatStagePairedTable(rows: StagePairedRow[], label: (variant: string) => string = (v) => v): string {
  const lines = [
    '| stage | split | comparison | seeds | reference mIoU / F (%) | Δ mIoU (pp) | 95% CI | Δ contour F (pp) | 95% CI |',
    '| --- | --- | --- | --- | ---: | ---: | --- | ---: | --- |',
  ];
  for (const r of rows) {
    lines.push(`| ${r.stage} | ${r.split} | ${label(r.variant)} − ${label(r.against)} | ${r.seeds.join(', ')} | ${(100 * r.reference.miou).toFixed(1)} / ${(100 * r.reference.contourF).toFixed(1)} | ` +
      `${pp(r.miou.mean)} | ${ci(r.miou, r.seeds.length)} | ${pp(r.contourF.mean)} | ${ci(r.contourF, r.seeds.length)} |`);
  }
  return lines.join('\n');
}
