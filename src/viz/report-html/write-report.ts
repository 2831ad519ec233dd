/**
 * `report.html` of a run folder: gathers what the run left on disk and writes the page
 * atomically beside `report.md`.
 */
import { join } from 'node:path';
import { writeFileAtomic } from '../../util/atomic-write.js';
import { gatherReport, type GatherOptions } from './gather.js';
import { renderReportPage } from './page.js';

/** What `writeReportHtml` wrote. */
export interface ReportHtmlResult {
  path: string;
  bytes: number;
  plots: number;
  images: number;
}

/**
 * Writes `<dir>/report.html` for a demo or pipeline folder (finished or partial); see
 * `gatherReport` for the options.
 *
 * @example
 * const r = await writeReportHtml('runs/demo'); // { path: 'runs/demo/report.html', bytes: 812345, plots: 6, images: 6 }
 */
export async function writeReportHtml(dir: string, opts: GatherOptions = {}): Promise<ReportHtmlResult> {
  const data = await gatherReport(dir, opts);
  const html = renderReportPage(data);
  const path = join(dir, 'report.html');
  const bytes = Buffer.byteLength(html);
  await writeFileAtomic(path, html);
  const plots = data.training.length + data.sweeps.length + 2 * data.perClass.length + (data.paired ? 1 : 0);
  return { path, bytes, plots, images: data.images.length };
}
