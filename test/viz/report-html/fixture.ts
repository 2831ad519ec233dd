/**
 * A hand-made demo run folder for the report tests (written in well under a second): two
 * variants, seeds 0 and 1, refinement stages for seed 0, 16 x 12 images whose GT is class 1
 * ("stripes") on the right half. CAMs: baseline 1.0 on the 8 right columns (its pseudo-label
 * at t = 0.3 is the GT: image mIoU 1), +ISL +FSL 1.0 on the 6 rightmost columns only
 * (class 1: 6/8; background: 8/10; image mIoU 0.775); 0.2 elsewhere.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeJpeg } from '../../../src/data/image-io.js';
import { writeLabelPng, type LabelMap } from '../../../src/data/label-png.js';
import { writeCamFile } from '../../../src/eval/cam-files.js';

export const W = 16, H = 12;
export const CLASSES = ['background', 'stripes', 'checker'];

/** results.json rows: per (variant, seed) mIoU and contour F (hand-picked numbers). */
export const ROWS = [
  { variant: 'baseline', seed: 0, miou: 0.5, contourF: 0.3, bestThreshold: 0.3, mAP: 0.8, exactMatch: 0.4 },
  { variant: 'both', seed: 0, miou: 0.55, contourF: 0.36, bestThreshold: 0.3, mAP: 0.82, exactMatch: 0.5 },
  { variant: 'baseline', seed: 1, miou: 0.52, contourF: 0.32, bestThreshold: 0.25, mAP: 0.78, exactMatch: 0.42 },
  { variant: 'both', seed: 1, miou: 0.6, contourF: 0.35, bestThreshold: 0.35, mAP: 0.84, exactMatch: 0.46 },
];

/** Stage metrics of the refinement folders (mIoU, contour F) per stage folder and variant label. */
export const STAGES: Record<string, Record<string, [number, number]>> = {
  baseline: { 'infer-cam': [0.48, 0.31], crf: [0.53, 0.4], 'infer-aff': [0.58, 0.42], 'infer-seg': [0.6, 0.45] },
  '+ISL +FSL': { 'infer-cam': [0.51, 0.33], crf: [0.56, 0.43], 'infer-aff': [0.62, 0.47], 'infer-seg': [0.66, 0.5] },
};

const rightHalf = (from: number): LabelMap => {
  const data = new Uint8Array(W * H);
  for (let y = 0; y < H; y++) for (let x = from; x < W; x++) data[y * W + x] = 1;
  return { data, width: W, height: H };
};

function camOf(from: number): Float32Array {
  const c = new Float32Array(W * H).fill(0.2);
  for (let y = 0; y < H; y++) for (let x = from; x < W; x++) c[y * W + x] = 1;
  return c;
}

function evalJson(miou: number, contourF: number, t?: number): string {
  const curve = t === undefined ? undefined : [0, 0.1, 0.2, 0.3, 0.4, 0.5].map((x) => ({ t: x, miou: miou - 0.4 * (x - t) ** 2 }));
  return JSON.stringify({ miou, contourF, numImages: 2, bestThreshold: t, iou: [miou + 0.1, miou, miou - 0.1], contourFPerClass: [contourF + 0.05, contourF - 0.05], classNames: CLASSES, absentClasses: [], curve });
}

const metrics = (n: number, lr0: number) => Array.from({ length: n }, (_, i) => JSON.stringify({ step: 10 * (i + 1), epoch: 0, lr: lr0 * (1 - i / n), loss: 0.7 - 0.02 * i + 0.01 * (i % 2) })).join('\n') + '\n';

/** Writes the fixture demo folder into `dir` (which must be empty or absent). */
export async function writeFixtureRun(dir: string): Promise<void> {
  const data = join(dir, 'data');
  const ids = { val: ['val_0', 'val_1'], train: ['train_0'] };
  mkdirSync(join(data, 'ImageSets', 'Segmentation'), { recursive: true });
  mkdirSync(join(data, 'JPEGImages'), { recursive: true });
  for (const [split, list] of Object.entries(ids)) {
    writeFileSync(join(data, 'ImageSets', 'Segmentation', `${split}.txt`), list.join('\n') + '\n');
    for (const [k, id] of list.entries()) {
      const img = new Uint8Array(W * H * 3);
      for (let i = 0; i < W * H; i++) img.set([60 + 8 * (i % W), 90 + 10 * k, 200 - 10 * Math.floor(i / W)], 3 * i);
      writeFileSync(join(data, 'JPEGImages', `${id}.jpg`), await encodeJpeg({ data: img, width: W, height: H }));
      await writeLabelPng(join(data, 'SegmentationClass', `${id}.png`), rightHalf(8));
    }
  }
  mkdirSync(join(dir, 'runs', 'pretrain'), { recursive: true });
  writeFileSync(join(dir, 'runs', 'pretrain', 'metrics.jsonl'), metrics(4, 0.05));
  for (const r of ROWS) {
    const run = join(dir, 'runs', `${r.variant}-s${r.seed}`);
    mkdirSync(run, { recursive: true });
    writeFileSync(join(run, 'metrics.jsonl'), metrics(4, 0.01));
    writeFileSync(join(run, 'eval-val.json'), evalJson(r.miou, r.contourF, r.bestThreshold));
    for (const id of ids.val) await writeCamFile(join(run, 'infer-val', 'cams'), id, camOf(r.variant === 'baseline' ? 8 : 10), [1], H, W);
  }
  const plan = { train: 1, val: 2, pretrainSteps: 40, fineTuneLr: 0.01, steps: 40, batchSize: 8, backbone: 'tiny', crop: 96, resizeLong: [88, 112], lr: 0.05, scales: [1], flip: true, variants: ['baseline', 'both'], seeds: [0, 1] };
  writeFileSync(join(dir, 'results.json'), JSON.stringify({ plan, rows: ROWS, seconds: 1 }));
  const full = join(dir, 'full');
  mkdirSync(full, { recursive: true });
  writeFileSync(join(full, 'train-first1.txt'), 'train_0\n');
  for (const [label, st] of Object.entries(STAGES)) {
    const v = join(full, label);
    const from = label === 'baseline' ? 8 : 10;
    for (const [stage, [miou, cf]] of Object.entries(st)) {
      mkdirSync(join(v, stage), { recursive: true });
      writeFileSync(join(v, stage, 'eval.json'), evalJson(miou, cf, stage === 'infer-cam' || stage === 'crf' ? 0.3 : undefined));
    }
    await writeCamFile(join(v, 'infer-cam', 'cams'), 'train_0', camOf(from), [1], H, W);
    await writeLabelPng(join(v, 'crf', 'threshold0.3', 'train_0.png'), rightHalf(from));
    await writeLabelPng(join(v, 'infer-aff', 'train_0.png'), rightHalf(from));
    for (const id of ids.val) await writeLabelPng(join(v, 'infer-seg', `${id}.png`), rightHalf(from));
    for (const t of ['train-aff', 'train-seg']) {
      mkdirSync(join(v, t), { recursive: true });
      writeFileSync(join(v, t, 'metrics.jsonl'), metrics(3, 0.01));
    }
  }
}
