/**
 * Why a random walk helps or hurts (issue 6): measurements of the random-walk stage against
 * the ground truth of a split, written by the pipeline beside the stage's evaluation.
 * 1. **Affinity by pair kind**: the mean W_ij = exp(-mean |f_i - f_j|)^beta of AffinityNet over
 *    the radius pairs of the stride-8 grid (METHOD 3.5), split by the GT labels of the two
 *    cells (nearest downsampling, as the training targets): both background, both the same
 *    object class, object against background, two object classes. The walk spreads a CAM
 *    through an object only when W inside objects is well above W across their boundary.
 * 2. **Oracle walk**: the same walk of the same CAMs on the graph whose W_ij is 1 for equal
 *    GT labels and 0 otherwise: what a perfect AffinityNet would give (an upper bound of the
 *    stage for these CAMs, background power and step count).
 * 3. **Target coverage**: what the confident training labels (`confidentLabels` of the two CRF
 *    maps) say about GT object and background pixels: right class, other class, ignored, or
 *    background. Object cells that are never labelled give AffinityNet no pairs to learn from.
 */
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { HfplError } from '../errors.js';
import { readLabelPng, type LabelMap } from '../data/label-png.js';
import { readRgbImage } from '../data/image-io.js';
import { readVocSplit } from '../data/voc.js';
import { readMask } from '../data/sample.js';
import { readCamFile } from '../eval/cam-files.js';
import { SegmentationEvaluator } from '../eval/evaluate.js';
import { loadAffinityNet } from '../models/affinity-net.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { silentReporter, type ProgressReporter } from '../util/progress.js';
import { IGNORE_LABEL, confidentLabels, pairOffsets, resizeLabelsNearest } from './aff-labels.js';
import { imageTensor, walkCamLabels } from './infer-aff.js';
import { affinityTransition, type RandomWalkOptions } from './random-walk.js';

/** File name of the diagnostics in the pipeline's infer-aff folder. */
export const AFFINITY_DIAGNOSTICS_FILE = 'diagnostics.json';

/** Pair kinds of `AffinityPairStats`, by the GT labels of the two grid cells. */
export const PAIR_KINDS = Object.freeze(['background', 'object', 'boundary', 'between'] as const);
export type PairKind = (typeof PAIR_KINDS)[number];

/** Sums of W = a^beta and pair counts per kind (pairs touching an ignored GT cell are left out). */
export type AffinityPairStats = Record<PairKind, { sum: number; pairs: number }>;

/** Zeroed pair statistics. */
export function emptyPairStats(): AffinityPairStats {
  return { background: { sum: 0, pairs: 0 }, object: { sum: 0, pairs: 0 }, boundary: { sum: 0, pairs: 0 }, between: { sum: 0, pairs: 0 } };
}

/**
 * Adds the pairs of one grid to `stats`: every in-bounds pair of `pairOffsets(radius)` (each
 * unordered pair once), W = exp(-beta mean_d |f_i,d - f_j,d|). `features` is h x w x dim
 * (pixel-major), `grid` the GT labels on the same h x w grid.
 */
export function addAffinityPairStats(stats: AffinityPairStats, features: Float32Array, dim: number, grid: LabelMap, radius = 5, beta = 8): AffinityPairStats {
  const { width: w, height: h, data: g } = grid;
  if (features.length !== w * h * dim) throw new HfplError('E_ARG', `addAffinityPairStats: features hold ${features.length} values, expected ${h} x ${w} x ${dim}`);
  for (const [dy, dx] of pairOffsets(radius)) {
    for (let y = 0; y + dy < h; y++) {
      for (let x = Math.max(0, -dx); x < w && x + dx < w; x++) {
        const i = y * w + x, j = i + dy * w + dx;
        const a = g[i], b = g[j];
        if (a === IGNORE_LABEL || b === IGNORE_LABEL) continue;
        let s = 0;
        for (let c = 0; c < dim; c++) s += Math.abs(features[i * dim + c] - features[j * dim + c]);
        const kind: PairKind = a === b ? (a === 0 ? 'background' : 'object') : a === 0 || b === 0 ? 'boundary' : 'between';
        stats[kind].sum += Math.exp((-beta * s) / dim);
        stats[kind].pairs++;
      }
    }
  }
  return stats;
}

/** Mean W per kind (NaN where a kind has no pair). */
export function meanPairAffinity(stats: AffinityPairStats): Record<PairKind, number> {
  return Object.fromEntries(PAIR_KINDS.map((k) => [k, stats[k].sum / stats[k].pairs])) as Record<PairKind, number>;
}

