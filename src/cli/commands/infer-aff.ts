/**
 * `hfpl infer-aff`: random-walk pseudo-labels from CAMs and a trained AffinityNet
 * (METHOD 3.5); see src/infer/infer-aff.ts.
 */
import type { Command } from 'commander';
import { HfplError } from '../../errors.js';
import { describeEngine, initEngine } from '../../engine/init.js';
import { join } from 'node:path';
import { readVocSplit } from '../../data/voc.js';
import { AFFINITY_DIAGNOSTICS_FILE, formatAffinityDiagnostics, runAffinityDiagnostics } from '../../infer/affinity-diagnostics.js';
import { runInferAff } from '../../infer/infer-aff.js';
import { createReporter } from '../../util/progress.js';
import { addScaleOptions, scaleFrom, type ScaleFlags } from './scale-flags.js';
import { numberFlag } from './train-cam.js';

interface InferAffFlags {
  run: string;
  data: string;
  split: string;
  cams: string;
  out: string;
  beta?: string;
  logSteps?: string;
  bgPower?: string;
  limit?: string;
  diagnose?: boolean;
  crf?: string;
  quiet?: boolean;
}

export function registerInferAff(program: Command): void {
  const cmd = program
    .command('infer-aff')
    .description('random-walk label maps from CAM files with a trained AffinityNet')
    .requiredOption('--run <dir>', 'run folder of hfpl train-aff (or its model.json)')
    .requiredOption('--data <dir>', 'VOC-layout dataset folder')
    .option('--split <name>', 'list under ImageSets/Segmentation', 'train')
    .requiredOption('--cams <dir>', 'CAM files folder (infer-cam output cams/)')
    .requiredOption('--out <dir>', 'output folder of <id>.png label maps')
    .option('--beta <b>', 'affinity exponent (default 8)')
    .option('--log-steps <n>', 'the walk takes 2^n steps (default 6)')
    .option('--bg-power <p>', 'background (1 - max CAM)^p (default 6)')
    .option('--limit <n>', 'only the first n images of the split')
    .option('--diagnose', 'also measure against the GT masks why the walk helps or not: <out>/diagnostics.json (AffinityNet affinity by pair kind, the walk on GT affinities)')
    .option('--crf <dir>', 'with --diagnose: the CRF folder (alpha1/, alpha24/) whose confident labels trained AffinityNet, for their coverage of GT objects')
    .option('--quiet', 'no progress bar');
  addScaleOptions(cmd).action(async (f: InferAffFlags & ScaleFlags) => {
      if (f.crf && !f.diagnose) throw new HfplError('E_CONFIG', '--crf goes with --diagnose');
      const walk = { beta: numberFlag('--beta', f.beta), logSteps: numberFlag('--log-steps', f.logSteps, true), bgPower: numberFlag('--bg-power', f.bgPower) };
      if (walk.beta !== undefined && walk.beta <= 0) throw new HfplError('E_CONFIG', `--beta: expected a number > 0, got '${f.beta}'`);
      const engine = await initEngine();
      const r = await runInferAff(
        { run: f.run, data: f.data, split: f.split, cams: f.cams, out: f.out, walk: Object.fromEntries(Object.entries(walk).filter(([, v]) => v !== undefined)), limit: numberFlag('--limit', f.limit, true) },
        createReporter(f.quiet ? 'silent' : 'bar'), scaleFrom(f),
      );
      console.log(`infer-aff (${describeEngine(engine)}): ${r.numImages} images (${r.inferred} inferred) in ${r.seconds.toFixed(1)} s; label maps in ${f.out}`);
      if (f.diagnose) {
        const out = join(f.out, AFFINITY_DIAGNOSTICS_FILE);
        const d = await runAffinityDiagnostics({
          run: f.run, data: f.data, split: f.split, cams: f.cams, crf: f.crf, numClasses: readVocSplit(f.data, f.split).classNames.length,
          walk: { beta: walk.beta, logSteps: walk.logSteps, bgPower: walk.bgPower }, limit: numberFlag('--limit', f.limit, true), out,
        }, createReporter(f.quiet ? 'silent' : 'bar'));
        console.log(`infer-aff diagnostics (${out}): ${formatAffinityDiagnostics(d)}`);
      }
    });
}
