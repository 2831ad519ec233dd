/**
 * Materialises a COCO split in the VOC layout (what `hfpl coco-masks` runs), so the rest of
 * the pipeline reads one layout: `<out>/JPEGImages/<id>.jpg` (copied or hard-linked),
 * `<out>/SegmentationClass/<id>.png` (palette PNG, METHOD 5 semantic mask),
 * `<out>/ImageSets/Segmentation/<split>.txt` and `<out>/labels.json` (COCO class names; labels =
 * classes present in the drawn mask, so a class whose pixels are all overwritten by later
 * annotations is absent). Every file is written to a temporary name and renamed; the list and
 * labels.json come last.
 */
import { copyFile, link, mkdir, rename, rm } from 'node:fs/promises';
import { existsSync, statSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import sharp from 'sharp';
import { HfplError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { type ProgressReporter, silentReporter } from '../util/progress.js';
import { type AreaAgreement, type CocoImage, cocoAreaChecks, cocoSemanticMask, readCocoInstances, summariseAreaChecks } from './coco.js';
import { readRgbImage } from './image-io.js';
import { writeLabelPng } from './label-png.js';
import { readLabelsFile, writeLabelsFile } from './labels-file.js';
import { type BadSampleHandler, BadInputError, guardSample } from './sample.js';
import { labelsFromMask } from './voc.js';

/** Options of `exportCocoSplit`. */
export interface CocoExportOptions {
  /** COCO root holding `annotations/instances_<split>.json` and `images/<split>/` or `<split>/`. */
  root: string;
  /** Split name, e.g. 'train2014' or 'val2017'. */
  split: string;
  /** Output folder (VOC layout); created when missing. */
  out: string;
  /** Hard-link images instead of copying them (falls back to a copy). Default false. */
  link?: boolean;
  /** Decode every image fully to detect corrupt or truncated files. Default true (else only the header is read). */
  verify?: boolean;
  /** When given, bad images/annotations are reported here and skipped; otherwise the first throws. */
  onBad?: BadSampleHandler;
  /** Progress over images. Default silent. */
  reporter?: ProgressReporter;
}

/** What `exportCocoSplit` wrote. */
export interface CocoExportResult {
  /** Ids written to the list, in the file's image order. */
  ids: string[];
  classNames: string[];
  /** Decoded pixel counts vs the `area` fields of the split's annotations. */
  areas: AreaAgreement;
}

/** The images folder of a COCO split: `<root>/images/<split>` or `<root>/<split>`. */
export function cocoImagesDir(root: string, split: string): string {
  const dirs = [join(root, 'images', split), join(root, split)];
  const dir = dirs.find((d) => existsSync(d) && statSync(d).isDirectory());
  if (!dir) throw new HfplError('E_IO', `${dirs[0]}: COCO images folder not found (nor ${dirs[1]})`);
  return dir;
}

async function imageSize(path: string, verify: boolean): Promise<{ width: number; height: number }> {
  if (verify) return readRgbImage(path);
  try {
    const m = await sharp(path).metadata();
    return { width: m.width ?? 0, height: m.height ?? 0 };
  } catch (e) {
    throw new BadInputError('E_IMAGE', path, `corrupt or unreadable image (${(e as Error).message.split('\n')[0]})`);
  }
}

async function placeFile(src: string, dest: string, hardLink: boolean): Promise<void> {
  const tmp = `${dest}.tmp-${process.pid}`;
  await rm(tmp, { force: true });
  try {
    if (hardLink) await link(src, tmp).catch(() => copyFile(src, tmp));
    else await copyFile(src, tmp);
    await rename(tmp, dest);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/**
 * Writes a COCO split as a VOC-layout dataset (see the file comment). Problems with one image
 * (no file, corrupt, size differing from the JSON, malformed annotation) throw a one-line
 * `HfplError`, or with `onBad` are reported and the image is left out.
 *
 * @example
 * const r = await exportCocoSplit({ root: 'data/coco', split: 'val2017', out: 'data/coco-voc' });
 * // r.ids.length === 5000; r.areas: { polygons, within2, median, ... }
 */
export async function exportCocoSplit(opts: CocoExportOptions): Promise<CocoExportResult> {
  const root = resolve(opts.root);
  const out = resolve(opts.out);
  const annFile = join(root, 'annotations', `instances_${opts.split}.json`);
  const inst = readCocoInstances(annFile);
  const imagesDir = cocoImagesDir(root, opts.split);
  const labelsPath = join(out, 'labels.json');
  const previous = existsSync(labelsPath) ? readLabelsFile(labelsPath) : undefined;
  if (previous && previous.classes.join('\n') !== inst.classNames.join('\n')) {
    throw new HfplError('E_DATA', `${labelsPath}: its classes differ from those of ${annFile}; choose another --out`);
  }
  await mkdir(join(out, 'JPEGImages'), { recursive: true });
  await mkdir(join(out, 'SegmentationClass'), { recursive: true });

  const reporter = opts.reporter ?? silentReporter;
  const ids: string[] = [];
  const labels: Record<string, number[]> = {};
  const goodAnnotations = new Set<number>();
  reporter.start(`coco-masks ${opts.split}`, inst.images.length, 'img');
  for (const [i, image] of inst.images.entries()) {
    const done = await guardSample(() => exportImage(image), opts.onBad);
    if (done) {
      ids.push(done.id);
      labels[done.id] = done.labels;
      for (const a of inst.annotationsOf.get(image.id) ?? []) goodAnnotations.add(a.id);
    }
    reporter.step({ done: i + 1, total: inst.images.length });
  }
  const listPath = join(out, 'ImageSets', 'Segmentation', `${opts.split}.txt`);
  await writeFileAtomic(listPath, ids.map((id) => id + '\n').join(''));
  await writeLabelsFile(labelsPath, { classes: inst.classNames, labels: { ...previous?.labels, ...labels } });
  const areas = summariseAreaChecks(cocoAreaChecks({ ...inst, annotations: inst.annotations.filter((a) => goodAnnotations.has(a.id)) }));
  reporter.end({ images: ids.length });
  return { ids, classNames: inst.classNames, areas };

  async function exportImage(image: CocoImage): Promise<{ id: string; labels: number[] }> {
    const ext = extname(image.fileName);
    const id = image.fileName.slice(0, image.fileName.length - ext.length).replace(/^.*\//, '');
    const src = join(imagesDir, image.fileName);
    if (!existsSync(src)) throw new BadInputError('E_DATA', annFile, `image ${image.id} (${image.fileName}) has no file ${src}`);
    const size = await imageSize(src, opts.verify ?? true);
    if (size.width !== image.width || size.height !== image.height) {
      throw new BadInputError('E_IMAGE', src, `image is ${size.width}x${size.height} but ${annFile} says ${image.width}x${image.height}`);
    }
    const mask = cocoSemanticMask(inst, image);
    const imageLabels = labelsFromMask(mask, { numClasses: inst.classNames.length, file: src });
    await placeFile(src, join(out, 'JPEGImages', id + ext.toLowerCase()), opts.link ?? false);
    await writeLabelPng(join(out, 'SegmentationClass', `${id}.png`), mask);
    return { id, labels: imageLabels };
  }
}
