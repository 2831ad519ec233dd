import { Command, Option } from 'commander';
import { buildVocLabels } from '../../data/voc-labels.js';
import { writeLabelsFile } from '../../data/labels-file.js';
import type { BadSample } from '../../data/sample.js';
import { createReporter, silentReporter } from '../../util/progress.js';
import { reportSkipped } from './skipped.js';

/** `hfpl labels`: image-level labels of a VOC split -> labels.json. */
export function registerLabels(program: Command): void {
  program
    .command('labels')
    .description('write the image-level labels of a VOC-layout split (labels.json)')
    .requiredOption('--voc <root>', 'VOC-layout dataset root (JPEGImages/, ImageSets/Segmentation/, ...)')
    .option('--split <name>', 'list name under ImageSets/Segmentation, or a list file', 'train')
    .addOption(new Option('--source <source>', 'labels from Annotations XML object names, from mask classes, or auto: per id the XML when present, else the mask').choices(['auto', 'xml', 'mask']).default('auto'))
    .option('--mask-dir <name>', 'mask folder under the root (default: SegmentationClassAug when present, else SegmentationClass)')
    .option('--no-verify', 'do not decode images and masks (only lists, XML and mask presence are checked)')
    .option('--skip-bad', 'skip bad samples and list them at the end instead of stopping at the first')
    .requiredOption('--out <file>', 'output labels file')
    .action(async (o: { voc: string; split: string; source: 'auto' | 'xml' | 'mask'; maskDir?: string; verify: boolean; skipBad?: boolean; out: string }) => {
      const skipped: BadSample[] = [];
      const file = await buildVocLabels(o.voc, {
        split: o.split,
        source: o.source,
        maskDir: o.maskDir,
        verify: o.verify,
        onBad: o.skipBad ? (b) => skipped.push(b) : undefined,
        reporter: process.stderr.isTTY ? createReporter('bar') : silentReporter,
      });
      await writeLabelsFile(o.out, file);
      console.log(`labels: wrote ${o.out} (${Object.keys(file.labels).length} images, ${file.classes.length - 1} classes)`);
      reportSkipped(skipped);
    });
}
