/**
 * `hfpl pipeline`: every stage in order (train-cam, infer-cam, crf, train-aff, infer-aff,
 * train-seg, infer-seg), skipping completed ones; prints each stage's mIoU and contour F.
 */
import type { Command } from 'commander';
import { HfplError } from '../../errors.js';
import { describeEngine, initEngine } from '../../engine/init.js';
import { runPipeline } from '../../pipeline/run-pipeline.js';
import { createReporter } from '../../util/progress.js';
import { parseScales } from './infer-cam.js';
import { numberFlag } from './train-cam.js';
import { writeReportHtml } from '../../viz/report-html/write-report.js';
import { describeReportHtml } from './report.js';

interface PipelineFlags {
  data: string;
  out: string;
  baseline?: string;
  islWeight?: string;
  fslWeight?: string;
  backbone?: string;
  trainSplit?: string;
  evalSplit?: string;
  camRun?: string;
  seed?: string;
  camSteps?: string;
  affSteps?: string;
  segSteps?: string;
  batchSize?: string;
  crop?: string;
  camScales?: string;
  segScales?: string;
  segResizeLong?: string;
  segLr?: string;
  flip: boolean;
  segCrf: boolean;
  spatialScale?: string;
  crfIterations?: string;
  crfThresholds?: string;
  quiet?: boolean;
}

/** `--spatial-scale`: 'auto' or a positive number (undefined when not given). */
export function parseSpatialScale(v: string | undefined): number | 'auto' | undefined {
  if (v === undefined || v === 'auto') return v;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n <= 0) throw new HfplError('E_CONFIG', `--spatial-scale: expected 'auto' or a positive number, got '${v}'`);
  return n;
}

/** `--seg-resize-long lo,hi`: two integers 1 <= lo <= hi (undefined when not given). */
export function parseResizeLong(v: string | undefined): [number, number] | undefined {
  if (v === undefined) return undefined;
  const parts = v.split(',').map((x) => x.trim());
  const n = parts.map(Number);
  if (parts.length !== 2 || parts.some((x) => x === '') || n.some((x) => !Number.isInteger(x) || x < 1) || n[0] > n[1]) {
    throw new HfplError('E_CONFIG', `--seg-resize-long: expected two integers lo,hi with 1 <= lo <= hi, got '${v}'`);
  }
  return [n[0], n[1]];
}

/** Pipeline options from the flags (only those given). */
export function pipelineOptionsFromFlags(f: PipelineFlags): Record<string, unknown> {
  const o: Record<string, unknown> = {
    data: f.data, out: f.out, baseline: f.baseline, backbone: f.backbone, trainSplit: f.trainSplit, evalSplit: f.evalSplit, camRun: f.camRun,
    islWeight: numberFlag('--isl-weight', f.islWeight), fslWeight: numberFlag('--fsl-weight', f.fslWeight), seed: numberFlag('--seed', f.seed, true),
    camSteps: numberFlag('--cam-steps', f.camSteps, true), affSteps: numberFlag('--aff-steps', f.affSteps, true), segSteps: numberFlag('--seg-steps', f.segSteps, true),
    batchSize: numberFlag('--batch-size', f.batchSize, true), crop: numberFlag('--crop', f.crop, true), crfIterations: numberFlag('--crf-iterations', f.crfIterations, true),
    camScales: f.camScales ? parseScales(f.camScales) : undefined, segScales: f.segScales ? parseScales(f.segScales) : undefined,
    crfThresholds: f.crfThresholds ? parseScales(f.crfThresholds) : undefined,
    flip: f.flip, segCrf: f.segCrf, spatialScale: parseSpatialScale(f.spatialScale), segResizeLong: parseResizeLong(f.segResizeLong),
    segLr: numberFlag('--seg-lr', f.segLr),
  };
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

export function registerPipeline(program: Command): void {
  program
    .command('pipeline')
    .description('run every stage in order (CAM, CRF, AffinityNet random walk, segmentation), skipping completed ones')
    .requiredOption('--data <dir>', 'VOC-layout dataset folder')
    .requiredOption('--out <dir>', 'output folder, one sub-folder per stage')
    .option('--baseline <cam|seam>', 'CAM baseline (default cam)')
    .option('--isl-weight <w>', 'ISL weight, 0 = off (default 0.2)')
    .option('--fsl-weight <f>', 'FSL weight, 0 = off (default 1.0)')
    .option('--backbone <name>', 'tiny, small or resnet38 (default small)')
    .option('--train-split <name>', 'split trained on and pseudo-labelled (default train)')
    .option('--eval-split <name>', 'split the final segmentation is evaluated on (default val)')
    .option('--cam-run <dir>', 'use this finished train-cam run instead of training one')
    .option('--seed <n>', 'seed of all stages (default 0)')
    .option('--cam-steps <n>', 'CAM training steps (default 1000)')
    .option('--aff-steps <n>', 'AffinityNet training steps (default 300)')
    .option('--seg-steps <n>', 'segmentation training steps (default 600)')
    .option('--batch-size <n>', 'batch size of the three trainings (default 8)')
    .option('--crop <px>', 'training crop of the three trainings (default 128)')
    .option('--cam-scales <list>', 'CAM inference scales (default 0.5,1,1.5,2)')
    .option('--seg-scales <list>', 'segmentation test scales (default 0.5,...,1.75)')
    .option('--seg-resize-long <lo,hi>', 'long side range the segmentation network trains at (default the train-seg cpu preset\'s)')
    .option('--seg-lr <x>', 'base learning rate of the segmentation training (default the train-seg cpu preset\'s, 0.02)')
    .option('--no-flip', 'no flipped copies at test time')
    .option('--no-seg-crf', 'without the 1-iteration CRF after the segmentation network (on by default, as the reference)')
    .option('--spatial-scale <auto|s>', 'scale the CRF sxy and the pair / walk radius by s (image size / VOC size; auto = long side / 500; default 1 = the reference values)')
    .option('--crf-iterations <n>', 'mean-field iterations of the CRF stage (default 10)')
    .option('--crf-thresholds <list>', 'background thresholds tried for the +CRF row (default 0.1,0.2,0.3,0.4)')
    .option('--quiet', 'no progress bars')
    .action(async (f: PipelineFlags) => {
      const opts = pipelineOptionsFromFlags(f);
      const engine = await initEngine();
      console.log(`pipeline: backend ${describeEngine(engine)}; out ${f.out}`);
      const r = await runPipeline(opts as never, { reporter: createReporter(f.quiet ? 'silent' : 'bar'), log: (l) => console.log(l) });
      console.log('stage       split   mIoU    contour F');
      for (const s of r.stages) {
        if (!s.metrics) continue;
        console.log(`${s.stage.padEnd(11)} ${s.metrics.split.padEnd(7)} ${(100 * s.metrics.miou).toFixed(1).padStart(5)}%  ${(100 * s.metrics.contourF).toFixed(1).padStart(5)}%${s.skipped ? '  (done before)' : ''}`);
      }
      const html = await writeReportHtml(f.out, { reporter: createReporter(f.quiet ? 'silent' : 'bar') });
      console.log(`pipeline: ${r.seconds.toFixed(1)} s; outputs in ${f.out}; report ${describeReportHtml(html)}`);
    });
}
