/**
 * Gathers the report's data from a run folder: a demo (`hfpl demo --out`: results.json,
 * runs/<variant>-s<seed>/, full/<variant>/) or a pipeline (`hfpl pipeline --out`:
 * pipeline.json and one folder per stage). Works on partial runs: whatever is on disk is
 * shown, and `notes` say what is missing.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { HfplError } from '../../errors.js';
import { readIdList, vocListPath } from '../../data/voc.js';
import { silentReporter, type ProgressReporter } from '../../util/progress.js';
import { BINOMIAL_VS_MULTINOMIAL, DEMO_VARIANTS, DEMO_VARIANT_LABELS, type DemoPlan, type DemoVariant } from '../../train/demo-run.js';
import { meanStd } from '../demo-report.js';
import { evalImageSources, gatherStageFolder, STAGE_ROWS, trainImageSources, type StageFolder } from './gather-stages.js';
import { buildBrowserImage, type CellSource } from './images.js';
import { readEvalFile, readJsonOrNull, readMetricsJsonl, type EvalFile } from './run-files.js';
import { pairedDifferences } from './stats.js';
import type { BrowserImage, NumberTable, PerClassGroup, ReportData, SweepGroup, TableCell, TrainingGroup } from './types.js';

/** Options of `gatherReport`. */
export interface GatherOptions {
  /** Evaluation (val) images in the browser. Default 6. */
  evalImages?: number;
  /** Training images in the browser (stage pictures). Default 3. */
  trainImages?: number;
  /** Longest side of embedded pictures, in pixels. Default 192. */
  maxSide?: number;
  reporter?: ProgressReporter;
}

/** One per-seed row of a demo (results.json `rows`, or rebuilt from the run folders). */
export interface DemoRowLike {
  variant: DemoVariant;
  seed: number;
  miou: number;
  contourF: number;
  bestThreshold: number;
  mAP?: number;
  exactMatch?: number;
}

const ids = (data: string, split: string, n: number): string[] => {
  const p = vocListPath(data, split);
  return n > 0 && existsSync(p) ? readIdList(p).slice(0, n).map((x) => x.id) : [];
};

async function browserImages(data: string, list: { id: string; split: string; sources: CellSource[] }[], maxSide: number, reporter: ProgressReporter): Promise<BrowserImage[]> {
  const out: BrowserImage[] = [];
  if (list.length === 0 || !existsSync(join(data, 'JPEGImages'))) return out;
  reporter.start('report: pictures', list.length, 'img');
  for (const [i, x] of list.entries()) {
    out.push(await buildBrowserImage(data, x.id, x.split, x.sources, maxSide));
    reporter.step({ done: i + 1, total: list.length });
  }
  reporter.end({});
  return out;
}

/** Stage table (rows CAM ... final segmentation, mIoU and contour F per variant). */
function stageTable(folders: StageFolder[], evalSplit: string): NumberTable | null {
  if (!folders.some((f) => f.evals.some((e) => e.eval))) return null;
  return {
    caption: 'Stages: pseudo-label quality on the training images (CAM, +CRF, random walk) and the final segmentation on the evaluation split; % at each stage\'s reported threshold.',
    headers: ['stage', 'split (images)', ...folders.flatMap((f) => [`${f.variant} mIoU`, `${f.variant} contour F`])],
    rows: STAGE_ROWS.map(({ stage }) => {
      const any = folders.map((f) => f.evals.find((e) => e.stage === stage)?.eval).find((e) => e) ?? null;
      return {
        label: stage,
        cells: [
          { text: any ? `${stage === 'final segmentation' ? evalSplit : 'train'} (${any.numImages})` : '-' },
          ...folders.flatMap((f): TableCell[] => {
            const e = f.evals.find((x) => x.stage === stage)?.eval;
            return e
              ? [{ key: `stage:${stage}:${f.variant}:miou`, value: e.miou, percent: true }, { key: `stage:${stage}:${f.variant}:contourF`, value: e.contourF, percent: true }]
              : [{ text: '-' }, { text: '-' }];
          }),
        ],
      };
    }),
  };
}

