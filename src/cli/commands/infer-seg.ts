/**
 * `hfpl infer-seg`: multi-scale + flip segmentation of a split with a trained network,
 * refined by a 1-iteration dense CRF unless --no-crf (METHOD 3.6; on by default as the
 * reference's TEST_CRF, voc12/config_voc2012.py:45).
 */
import type { Command } from 'commander';
import { describeEngine, initEngine } from '../../engine/init.js';
import { runInferSeg } from '../../infer/infer-seg.js';
import { createReporter } from '../../util/progress.js';
import { addScaleOptions, scaleFrom, type ScaleFlags } from './scale-flags.js';
import { parseScales } from './infer-cam.js';
import { numberFlag } from './train-cam.js';

interface InferSegFlags {
  run: string;
  data: string;
  split: string;
  out: string;
  scales: string;
  flip: boolean;
  crf: boolean;
  limit?: string;
  quiet?: boolean;
}

export function registerInferSeg(program: Command): void {
  const cmd = program
    .command('infer-seg')
    .description('segment a split with a trained segmentation network (multi-scale, flip, dense CRF)')
    .requiredOption('--run <dir>', 'run folder of hfpl train-seg (or its model.json)')
    .requiredOption('--data <dir>', 'VOC-layout dataset folder')
    .option('--split <name>', 'list under ImageSets/Segmentation', 'val')
    .requiredOption('--out <dir>', 'output folder of <id>.png label maps')
    .option('--scales <list>', 'image scales', '0.5,0.75,1,1.25,1.5,1.75')
    .option('--no-flip', 'without the flipped copies')
    .option('--no-crf', 'without the 1-iteration dense CRF (bilateral sxy 32) that refines the average by default')
    .option('--limit <n>', 'only the first n images of the split')
    .option('--quiet', 'no progress bar');
  addScaleOptions(cmd).action(async (f: InferSegFlags & ScaleFlags) => {
      const scales = parseScales(f.scales);
      const engine = await initEngine();
      const r = await runInferSeg({ run: f.run, data: f.data, split: f.split, out: f.out, scales, flip: f.flip, crf: f.crf, limit: numberFlag('--limit', f.limit, true) }, createReporter(f.quiet ? 'silent' : 'bar'), scaleFrom(f));
      console.log(`infer-seg (${describeEngine(engine)}): ${r.numImages} images (${r.inferred} inferred) in ${r.seconds.toFixed(1)} s; label maps in ${f.out}`);
    });
}
