/**
 * Pictures of the refinement stages (`hfpl demo --full`): for training images, one row per
 * variant of image | GT | CAM pseudo-label | +CRF | random walk, each the label set its table
 * row scores (CAM and +CRF at their best background threshold); and the final segmentation of
 * validation images as an extra column of the demo's val panels.
 */
import { join } from 'node:path';
import { HfplError } from '../errors.js';
import { readRgbImage } from '../data/image-io.js';
import { readLabelPng } from '../data/label-png.js';
import type { RgbImage } from '../data/types.js';
import { readCamFile } from '../eval/cam-files.js';
import { pseudoLabelFromCams } from '../infer/pseudo-labels.js';
import { readStageMetrics } from '../pipeline/stage-io.js';
import { colorizeLabels } from './colormap.js';
import { composeGrid, writeRgbPng } from './panels.js';

/** One variant's pipeline folder (`<full>/<name>`, as `runFullStages` lays it out). */
export interface StagePanelVariant {
  name: string;
  dir: string;
}

/** The background threshold a stage's row reports (its eval.json), or an error naming the file. */
function bestThreshold(stageDir: string): number {
  const t = readStageMetrics(stageDir, 'train')?.bestThreshold;
  if (t === undefined) throw new HfplError('E_IO', `${join(stageDir, 'eval.json')}: no evaluation with a best threshold (the stage has not finished)`);
  return t;
}

/** The tiles of one variant for a training image: CAM, +CRF and random-walk label maps. */
export async function stageTiles(v: StagePanelVariant, id: string): Promise<RgbImage[]> {
  const camT = bestThreshold(join(v.dir, 'infer-cam'));
  const crfT = bestThreshold(join(v.dir, 'crf'));
  const cam = await readCamFile(join(v.dir, 'infer-cam', 'cams'), id);
  return [
    colorizeLabels(pseudoLabelFromCams(cam.cams, cam.labels, cam.height, cam.width, { threshold: camT })),
    colorizeLabels(readLabelPng(join(v.dir, 'crf', `threshold${crfT}`, `${id}.png`))),
    colorizeLabels(readLabelPng(join(v.dir, 'infer-aff', `${id}.png`))),
  ];
}

/**
 * Writes `<out>/panels/stages-<id>.png` for each training id: a row per variant of
 * image | GT | CAM | +CRF | random walk. Returns the paths relative to `out`.
 */
export async function writeStagePanels(out: string, data: string, variants: StagePanelVariant[], ids: string[]): Promise<string[]> {
  const paths: string[] = [];
  for (const id of ids) {
    const image = await readRgbImage(join(data, 'JPEGImages', `${id}.jpg`));
    const gt = colorizeLabels(readLabelPng(join(data, 'SegmentationClass', `${id}.png`)));
    const grid: RgbImage[][] = [];
    for (const v of variants) grid.push([image, gt, ...(await stageTiles(v, id))]);
    const rel = join('panels', `stages-${id}.png`);
    await writeRgbPng(join(out, rel), composeGrid(grid));
    paths.push(rel);
  }
  return paths;
}

/** The final segmentation of a validation image by one variant (`<dir>/infer-seg/<id>.png`), for the val panels. */
export function finalSegTile(v: StagePanelVariant, id: string): RgbImage {
  return colorizeLabels(readLabelPng(join(v.dir, 'infer-seg', `${id}.png`)));
}
