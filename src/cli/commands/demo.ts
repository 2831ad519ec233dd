/**
 * `hfpl demo` (what `npm start` runs): the synthetic benchmark end to end: data, CAM training
 * of the baseline and the add-on variants (same seed and steps), CAM inference on val,
 * evaluation, a table and `<out>/report.md` with example panels. See src/train/demo-run.ts.
 */
import { rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { Command } from 'commander';
import { HfplError } from '../../errors.js';
import { describeEngine, initEngine } from '../../engine/init.js';
import { DEMO_PLANS_BY_BENCH, DEMO_VARIANTS, runDemo, type DemoPlan, type DemoVariant } from '../../train/demo-run.js';
import { createReporter } from '../../util/progress.js';
import { formatDemoTable, writeDemoPanels, writeDemoReport } from '../../viz/demo-report.js';
import { readIdList } from '../../eval/run-eval.js';
import { join } from 'node:path';
import { numberFlag } from './train-cam.js';
import { parseSpatialScale } from './pipeline.js';
import { FULL_SEG_SCALES, formatFullStagesTable, runFullStages } from '../../pipeline/full-stages.js';
import { formatStagePairedTable, stagePairedDifferences, type SeedStageRows } from '../../pipeline/stage-paired.js';
import { writeFileAtomic } from '../../util/atomic-write.js';
import { formatAffinityDiagnostics } from '../../infer/affinity-diagnostics.js';
import { BINOMIAL_VS_MULTINOMIAL, DEMO_VARIANT_LABELS, type DemoRow } from '../../train/demo-run.js';
import type { RgbImage } from '../../data/types.js';
import { finalSegTile, writeStagePanels } from '../../viz/stage-panels.js';
import { writeReportHtml } from '../../viz/report-html/write-report.js';
import { describeReportHtml } from './report.js';

interface DemoFlags {
  bench?: string;
  quick?: boolean;
  full?: boolean;
  fullVariants?: string;
  out: string;
  seed?: string;
  seeds?: string;
  variants?: string;
  steps?: string;
  pretrainSteps?: string;
  force?: boolean;
  quiet?: boolean;
  threads?: string;
  parallel?: string;
  replicas?: string;
  spatialScale?: string;
}

/** A comma-separated list of demo variants. */
function parseVariants(flag: string, list: string): DemoVariant[] {
  const vs = list.split(',').map((s) => s.trim());
  const bad = vs.find((v) => !(v in DEMO_VARIANTS));
  if (bad !== undefined || vs.length === 0) throw new HfplError('E_CONFIG', `${flag}: '${bad}' is unknown; must be a list of ${Object.keys(DEMO_VARIANTS).join(', ')}`);
  return vs as DemoVariant[];
}

/** The plan the flags select (quick / default / full, then --seed(s), --variants, --steps). */
export function demoPlanFromFlags(f: DemoFlags): DemoPlan {
  if (f.quick && f.full) throw new HfplError('E_CONFIG', '--quick and --full exclude each other');
  const bench = f.bench ?? 'v2';
  if (bench !== 'v1' && bench !== 'v2') throw new HfplError('E_CONFIG', `--bench: '${bench}' is unknown; must be v1 or v2`);
  const plan: DemoPlan = { ...DEMO_PLANS_BY_BENCH[bench][f.quick ? 'quick' : f.full ? 'full' : 'default'] };
  if (f.seed !== undefined && f.seeds !== undefined) throw new HfplError('E_CONFIG', '--seed and --seeds exclude each other');
  if (f.seed !== undefined) plan.seeds = [numberFlag('--seed', f.seed, true)!];
  if (f.seeds !== undefined) plan.seeds = f.seeds.split(',').map((s) => numberFlag('--seeds', s.trim(), true)!);
  if (plan.seeds.some((s) => s < 0)) throw new HfplError('E_CONFIG', `--seeds: seeds must be integers >= 0, got '${f.seeds ?? f.seed}'`);
  if (f.variants !== undefined) plan.variants = parseVariants('--variants', f.variants);
  if (f.steps !== undefined) {
    const s = numberFlag('--steps', f.steps, true)!;
    if (s < 1) throw new HfplError('E_CONFIG', `--steps: expected an integer >= 1, got '${f.steps}'`);
    plan.steps = s;
  }
  if (f.pretrainSteps !== undefined) {
    const s = numberFlag('--pretrain-steps', f.pretrainSteps, true)!;
    if (s < 0) throw new HfplError('E_CONFIG', `--pretrain-steps: expected an integer >= 0, got '${f.pretrainSteps}'`);
    plan.pretrainSteps = s;
  }
  plan.spatialScale = parseSpatialScale(f.spatialScale) ?? plan.spatialScale;
  return plan;
}

/** The variants `--full` refines: `--full-variants` (a subset of the plan's), else all. */
export function demoRefinedVariants(f: DemoFlags, plan: DemoPlan): DemoVariant[] {
  if (f.fullVariants === undefined) return plan.variants;
  if (!f.full) throw new HfplError('E_CONFIG', '--full-variants goes with --full');
  const refine = parseVariants('--full-variants', f.fullVariants);
  const stray = refine.find((v) => !plan.variants.includes(v));
  if (stray) throw new HfplError('E_CONFIG', `--full-variants: '${stray}' is not among --variants (${plan.variants.join(', ')})`);
  return refine;
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('run the whole pipeline on a generated data set (what `npm start` runs)')
    .option('--bench <name>', 'synthetic benchmark: v2 (natural-photo miniature, docs/benchmark-v2.md) or v1 (class marks on plain bodies)', 'v2')
    .option('--quick', 'a 1-2 minute variant (fewer images and steps, baseline and +both only)')
    .option('--full', 'the default demo, then the refinement stages (CAM, +CRF, random walk, final segmentation) for each variant')
    .option('--full-variants <list>', 'with --full: the variants refined (default: every variant of --variants)')
    .option('--out <dir>', 'output folder (data, runs, report.md, panels)', 'runs/demo')
    .option('--seed <n>', 'one seed for every variant (default 0)')
    .option('--seeds <list>', 'several seeds, e.g. 0,1,2: the table shows mean ± spread')
    .option('--variants <list>', 'subset of baseline,isl,fsl,both,isl-mn,both-mn (-mn: the multinomial ISL of ICASSP 2022)')
    .option('--steps <n>', 'training steps per variant')
    .option('--pretrain-steps <n>', 'steps of the shared baseline pre-training that every variant fine-tunes (0 = all from scratch)')
    .option('--force', 'delete --out first and start over (otherwise finished work is reused)')
    .option('--quiet', 'no progress bars')
    .option('--spatial-scale <auto|s>', 'with --full: scale the CRF sxy and the pair / walk radius by s (auto = long side / 500; 1 = the reference values; default auto for v2, 1 for v1)')
    .option('--parallel <n>', `fine-tuning variants trained at once (a thread each), image workers of inference and evaluation, and with --full the cores for refining variants at once (a thread each; 3 variants on 2 cores run as 3 threads); results do not depend on it (default: every core, ${availableParallelism()} here)`)
    .option('--replicas <n>', `data-parallel replicas of the backbone pre-training on the wasm or cpu engine (a thread each; the result changes by float32 rounding only); the libtorch kernels use --threads instead (default: every core, ${availableParallelism()} here)`)
    .option('--threads <n>', 'intra-op threads of the native (libtorch) kernels, when built (default 1)')
    .action(async (f: DemoFlags) => {
      const t0 = performance.now();
      const plan = demoPlanFromFlags(f);
      const refine = demoRefinedVariants(f, plan);
      if (f.force) rmSync(f.out, { recursive: true, force: true });
      const engine = await initEngine({ threads: numberFlag('--threads', f.threads, true) ?? 1 });
      console.log(`hfpl demo (${f.quick ? 'quick' : f.full ? 'full' : 'default'}): backend ${describeEngine(engine)}; output ${f.out}`);
      const parallel = numberFlag('--parallel', f.parallel, true) ?? availableParallelism();
      if (parallel < 1) throw new HfplError('E_CONFIG', `--parallel: expected an integer >= 1, got '${f.parallel}'`);
      const replicas = numberFlag('--replicas', f.replicas, true) ?? availableParallelism();
      if (replicas < 1) throw new HfplError('E_CONFIG', `--replicas: expected an integer >= 1, got '${f.replicas}'`);
      const result = await runDemo(f.out, plan, { log: (l) => console.log(l), reporter: createReporter(f.quiet ? 'silent' : 'bar'), parallel, replicas });
      const notes = [`Backend: ${describeEngine(engine)}.`];
      const weak = result.rows.filter((r) => r.mAP < 0.6);
      if (weak.length > 0) {
        notes.push(`Caution: ${weak.length} of ${result.rows.length} CAM networks classify poorly on val (mAP < 60%: ` +
          `${weak.map((r) => `${r.variant} seed ${r.seed}`).join(', ')}); their pseudo-labels mostly reflect localisation by a weak classifier, so the comparison says little (BENCHMARK.md).`);
      }
      if (plan.seeds.length > 1 && plan.variants.length > 1 && plan.variants.includes('baseline')) {
        // Every variant's CAM stage against the baseline, paired by seed.
        const camRows = plan.seeds.map((seed) => ({
          seed, rows: result.rows.filter((r) => r.seed === seed).map((r) => ({ stage: 'CAM' as const, variant: DEMO_VARIANT_LABELS[r.variant], split: 'val', miou: r.miou, contourF: r.contourF, numImages: plan.val })),
        }));
        const t = formatStagePairedTable(stagePairedDifferences(camRows, 'baseline', BINOMIAL_VS_MULTINOMIAL));
        notes.push(`## Paired differences, CAM stage (seeds ${plan.seeds.join(', ')})\n\nEach variant − baseline on the same seed, then the binomial ISL − the multinomial one (the paper's central claim) where both ran; mean and 95% t interval over seeds, in percentage points.\n\n${t}`);
        console.log('');
        console.log(t);
      }
      const ids = readIdList(join(result.data, 'ImageSets', 'Segmentation', 'val.txt')).slice(0, 4);
      let finalTile: ((row: DemoRow, id: string) => RgbImage[]) | undefined;
      if (f.full) {
        // Every seed through the refinement stages; the per-stage paired differences over seeds.
        const perSeed: SeedStageRows[] = [];
        const first = plan.seeds[0];
        let firstDirs: { name: string; dir: string }[] = [];
        for (const seed of plan.seeds) {
          const variants = result.rows.filter((r) => r.seed === seed && refine.includes(r.variant)).map((r) => ({ name: DEMO_VARIANT_LABELS[r.variant], camRun: r.run }));
          console.log(`5. refinement stages for ${variants.map((v) => v.name).join(', ')} (seed ${seed})`);
          const fullOut = join(f.out, 'full', `s${seed}`);
          const full = await runFullStages({
            // Both splits for every stage on the first seed (its table); the others only what the paired table needs
            // (pseudo-label stages on the training images, the final segmentation on val): 30% less time a seed.
            data: result.data, out: fullOut, variants, seed, spatialScale: plan.spatialScale, camScales: plan.scales, bothSplits: seed === first, parallel,
            // v2: the segmentation network trains and is tested at the CAM network's scale too.
            ...(plan.bench === 'v2' ? { segResizeLong: plan.resizeLong, segScales: FULL_SEG_SCALES.map((x) => x * plan.scoreScale) } : {}),
            ...(plan.segLr !== null ? { segLr: plan.segLr } : {}),
          }, { log: (l) => console.log(l), reporter: createReporter(f.quiet ? 'silent' : 'bar') });
          perSeed.push({ seed, rows: full.rows });
          if (seed !== first) continue;
          const table = formatFullStagesTable(full.rows, full.diagnostics);
          const why = Object.entries(full.diagnostics).filter(([, d]) => d).map(([v, d]) => `- ${v}: ${formatAffinityDiagnostics(d!)}.`);
          firstDirs = variants.map((v) => ({ name: v.name, dir: join(fullOut, v.name) }));
          const trainIds = readIdList(join(result.data, 'ImageSets', 'Segmentation', 'train.txt')).slice(0, 3);
          const stagePanels = await writeStagePanels(f.out, result.data, firstDirs, trainIds);
          notes.push(`## Refinement stages (seed ${seed}; mIoU / contour F in %; ${(full.seconds / 60).toFixed(1)} min in this run, finished stages are reused)\n\n\`\`\`\n${table}\n\`\`\`` +
            (why.length > 0 ? `\n\nRandom-walk diagnostics (GT pairs on the stride-8 grid; W = 1 is full affinity):\n\n${why.join('\n')}` : '') +
            `\n\nTraining images, a row per variant: image | ground truth | CAM | +CRF | random walk (each at the threshold its row reports).\n\n` +
            stagePanels.map((rel) => `![${rel}](${rel})`).join('\n'));
          console.log('');
          console.log(table);
          for (const w of why) console.log(w);
        }
        finalTile = (row, id) => firstDirs.filter((d) => d.name === DEMO_VARIANT_LABELS[row.variant]).map((d) => finalSegTile(d, id));
        // Rows every seed has (the first seed also has the other split of each stage).
        const paired = stagePairedDifferences(perSeed, 'baseline', BINOMIAL_VS_MULTINOMIAL).filter((r) => plan.seeds.length === 1 || r.seeds.length === plan.seeds.length);
        if (paired.length > 0) {
          const ptable = formatStagePairedTable(paired);
          await writeFileAtomic(join(f.out, 'full', 'stage-paired.json'), JSON.stringify({ perSeed, paired }, null, 2) + '\n');
          notes.push(`## Paired differences per stage (seeds ${plan.seeds.join(', ')})\n\nVariant − baseline on the same seed (same data order, initialisation, pre-training and sampling), then the binomial ISL − the multinomial one where both were refined; mean and 95% t interval over seeds, in percentage points; an interval that contains 0 is no evidence of a difference.\n\n${ptable}`);
          console.log('');
          console.log(ptable);
        }
      }
      const panels = await writeDemoPanels(result, ids, finalTile);
      await writeDemoReport(result, panels, notes, finalTile ? ['final segmentation'] : []);
      for (const n of notes.slice(1).filter((x) => !x.startsWith('## '))) console.log(n);
      console.log('');
      console.log(formatDemoTable(result.rows));
      console.log('');
      const html = await writeReportHtml(f.out, { reporter: createReporter(f.quiet ? 'silent' : 'bar') });
      console.log(`demo finished in ${((performance.now() - t0) / 60000).toFixed(1)} min; report ${join(f.out, 'report.md')} and ${describeReportHtml(html)}`);
    });
}
