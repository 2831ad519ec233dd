/**
 * CAM files (METHOD 3, step 2 output): `<dir>/<id>.npy` float32 [P, H, W] with the min-max
 * normalised CAMs of the P present foreground classes in ascending class order, and
 * `<dir>/<id>.json` = { id, labels (1-based class indices, same order), height, width }.
 * The .json is written last, so its presence marks a complete file.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HfplError } from '../errors.js';
import type { LabelMap } from '../data/label-png.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { decodeNpy, encodeNpy } from '../util/npy.js';

/** The CAMs of one image. */
export interface CamFile {
  id: string;
  /** 1-based class indices of the P maps, ascending. */
  labels: number[];
  height: number;
  width: number;
  /** P x H x W values, row-major (map p at offset p * H * W). */
  cams: Float32Array;
}

function checkMeta(labels: number[], height: number, width: number, what: string): void {
  if (!Number.isInteger(height) || !Number.isInteger(width) || height <= 0 || width <= 0) {
    throw new HfplError('E_DATA', `${what}: height and width must be positive integers, got ${height} x ${width}`);
  }
  if (!Array.isArray(labels) || labels.some((c, i) => !Number.isInteger(c) || c < 1 || (i > 0 && c <= labels[i - 1]))) {
    throw new HfplError('E_DATA', `${what}: labels must be ascending 1-based class indices, got ${JSON.stringify(labels)}`);
  }
}

/**
 * Writes the CAMs of one image atomically: the .npy first, then the .json that marks the
 * pair complete.
 *
 * @param cams P x H x W values of the present classes (P = labels.length).
 * @param labels 1-based class indices of the maps, ascending (e.g. [1, 15]).
 */
export async function writeCamFile(dir: string, id: string, cams: Float32Array, labels: number[], height: number, width: number): Promise<void> {
  checkMeta(labels, height, width, `CAMs of ${id}`);
  if (cams.length !== labels.length * height * width) {
    throw new HfplError('E_ARG', `CAMs of ${id}: ${cams.length} values, expected ${labels.length} x ${height} x ${width}`);
  }
  await writeFileAtomic(join(dir, `${id}.npy`), encodeNpy(cams, [labels.length, height, width]));
  await writeFileAtomic(join(dir, `${id}.json`), JSON.stringify({ id, labels, height, width }) + '\n');
}

/**
 * Reads the CAMs of one image written by `writeCamFile` (or by numpy with the same layout).
 * Throws `E_IO` naming the file when it is missing, `E_DATA` when the two files disagree.
 */
export async function readCamFile(dir: string, id: string): Promise<CamFile> {
  const jsonPath = join(dir, `${id}.json`), npyPath = join(dir, `${id}.npy`);
  let meta: { labels: number[]; height: number; width: number };
  try {
    meta = JSON.parse(await readFile(jsonPath, 'utf8')) as typeof meta;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new HfplError('E_IO', `${jsonPath}: CAM file not found (missing or incomplete)`);
    throw new HfplError('E_DATA', `${jsonPath}: unreadable CAM metadata (${(e as Error).message})`);
  }
  checkMeta(meta.labels, meta.height, meta.width, jsonPath);
  let bytes: Uint8Array;
  try {
    bytes = await readFile(npyPath);
  } catch {
    throw new HfplError('E_IO', `${npyPath}: CAM file not found or unreadable`);
  }
  // A plain Uint8Array view: decodeNpy copies with .slice(), which on a Node Buffer is a view.
  const { data, shape } = decodeNpy(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), npyPath);
  const want = [meta.labels.length, meta.height, meta.width];
  if (!(data instanceof Float32Array) || shape.length !== 3 || shape.some((s, i) => s !== want[i])) {
    throw new HfplError('E_DATA', `${npyPath}: expected float32 [${want.join(', ')}], found ${data.constructor.name} [${shape.join(', ')}]`);
  }
  return { id, labels: meta.labels, height: meta.height, width: meta.width, cams: data };
}

/**
 * Per pixel, the largest CAM value (as float32, -Infinity with no maps) and the class of the
 * first map reaching it (0 with no maps), into the given buffers (length H * W).
 */
export function camMaxArgmax(cam: CamFile, max: Float32Array, arg: Uint8Array): void {
  const n = cam.height * cam.width, P = cam.labels.length, v = cam.cams;
  if (P === 0) {
    max.fill(-Infinity, 0, n);
    arg.fill(0, 0, n);
    return;
  }
  max.set(v.subarray(0, n));
  arg.fill(cam.labels[0], 0, n);
  for (let p = 1; p < P; p++) {
    const c = cam.labels[p], off = p * n;
    for (let i = 0; i < n; i++) {
      if (v[off + i] > max[i]) {
        max[i] = v[off + i];
        arg[i] = c;
      }
    }
  }
}

/**
 * Pseudo-label map from CAMs with a constant background score (METHOD 3, step 3): argmax over
 * [threshold, cam_1 .. cam_P] in float32, the first maximum winning, so background wins ties.
 */
let scratchMax = new Float32Array(0);

export function camsToLabelMap(cam: CamFile, threshold: number): LabelMap {
  const n = cam.height * cam.width;
  if (scratchMax.length < n) scratchMax = new Float32Array(n);
  const max = scratchMax, data = new Uint8Array(n);
  camMaxArgmax(cam, max, data);
  const t = Math.fround(threshold);
  for (let i = 0; i < n; i++) if (t >= max[i]) data[i] = 0;
  return { data, width: cam.width, height: cam.height };
}