function stageTrainingGroups(folders: StageFolder[], titles: Record<'cam' | 'aff' | 'seg', string>): TrainingGroup[] {
  return (['cam', 'aff', 'seg'] as const)
    .map((k) => ({ title: titles[k], series: folders.flatMap((f) => f.training.filter((t) => t.kind === k).map((t) => t.series)) }))
    .filter((g) => g.series.length > 0);
}

function stageSweepGroups(folders: StageFolder[], titles: Record<'cam' | 'crf', string>): SweepGroup[] {
  return (['cam', 'crf'] as const)
    .map((k) => ({ title: titles[k], series: folders.flatMap((f) => f.sweeps.filter((s) => s.kind === k).map((s) => s.series)) }))
    .filter((g) => g.series.length > 0);
}

/** The `runs/<variant>-s<seed>` folders of a demo, in (seed, variant) order. */
function demoRunFolders(dir: string): { variant: DemoVariant; seed: number }[] {
  const runs = existsSync(join(dir, 'runs')) ? readdirSync(join(dir, 'runs')) : [];
  const order = Object.keys(DEMO_VARIANTS);
  return runs.flatMap((name) => {
    const m = /^([\w-]+?)-s(\d+)$/.exec(name);
    return m && m[1] in DEMO_VARIANTS ? [{ variant: m[1] as DemoVariant, seed: Number(m[2]) }] : [];
  }).sort((a, b) => a.seed - b.seed || order.indexOf(a.variant) - order.indexOf(b.variant));
}

/** Per-seed rows of a demo: results.json, else each run's eval-val.json. */
function demoRows(dir: string, notes: string[]): { rows: DemoRowLike[]; plan: Partial<DemoPlan> | null } {
  const res = readJsonOrNull<{ plan?: DemoPlan; rows?: DemoRowLike[] }>(join(dir, 'results.json'));
  if (res?.rows) return { rows: res.rows, plan: res.plan ?? null };
  const rows: DemoRowLike[] = [];
  for (const { variant, seed } of demoRunFolders(dir)) {
    const e = readEvalFile(join(dir, 'runs', `${variant}-s${seed}`, 'eval-val.json'));
    if (e) rows.push({ variant, seed, miou: e.miou, contourF: e.contourF, bestThreshold: e.bestThreshold ?? Number.NaN });
  }
  notes.push(`${join(dir, 'results.json')} not found (unfinished demo): the tables use each run's eval-val.json${rows.length ? '' : ', and no run has been evaluated yet'}.`);
  return { rows, plan: null };
}

