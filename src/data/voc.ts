/**
 * PASCAL VOC 2012 layout reader (METHOD section 5): an image list under
 * `ImageSets/Segmentation/`, images in `JPEGImages/`, class-index palette masks in
 * `SegmentationClassAug/` (when present) or `SegmentationClass/`, image-level labels from
 * `labels.json`, `Annotations/*.xml` or the masks.
 *
 * Label sources differ slightly: XML labels list every annotated object (difficult and
 * truncated ones included); mask labels are the classes with at least one pixel in the mask
 * (what the cls_labels.npy of SEAM/IRN holds, computed from SegmentationClassAug). Both are
 * available (`labelsFromXml`, `labelsFromMask`); `hfpl labels --source` chooses.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, extname, isAbsolute, join, resolve } from 'node:path';
import { HfplError } from '../errors.js';
import type { LabelMap } from './label-png.js';
import { readLabelsFile } from './labels-file.js';
import { type BadSampleHandler, BadInputError, checkMaskValues, readMask, toBadSample } from './sample.js';
import type { DatasetSplit, LabelsFile, SampleRecord } from './types.js';
import { VOC_CLASSES, VOID_LABEL } from './voc-classes.js';
import { labelsFromXml } from './voc-xml.js';

/** Where image labels come from. */
export type VocLabelSource = 'auto' | 'file' | 'xml' | 'mask';

/** Options of `readVocSplit`. */
export interface VocReadOptions {
  /** Mask folder under the root. Default `SegmentationClassAug` when it exists, else `SegmentationClass`. */
  maskDir?: string;
  /**
   * 'required': every id must have a mask (missing -> `E_MASK`); 'optional': masks where
   * present; 'none': no masks. Default 'required' when the mask folder exists, else 'none'.
   */
  masks?: 'required' | 'optional' | 'none';
  /**
   * Label source. Default 'auto': `labels.json` at the root when present, else per id
   * `Annotations/<id>.xml` when that file exists, else the mask.
   */
  labels?: VocLabelSource;
  /** The labels file for 'file' (and 'auto'); false: 'auto' ignores any labels file. Default `<root>/labels.json`. */
  labelsFile?: string | false;
  /** Class names (index 0 background). Default: those of the labels file when used, else the 21 VOC classes. */
  classNames?: readonly string[];
  /** When given, bad samples are reported here and skipped; otherwise the first one throws. */
  onBad?: BadSampleHandler;
}

const IMAGE_EXTS = ['.jpg', '.jpeg', '.png'];

/**
 * The labels of a mask: the classes 1..numClasses-1 with at least one pixel (0 and 255
 * excluded), sorted. Throws `E_MASK` naming `file` for a value that is no class.
 * Options: `numClasses` (default 21), `file` (name for errors, default 'mask').
 */
export function labelsFromMask(mask: LabelMap, opts: { numClasses?: number; file?: string } = {}): number[] {
  const numClasses = opts.numClasses ?? VOC_CLASSES.length;
  const hist = checkMaskValues(mask, numClasses, opts.file ?? 'mask');
  const out: number[] = [];
  for (let c = 1; c < numClasses; c++) if (c !== VOID_LABEL && hist[c] > 0) out.push(c);
  return out;
}

/** Resolves a split name (a list under ImageSets/Segmentation) or a list file path (one holding '/' or ending in .txt). */
export function vocListPath(root: string, split: string): string {
  if (split.includes('/') || split.endsWith('.txt')) return isAbsolute(split) ? split : resolve(split);
  return join(root, 'ImageSets', 'Segmentation', `${split}.txt`);
}

/** Reads the ids of a list file: one per line, first token; path-like tokens give their base name. */
export function readIdList(listPath: string): { id: string; line: number }[] {
  let text: string;
  try {
    text = readFileSync(listPath, 'utf8');
  } catch {
    throw new HfplError('E_IO', `${listPath}: image list not found or unreadable`);
  }
  const out: { id: string; line: number }[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const tok = raw.trim().split(/\s+/)[0];
    if (!tok) return;
    out.push({ id: tok.includes('/') ? basename(tok, extname(tok)) : tok, line: i + 1 });
  });
  return out;
}

function isDir(p: string): boolean {
  return existsSync(p) && statSync(p).isDirectory();
}

