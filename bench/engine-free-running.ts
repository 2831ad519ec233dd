/**
 * Free-running agreement of engine paths (issue 12): for each seed and path, the demo's
 * pre-training (baseline losses, seeded by the seed, not fixed at 0 as in the demo, so that the
 * pre-training's outcome varies too) and its fine-tuning variants, then CAM inference on val
 * and the evaluation; per path the distribution of final loss, val mAP and CAM mIoU, and
 * Welch t and Mann-Whitney U tests between the paths. Each path runs in its own child process
 * (HFPL_NATIVE=1/0, or HFPL_BACKEND=cpu), the paths concurrently; finished runs are reused.
 *
 * Usage: node dist/bench/engine-free-running.js [--seeds 0,1,2,3,4] [--paths native,wasm | native:1,native:2 (threads)]
 *   [--bench v2|v1] [--plan quick|default] [--pretrain-steps N] [--steps N] [--crop N] [--variants baseline,both] [--out runs/bench-free-running]
 *   or: node dist/bench/engine-free-running.js --demos <demo dir A>,<demo dir B> (two finished `hfpl demo` folders, e.g. with and without libtorch)
 * Last line: {"paths", "seeds", "plan", "rows": [...], "stats": {"<variant>.<metric>": {means, sds, welch_p, mann_whitney_p}}}.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { initEngine, describeEngine } from '../src/engine/init.js';
import { generateSynthDataset } from '../src/data/synth/generate.js';
import { runInferCam } from '../src/infer/cam-run.js';
import { runEval } from '../src/eval/run-eval.js';
import { DEMO_PLANS_BY_BENCH, demoSynthOptions, demoTrainConfig, type DemoPlan, type DemoVariant } from '../src/train/demo-run.js';
import { readRunResult } from '../src/train/checkpoint.js';
import { runTrainCam, type TrainCamResult } from '../src/train/train-cam.js';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mannWhitneyU, meanSd, welchTTest } from '../src/util/two-sample.js';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
}

interface Row { path: string; seed: number; variant: string; finalLoss: number; mAP: number; miou: number; contourF: number; engine: string }

const base = DEMO_PLANS_BY_BENCH[arg('bench', 'v2') as 'v1' | 'v2'][arg('plan', 'quick') as 'quick' | 'default'];
const plan: DemoPlan = {
  ...base,
  pretrainSteps: Number(arg('pretrain-steps', String(base.pretrainSteps))),
  steps: Number(arg('steps', String(base.steps))),
  variants: arg('variants', base.variants.join(',')).split(',') as DemoVariant[],
  seeds: arg('seeds', '0,1,2,3,4').split(',').map(Number),
};
if (arg('crop', '') !== '') {
  // A smaller crop (and long-side resize range in the same proportion) to fit a time budget.
  const crop = Number(arg('crop', ''));
  plan.resizeLong = [Math.round((base.resizeLong[0] * crop) / base.crop), Math.round((base.resizeLong[1] * crop) / base.crop)];
  plan.crop = crop;
}
const out = arg('out', join('runs', 'bench-free-running'));
const child = arg('child', '');

async function train(data: string, run: string, cfg: ReturnType<typeof demoTrainConfig>): Promise<TrainCamResult> {
  return readRunResult<TrainCamResult>(run) ?? runTrainCam({ data, out: run, config: cfg, force: true });
}

async function runChild(path: string): Promise<void> {
  // 'native:<n>': the native path with n libtorch threads.
  const isNative = path.startsWith('native');
  const threads = path.startsWith('native:') ? Number(path.slice(7)) : 1;
  const engine = await initEngine({ backend: path === 'cpu' ? 'cpu' : 'wasm', native: isNative, threads });
  if (isNative !== engine.native) throw new Error(`path ${path}: engine is ${describeEngine(engine)} (${engine.nativeReason})`);
  const data = join(out, 'data');
  const synth = await generateSynthDataset(demoSynthOptions(plan, data));
  for (const seed of plan.seeds) {
    const dir = join(out, path.replace(':', '-t'), `s${seed}`);
    const pre = await train(data, join(dir, 'pretrain'), demoTrainConfig(plan, null, seed));
    const emit = async (variant: string, run: string, tr: TrainCamResult): Promise<void> => {
      const inf = await runInferCam({ run, data, split: 'val', out: join(run, 'infer-val'), scales: plan.scales, flip: plan.flip, scoreScale: plan.scoreScale });
      const ev = await runEval({
        predDir: join(run, 'infer-val', 'cams'), gtDir: join(data, 'SegmentationClass'), listFile: join(data, 'ImageSets', 'Segmentation', 'val.txt'),
        numClasses: synth.classNames.length, classNames: synth.classNames, cams: true, out: join(run, 'eval-val.json'),
      });
      const row: Row = { path, seed, variant, finalLoss: tr.finalLoss, mAP: inf.classification.mAP, miou: ev.miou, contourF: ev.contourF, engine: describeEngine(engine) };
      console.log(JSON.stringify(row));
    };
    await emit('pretrain', join(dir, 'pretrain'), pre);
    for (const variant of plan.variants) {
      const run = join(dir, variant);
      const tr = await train(data, run, demoTrainConfig(plan, variant, seed, join(dir, 'pretrain', 'model.json')));
      await emit(variant, run, tr);
    }
  }
}

async function runParent(): Promise<void> {
  const paths = arg('paths', 'native,wasm').split(',');
  const script = fileURLToPath(import.meta.url);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  console.log(`free-running: paths ${paths.join(', ')}; seeds ${plan.seeds.join(',')}; data ${plan.train}/${plan.val}; pretrain ${plan.pretrainSteps} steps (lr ${plan.lr}), fine-tune ${plan.steps} steps (${plan.variants.join(', ')}); crop ${plan.crop}, batch ${plan.batchSize}, backbone ${plan.backbone}`);
  // The data set first, once, so the children do not write it concurrently.
  await generateSynthDataset(demoSynthOptions(plan, join(out, 'data')));
  const rows: Row[] = [];
  await Promise.all(paths.map((path) => new Promise<void>((resolve, reject) => {
    const env = { ...process.env, HFPL_NATIVE: path.startsWith('native') ? '1' : '0', ...(path === 'cpu' ? { HFPL_BACKEND: 'cpu' } : {}) };
    const proc = spawn(process.execPath, [script, ...process.argv.slice(2), '--child', path], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    createInterface({ input: proc.stdout }).on('line', (line) => {
      if (!line.startsWith('{')) return;
      const r = JSON.parse(line) as Row;
      rows.push(r);
      console.log(`${r.path} seed ${r.seed} ${r.variant}: final loss ${r.finalLoss.toFixed(4)}, mAP ${(100 * r.mAP).toFixed(1)}, mIoU ${(100 * r.miou).toFixed(1)}`);
    });
    proc.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`child ${path} exited with ${code}`))));
  })));
  const stats = compareRows(rows, paths, ['pretrain', ...plan.variants]);
  const cpu = process.cpuUsage(cpu0);
  console.log(JSON.stringify({ paths, seeds: plan.seeds, plan: { train: plan.train, val: plan.val, pretrainSteps: plan.pretrainSteps, steps: plan.steps, crop: plan.crop, batchSize: plan.batchSize, lr: plan.lr, fineTuneLr: plan.fineTuneLr, scales: plan.scales }, wall_seconds: Math.round((performance.now() - t0) / 1000), parent_cpu_seconds: (cpu.user + cpu.system) / 1e6, rows, stats }));
}

/** Per run kind and metric: mean ± sd per path, Welch t and Mann-Whitney U between the first two paths (printed and returned). */
function compareRows(rows: Row[], paths: string[], variants: string[]): Record<string, unknown> {
  const stats: Record<string, unknown> = {};
  console.log('\nmetric: mean ± sd per path; Welch p; Mann-Whitney p');
  for (const v of variants) {
    for (const m of ['finalLoss', 'mAP', 'miou', 'contourF'] as const) {
      const samples = paths.map((p) => rows.filter((r) => r.path === p && r.variant === v && Number.isFinite(r[m])).sort((a, b) => a.seed - b.seed).map((r) => r[m]));
      if (samples.length < 2 || samples.some((s) => s.length < 2)) continue;
      const w = welchTTest(samples[0], samples[1]);
      const u = mannWhitneyU(samples[0], samples[1]);
      const ms = samples.map((s) => meanSd(s));
      stats[`${v}.${m}`] = { values: samples, means: ms.map((x) => x.mean), sds: ms.map((x) => x.sd), welch_t: w.t, welch_p: w.p, mann_whitney_u: u.u, mann_whitney_p: u.p };
      const f = (x: number): string => (m === 'finalLoss' ? x.toFixed(4) : (100 * x).toFixed(1));
      console.log(`${`${v}.${m}`.padEnd(20)} ${paths.map((p, i) => `${p} ${f(ms[i].mean)} ± ${f(ms[i].sd)}`).join('  ')}  Welch p ${w.p.toFixed(3)}  MW p ${u.p.toFixed(3)}`);
    }
  }
  return stats;
}

