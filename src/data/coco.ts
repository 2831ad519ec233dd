/**
 * MS COCO instances files (`annotations/instances_<split>.json`) to semantic masks, as METHOD
 * section 5: each image's annotations are drawn in file order (later ones overwrite earlier
 * ones); the value is the rank of the category id among the sorted category ids + 1 (0 is
 * background). Polygons, uncompressed RLE (crowd) and compressed RLE decode exactly as
 * pycocotools `annToRLE` + `decode`.
 */
import { readFileSync } from 'node:fs';
import { HfplError } from '../errors.js';
import { type CocoRle, rleArea, rleFromCounts, rleFromString, rlePaint, rleUnion } from './coco-rle.js';
import type { LabelMap } from './label-png.js';
import { rleFromPolygon } from './polygon.js';

/** One `images` entry. */
export interface CocoImage {
  id: number;
  fileName: string;
  width: number;
  height: number;
}

/** One `annotations` entry (`segmentation` is checked when it is decoded). */
export interface CocoAnnotation {
  id: number;
  imageId: number;
  categoryId: number;
  iscrowd: boolean;
  /** The `area` field, when present. */
  area?: number;
  segmentation: unknown;
}

/** A parsed instances file. */
export interface CocoInstances {
  /** The file it was read from (used in error messages). */
  file: string;
  images: CocoImage[];
  annotations: CocoAnnotation[];
  /** Categories sorted by id; category i has class index i + 1. */
  categories: { id: number; name: string }[];
  /** 'background' then the category names in id order (length = categories + 1). */
  classNames: string[];
  /** Category id -> class index (rank among the sorted ids + 1). */
  classOf: Map<number, number>;
  /** Image id -> its annotations in file order. */
  annotationsOf: Map<number, CocoAnnotation[]>;
}

function fail(file: string, what: string): never {
  throw new HfplError('E_DATA', `${file}: ${what}`);
}

function int(file: string, where: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) fail(file, `${where} is ${JSON.stringify(v) ?? 'missing'}, expected an integer`);
  return v;
}

function list(file: string, json: Record<string, unknown>, key: string): Record<string, unknown>[] {
  const v = json[key];
  if (!Array.isArray(v)) fail(file, `"${key}" is missing or not an array`);
  v.forEach((e, i) => {
    if (e === null || typeof e !== 'object' || Array.isArray(e)) fail(file, `${key}[${i}] is not an object`);
  });
  return v as Record<string, unknown>[];
}

/**
 * Parses a COCO instances JSON file. Throws `E_IO` when it cannot be read and `E_DATA`
 * (naming the file and the entry) when it is not valid JSON or misses a required field, has a
 * duplicate image or category id, or an annotation refers to an unknown image or category.
 */
export function readCocoInstances(file: string): CocoInstances {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new HfplError('E_IO', `${file}: annotation file not found or unreadable`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    fail(file, `not valid JSON (${(e as Error).message.split('\n')[0]})`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) fail(file, 'not a COCO instances file (top level is not an object)');
  const top = json as Record<string, unknown>;

  const categories = list(file, top, 'categories').map((c, i) => {
    const name = c.name;
    if (typeof name !== 'string') fail(file, `categories[${i}].name is not a string`);
    return { id: int(file, `categories[${i}].id`, c.id), name };
  });
  categories.sort((a, b) => a.id - b.id);
  const classOf = new Map<number, number>();
  categories.forEach((c, i) => {
    if (classOf.has(c.id)) fail(file, `category id ${c.id} appears twice`);
    classOf.set(c.id, i + 1);
  });
  if (categories.length > 254) fail(file, `${categories.length} categories do not fit an 8-bit mask (at most 254)`);

  const images = list(file, top, 'images').map((im, i): CocoImage => {
    const fileName = im.file_name;
    if (typeof fileName !== 'string' || fileName === '') fail(file, `images[${i}].file_name is not a file name`);
    const width = int(file, `images[${i}].width`, im.width);
    const height = int(file, `images[${i}].height`, im.height);
    if (width <= 0 || height <= 0) fail(file, `images[${i}] has size ${width}x${height}`);
    return { id: int(file, `images[${i}].id`, im.id), fileName, width, height };
  });
  const annotationsOf = new Map<number, CocoAnnotation[]>();
  for (const im of images) {
    if (annotationsOf.has(im.id)) fail(file, `image id ${im.id} appears twice`);
    annotationsOf.set(im.id, []);
  }

  const annotations = list(file, top, 'annotations').map((a, i): CocoAnnotation => {
    const ann: CocoAnnotation = {
      id: int(file, `annotations[${i}].id`, a.id),
      imageId: int(file, `annotations[${i}].image_id`, a.image_id),
      categoryId: int(file, `annotations[${i}].category_id`, a.category_id),
      iscrowd: a.iscrowd === 1 || a.iscrowd === true,
      area: typeof a.area === 'number' ? a.area : undefined,
      segmentation: a.segmentation,
    };
    const own = annotationsOf.get(ann.imageId);
    if (!own) fail(file, `annotation ${ann.id} refers to image id ${ann.imageId}, which is not in "images"`);
    if (!classOf.has(ann.categoryId)) fail(file, `annotation ${ann.id} has category id ${ann.categoryId}, which is not in "categories"`);
    own.push(ann);
    return ann;
  });

  const classNames = ['background', ...categories.map((c) => c.name)];
  return { file, images, annotations, categories, classNames, classOf, annotationsOf };
}

function isNumberArray(v: unknown): v is number[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'number' && Number.isFinite(x));
}

