import type { Command } from 'commander';
import { registerDemo } from './demo.js';
import { registerEval } from './eval.js';
import { registerLabels } from './labels.js';
import { registerCocoMasks } from './coco-masks.js';
import { registerTrainCam } from './train-cam.js';
import { registerInferCam } from './infer-cam.js';
import { registerSynth } from './synth.js';
import { registerCrf } from './crf.js';
import { registerTrainAff } from './train-aff.js';
import { registerInferAff } from './infer-aff.js';
import { registerTrainSeg } from './train-seg.js';
import { registerInferSeg } from './infer-seg.js';
import { registerPipeline } from './pipeline.js';
import { registerConvertWeights } from './convert-weights.js';
import { registerReport } from './report.js';
import { registerWorker } from './worker.js';

/** Every subcommand, in the order `hfpl --help` lists them. */
export const commandModules: ReadonlyArray<(program: Command) => void> = [
  registerDemo,
  registerSynth,
  registerLabels,
  registerCocoMasks,
  registerEval,
  registerTrainCam,
  registerInferCam,
  registerCrf,
  registerTrainAff,
  registerInferAff,
  registerTrainSeg,
  registerInferSeg,
  registerPipeline,
  registerConvertWeights,
  registerReport,
  registerWorker,
];
