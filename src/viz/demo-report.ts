/**
 * The demo's outputs: the comparison table (mean and spread over seeds), example panels
 * (image | GT | CAM heat map | pseudo-label, one row per variant) and `report.md`.
 */
import { join } from 'node:path';
import { readRgbImage } from '../data/image-io.js';
import { readLabelPng } from '../data/label-png.js';
import { readCamFile } from '../eval/cam-files.js';
import { pseudoLabelFromCams } from '../infer/pseudo-labels.js';
import { DEMO_VARIANT_LABELS, type DemoResult, type DemoRow, type DemoVariant } from '../train/demo-run.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { meanSd } from '../util/two-sample.js';
import type { RgbImage } from '../data/types.js';
import { colorizeLabels, heatmapOverlay, maxOverMaps } from './colormap.js';
import { composeGrid, writeRgbPng } from './panels.js';

/** Mean and sample standard deviation (0 for one value; both 0 for none): `meanSd` of src/util/two-sample.ts. */
export function meanStd(values: number[]): { mean: number; std: number } {
  if (values.length === 0) return { mean: 0, std: 0 };
  const { mean, sd } = meanSd(values);
  return { mean, std: sd };
}

/** Aggregated figures of one variant over its seeds. */
export interface DemoSummaryRow {
  variant: DemoVariant;
  seeds: number[];
  miou: { mean: number; std: number };
  contourF: { mean: number; std: number };
  mAP: { mean: number; std: number };
  exactMatch: { mean: number; std: number };
  bestThreshold: { mean: number; std: number };
}

/** Per-variant mean and spread over seeds, in the plan's variant order. */
export function summariseDemo(rows: DemoRow[]): DemoSummaryRow[] {
  const variants = [...new Set(rows.map((r) => r.variant))];
  return variants.map((v) => {
    const rs = rows.filter((r) => r.variant === v);
    const ms = (f: (r: DemoRow) => number) => meanStd(rs.map(f));
    return { variant: v, seeds: rs.map((r) => r.seed), miou: ms((r) => r.miou), contourF: ms((r) => r.contourF), mAP: ms((r) => r.mAP), exactMatch: ms((r) => r.exactMatch), bestThreshold: ms((r) => r.bestThreshold) };
  });
}

const pct = (m: { mean: number; std: number }, spread: boolean) => `${(100 * m.mean).toFixed(1)}${spread ? ` ± ${(100 * m.std).toFixed(1)}` : ''}`;

/** The comparison as a Markdown table (mean ± sample std over seeds when there are several). */
export function formatDemoTable(rows: DemoRow[]): string {
  const sum = summariseDemo(rows);
  const spread = sum.some((s) => s.seeds.length > 1);
  const lines = [
    '| CAM network | mIoU (%) | contour F (%) | best bg threshold | cls mAP (%) | exact match (%) | seeds |',
    '| --- | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const s of sum) {
    lines.push(`| ${DEMO_VARIANT_LABELS[s.variant]} | ${pct(s.miou, spread)} | ${pct(s.contourF, spread)} | ${s.bestThreshold.mean.toFixed(2)} | ${pct(s.mAP, spread)} | ${pct(s.exactMatch, spread)} | ${s.seeds.join(', ')} |`);
  }
  return lines.join('\n');
}

/** Per-seed rows as a Markdown table. */
export function formatDemoRows(rows: DemoRow[]): string {
  const lines = ['| seed | CAM network | mIoU (%) | contour F (%) | t | cls mAP (%) | exact (%) | final loss | train img/s | infer img/s |', '| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |'];
  for (const r of rows) {
    lines.push(`| ${r.seed} | ${DEMO_VARIANT_LABELS[r.variant]} | ${(100 * r.miou).toFixed(1)} | ${(100 * r.contourF).toFixed(1)} | ${r.bestThreshold.toFixed(2)} | ${(100 * r.mAP).toFixed(1)} | ${(100 * r.exactMatch).toFixed(1)} | ${r.finalLoss.toFixed(3)} | ${r.trainImagesPerSec.toFixed(1)} | ${r.inferImagesPerSec.toFixed(2)} |`);
  }
  return lines.join('\n');
}

/**
 * Writes one panel per id to `<out>/panels/<id>.png`: a row per variant (of the first seed)
 * of image | GT | CAM heat map (max over the present classes) | pseudo-label at the variant's
 * best threshold, then the tiles of `extraTiles` (e.g. the final segmentation). Returns the
 * relative paths.
 */
