/**
 * `hfpl train-seg`: trains the DeepLab-style segmentation network on pseudo-label PNGs
 * (METHOD 3.6); the run folder is laid out as train-cam's.
 */
import type { Command } from 'commander';
import { defaultTrainingThreads, describeEngine, initEngine } from '../../engine/init.js';
import { resolveTrainSegConfig, runTrainSeg } from '../../train/train-seg.js';
import { createReporter } from '../../util/progress.js';
import { addLabelTrainFlags, labelTrainOverrides, type LabelTrainFlags } from './train-aff.js';

export function registerTrainSeg(program: Command): void {
  addLabelTrainFlags(program.command('train-seg').description('train the segmentation network (deeplabv1, ASPP or LargeFOV head) on pseudo-labels'))
    .requiredOption('--labels <dir>', 'folder of pseudo-label PNGs <id>.png (e.g. infer-aff output)')
    .option('--head <deeplabv1|aspp|largefov>', 'segmentation head (default deeplabv1, as the reference)')
    .action(async (f: LabelTrainFlags & { labels: string; head?: string }) => {
      const config = resolveTrainSegConfig({ preset: f.preset, file: f.config, overrides: { ...labelTrainOverrides(f), head: f.head } });
      const engine = await initEngine({ threads: defaultTrainingThreads() });
      console.log(`train-seg: backend ${describeEngine(engine)}; run ${f.out}`);
      const r = await runTrainSeg({ data: f.data, labels: f.labels, out: f.out, config, resume: f.resume, force: f.force, log: (l) => console.log(l) }, createReporter(f.quiet ? 'silent' : 'bar'));
      console.log(`train-seg: ${r.steps} steps in ${r.seconds.toFixed(1)} s, ${r.imagesPerSec.toFixed(1)} images/s, final loss ${r.finalLoss.toFixed(4)}; weights ${f.out}/model.json`);
    });
}
