/**
 * `hfpl report <run-dir>`: (re)writes `<run-dir>/report.html` from the files of a demo or
 * pipeline folder, finished or not (src/viz/report-html/).
 */
import type { Command } from 'commander';
import { HfplError } from '../../errors.js';
import { createReporter } from '../../util/progress.js';
import { writeReportHtml, type ReportHtmlResult } from '../../viz/report-html/write-report.js';
import { numberFlag } from './train-cam.js';

interface ReportFlags {
  evalImages?: string;
  trainImages?: string;
  maxSide?: string;
  quiet?: boolean;
}

/** "report.html (812 KB, 6 plots, 6 images)": how the closing lines name the page. */
export function describeReportHtml(r: ReportHtmlResult): string {
  return `${r.path} (${(r.bytes / 1024).toFixed(0)} KB, ${r.plots} plot${r.plots === 1 ? '' : 's'}, ${r.images} image${r.images === 1 ? '' : 's'})`;
}

export function registerReport(program: Command): void {
  program
    .command('report')
    .description('write report.html (plots, tables, image browser) from a demo or pipeline folder, finished or partial')
    .argument('<run-dir>', 'the --out folder of `hfpl demo` or `hfpl pipeline`')
    .option('--eval-images <n>', 'evaluation-split images in the browser (default 6)')
    .option('--train-images <n>', 'training images with stage pictures (default 3)')
    .option('--max-side <px>', 'longest side of the embedded pictures (default 192)')
    .option('--quiet', 'no progress bars')
    .action(async (dir: string, f: ReportFlags) => {
      const maxSide = numberFlag('--max-side', f.maxSide, true);
      if (maxSide !== undefined && maxSide < 16) throw new HfplError('E_CONFIG', `--max-side: expected an integer >= 16, got '${f.maxSide}'`);
      const r = await writeReportHtml(dir, {
        evalImages: numberFlag('--eval-images', f.evalImages, true), trainImages: numberFlag('--train-images', f.trainImages, true), maxSide,
        reporter: createReporter(f.quiet ? 'silent' : 'bar'),
      });
      console.log(`report: ${describeReportHtml(r)}`);
    });
}