export async function writeDemoPanels(result: DemoResult, ids: string[], extraTiles?: (row: DemoRow, id: string) => RgbImage[]): Promise<string[]> {
  const seed = result.rows[0]?.seed;
  const rows = result.rows.filter((r) => r.seed === seed);
  const paths: string[] = [];
  for (const id of ids) {
    const image = await readRgbImage(join(result.data, 'JPEGImages', `${id}.jpg`));
    const gt = colorizeLabels(readLabelPng(join(result.data, 'SegmentationClass', `${id}.png`)));
    const grid = [];
    for (const r of rows) {
      const cam = await readCamFile(join(r.run, 'infer-val', 'cams'), id);
      const n = cam.height * cam.width;
      const heat = heatmapOverlay(image, maxOverMaps(cam.cams, cam.labels.length, n));
      const pseudo = colorizeLabels(pseudoLabelFromCams(cam.cams, cam.labels, cam.height, cam.width, { threshold: r.bestThreshold }));
      grid.push([image, gt, heat, pseudo, ...(extraTiles?.(r, id) ?? [])]);
    }
    const rel = join('panels', `${id}.png`);
    await writeRgbPng(join(result.out, rel), composeGrid(grid));
    paths.push(rel);
  }
  return paths;
}

/** Writes `<out>/report.md` (and `<out>/results.json`); returns the report text. */
export async function writeDemoReport(result: DemoResult, panels: string[], notes: string[] = [], extraColumns: string[] = []): Promise<string> {
  const variants = [...new Set(result.rows.map((r) => DEMO_VARIANT_LABELS[r.variant]))];
  const p = result.plan;
  const avg = (f: (r: DemoRow) => number) => meanStd(result.rows.map(f)).mean;
  const text = [
    '# hfpl demo: CAM pseudo-labels with and without the HFPL add-on',
    '',
    `Synthetic benchmark: ${p.train} training and ${p.val} validation images (${result.classNames.length - 1} classes: ${result.classNames.slice(1).join(', ')}).`,
    p.pretrainSteps > 0
      ? `CAM network: '${p.backbone}' backbone (output stride 8), pre-trained once with the baseline losses for ${p.pretrainSteps} steps (lr ${p.lr}; the stand-in for the reference's ImageNet-pretrained backbone), then every variant fine-tunes it with a new CAM head for ${p.steps} steps of batch ${p.batchSize} (lr ${p.fineTuneLr}, new layers 10x, METHOD 3.1), crop ${p.crop}, same seed and steps for every variant.`
      : `CAM network: '${p.backbone}' backbone (output stride 8), ${p.steps} steps of batch ${p.batchSize} from scratch, crop ${p.crop}, lr ${p.lr}, same seed and steps for every variant.`,
    `CAMs: scales ${p.scales.join(', ')}${p.flip ? ' with flips' : ''}; pseudo-labels at the best background threshold of the sweep 0.00 ... 0.59 (METHOD 3.3); mIoU over all classes incl. background, contour F over foreground classes (METHOD 4).`,
    '',
    formatDemoTable(result.rows),
    '',
    '## Per seed',
    '',
    formatDemoRows(result.rows),
    '',
    `Wall time ${(result.seconds / 60).toFixed(1)} min; training ${avg((r) => r.trainImagesPerSec).toFixed(1)} images/s, inference ${avg((r) => r.inferImagesPerSec).toFixed(2)} images/s (${p.scales.length} scales${p.flip ? ' x flip' : ''}).`,
    ...notes.map((n) => `\n${n}`),
    '',
    '## Examples',
    '',
    `Each panel: ${['image', 'ground truth', 'CAM heat map', 'pseudo-label', ...extraColumns].join(' | ')}; rows: ${variants.join(', ')} (seed ${result.rows[0]?.seed}).`,
    '',
    ...panels.map((rel) => `![${rel}](${rel})`),
    '',
  ].join('\n');
  await writeFileAtomic(join(result.out, 'report.md'), text);
  await writeFileAtomic(join(result.out, 'results.json'), JSON.stringify({ plan: result.plan, rows: result.rows, summary: summariseDemo(result.rows), seconds: result.seconds }, null, 2) + '\n');
  return text;
}