/**
 * Features whose affinity graph is the GT's: one-hot labels scaled so that exp(-beta mean |f_i - f_j|)
 * underflows to 0 between different labels (255 is a label of its own) and is 1 between equal ones.
 */
export function oracleFeatures(grid: LabelMap): { features: Float32Array; dim: number } {
  const values = [...new Set(grid.data)].sort((a, b) => a - b);
  const dim = values.length;
  const index = new Map(values.map((v, i) => [v, i]));
  const features = new Float32Array(grid.data.length * dim);
  for (let i = 0; i < grid.data.length; i++) features[i * dim + index.get(grid.data[i])!] = 1e4;
  return { features, dim };
}

/** Confident-label coverage counts (pixels). */
export interface TargetCoverage {
  /** GT object pixels labelled with their class, another class, ignored (255), background. */
  object: { right: number; wrong: number; ignored: number; background: number };
  /** GT background pixels labelled background, ignored, an object class. */
  background: { background: number; ignored: number; object: number };
}

/** Zeroed coverage counts. */
export function emptyCoverage(): TargetCoverage {
  return { object: { right: 0, wrong: 0, ignored: 0, background: 0 }, background: { background: 0, ignored: 0, object: 0 } };
}

/** Adds one image's confident labels against its GT (GT 255 pixels are left out). */
export function addTargetCoverage(cov: TargetCoverage, target: LabelMap, gt: LabelMap): TargetCoverage {
  if (target.width !== gt.width || target.height !== gt.height) throw new HfplError('E_DATA', `addTargetCoverage: labels are ${target.width}x${target.height}, GT ${gt.width}x${gt.height}`);
  for (let i = 0; i < gt.data.length; i++) {
    const g = gt.data[i], v = target.data[i];
    if (g === IGNORE_LABEL) continue;
    if (g === 0) {
      if (v === 0) cov.background.background++;
      else if (v === IGNORE_LABEL) cov.background.ignored++;
      else cov.background.object++;
    } else if (v === g) cov.object.right++;
    else if (v === IGNORE_LABEL) cov.object.ignored++;
    else if (v === 0) cov.object.background++;
    else cov.object.wrong++;
  }
  return cov;
}

/** Options of `runAffinityDiagnostics`. */
export interface AffinityDiagnosticsOptions {
  /** Run folder of train-aff (or its model.json). */
  run: string;
  /** VOC-layout dataset folder (images and GT masks). */
  data: string;
  /** Split name or list file (as `readVocSplit`). */
  split: string;
  /** CAM files folder (infer-cam's `cams/`). */
  cams: string;
  /** GT mask folder; default `<data>/SegmentationClass`. */
  gt?: string;
  /** The CRF folder with `alpha1/` and `alpha24/` (target coverage), when given. */
  crf?: string;
  /** Number of classes including background (for the oracle walk's mIoU). */
  numClasses: number;
  walk?: Pick<RandomWalkOptions, 'beta' | 'logSteps' | 'bgPower'>;
  /** Only the first n images of the split. */
  limit?: number;
  /** Where to write the JSON (e.g. `<infer-aff>/diagnostics.json`), when given. */
  out?: string;
}

/** What `runAffinityDiagnostics` finds (fractions in [0, 1]). */
export interface AffinityDiagnostics {
  numImages: number;
  beta: number;
  radius: number;
  /** Mean W per pair kind, and the pair counts. */
  meanAffinity: Record<PairKind, number>;
  pairs: Record<PairKind, number>;
  /** The oracle walk's mIoU and contour F on the split. */
  oracleWalk: { miou: number; contourF: number };
  /** Fractions of GT object / background pixels by confident label (with `crf`). */
  targets?: { object: Record<keyof TargetCoverage['object'], number>; background: Record<keyof TargetCoverage['background'], number> };
}

const fractions = <T extends Record<string, number>>(c: T): T => {
  const total = Object.values(c).reduce((a, b) => a + b, 0);
  return Object.fromEntries(Object.entries(c).map(([k, v]) => [k, total > 0 ? v / total : Number.NaN])) as T;
};

/**
 * Measures the three quantities of the module comment on a split (one AffinityNet forward
 * pass and one extra walk per image).
 */