/**
 * `--demos a,b`: compares two finished `hfpl demo` folders (e.g. the same seeds run with and
 * without libtorch), read from their run folders (so seeds run by separate demo processes into
 * one folder all count): each seed's pre-training final loss (`runs/pretrain-s<seed>/DONE`) and
 * each variant's final loss, val mAP and CAM mIoU / contour F (`runs/<variant>-s<seed>/DONE`,
 * `infer-val/summary.json`, `eval-val.json`).
 */
function compareDemos(dirs: string[]): void {
  const rows: Row[] = [];
  for (const dir of dirs) {
    const found: Row[] = [];
    for (const name of readdirSync(join(dir, 'runs')).sort()) {
      const m = /^(.+)-s(\d+)$/.exec(name);
      if (!m) continue;
      const run = join(dir, 'runs', name);
      const done = readRunResult<TrainCamResult>(run);
      if (!done) continue;
      const [variant, seed] = [m[1], Number(m[2])];
      if (variant === 'pretrain') {
        found.push({ path: dir, seed, variant, finalLoss: done.finalLoss, mAP: NaN, miou: NaN, contourF: NaN, engine: '' });
        continue;
      }
      const summary = join(run, 'infer-val', 'summary.json'), ev = join(run, 'eval-val.json');
      if (!existsSync(summary) || !existsSync(ev)) continue;
      const cls = (JSON.parse(readFileSync(summary, 'utf8')) as { classification: { mAP: number } }).classification;
      const e = JSON.parse(readFileSync(ev, 'utf8')) as { miou: number; contourF: number };
      found.push({ path: dir, seed, variant, finalLoss: done.finalLoss, mAP: cls.mAP, miou: e.miou, contourF: e.contourF, engine: '' });
    }
    found.sort((a, b) => (a.variant === 'pretrain' ? 0 : 1) - (b.variant === 'pretrain' ? 0 : 1) || a.seed - b.seed);
    rows.push(...found);
  }
  const variants = [...new Set(rows.map((r) => r.variant))];
  for (const r of rows) console.log(`${r.path} seed ${r.seed} ${r.variant}: final loss ${r.finalLoss.toFixed(4)}${Number.isFinite(r.mAP) ? `, mAP ${(100 * r.mAP).toFixed(1)}, mIoU ${(100 * r.miou).toFixed(1)}, contour F ${(100 * r.contourF).toFixed(1)}` : ''}`);
  const stats = compareRows(rows, dirs, variants);
  console.log(JSON.stringify({ demos: dirs, seeds: [...new Set(rows.map((r) => r.seed))], rows, stats }));
}

if (child) await runChild(child);
else if (arg('demos', '') !== '') compareDemos(arg('demos', '').split(','));
else await runParent();
