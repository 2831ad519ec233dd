import type { Command } from 'commander';
import { exportCocoSplit } from '../../data/coco-export.js';
import type { BadSample } from '../../data/sample.js';
import { createReporter, silentReporter } from '../../util/progress.js';
import { reportSkipped } from './skipped.js';

const pct = (n: number, d: number) => (d === 0 ? '-' : `${((100 * n) / d).toFixed(1)}%`);

/** `hfpl coco-masks`: a COCO split as a VOC-layout dataset with semantic masks. */
export function registerCocoMasks(program: Command): void {
  program
    .command('coco-masks')
    .description('materialise a COCO split as VOC-layout semantic masks (palette PNGs), image list and labels.json')
    .requiredOption('--coco <root>', 'COCO root with annotations/instances_<split>.json and images/<split>/ (or <split>/)')
    .requiredOption('--split <name>', 'split name, e.g. train2014, val2017')
    .requiredOption('--out <dir>', 'output folder (VOC layout)')
    .option('--link', 'hard-link images instead of copying them')
    .option('--no-verify', 'read only image headers instead of decoding every image')
    .option('--skip-bad', 'skip bad images/annotations and list them at the end instead of stopping at the first')
    .action(async (o: { coco: string; split: string; out: string; link?: boolean; verify: boolean; skipBad?: boolean }) => {
      const skipped: BadSample[] = [];
      const r = await exportCocoSplit({
        root: o.coco,
        split: o.split,
        out: o.out,
        link: o.link,
        verify: o.verify,
        onBad: o.skipBad ? (b) => skipped.push(b) : undefined,
        reporter: process.stderr.isTTY ? createReporter('bar') : silentReporter,
      });
      const a = r.areas;
      console.log(`coco-masks: wrote ${r.ids.length} images of ${o.split} to ${o.out} (${r.classNames.length - 1} classes)`);
      console.log(
        `coco-masks: polygon pixels vs area: ${pct(a.within1, a.polygons)} within 1%, ${pct(a.within2, a.polygons)} within 2%, ` +
          `${pct(a.within5, a.polygons)} within 5% of ${a.polygons}; median ${(100 * a.median).toFixed(2)}%, max ${(100 * a.max).toFixed(1)}%; ` +
          `RLE pixels == area: ${a.rleExact}/${a.rles}`,
      );
      reportSkipped(skipped);
    });
}
