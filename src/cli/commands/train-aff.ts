/**
 * `hfpl train-aff`: trains AffinityNet on the confident pairs of two CRF maps (METHOD 3.5);
 * the run folder is laid out as train-cam's.
 */
import type { Command } from 'commander';
import { defaultTrainingThreads, describeEngine, initEngine } from '../../engine/init.js';
import { resolveTrainAffConfig } from '../../train/train-aff.js';
import { runTrainAff } from '../../train/train-aff.js';
import { createReporter } from '../../util/progress.js';
import { numberFlag } from './train-cam.js';

/** Flags shared by train-aff and train-seg. */
export interface LabelTrainFlags {
  data: string;
  out: string;
  config?: string;
  preset: string;
  seed?: string;
  steps?: string;
  batchSize?: string;
  lr?: string;
  backbone?: string;
  pretrained?: string;
  split?: string;
  crop?: string;
  checkpointEvery?: string;
  resume?: boolean;
  force?: boolean;
  quiet?: boolean;
}

/** Config overrides from the shared flags (only the flags given). */
export function labelTrainOverrides(f: LabelTrainFlags): Record<string, unknown> {
  const o: Record<string, unknown> = {
    seed: numberFlag('--seed', f.seed, true),
    steps: numberFlag('--steps', f.steps, true),
    batchSize: numberFlag('--batch-size', f.batchSize, true),
    checkpointEvery: numberFlag('--checkpoint-every', f.checkpointEvery, true),
    split: f.split,
  };
  const model = { backbone: f.backbone, pretrained: f.pretrained };
  const data = { crop: numberFlag('--crop', f.crop, true) };
  const optim = { lr: numberFlag('--lr', f.lr) };
  for (const [k, v] of [['model', model], ['data', data], ['optim', optim]] as const) {
    if (Object.values(v).some((x) => x !== undefined)) o[k] = v;
  }
  return o;
}

/** Adds the shared training flags to a command. */
export function addLabelTrainFlags(cmd: Command): Command {
  return cmd
    .requiredOption('--data <dir>', 'VOC-layout dataset folder')
    .requiredOption('--out <dir>', 'run folder: config.json, metrics.jsonl, checkpoints/, model.json, DONE')
    .option('--config <file>', 'JSON config (any subset of the options; unknown keys are errors)')
    .option('--preset <name>', 'defaults: cpu (small backbone, crop 128; 300 steps train-aff, 600 train-seg) or reference', 'cpu')
    .option('--seed <n>', 'seed of weights, data order and augmentation (default 0)')
    .option('--steps <n>', 'optimisation steps')
    .option('--batch-size <n>', 'images per batch (default 8)')
    .option('--lr <x>', 'base learning rate of the poly schedule')
    .option('--backbone <name>', 'tiny, small or resnet38 (must match --pretrained)')
    .option('--pretrained <file>', 'weights whose backbone initialises the backbone (e.g. the CAM run), or a reference ResNet-38 .pth / .safetensors / .params')
    .option('--split <name>', 'training list under ImageSets/Segmentation (default train)')
    .option('--crop <px>', 'square training crop, a multiple of 8')
    .option('--checkpoint-every <n>', 'checkpoint every n steps (0 = never)')
    .option('--resume', 'continue from the newest checkpoint in --out')
    .option('--force', 'overwrite a finished or unfinished run in --out')
    .option('--quiet', 'no progress bar');
}

export function registerTrainAff(program: Command): void {
  addLabelTrainFlags(program.command('train-aff').description('train AffinityNet on confident pairs of the CRF maps at alpha 1 and 24'))
    .requiredOption('--crf <dir>', 'CRF folder holding alpha1/ and alpha24/ (<id>.npy scores; <id>.png with --targets nearest)')
    .option('--radius <r>', 'pair radius on the stride-8 grid (default 5)')
    .option('--targets <pooled|nearest>', 'grid targets: CRF scores pooled 8 x 8 (default, the reference) or the label PNGs sampled nearest')
    .action(async (f: LabelTrainFlags & { crf: string; radius?: string; targets?: string }) => {
      const overrides = { ...labelTrainOverrides(f), radius: numberFlag('--radius', f.radius, true), targets: f.targets };
      const config = resolveTrainAffConfig({ preset: f.preset, file: f.config, overrides });
      const engine = await initEngine({ threads: defaultTrainingThreads() });
      console.log(`train-aff: backend ${describeEngine(engine)}; run ${f.out}`);
      const r = await runTrainAff({ data: f.data, crf: f.crf, out: f.out, config, resume: f.resume, force: f.force, log: (l) => console.log(l) }, createReporter(f.quiet ? 'silent' : 'bar'));
      console.log(`train-aff: ${r.steps} steps in ${r.seconds.toFixed(1)} s, ${r.imagesPerSec.toFixed(1)} images/s, final loss ${r.finalLoss.toFixed(4)}; weights ${f.out}/model.json`);
    });
}
