/**
 * The image browser's pictures: the image, the GT and, per (variant, stage), a CAM heat map or
 * a label map, each downscaled to at most `maxSide` pixels and embedded as a data: URI (JPEG
 * for the image and heat maps, PNG with a transparent background for label maps, so the
 * page's opacity control lays them over the image), with the image's own mIoU.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { readRgbImage } from '../../data/image-io.js';
import { readLabelPng, type LabelMap } from '../../data/label-png.js';
import type { RgbImage } from '../../data/types.js';
import { readCamFile } from '../../eval/cam-files.js';
import { pseudoLabelFromCams } from '../../infer/pseudo-labels.js';
import { gtDir } from '../../pipeline/stage-io.js';
import { colorizeLabelsRgba as labelRgba, jetRgb as heatRgb, maxOverMaps, vocColors } from '../colormap.js';
import { imageMiou } from './stats.js';
import type { BrowserCell, BrowserImage } from './types.js';

/** Where one browser cell comes from. */
export type CellSource =
  | { variant: string; stage: string; kind: 'heat'; camDir: string }
  | { variant: string; stage: string; kind: 'cam-label'; camDir: string; threshold: number }
  | { variant: string; stage: string; kind: 'label'; png: string };

async function encode(data: Uint8Array, width: number, height: number, channels: 3 | 4, maxSide: number, format: 'jpeg' | 'png'): Promise<string> {
  let s = sharp(data, { raw: { width, height, channels } });
  if (Math.max(width, height) > maxSide) s = s.resize({ width: maxSide, height: maxSide, fit: 'inside', kernel: format === 'png' ? 'nearest' : 'lanczos3' });
  const buf = format === 'png' ? await s.png({ compressionLevel: 9, palette: true, colours: 32, dither: 0 }).toBuffer() : await s.jpeg({ quality: 82 }).toBuffer();
  return `data:image/${format};base64,${buf.toString('base64')}`;
}

const labelUri = (m: LabelMap, maxSide: number) => encode(labelRgba(m), m.width, m.height, 4, maxSide, 'png');
const sameSize = (a: LabelMap, b: LabelMap) => a.width === b.width && a.height === b.height;

/**
 * The browser entry of one image of `data` (VOC layout): image, GT and every source whose
 * files exist (missing ones, e.g. of an unfinished stage, are left out).
 */
export async function buildBrowserImage(data: string, id: string, split: string, sources: CellSource[], maxSide = 192): Promise<BrowserImage> {
  const palette = vocColors();
  const img: RgbImage = await readRgbImage(join(data, 'JPEGImages', `${id}.jpg`));
  const gt = readLabelPng(join(gtDir(data), `${id}.png`));
  const cells: BrowserCell[] = [];
  const present = new Set<number>();
  const note = (m: LabelMap) => { for (const v of m.data) present.add(v); };
  note(gt);
  for (const s of sources) {
    if (s.kind === 'label') {
      if (!existsSync(s.png)) continue;
      const m = readLabelPng(s.png);
      note(m);
      cells.push({ variant: s.variant, stage: s.stage, kind: 'label', overlay: await labelUri(m, maxSide), iou: sameSize(m, gt) ? imageMiou(m, gt) : null });
      continue;
    }
    if (!existsSync(join(s.camDir, `${id}.json`))) continue;
    const cam = await readCamFile(s.camDir, id);
    if (s.kind === 'heat') {
      const heat = maxOverMaps(cam.cams, cam.labels.length, cam.height * cam.width);
      cells.push({ variant: s.variant, stage: s.stage, kind: 'heat', overlay: await encode(heatRgb(heat), cam.width, cam.height, 3, maxSide, 'jpeg'), iou: null });
    } else {
      const m = pseudoLabelFromCams(cam.cams, cam.labels, cam.height, cam.width, { threshold: s.threshold });
      note(m);
      cells.push({ variant: s.variant, stage: s.stage, kind: 'label', overlay: await labelUri(m, maxSide), iou: sameSize(m, gt) ? imageMiou(m, gt) : null });
    }
  }
  const scale = Math.min(1, maxSide / Math.max(img.width, img.height));
  return {
    id, split, width: Math.round(img.width * scale), height: Math.round(img.height * scale),
    image: await encode(img.data, img.width, img.height, 3, maxSide, 'jpeg'), gt: await labelUri(gt, maxSide),
    stages: [...new Set(cells.map((c) => c.stage))], variants: [...new Set(cells.map((c) => c.variant))], cells,
    classes: [...present].filter((c) => c !== 255).sort((a, b) => a - b).map((index) => ({ index, color: `rgb(${palette[3 * index]},${palette[3 * index + 1]},${palette[3 * index + 2]})` })),
  };
}
