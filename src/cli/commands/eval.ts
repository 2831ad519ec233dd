/**
 * `hfpl eval`: mIoU and contour F-score of label maps (or CAMs with the background-threshold
 * sweep) against GT masks; prints a table and optionally writes JSON (METHOD 4).
 */
import type { Command } from 'commander';
import { HfplError } from '../../errors.js';
import { runEval, type EvalRunResult } from '../../eval/run-eval.js';
import { createReporter } from '../../util/progress.js';
import { addScaleOptions, scaleFrom, type ScaleFlags } from './scale-flags.js';

/** `--classes` value: 'voc' (21), 'coco' (81) or a number of classes including background. */
export function parseClasses(value: string): number {
  if (value === 'voc') return 21;
  if (value === 'coco') return 81;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 2 || n > 255) {
    throw new HfplError('E_CONFIG', `--classes: expected voc, coco or an integer 2..255 (classes including background), got '${value}'`);
  }
  return n;
}

const pct = (v: number): string => (Number.isNaN(v) ? '   -' : (100 * v).toFixed(1).padStart(5));

/** The result as a text table: one row per class (IoU, contour F), then the means. */
export function formatEvalTable(r: EvalRunResult): string {
  const width = Math.max(12, ...r.classNames.map((n) => n.length));
  const lines = [`${'class'.padEnd(width)}    IoU  contourF`];
  r.classNames.forEach((name, c) => {
    const f = c === 0 ? Number.NaN : r.contourFPerClass[c - 1];
    lines.push(`${name.padEnd(width)}  ${pct(r.iou[c])}  ${pct(f ?? Number.NaN)}`);
  });
  lines.push('-'.repeat(width + 17));
  lines.push(`${'mean'.padEnd(width)}  ${pct(r.miou)}  ${pct(r.contourF)}`);
  if (r.absentClasses.length > 0) {
    const present = r.iou.filter((_, c) => !r.absentClasses.includes(c));
    const m = present.reduce((a, b) => a + b, 0) / Math.max(1, present.length);
    lines.push(`note: ${r.absentClasses.length} of ${r.iou.length} classes occur in neither GT nor prediction; they count as IoU 0 in the mean (METHOD 4); the mean over the ${present.length} others is ${pct(m).trim()}`);
  }
  const head = r.bestThreshold !== undefined ? `best background threshold t = ${r.bestThreshold.toFixed(2)}; ` : '';
  lines.push(`${head}${r.numImages} images; mIoU ${(100 * r.miou).toFixed(2)}, contour F ${(100 * r.contourF).toFixed(2)} (%)`);
  return lines.join('\n');
}

export function registerEval(program: Command): void {
  const cmd = program
    .command('eval')
    .description('mIoU and contour F-score of label maps (or CAMs, sweeping the background threshold) against GT masks')
    .requiredOption('--pred <dir>', 'folder of <id>.png label maps (palette or grayscale), or CAM files with --cams')
    .requiredOption('--gt <dir>', 'folder of <id>.png GT masks (palette, 255 = void)')
    .requiredOption('--list <file>', 'ids to evaluate, one per line')
    .option('--classes <voc|coco|K>', 'class set: voc (21), coco (81) or the number of classes including background', 'voc')
    .option('--cams', 'evaluate CAM files (<id>.npy + <id>.json) with the threshold sweep t = 0.00 ... 0.59')
    .option('--out <file>', 'write the result as JSON')
    .option('--quiet', 'no progress output');
  addScaleOptions(cmd, false).action(async (opts: { pred: string; gt: string; list: string; classes: string; cams?: boolean; out?: string; quiet?: boolean } & ScaleFlags) => {
      const numClasses = parseClasses(opts.classes);
      const result = await runEval(
        { predDir: opts.pred, gtDir: opts.gt, listFile: opts.list, numClasses, cams: opts.cams ?? false, out: opts.out },
        createReporter(opts.quiet ? 'silent' : 'bar'), scaleFrom(opts),
      );
      if (result.curve) {
        console.log('threshold sweep (t: mIoU %): ' + result.curve.map((p) => `${p.t.toFixed(2)}: ${(100 * p.miou).toFixed(1)}`).join(', '));
      }
      console.log(formatEvalTable(result));
      if (opts.out) console.log(`wrote ${opts.out}`);
    });
}
