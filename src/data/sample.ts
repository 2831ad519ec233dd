/**
 * Loading and checking one sample (image + optional class-index mask), and the bad-input
 * protocol shared by the dataset readers: a problem with one sample is an `HfplError` whose
 * message is `<file>: <problem>`; readers given an `onBad` handler report it there and skip the
 * sample instead of throwing (the CLI's `--skip-bad`).
 */
import { existsSync } from 'node:fs';
import { HfplError, isHfplError, type HfplErrorCode } from '../errors.js';
import { readRgbImage } from './image-io.js';
import { type LabelMap, readLabelPng } from './label-png.js';
import type { RgbImage, SampleRecord } from './types.js';
import { VOC_CLASSES, VOID_LABEL } from './voc-classes.js';

/** A skipped sample: the file at fault and what is wrong with it. */
export interface BadSample {
  file: string;
  problem: string;
  code: HfplErrorCode;
}

/** Receives bad samples when a reader is asked to skip them. */
export type BadSampleHandler = (bad: BadSample) => void;

/** An `HfplError` about one input file; its message is `<file>: <problem>`. */
export class BadInputError extends HfplError {
  readonly file: string;
  readonly problem: string;
  constructor(code: HfplErrorCode, file: string, problem: string) {
    super(code, `${file}: ${problem}`);
    this.file = file;
    this.problem = problem;
  }
}

/** Converts a caught error to a `BadSample` (rethrows anything that is not an `HfplError`). */
export function toBadSample(e: unknown): BadSample {
  if (e instanceof BadInputError) return { file: e.file, problem: e.problem, code: e.code };
  if (isHfplError(e)) {
    const i = e.message.indexOf(': ');
    return i > 0 ? { file: e.message.slice(0, i), problem: e.message.slice(i + 2), code: e.code } : { file: '', problem: e.message, code: e.code };
  }
  throw e;
}

/**
 * Runs `fn`; on an `HfplError`, reports it to `onBad` and returns undefined, or rethrows it when
 * there is no handler. Other errors (bugs) always propagate.
 */
export async function guardSample<T>(fn: () => Promise<T> | T, onBad?: BadSampleHandler): Promise<T | undefined> {
  try {
    return await fn();
  } catch (e) {
    if (!onBad || !isHfplError(e)) throw e;
    onBad(toBadSample(e));
    return undefined;
  }
}

/**
 * Checks that every mask value is a class index below `numClasses` or 255 (void); returns the
 * per-value histogram (length 256). Throws `E_MASK` naming `file`, the value and the first pixel
 * holding it.
 */
export function checkMaskValues(mask: LabelMap, numClasses: number, file: string): Uint32Array {
  const hist = new Uint32Array(256);
  const d = mask.data;
  for (let i = 0; i < d.length; i++) hist[d[i]]++;
  for (let v = numClasses; v < 256; v++) {
    if (v === VOID_LABEL || hist[v] === 0) continue;
    const i = d.indexOf(v);
    const x = i % mask.width, y = Math.floor(i / mask.width);
    throw new BadInputError('E_MASK', file, `value ${v} at (x ${x}, y ${y}) is no class (allowed 0..${numClasses - 1} and ${VOID_LABEL})`);
  }
  return hist;
}

/** Options of `loadSample`. */
export interface LoadSampleOptions {
  /** Number of classes including background; mask values must be below it or 255. Default 21 (VOC). */
  numClasses?: number;
  /** Also read the mask when the record has one. Default true. */
  mask?: boolean;
}

/** A decoded sample. */
export interface LoadedSample {
  image: RgbImage;
  mask?: LabelMap;
}

/**
 * Decodes a sample's image and (when it has one) its mask, and checks them: the image decodes
 * completely (`E_IMAGE` for corrupt or truncated files, `E_IO` when missing), the mask exists
 * and is a readable 8-bit label PNG (`E_MASK`), has the image's size and holds only class
 * indices or 255 (`E_MASK`). Errors are `BadInputError`s naming the file. Pass
 * `numClasses: split.classNames.length` for datasets other than VOC.
 *
 * @example
 * const { image, mask } = await loadSample(split.samples[0], { numClasses: split.classNames.length });
 * // image: { width: 500, height: 281, data: Uint8Array(421500) }, mask: { width: 500, height: 281, data }
 */
export async function loadSample(record: SampleRecord, opts: LoadSampleOptions = {}): Promise<LoadedSample> {
  const numClasses = opts.numClasses ?? VOC_CLASSES.length;
  let image: RgbImage;
  try {
    image = await readRgbImage(record.imagePath);
  } catch (e) {
    throw rebadge(e, record.imagePath);
  }
  if (!record.maskPath || opts.mask === false) return { image };
  const mask = readMask(record.maskPath);
  if (mask.width !== image.width || mask.height !== image.height) {
    throw new BadInputError('E_MASK', record.maskPath, `mask is ${mask.width}x${mask.height} but its image ${record.imagePath} is ${image.width}x${image.height}`);
  }
  checkMaskValues(mask, numClasses, record.maskPath);
  return { image, mask };
}

/** Reads a label PNG, mapping a missing file to `E_MASK` "mask file not found". */
export function readMask(path: string): LabelMap {
  if (!existsSync(path)) throw new BadInputError('E_MASK', path, 'mask file not found');
  try {
    return readLabelPng(path);
  } catch (e) {
    throw rebadge(e, path, 'E_MASK');
  }
}

/** Re-raises an `HfplError` about `file` as a `BadInputError` (other errors unchanged). */
function rebadge(e: unknown, file: string, code?: HfplErrorCode): unknown {
  if (!isHfplError(e) || e instanceof BadInputError) return e;
  const problem = e.message.startsWith(`${file}: `) ? e.message.slice(file.length + 2) : e.message;
  return new BadInputError(code ?? e.code, file, problem);
}