export async function runAffinityDiagnostics(opts: AffinityDiagnosticsOptions, reporter: ProgressReporter = silentReporter): Promise<AffinityDiagnostics> {
  const split = readVocSplit(opts.data, opts.split);
  const samples = opts.limit ? split.samples.slice(0, opts.limit) : split.samples;
  const gtDir = opts.gt ?? join(opts.data, 'SegmentationClass');
  const { model, meta } = loadAffinityNet(opts.run);
  const beta = opts.walk?.beta ?? 8;
  const walk = { logSteps: opts.walk?.logSteps, bgPower: opts.walk?.bgPower };
  const stats = emptyPairStats();
  const cov = emptyCoverage();
  const oracle = new SegmentationEvaluator({ numClasses: opts.numClasses });
  reporter.start('affinity diagnostics', samples.length, 'img');
  try {
    for (let k = 0; k < samples.length; k++) {
      const s = samples[k];
      const [image, cam] = await Promise.all([readRgbImage(s.imagePath), readCamFile(opts.cams, s.id)]);
      const gtPath = join(gtDir, `${s.id}.png`);
      const gt = readMask(gtPath);
      if (gt.width !== image.width || gt.height !== image.height) throw new HfplError('E_DATA', `${gtPath}: mask is ${gt.width}x${gt.height}, the image is ${image.width}x${image.height}`);
      const feats = tf.tidy(() => model.forward(imageTensor(image, meta.mean, meta.std), { training: false }));
      const [, h, w, dim] = feats.shape;
      const features = feats.dataSync() as Float32Array;
      feats.dispose();
      // GT on the grid of the zero-padded image: cells past the image edge are ignored.
      const grid = resizeLabelsNearest(padLabels(gt, 8 * w, 8 * h), w, h);
      addAffinityPairStats(stats, features, dim, grid, meta.radius, beta);
      const o = oracleFeatures(grid);
      const t = affinityTransition(o.features, h, w, o.dim, { radius: meta.radius, beta });
      oracle.add(walkCamLabels(t, cam, walk), gt, { pred: `oracle walk of ${s.id}`, gt: gtPath });
      if (opts.crf) {
        const lo = readLabelPng(join(opts.crf, 'alpha1', `${s.id}.png`)), hi = readLabelPng(join(opts.crf, 'alpha24', `${s.id}.png`));
        addTargetCoverage(cov, confidentLabels(lo, hi), gt);
      }
      reporter.step({ done: k + 1, total: samples.length });
    }
  } finally {
    model.dispose();
  }
  reporter.end({});
  const r = oracle.result();
  const result: AffinityDiagnostics = {
    numImages: samples.length, beta, radius: meta.radius,
    meanAffinity: meanPairAffinity(stats),
    pairs: Object.fromEntries(PAIR_KINDS.map((k) => [k, stats[k].pairs])) as Record<PairKind, number>,
    oracleWalk: { miou: r.miou, contourF: r.contourF },
    ...(opts.crf ? { targets: { object: fractions(cov.object), background: fractions(cov.background) } } : {}),
  };
  if (opts.out) await writeFileAtomic(opts.out, JSON.stringify(result, null, 2) + '\n');
  return result;
}

/** `map` padded at the bottom/right to width x height with 255. */
function padLabels(map: LabelMap, width: number, height: number): LabelMap {
  if (width === map.width && height === map.height) return map;
  const data = new Uint8Array(width * height).fill(IGNORE_LABEL);
  for (let y = 0; y < map.height; y++) data.set(map.data.subarray(y * map.width, (y + 1) * map.width), y * width);
  return { data, width, height };
}

/** One line for logs and reports, e.g. "W inside objects 0.084, across boundaries 0.040, ...". */
export function formatAffinityDiagnostics(d: AffinityDiagnostics): string {
  const m = d.meanAffinity, f = (v: number) => (Number.isFinite(v) ? v.toFixed(3) : '-');
  const pct = (v: number) => (100 * v).toFixed(1);
  const parts = [
    `AffinityNet W = a^${d.beta} on GT pairs: inside objects ${f(m.object)}, background ${f(m.background)}, across object boundaries ${f(m.boundary)}, between objects ${f(m.between)}`,
    `walk with GT affinities: mIoU ${pct(d.oracleWalk.miou)}, contour F ${pct(d.oracleWalk.contourF)}`,
  ];
  if (d.targets) {
    const o = d.targets.object;
    parts.push(`confident targets on GT object pixels: ${pct(o.right)}% right class, ${pct(o.ignored)}% ignored, ${pct(o.background)}% background, ${pct(o.wrong)}% other class`);
  }
  return parts.join('; ');
}
