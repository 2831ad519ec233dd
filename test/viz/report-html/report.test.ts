import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoPaired, gatherReport, type DemoRowLike } from '../../../src/viz/report-html/gather.js';
import { formatCell } from '../../../src/viz/report-html/page.js';
import { imageMiou, pairedDifferences, pairedInterval } from '../../../src/viz/report-html/stats.js';
import { groupedBars, linePlot, movingAverage, niceTicks } from '../../../src/viz/report-html/svg.js';
import { writeReportHtml } from '../../../src/viz/report-html/write-report.js';
import type { NumberTable, ReportData } from '../../../src/viz/report-html/types.js';
import { ROWS, STAGES, writeFixtureRun } from './fixture.js';

const cellValue = (t: NumberTable | null, key: string) => {
  for (const r of t?.rows ?? []) for (const c of r.cells) if ('key' in c && c.key === key) return c;
  throw new Error(`no cell ${key}`);
};

describe('report statistics', () => {
  it('the paired table adds the binomial ISL against its multinomial twin', () => {
    // both − both-mn: 0.02 and 0.04 (mean 0.03); isl-mn has no binomial twin here, so no such row
    const rows: DemoRowLike[] = [0, 1].flatMap((seed) => [
      { variant: 'baseline' as const, seed, miou: 0.5, contourF: 0.3, bestThreshold: 0.3 },
      { variant: 'both' as const, seed, miou: 0.55 + 0.02 * seed, contourF: 0.3, bestThreshold: 0.3 },
      { variant: 'both-mn' as const, seed, miou: 0.53, contourF: 0.31, bestThreshold: 0.3 },
      { variant: 'isl-mn' as const, seed, miou: 0.5, contourF: 0.3, bestThreshold: 0.3 },
    ]);
    const t = demoPaired(rows)!;
    expect(t.rows.map((r) => r.label)).toEqual(['+ISL +FSL − baseline', '+ISL (multinomial) +FSL − baseline', '+ISL (multinomial) − baseline', '+ISL +FSL − +ISL (multinomial) +FSL']);
    expect((cellValue(t, 'paired:+ISL +FSL vs +ISL (multinomial) +FSL:miou') as { value: number }).value).toBeCloseTo(0.03, 12);
    expect((cellValue(t, 'paired:+ISL +FSL vs +ISL (multinomial) +FSL:contourF') as { value: number }).value).toBeCloseTo(-0.01, 12);
  });

  it('paired differences: mean and 95% t interval of variant - baseline over shared seeds', () => {
    // d = [0.05, 0.08]: mean 0.065, sd 0.0212132, t(0.975, 1) = 12.706, half = 12.706 * 0.0212132 / sqrt(2) = 0.190590
    const d = pairedDifferences(ROWS);
    expect(d).toHaveLength(1);
    expect(d[0].variant).toBe('both');
    expect(d[0].seeds).toEqual([0, 1]);
    expect(d[0].miou.mean).toBeCloseTo(0.065, 12);
    expect(d[0].miou.lo).toBeCloseTo(0.065 - 0.19059, 5);
    expect(d[0].miou.hi).toBeCloseTo(0.065 + 0.19059, 5);
    // contour F: d = [0.06, 0.03], mean 0.045, same sd -> same half width
    expect(d[0].contourF.mean).toBeCloseTo(0.045, 12);
    expect(d[0].contourF.hi - d[0].contourF.mean).toBeCloseTo(0.19059, 5);
    expect(pairedInterval([0.1])).toEqual({ n: 1, mean: 0.1, lo: 0.1, hi: 0.1 });
    expect(pairedDifferences(ROWS.filter((r) => r.seed === 0))).toEqual([]);
  });

  it('image mIoU averages IoU over classes in GT or prediction, ignoring void', () => {
    const gt = { data: Uint8Array.from([0, 0, 1, 1, 255]), width: 5, height: 1 };
    // class 0: inter 2 / union 3; class 1: inter 1 / union 2; class 2 absent
    expect(imageMiou({ data: Uint8Array.from([0, 0, 0, 1, 2]), width: 5, height: 1 }, gt)).toBeCloseTo((2 / 3 + 1 / 2) / 2, 12);
    expect(imageMiou(gt, gt)).toBe(1);
  });

  it('svg primitives: round ticks, one path per series, one bar per value', () => {
    expect(niceTicks(0, 1, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(0.0013, 0.0071, 4)).toEqual([0.002, 0.004, 0.006]);
    const svg = linePlot({ title: 't', x: { label: 'x' }, y: { label: 'y' }, series: [{ name: 'a', color: '#000', points: [[0, 0], [1, 1]] }] });
    expect(svg.match(/class="series" d="M52,222L498,10"/)).not.toBeNull();
    const bars = groupedBars({ title: 'b', categories: ['p', 'q'], series: [{ name: 's', color: '#000', values: [50, null] }], y: { label: '%', max: 100 }, format: String });
    expect(bars.match(/class="bar"/g)).toHaveLength(1);
    expect(bars).toMatch(/height="96"/); // half of the 192-pixel plot area
  });

  it('formats cells: %, spread, signed differences and intervals', () => {
    expect(formatCell({ key: 'k', value: 0.5123, spread: 0.0141, percent: true })).toBe('51.2 ± 1.4');
    expect(formatCell({ key: 'k', value: 0.065, percent: true, signed: true })).toBe('+6.5');
    expect(formatCell({ key: 'k', value: 0, interval: [-0.1256, 0.2556], percent: true })).toBe('[-12.6, 25.6]');
    expect(formatCell({ key: 'k', value: 0.3, digits: 2 })).toBe('0.30');
  });
});

describe('report data and page of a demo folder', () => {
  let dir: string;
  let data: ReportData;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hfpl-report-'));
    await writeFixtureRun(dir);
    data = await gatherReport(dir);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('summary and stage tables hold the numbers of results.json and the eval files', () => {
    expect(cellValue(data.summary, 'summary:baseline:miou')).toMatchObject({ value: 0.51, spread: expect.closeTo(Math.SQRT2 * 0.01, 12) });
    expect((cellValue(data.summary, 'summary:+ISL +FSL:miou') as { value: number }).value).toBeCloseTo(0.575, 12);
    expect((cellValue(data.summary, 'summary:+ISL +FSL:mAP') as { value: number }).value).toBeCloseTo(0.83, 12);
    for (const [label, st] of Object.entries(STAGES)) {
      expect((cellValue(data.stages, `stage:CAM:${label}:miou`) as { value: number }).value).toBe(st['infer-cam'][0]);
      expect((cellValue(data.stages, `stage:final segmentation:${label}:contourF`) as { value: number }).value).toBe(st['infer-seg'][1]);
    }
    expect((cellValue(data.paired, 'paired:+ISL +FSL:miou') as { value: number }).value).toBeCloseTo(0.065, 12);
  });

  it('has every plot: pre-training, CAM, AffinityNet and segmentation curves; CAM, refinement CAM and CRF sweeps; two per-class groups', () => {
    expect(data.training.map((g) => g.series.length)).toEqual([1, 4, 2, 2]);
    expect(data.sweeps.map((g) => g.series.length)).toEqual([4, 2, 2]);
    expect(data.sweeps[0].series[2]).toMatchObject({ name: 'baseline s1', bestThreshold: 0.25, miou: 0.52 });
    expect(data.perClass.map((g) => g.series.map((s) => s.name))).toEqual([['baseline', '+ISL +FSL'], ['baseline', '+ISL +FSL']]);
    expect(data.perClass[0].series[0].iou[1]).toBeCloseTo(0.51, 12); // mean over the seeds' eval-val.json
  });

  it('image browser: val images with heat map, CAM and final segmentation; the training image with the stages; image mIoU hand-derived', () => {
    expect(data.images.map((i) => `${i.id}:${i.stages.join('|')}`)).toEqual([
      'val_0:CAM heat map|CAM pseudo-label|final segmentation', 'val_1:CAM heat map|CAM pseudo-label|final segmentation', 'train_0:CAM heat map|CAM pseudo-label|+CRF|random walk',
    ]);
    const iou = (v: string, s: string) => data.images[0].cells.find((c) => c.variant === v && c.stage === s)?.iou;
    expect(iou('baseline', 'CAM pseudo-label')).toBe(1);
    expect(iou('+ISL +FSL', 'CAM pseudo-label')).toBeCloseTo((6 / 8 + 8 / 10) / 2, 12);
    expect(iou('+ISL +FSL', 'final segmentation')).toBeCloseTo(0.775, 12);
    expect(iou('baseline', 'CAM heat map')).toBeNull();
    expect(data.images[0].classes).toEqual([{ index: 0, color: 'rgb(0,0,0)' }, { index: 1, color: 'rgb(128,0,0)' }]); // VOC palette
    expect(data.images[2].cells.filter((c) => c.stage === 'random walk').map((c) => c.iou)).toEqual([1, expect.closeTo(0.775, 12)]);
  });

  it('writes one self-contained report.html (no URL but data:, no temp file left)', async () => {
    const r = await writeReportHtml(dir);
    expect(r).toMatchObject({ path: join(dir, 'report.html'), plots: 12, images: 3 });
    const html = readFileSync(r.path, 'utf8');
    expect(r.bytes).toBe(Buffer.byteLength(html));
    expect(html).not.toMatch(/(src|href)="(?!data:|#)/);
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).not.toMatch(/url\((?!"data:)/);
    expect(html.match(/<figure class="plot[" ]/g)).toHaveLength(12);
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
    expect(html).toContain('data-key="summary:baseline:miou" data-value="0.51">51.0 ± 1.4<');
  });

  it('a partial demo (no results.json) is rebuilt from the runs, and says so', async () => {
    const p = mkdtempSync(join(tmpdir(), 'hfpl-report-partial-'));
    try {
      await writeFixtureRun(p);
      rmSync(join(p, 'results.json'));
      rmSync(join(p, 'full'), { recursive: true });
      rmSync(join(p, 'runs', 'both-s1'), { recursive: true });
      const d = await gatherReport(p);
      expect(d.summary?.rows.map((r) => r.label)).toEqual(['baseline', '+ISL +FSL']);
      expect((cellValue(d.summary, 'summary:+ISL +FSL:miou') as { value: number }).value).toBe(0.55);
      expect(d.summary?.rows[1].cells[3]).toEqual({ text: '-' }); // no mAP without results.json
      expect(d.stages).toBeNull();
      expect(d.paired).toBeNull();
      expect(d.notes.join('\n')).toMatch(/results\.json not found/);
      expect(d.notes.join('\n')).toMatch(/No refinement stages/);
      // both-s1 is still training (no eval-val.json): no table row, but its loss curve is shown
      mkdirSync(join(p, 'runs', 'both-s1'));
      writeFileSync(join(p, 'runs', 'both-s1', 'metrics.jsonl'), '{"step":10,"lr":0.01,"loss":0.7}\n{"step":20,"lr":0.009,"loss":0.6}\n{"step":3');
      const d2 = await gatherReport(p);
      expect(d2.summary?.rows.map((r) => r.cells[0])).toEqual(d.summary?.rows.map((r) => r.cells[0]));
      expect(d2.training[1].series.map((x) => `${x.name}:${x.points.length}`)).toEqual(['baseline s0:4', '+ISL +FSL s0:4', 'baseline s1:4', '+ISL +FSL s1:2']); // torn last line skipped
    } finally {
      rmSync(p, { recursive: true, force: true });
    }
  });

  it('a pipeline folder: stages as series, CAM run and its losses from pipeline.json and the run\'s config', async () => {
    const pdir = join(dir, 'full', 'baseline');
    writeFileSync(join(pdir, 'pipeline.json'), JSON.stringify({ options: { data: join(dir, 'data'), trainSplit: join(dir, 'full', 'train-first1.txt'), evalSplit: 'val', camRun: join(dir, 'runs', 'baseline-s0'), baseline: 'cam', islWeight: 0.2, fslWeight: 1, backbone: 'tiny', seed: 0 } }));
    // the name comes from the CAM run's own config (the pipeline's weights are unused with --cam-run)
    writeFileSync(join(dir, 'runs', 'baseline-s0', 'config.json'), JSON.stringify({ baseline: 'cam', islWeight: 0, fslWeight: 0 }));
    const d = await gatherReport(pdir);
    expect(d.title).toBe('hfpl pipeline: cam');
    expect(d.training.map((g) => g.title)).toEqual(['CAM network training', 'AffinityNet training', 'Segmentation network training']);
    expect(d.perClass[0].series.map((s) => s.name)).toEqual(['CAM', '+CRF', 'random walk', 'final segmentation']);
    expect((cellValue(d.stages, 'stage:random walk:cam:miou') as { value: number }).value).toBe(STAGES.baseline['infer-aff'][0]);
    expect(d.images.map((i) => i.id)).toEqual(['train_0', 'val_0', 'val_1']);
  });

  it('a folder that is no run: one E_IO line naming it', async () => {
    await expect(gatherReport(join(dir, 'data'))).rejects.toThrow(`${join(dir, 'data')}: not an hfpl run folder`);
    await expect(gatherReport(join(dir, 'nope'))).rejects.toThrow(/nope: run folder not found/);
  });
});

describe('moving average', () => {
  it('averages a centred window that shrinks at the ends', () => {
    expect(movingAverage([1, 2, 3, 4, 10], 3)).toEqual([1.5, 2, 3, 17 / 3, 7]);
    expect(movingAverage([5], 5)).toEqual([5]);
  });
});