/** Gathers a demo folder. */
async function gatherDemo(dir: string, o: Required<Omit<GatherOptions, 'reporter'>>, reporter: ProgressReporter): Promise<ReportData> {
  const notes: string[] = [];
  const { rows, plan } = demoRows(dir, notes);
  const runDir = (v: DemoVariant, s: number) => join(dir, 'runs', `${v}-s${s}`);
  const order = plan?.variants ?? (Object.keys(DEMO_VARIANTS) as DemoVariant[]);
  // Runs still training have no row yet, but their loss curves belong in the report.
  const folders0 = [...rows, ...demoRunFolders(dir).filter((f) => !rows.some((r) => r.variant === f.variant && r.seed === f.seed))];
  const variants = [...new Set(folders0.map((r) => r.variant))].sort((a, b) => order.indexOf(a) - order.indexOf(b));
  const labels = variants.map((v) => DEMO_VARIANT_LABELS[v]);
  const seeds = [...new Set(folders0.map((r) => r.seed))].sort((a, b) => a - b);
  const many = new Set(rows.map((r) => r.seed)).size > 1;
  const data = join(dir, 'data');
  const evals = new Map(rows.map((r) => [r, readEvalFile(join(runDir(r.variant, r.seed), 'eval-val.json'))]));
  const classNames = [...evals.values()].find((e) => e)?.classNames ?? [];

  const pct = (key: string, xs: number[]) => ({ key, value: meanStd(xs).mean, spread: many ? meanStd(xs).std : undefined, percent: true });
  const summary: NumberTable | null = rows.length === 0 ? null : {
    caption: `CAM pseudo-labels on val at each network's best background threshold${many ? ` (mean ± sample std over seeds ${[...new Set(rows.map((r) => r.seed))].join(', ')})` : ''}, and the CAM network's classification on val.`,
    headers: ['CAM network', 'mIoU (%)', 'contour F (%)', 'best t', 'cls mAP (%)', 'exact match (%)', 'seeds'],
    rows: variants.filter((v) => rows.some((r) => r.variant === v)).map((v) => {
      const rs = rows.filter((r) => r.variant === v);
      const opt = (k: 'mAP' | 'exactMatch') => (rs.every((r) => typeof r[k] === 'number') ? pct(`summary:${DEMO_VARIANT_LABELS[v]}:${k}`, rs.map((r) => r[k]!)) : { text: '-' });
      return {
        label: DEMO_VARIANT_LABELS[v],
        cells: [
          pct(`summary:${DEMO_VARIANT_LABELS[v]}:miou`, rs.map((r) => r.miou)), pct(`summary:${DEMO_VARIANT_LABELS[v]}:contourF`, rs.map((r) => r.contourF)),
          { key: `summary:${DEMO_VARIANT_LABELS[v]}:bestThreshold`, value: meanStd(rs.map((r) => r.bestThreshold)).mean, digits: 2 },
          opt('mAP'), opt('exactMatch'), { text: rs.map((r) => r.seed).join(', ') },
        ],
      };
    }),
  };

  const seedIndex = (s: number) => seeds.indexOf(s);
  const name = (v: DemoVariant, s: number) => `${DEMO_VARIANT_LABELS[v]}${seeds.length > 1 ? ` s${s}` : ''}`;
  const training: TrainingGroup[] = [];
  // Pre-training: one run per seed (runs/pretrain-s<seed>), or one shared run (runs/pretrain, older demos).
  const preSeries = [...seeds.map((sd) => ({ sd, pts: readMetricsJsonl(join(dir, 'runs', `pretrain-s${sd}`)) })), { sd: -1, pts: readMetricsJsonl(join(dir, 'runs', 'pretrain')) }]
    .flatMap(({ sd, pts }) => (pts?.length ? [{ name: sd < 0 ? 'pre-training' : `pre-training s${sd}`, variant: 'pre-training', seedIndex: Math.max(0, seedIndex(sd)), points: pts }] : []));
  const pre = preSeries.length > 0;
  if (pre) training.push({ title: 'Backbone pre-training (baseline losses)', series: preSeries });
  const camSeries = folders0.flatMap((r) => {
    const pts = readMetricsJsonl(runDir(r.variant, r.seed));
    return pts?.length ? [{ name: name(r.variant, r.seed), variant: DEMO_VARIANT_LABELS[r.variant], seedIndex: seedIndex(r.seed), points: pts }] : [];
  });
  if (camSeries.length) training.push({ title: (plan?.pretrainSteps ?? (pre ? 1 : 0)) > 0 ? 'CAM network fine-tuning, per variant' : 'CAM network training, per variant', series: camSeries });

  const sweeps: SweepGroup[] = [];
  const sweepSeries = rows.flatMap((r) => {
    const e = evals.get(r);
    return e?.curve && e.bestThreshold !== undefined
      ? [{ name: name(r.variant, r.seed), variant: DEMO_VARIANT_LABELS[r.variant], seedIndex: seedIndex(r.seed), curve: e.curve, bestThreshold: e.bestThreshold, miou: e.miou, contourF: e.contourF }]
      : [];
  });
  if (sweepSeries.length) sweeps.push({ title: 'CAM pseudo-labels on val: mIoU against the background threshold t', series: sweepSeries });

  const perClass: PerClassGroup[] = [];
  const meanArr = (es: EvalFile[], f: (e: EvalFile) => number[]) => f(es[0]).map((_, i) => meanStd(es.map((e) => f(e)[i])).mean);
  const camClass = variants.flatMap((v) => {
    const es = rows.filter((r) => r.variant === v).map((r) => evals.get(r)).filter((e): e is EvalFile => !!e);
    return es.length ? [{ name: DEMO_VARIANT_LABELS[v], variant: DEMO_VARIANT_LABELS[v], iou: meanArr(es, (e) => e.iou), contourF: meanArr(es, (e) => e.contourFPerClass) }] : [];
  });
  if (camClass.length) perClass.push({ title: `CAM pseudo-labels on val, per class${many ? ' (mean over seeds)' : ''}`, classNames, series: camClass });

  // Refinement stages (`--full`) of the first seed.
  // `full/s<seed>/<variant>` (one folder per seed), or `full/<variant>` (older demos).
  const fullDir = existsSync(join(dir, 'full', `s${seeds[0]}`)) ? join(dir, 'full', `s${seeds[0]}`) : join(dir, 'full');
  const folders = existsSync(fullDir) ? labels.filter((l) => existsSync(join(fullDir, l))).map((l) => gatherStageFolder(join(fullDir, l), l)) : [];
  const stages = stageTable(folders, 'val');
  training.push(...stageTrainingGroups(folders, { cam: 'CAM network (refinement run)', aff: 'AffinityNet training, per variant', seg: 'Segmentation network training, per variant' }));
  sweeps.push(...stageSweepGroups(folders, { cam: 'CAM pseudo-labels on the training images (refinement stages)', crf: '+CRF: mIoU at the background thresholds tried' }));
  const segClass = folders.flatMap((f) => {
    const e = f.evals.find((x) => x.stage === 'final segmentation')?.eval;
    return e ? [{ name: f.variant, variant: f.variant, iou: e.iou, contourF: e.contourFPerClass }] : [];
  });
  if (segClass.length) perClass.push({ title: 'Final segmentation on val, per class', classNames, series: segClass });
  if (!existsSync(fullDir)) notes.push('No refinement stages in this run (they come with `hfpl demo --full`): the stage table and the +CRF / random-walk pictures are left out.');

  const paired = demoPaired(rows);
  const seed0 = seeds[0];
  const valList = ids(data, 'val', o.evalImages).map((id) => ({
    id, split: 'val', sources: rows.filter((r) => r.seed === seed0).flatMap((r): CellSource[] => {
      const camDir = join(runDir(r.variant, r.seed), 'infer-val', 'cams');
      const l = DEMO_VARIANT_LABELS[r.variant];
      return [
        { variant: l, stage: 'CAM heat map', kind: 'heat', camDir },
        ...(Number.isFinite(r.bestThreshold) ? [{ variant: l, stage: 'CAM pseudo-label', kind: 'cam-label', camDir, threshold: r.bestThreshold } as const] : []),
        ...(folders.some((f) => f.variant === l) ? evalImageSources(join(fullDir, l), l, id) : []),
      ];
    }),
  }));
  const trainListFile = existsSync(fullDir) ? readdirSync(fullDir).find((f) => /^train-first\d+\.txt$/.test(f)) : undefined;
  const trainList = folders.length === 0 ? [] : ids(data, trainListFile ? resolve(fullDir, trainListFile) : 'train', o.trainImages).map((id) => ({
    id, split: 'train', sources: folders.flatMap((f) => trainImageSources(join(fullDir, f.variant), f.variant, id)),
  }));
  const images = await browserImages(data, [...valList, ...trainList], o.maxSide, reporter);

  const p = plan;
  const intro = p?.train !== undefined
    ? [
      `Synthetic benchmark: ${p.train} training and ${p.val} validation images; ${classNames.length - 1} classes (${classNames.slice(1).join(', ')}).`,
      `CAM network: '${p.backbone}' backbone, ${p.pretrainSteps ? `pre-trained ${p.pretrainSteps} steps, then ${p.steps} fine-tuning steps per variant` : `${p.steps} steps per variant`}, batch ${p.batchSize}, crop ${p.crop}; CAMs at scales ${p.scales?.join(', ')}${p.flip ? ' with flips' : ''}; seeds ${seeds.join(', ')}.`,
    ]
    : [`Variants ${labels.join(', ')}; seeds ${seeds.join(', ')}.`];
  return { title: 'hfpl demo: CAM pseudo-labels with and without the HFPL add-on', intro, runDir: dir, classNames, variants: [...new Set([...labels, ...folders.map((f) => f.variant)])], summary, training, sweeps, perClass, stages, paired, images, notes };
}