/**
 * Reads a split of a VOC-layout dataset into records (paths + labels; no pixels are decoded
 * except masks when labels come from them). `split` is a list name under
 * `ImageSets/Segmentation` (e.g. 'train') or a path to a list file. Problems with one id (no
 * image, no mask, unreadable XML, unknown class) are `E_DATA`/`E_MASK`/`E_IO` errors naming
 * the file, or go to `opts.onBad` and the id is skipped. Call `loadSample` to decode and check
 * pixels.
 *
 * @example
 * readVocSplit('data/VOC2012', 'train').samples[0]
 * // { id: '2007_000032', imagePath: '/abs/data/VOC2012/JPEGImages/2007_000032.jpg',
 * //   maskPath: '/abs/data/VOC2012/SegmentationClassAug/2007_000032.png', labels: [1, 15] }
 */
export function readVocSplit(root: string, split: string, opts: VocReadOptions = {}): DatasetSplit {
  root = resolve(root);
  if (!isDir(root)) throw new HfplError('E_IO', `${root}: dataset folder not found`);
  const listPath = vocListPath(root, split);
  const ids = readIdList(listPath);

  const maskDir = resolve(root, opts.maskDir ?? (isDir(join(root, 'SegmentationClassAug')) ? 'SegmentationClassAug' : 'SegmentationClass'));
  if (opts.maskDir && opts.masks !== 'none' && !isDir(maskDir)) throw new HfplError('E_IO', `${maskDir}: mask folder not found`);
  const masks = opts.masks ?? (isDir(maskDir) ? 'required' : 'none');

  const labelsPath = opts.labelsFile || join(root, 'labels.json');
  let source = opts.labels ?? 'auto';
  if (source === 'auto' && opts.labelsFile !== false && existsSync(labelsPath)) source = 'file';
  let labelsFile: LabelsFile | undefined;
  let classNames = opts.classNames ?? VOC_CLASSES;
  if (source === 'file') {
    labelsFile = readLabelsFile(labelsPath);
    if (opts.classNames && labelsFile.classes.join() !== opts.classNames.join()) {
      throw new HfplError('E_DATA', `${labelsPath}: its classes differ from the requested class names`);
    }
    classNames = labelsFile.classes;
  }
  if (source === 'mask' && masks === 'none') {
    throw new HfplError('E_CONFIG', `labels from masks need a mask folder, but ${maskDir} is not used or missing`);
  }

  const samples: SampleRecord[] = [];
  for (const { id, line } of ids) {
    try {
      samples.push(readRecord(id, line));
    } catch (e) {
      if (!opts.onBad) throw e;
      opts.onBad(toBadSample(e));
    }
  }
  return { root, split: basename(listPath, '.txt'), classNames, samples };

  function readRecord(id: string, line: number): SampleRecord {
    const base = join(root, 'JPEGImages', id);
    const imagePath = IMAGE_EXTS.map((e) => base + e).find((p) => existsSync(p));
    if (!imagePath) throw new BadInputError('E_DATA', listPath, `line ${line}: id '${id}' has no image file ${base}.jpg`);
    let maskPath: string | undefined = join(maskDir, `${id}.png`);
    if (masks === 'none' || (masks === 'optional' && !existsSync(maskPath))) maskPath = undefined;
    else if (!existsSync(maskPath)) throw new BadInputError('E_MASK', maskPath, 'mask file not found');
    let labels: number[];
    const xmlPath = join(root, 'Annotations', `${id}.xml`);
    if (source === 'file') {
      const l = labelsFile!.labels[id];
      if (!l) throw new BadInputError('E_DATA', labelsPath, `no labels for id '${id}'`);
      labels = l;
    } else if (source === 'xml' || (source === 'auto' && existsSync(xmlPath))) {
      labels = labelsFromXml(xmlPath, classNames);
    } else if (maskPath) {
      labels = labelsFromMask(readMask(maskPath), { numClasses: classNames.length, file: maskPath });
    } else if (source === 'mask') {
      throw new BadInputError('E_MASK', join(maskDir, `${id}.png`), 'mask file not found');
    } else {
      throw new BadInputError('E_DATA', listPath, `line ${line}: id '${id}' has no labels (no labels.json, no ${xmlPath}, no mask)`);
    }
    return { id, imagePath, maskPath, labels };
  }
}
