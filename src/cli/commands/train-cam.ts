/**
 * `hfpl train-cam`: trains a CAM network (CAM or SEAM baseline) with or without the HFPL
 * add-on (METHOD 3.1); see src/train/train-cam.ts for the run-folder layout.
 */
import type { Command } from 'commander';
import { HfplError } from '../../errors.js';
import { defaultTrainingThreads, describeEngine, initEngine } from '../../engine/init.js';
import { resolveTrainCamConfig } from '../../train/config.js';
import { runTrainCam } from '../../train/train-cam.js';
import { createReporter } from '../../util/progress.js';

/** Parses a numeric flag; E_CONFIG naming the flag otherwise. */
export function numberFlag(flag: string, value: string | undefined, integer = false): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || (integer && !Number.isInteger(n))) {
    throw new HfplError('E_CONFIG', `${flag}: expected ${integer ? 'an integer' : 'a number'}, got '${value}'`);
  }
  return n;
}

interface TrainCamFlags {
  data: string;
  out: string;
  baseline?: string;
  islWeight?: string;
  fslWeight?: string;
  config?: string;
  preset: string;
  seed?: string;
  steps?: string;
  epochs?: string;
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
  threads?: string;
  replicas?: string;
}

/** Config overrides from the flags (only the flags given). */
export function trainCamOverrides(f: TrainCamFlags): Record<string, unknown> {
  const o: Record<string, unknown> = {
    baseline: f.baseline,
    islWeight: numberFlag('--isl-weight', f.islWeight),
    fslWeight: numberFlag('--fsl-weight', f.fslWeight),
    seed: numberFlag('--seed', f.seed, true),
    steps: numberFlag('--steps', f.steps, true),
    epochs: numberFlag('--epochs', f.epochs, true),
    batchSize: numberFlag('--batch-size', f.batchSize, true),
    checkpointEvery: numberFlag('--checkpoint-every', f.checkpointEvery, true),
  };
  if (f.epochs !== undefined && f.steps === undefined) o.steps = null;
  const model: Record<string, unknown> = { backbone: f.backbone, pretrained: f.pretrained };
  const data: Record<string, unknown> = { split: f.split, crop: numberFlag('--crop', f.crop, true) };
  const optim: Record<string, unknown> = { lr: numberFlag('--lr', f.lr) };
  for (const [k, v] of [['model', model], ['data', data], ['optim', optim]] as const) {
    if (Object.values(v).some((x) => x !== undefined)) o[k] = v;
  }
  return o;
}

export function registerTrainCam(program: Command): void {
  program
    .command('train-cam')
    .description('train a CAM network (baseline cam or seam) with the ISL/FSL add-on; checkpoints and resumes')
    .requiredOption('--data <dir>', 'VOC-layout dataset folder (JPEGImages, ImageSets/Segmentation, labels)')
    .requiredOption('--out <dir>', 'run folder: config.json, metrics.jsonl, checkpoints/, model.json, DONE')
    .option('--baseline <cam|seam>', 'baseline network and losses (default cam)')
    .option('--isl-weight <w>', 'ISL weight w: (1 - w) L_GAP + w L_ISL, 0 = off (default 0.2)')
    .option('--fsl-weight <f>', 'FSL weight, 0 = off (default 1.0)')
    .option('--config <file>', 'JSON config (any subset of the options; unknown keys are errors)')
    .option('--preset <name>', 'defaults: cpu (small backbone, crop 128, 1000 steps) or reference (METHOD 3.1)', 'cpu')
    .option('--seed <n>', 'seed of weights, data order, augmentation, sampling (default 0)')
    .option('--steps <n>', 'optimisation steps (default: preset)')
    .option('--epochs <n>', 'epochs, used instead of steps')
    .option('--batch-size <n>', 'images per batch (default 8)')
    .option('--lr <x>', 'base learning rate of the poly schedule')
    .option('--backbone <name>', 'tiny, small or resnet38')
    .option('--pretrained <file>', 'weights whose backbone initialises the model: TF.js model.json, or a reference ResNet-38 .pth / .safetensors / MXNet .params (--backbone resnet38)')
    .option('--split <name>', 'training list under ImageSets/Segmentation (default train)')
    .option('--crop <px>', 'square training crop')
    .option('--checkpoint-every <n>', 'checkpoint every n steps as well as at epoch ends (0 = epochs only)')
    .option('--resume', 'continue from the newest checkpoint in --out')
    .option('--force', 'overwrite a finished or unfinished run in --out')
    .option('--quiet', 'no progress bar')
    .option('--threads <n>', 'intra-op threads of the native (libtorch) kernels, when built (default $HFPL_THREADS, else every core)')
    .option('--replicas <n>', 'data-parallel replicas, one thread each, on the wasm or cpu backend (the GAP loss without dropout, e.g. a pre-training; default 1)')
    .action(async (f: TrainCamFlags) => {
      const config = resolveTrainCamConfig({ preset: f.preset, file: f.config, overrides: trainCamOverrides(f) });
      const engine = await initEngine({ threads: numberFlag('--threads', f.threads, true) ?? defaultTrainingThreads() });
      console.log(`train-cam: backend ${describeEngine(engine)}; run ${f.out}`);
      const r = await runTrainCam(
        { data: f.data, out: f.out, config, resume: f.resume, force: f.force, log: (l) => console.log(l), replicas: numberFlag('--replicas', f.replicas, true) ?? 1 },
        createReporter(f.quiet ? 'silent' : 'bar'),
      );
      console.log(`train-cam: ${r.steps} steps (${r.steps - r.startStep} in this process) in ${r.seconds.toFixed(1)} s, ${r.imagesPerSec.toFixed(1)} images/s, final loss ${r.finalLoss.toFixed(4)}; weights ${f.out}/model.json`);
    });
}