/**
 * Paired differences (variant - baseline, same seed), then each binomial ISL variant against its
 * multinomial twin where both ran, as a table; null with fewer than two seeds.
 */
export function demoPaired(rows: DemoRowLike[]): NumberTable | null {
  const label = (v: string) => DEMO_VARIANT_LABELS[v as DemoVariant] ?? v;
  const d = pairedDifferences(rows.map((r) => ({ variant: label(r.variant), seed: r.seed, miou: r.miou, contourF: r.contourF })), 'baseline', BINOMIAL_VS_MULTINOMIAL);
  if (d.length === 0) return null;
  return {
    caption: 'Paired differences over seeds (same seed, same data): each variant against the baseline, then the binomial ISL against the multinomial one (the paper\'s central claim); mean and 95% t interval, in percentage points. An interval that contains 0 is no evidence of a difference.',
    headers: ['comparison', 'seeds', 'Δ mIoU', '95% interval', 'Δ contour F', '95% interval'],
    rows: d.map((x) => {
      // Cell keys: the variant's label, or "<variant> vs <reference>" for a comparison not against the baseline.
      const l = x.against === 'baseline' ? x.variant : `${x.variant} vs ${x.against}`;
      return {
        label: `${x.variant} − ${x.against}`,
        cells: [
          { text: x.seeds.join(', ') },
          { key: `paired:${l}:miou`, value: x.miou.mean, percent: true, signed: true }, { key: `paired:${l}:miou:ci`, value: x.miou.mean, interval: [x.miou.lo, x.miou.hi], percent: true },
          { key: `paired:${l}:contourF`, value: x.contourF.mean, percent: true, signed: true }, { key: `paired:${l}:contourF:ci`, value: x.contourF.mean, interval: [x.contourF.lo, x.contourF.hi], percent: true },
        ],
      };
    }),
  };
}

