/**
 * `hfpl crf`: dense CRF pseudo-labels from CAM files (METHOD 3.4), one folder of palette label
 * maps per background setting (alpha 1 and 24 by default), with the CRF probabilities of the
 * alpha settings as <id>.npy (AffinityNet's pooled targets; --no-scores skips them).
 * Resumable: existing outputs are kept.
 */
import type { Command } from 'commander';
import { HfplError } from '../../errors.js';
import { runCrf } from '../../infer/crf/run-crf.js';
import { createReporter } from '../../util/progress.js';
import { addScaleOptions, scaleFrom, type ScaleFlags } from './scale-flags.js';

/** `--alpha` value: comma-separated positive numbers, e.g. "1,24". */
export function parseAlphas(value: string): number[] {
  const parts = value.split(',').map((s) => s.trim());
  const alphas = parts.map(Number);
  if (parts.some((p) => p === '') || alphas.some((a) => !Number.isFinite(a) || a <= 0)) {
    throw new HfplError('E_CONFIG', `--alpha: expected comma-separated positive numbers such as 1,24, got '${value}'`);
  }
  return alphas;
}

function parseNumber(flag: string, value: string, check: (v: number) => boolean, allowed: string): number {
  const v = Number(value);
  if (value.trim() === '' || !Number.isFinite(v) || !check(v)) throw new HfplError('E_CONFIG', `${flag}: expected ${allowed}, got '${value}'`);
  return v;
}

interface CrfCliOptions extends ScaleFlags {
  cams: string;
  data: string;
  list: string;
  out: string;
  alpha?: string;
  threshold?: string;
  iters: string;
  bilateralSxy: string;
  quiet?: boolean;
  scores: boolean;
}

export function registerCrf(program: Command): void {
  const cmd = program
    .command('crf')
    .description('dense CRF pseudo-labels from CAM files: <out>/alpha<a>/<id>.png per background exponent (METHOD 3.4)')
    .requiredOption('--cams <dir>', 'folder of CAM files (<id>.npy + <id>.json)')
    .requiredOption('--data <dir>', 'VOC-layout data root (images in JPEGImages/)')
    .requiredOption('--list <file>', 'ids to process, one per line')
    .requiredOption('--out <dir>', 'output root')
    .option('--alpha <list>', 'background (1 - max cam)^alpha, comma-separated exponents (default 1,24)')
    .option('--threshold <t>', 'constant background score t instead of --alpha; writes <out>/threshold<t>/')
    .option('--iters <n>', 'mean-field iterations', '10')
    .option('--bilateral-sxy <px>', 'bilateral kernel spatial standard deviation, pixels', '80')
    .option('--no-scores', 'without <out>/alpha<a>/<id>.npy, the CRF probabilities train-aff pools into its targets')
    .option('--quiet', 'no progress output');
  addScaleOptions(cmd).action(async (opts: CrfCliOptions) => {
      if (opts.alpha !== undefined && opts.threshold !== undefined) throw new HfplError('E_CONFIG', '--alpha and --threshold exclude each other; give one');
      const iterations = parseNumber('--iters', opts.iters, (v) => Number.isInteger(v) && v >= 0 && v <= 1000, 'an integer 0..1000');
      const bilateralSxy = parseNumber('--bilateral-sxy', opts.bilateralSxy, (v) => v > 0, 'a positive number');
      const background =
        opts.threshold !== undefined
          ? { threshold: parseNumber('--threshold', opts.threshold, (v) => v >= 0 && v <= 1, 'a number in [0, 1]') }
          : { alphas: parseAlphas(opts.alpha ?? '1,24') };
      const r = await runCrf(
        { camDir: opts.cams, dataDir: opts.data, listFile: opts.list, outDir: opts.out, background, crf: { iterations, bilateralSxy }, saveScores: opts.scores },
        createReporter(opts.quiet ? 'silent' : 'bar'),
        scaleFrom(opts),
      );
      console.log(`crf: ${r.written} images written, ${r.skipped} already done; outputs: ${r.outputs.join(', ')}`);
    });
}