/**
 * The binary mask of one annotation as pycocotools `COCO.annToRLE`: a list of polygons
 * (rasterised by `rleFromPolygon`, then united; a list whose first entry has 4 numbers is read
 * as [x, y, w, h] boxes, as pycocotools `frPyObjects` does), an uncompressed RLE `{ size: [h, w], counts:
 * number[] }` or a compressed RLE `{ size, counts: string }`. RLE sizes must equal the image
 * size. Throws `E_DATA` naming the file and annotation id when the segmentation is malformed.
 */
export function annotationRle(inst: CocoInstances, ann: CocoAnnotation, image: CocoImage): CocoRle {
  const { height: h, width: w } = image;
  const name = `${inst.file}: annotation ${ann.id}`;
  const seg = ann.segmentation;
  if (Array.isArray(seg)) {
    if (!seg.every(isNumberArray)) throw new HfplError('E_DATA', `${name}: segmentation is a list but not of polygons (number lists)`);
    if (seg.length === 0) return { h, w, counts: Uint32Array.of(h * w) };
    // pycocotools quirk: when the first entry has exactly 4 numbers, the list is read as boxes.
    const boxes = seg[0].length === 4;
    if (boxes && !seg.every((b) => b.length === 4)) throw new HfplError('E_DATA', `${name}: segmentation mixes 4-number boxes and polygons`);
    const polys = boxes ? seg.map(([x, y, bw, bh]) => [x, y, x, y + bh, x + bw, y + bh, x + bw, y]) : seg;
    return rleUnion(polys.map((poly) => rleFromPolygon(poly, h, w)), h, w);
  }
  if (seg !== null && typeof seg === 'object') {
    const { size, counts } = seg as { size?: unknown; counts?: unknown };
    if (!Array.isArray(size) || size.length !== 2 || size[0] !== h || size[1] !== w) {
      throw new HfplError('E_DATA', `${name}: RLE size is ${JSON.stringify(size) ?? 'missing'}, expected [${h}, ${w}] (the image size)`);
    }
    if (typeof counts === 'string') return rleFromString(counts, h, w, name);
    if (isNumberArray(counts)) return rleFromCounts(counts, h, w, name);
    throw new HfplError('E_DATA', `${name}: RLE counts must be a number list or a string`);
  }
  throw new HfplError('E_DATA', `${name}: segmentation is neither polygons nor RLE`);
}

/**
 * The semantic mask of one image (row-major, width x height of the `images` entry): 0 =
 * background, class index = rank of the category id + 1; annotations drawn in file order, later
 * ones overwriting earlier ones. Crowd regions get their class like any other annotation.
 */
export function cocoSemanticMask(inst: CocoInstances, image: CocoImage): LabelMap {
  const data = new Uint8Array(image.width * image.height);
  for (const ann of inst.annotationsOf.get(image.id) ?? []) {
    rlePaint(annotationRle(inst, ann, image), data, inst.classOf.get(ann.categoryId)!);
  }
  return { data, width: image.width, height: image.height };
}

/** Per-annotation pixel area (decoded) beside the file's `area` field. */
export interface AreaCheck {
  annotationId: number;
  iscrowd: boolean;
  polygon: boolean;
  /** Pixels of the decoded mask. */
  pixels: number;
  /** The `area` field (NaN when absent). */
  area: number;
  /** |pixels - area| / area (0 when both are 0). */
  relDiff: number;
}

/**
 * Decodes every annotation and compares its pixel count with its `area` field. For crowd RLE
 * the two are equal by construction; for polygons COCO's `area` is the polygon's own area, so
 * they agree only approximately.
 */
export function cocoAreaChecks(inst: CocoInstances): AreaCheck[] {
  const imageOf = new Map(inst.images.map((im) => [im.id, im]));
  return inst.annotations.map((ann) => {
    const pixels = rleArea(annotationRle(inst, ann, imageOf.get(ann.imageId)!));
    const area = ann.area ?? Number.NaN;
    const relDiff = area === 0 ? (pixels === 0 ? 0 : Infinity) : Math.abs(pixels - area) / area;
    return { annotationId: ann.id, iscrowd: ann.iscrowd, polygon: Array.isArray(ann.segmentation), pixels, area, relDiff };
  });
}

/** Summary of `cocoAreaChecks`: how well decoded pixel counts agree with the `area` fields. */
export interface AreaAgreement {
  /** Polygon annotations with an `area` field. */
  polygons: number;
  /** Of those, how many agree within 1%, 2% and 5% (relative). */
  within1: number;
  within2: number;
  within5: number;
  /** Median and maximum relative difference over the polygons. */
  median: number;
  max: number;
  /** RLE annotations, and how many have pixels == area exactly. */
  rles: number;
  rleExact: number;
}

/** Summarises area checks (see `AreaAgreement`). */
export function summariseAreaChecks(checks: readonly AreaCheck[]): AreaAgreement {
  const rel = checks.filter((c) => c.polygon && Number.isFinite(c.area)).map((c) => c.relDiff).sort((a, b) => a - b);
  const rles = checks.filter((c) => !c.polygon);
  const within = (t: number) => rel.filter((r) => r <= t).length;
  const n = rel.length;
  return {
    polygons: n,
    within1: within(0.01),
    within2: within(0.02),
    within5: within(0.05),
    median: n === 0 ? 0 : n % 2 ? rel[(n - 1) / 2] : (rel[n / 2 - 1] + rel[n / 2]) / 2,
    max: n === 0 ? 0 : rel[n - 1],
    rles: rles.length,
    rleExact: rles.filter((c) => c.pixels === c.area).length,
  };
}