interface PipelineJson {
  options: { data: string; trainSplit: string; evalSplit: string; camRun?: string; baseline?: string; islWeight?: number; fslWeight?: number; backbone?: string; seed?: number };
}

/** Gathers a pipeline folder. */
async function gatherPipeline(dir: string, o: Required<Omit<GatherOptions, 'reporter'>>, reporter: ProgressReporter): Promise<ReportData> {
  const notes: string[] = [];
  const pj = readJsonOrNull<PipelineJson>(join(dir, 'pipeline.json'))!;
  const op = pj.options;
  // The CAM network's own config says which losses it trained with (with --cam-run the pipeline's weights are unused).
  const cam = readJsonOrNull<{ baseline?: string; islWeight?: number; fslWeight?: number }>(join(op.camRun ?? join(dir, 'train-cam'), 'config.json')) ?? op;
  const name = `${cam.baseline ?? 'cam'}${(cam.islWeight ?? 0) > 0 ? ' +ISL' : ''}${(cam.fslWeight ?? 0) > 0 ? ' +FSL' : ''}`;
  const f = gatherStageFolder(dir, name);
  if (op.camRun && !f.training.some((t) => t.kind === 'cam')) {
    const pts = readMetricsJsonl(op.camRun);
    if (pts?.length) f.training.unshift({ kind: 'cam', series: { name, variant: name, seedIndex: 0, points: pts } });
  }
  const stageNames = f.evals.filter((e) => e.eval).map((e) => e.stage);
  const classNames = f.evals.find((e) => e.eval)?.eval?.classNames ?? [];
  const perClass: PerClassGroup[] = stageNames.length === 0 ? [] : [{
    title: `Per class at each stage (${op.trainSplit} for CAM, +CRF and random walk; ${op.evalSplit} for the final segmentation)`, classNames,
    series: f.evals.filter((e) => e.eval).map((e) => ({ name: e.stage, variant: e.stage, iou: e.eval!.iou, contourF: e.eval!.contourFPerClass })),
  }];
  const missing = f.evals.filter((e) => !e.eval).map((e) => e.stage);
  if (missing.length) notes.push(`Not evaluated yet (unfinished pipeline): ${missing.join(', ')}.`);
  const data = existsSync(op.data) ? op.data : resolve(dir, op.data);
  if (!existsSync(data)) notes.push(`${op.data}: the data set is not there any more; the image browser is left out.`);
  const list = existsSync(data) ? [
    ...ids(data, op.trainSplit, o.trainImages).map((id) => ({ id, split: op.trainSplit, sources: trainImageSources(dir, name, id) })),
    ...ids(data, op.evalSplit, o.evalImages).map((id) => ({ id, split: op.evalSplit, sources: evalImageSources(dir, name, id) })),
  ] : [];
  return {
    title: `hfpl pipeline: ${name}`,
    intro: [`Data ${op.data} (train split ${op.trainSplit}, evaluation split ${op.evalSplit}); backbone ${op.backbone ?? '-'}; CAM network ${op.camRun ? `${op.camRun} (` : '('}ISL weight ${cam.islWeight ?? '-'}, FSL weight ${cam.fslWeight ?? '-'}); seed ${op.seed}.`],
    runDir: dir, classNames, variants: [name, ...stageNames], summary: null,
    training: stageTrainingGroups([f], { cam: 'CAM network training', aff: 'AffinityNet training', seg: 'Segmentation network training' }),
    sweeps: stageSweepGroups([f], { cam: `CAM pseudo-labels on ${op.trainSplit}: mIoU against the background threshold t`, crf: '+CRF: mIoU at the background thresholds tried' }),
    perClass, stages: stageTable([f], op.evalSplit), paired: null,
    images: await browserImages(data, list, o.maxSide, reporter), notes,
  };
}

/** True when `dir` looks like a demo folder (results.json or runs/<variant>-s<seed>). */
function isDemoDir(dir: string): boolean {
  if (existsSync(join(dir, 'results.json'))) return true;
  return existsSync(join(dir, 'runs')) && readdirSync(join(dir, 'runs')).some((n) => /^\w+-s\d+$/.test(n));
}

/**
 * Gathers the report data of a demo or pipeline folder; E_IO naming the folder when it is
 * neither.
 *
 * @example
 * const data = await gatherReport('runs/demo');
 * data.summary?.rows.map((r) => r.label); // ['baseline', '+ISL +FSL']
 */
export async function gatherReport(dir: string, opts: GatherOptions = {}): Promise<ReportData> {
  if (!existsSync(dir)) throw new HfplError('E_IO', `${dir}: run folder not found`);
  const o = { evalImages: opts.evalImages ?? 6, trainImages: opts.trainImages ?? 3, maxSide: opts.maxSide ?? 192 };
  const reporter = opts.reporter ?? silentReporter;
  if (isDemoDir(dir)) return gatherDemo(dir, o, reporter);
  if (existsSync(join(dir, 'pipeline.json'))) return gatherPipeline(dir, o, reporter);
  throw new HfplError('E_IO', `${dir}: not an hfpl run folder (no results.json or runs/<variant>-s<seed>/ of a demo, no pipeline.json of a pipeline)`);
}
