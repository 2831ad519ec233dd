import type { BadSample } from '../../data/sample.js';

/** Prints the samples skipped under `--skip-bad`, one line each, after a count (stderr). */
export function reportSkipped(skipped: readonly BadSample[]): void {
  if (skipped.length === 0) return;
  console.error(`skipped ${skipped.length} bad sample${skipped.length === 1 ? '' : 's'}:`);
  for (const b of skipped) console.error(`  [${b.code}] ${b.file}: ${b.problem}`);
}
