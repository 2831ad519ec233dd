/**
 * `hfpl infer-cam`: multi-scale CAMs and pseudo-labels of a split with a trained network
 * (METHOD 3.2-3.3); see src/infer/cam-run.ts for the output layout.
 */
import type { Command } from 'commander';
import { HfplError } from '../../errors.js';
import { describeEngine, initEngine } from '../../engine/init.js';
import { runInferCam } from '../../infer/cam-run.js';
import { runInferCamReference } from '../../infer/reference-cam-run.js';
import { parseReferenceArch } from '../../models/reference/architectures.js';
import type { BackgroundScore } from '../../infer/pseudo-labels.js';
import { createReporter } from '../../util/progress.js';
import { addScaleOptions, scaleFrom, type ScaleFlags } from './scale-flags.js';
import { numberFlag } from './train-cam.js';

/** Parses `--scales 0.5,1,1.5,2`. */
export function parseScales(value: string): number[] {
  const parts = value.split(',').map((s) => s.trim());
  const nums = parts.map(Number);
  if (parts.length === 0 || parts.some((p) => p === '') || nums.some((n) => !Number.isFinite(n) || n <= 0 || n > 8)) {
    throw new HfplError('E_CONFIG', `--scales: expected comma-separated numbers in (0, 8], got '${value}'`);
  }
  return nums;
}

interface InferCamFlags {
  run?: string;
  weights?: string;
  arch?: string;
  data: string;
  split: string;
  out: string;
  scales: string;
  scoreScale?: string;
  flip: boolean;
  threshold?: string;
  alpha?: string;
  limit?: string;
  quiet?: boolean;
  threads?: string;
}

export function registerInferCam(program: Command): void {
  const cmd = program
    .command('infer-cam')
    .description('multi-scale CAMs (.npy) and pseudo-label PNGs of a split with a trained CAM network')
    .option('--run <dir>', 'run folder of hfpl train-cam (or its model.json)')
    .option('--weights <file>', 'instead of --run: a reference checkpoint (.pth, .safetensors, convert-weights output), inferred as infer_cam_voc.py does')
    .option('--arch <name>', 'architecture of --weights (default seam-resnet38)')
    .requiredOption('--data <dir>', 'VOC-layout dataset folder')
    .option('--split <name>', 'list under ImageSets/Segmentation', 'val')
    .requiredOption('--out <dir>', 'output folder: cams/, pseudo/, scores.jsonl, summary.json')
    .option('--scales <list>', 'image scales', '0.5,1,1.5,2')
    .option('--score-scale <s>', 'the scale whose GAP gives the classification scores (default: the one nearest 1; use the training scale)')
    .option('--no-flip', 'without the flipped copies')
    .option('--threshold <t>', 'pseudo-labels: constant background score t (default 0.26)')
    .option('--alpha <a>', 'pseudo-labels: background score (1 - max CAM)^a instead of a threshold')
    .option('--limit <n>', 'only the first n images of the split')
    .option('--quiet', 'no progress bar')
    .option('--threads <n>', 'intra-op threads of the native (libtorch) kernels, when built (default 1)');
  addScaleOptions(cmd).action(async (f: InferCamFlags & ScaleFlags) => {
      if (f.threshold !== undefined && f.alpha !== undefined) throw new HfplError('E_CONFIG', '--threshold and --alpha exclude each other');
      const t = numberFlag('--threshold', f.threshold), a = numberFlag('--alpha', f.alpha);
      if (t !== undefined && (t < 0 || t > 1)) throw new HfplError('E_CONFIG', `--threshold: expected a number in [0, 1], got '${f.threshold}'`);
      if (a !== undefined && a <= 0) throw new HfplError('E_CONFIG', `--alpha: expected a number > 0, got '${f.alpha}'`);
      const background: BackgroundScore = a !== undefined ? { alpha: a } : { threshold: t ?? 0.26 };
      const limit = numberFlag('--limit', f.limit, true);
      const scoreScale = numberFlag('--score-scale', f.scoreScale);
      if (scoreScale !== undefined && !(scoreScale > 0)) throw new HfplError('E_CONFIG', `--score-scale: expected a number > 0, got '${f.scoreScale}'`);
      if ((f.run === undefined) === (f.weights === undefined)) throw new HfplError('E_CONFIG', 'infer-cam needs exactly one of --run <dir> and --weights <file>');
      if (f.arch !== undefined && f.weights === undefined) throw new HfplError('E_CONFIG', '--arch goes with --weights');
      const engine = await initEngine({ threads: numberFlag('--threads', f.threads, true) ?? 1 });
      if (f.weights !== undefined) {
        const arch = parseReferenceArch(f.arch ?? 'seam-resnet38');
        if (!f.flip) throw new HfplError('E_CONFIG', '--no-flip: the reference inference always adds the flipped copies');
        const r = await runInferCamReference(
          { weights: f.weights, arch, data: f.data, split: f.split, out: f.out, scales: parseScales(f.scales), background, limit },
          createReporter(f.quiet ? 'silent' : 'bar'),
        );
        console.log(`infer-cam (${describeEngine(engine)}, ${arch} from ${f.weights}): ${r.numImages} images (${r.inferred} inferred) in ${r.seconds.toFixed(1)} s; CAMs in ${f.out}/cams, pseudo-labels in ${f.out}/pseudo`);
        return;
      }
      const r = await runInferCam(
        { run: f.run as string, data: f.data, split: f.split, out: f.out, scales: parseScales(f.scales), flip: f.flip, scoreScale, background, limit },
        createReporter(f.quiet ? 'silent' : 'bar'), scaleFrom(f),
      );
      const c = r.classification;
      console.log(`infer-cam (${describeEngine(engine)}): ${r.numImages} images (${r.inferred} inferred) in ${r.seconds.toFixed(1)} s, ${r.imagesPerSec.toFixed(2)} images/s; ` +
        `classification mAP ${(100 * c.mAP).toFixed(1)}%, exact match ${(100 * c.exactMatch).toFixed(1)}%; CAMs in ${f.out}/cams, pseudo-labels in ${f.out}/pseudo`);
    });
}
