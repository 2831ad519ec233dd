/**
 * Step-by-step gradient agreement of two engine paths on the demo's CAM training (issue 12):
 * teacher-forced steps of the pre-training and the fine-tuning configurations (see
 * src/train/path-agreement-suite.ts) on the demo's synthetic data (the `--quick` demo's 160
 * training images, generated once into --data), with the demo's network, crop and batch.
 * Prints per-step progress, then per configuration the worst parameters, then the per-kernel table
 * (native kernels against the wasm ones on identical inputs, when the native path is compared).
 *
 * Usage: node dist/bench/engine-agreement.js [--steps 200] [--configs pretrain,both,...]
 *   [--paths native,wasm | wasm,cpu | native:2,native:1 (libtorch threads)] [--batch 8] [--crop 128] [--data runs/bench-agreement/data] [--json out.json]
 *   [--native-kernels Conv2D,...] (only these run natively on the native path: bisects a difference)
 *   [--kernels-every 10] (per-kernel comparison on every n-th step)
 * Last line: {"steps", "max_rel_grad_diff", "max_loss_rel_diff", "paths", "configs": {...}, "kernels": [...]}.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { initEngine } from '../src/engine/init.js';
import { installPathSwitch, kernelDiffs, setNativeSubset, traceRelu, type EnginePath } from '../src/engine/agreement/engine-paths.js';
import { generateSynthDataset } from '../src/data/synth/generate.js';
import { DEMO_PLANS } from '../src/train/demo-run.js';
import { AGREEMENT_CONFIGS, runAgreementSuite, type AgreementConfig } from '../src/train/path-agreement-suite.js';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
}

const steps = Number(arg('steps', '200'));
const configs = arg('configs', AGREEMENT_CONFIGS.join(',')).split(',') as AgreementConfig[];
const paths = arg('paths', 'native,wasm').split(',') as [EnginePath, EnginePath];
const data = arg('data', join('runs', 'bench-agreement', 'data'));
const jsonOut = arg('json', '');
const plan = { ...DEMO_PLANS.default, batchSize: Number(arg('batch', String(DEMO_PLANS.default.batchSize))), crop: Number(arg('crop', String(DEMO_PLANS.default.crop))) };
if (plan.crop !== DEMO_PLANS.default.crop) plan.resizeLong = [Math.round(plan.crop * 0.875), Math.round(plan.crop * 1.25)];

const engine = await initEngine({ backend: 'wasm', threads: Number(arg('threads', '1')) });
if (paths.some((p) => p.startsWith('native')) && !(engine.native && installPathSwitch(Number(arg('threads', '1'))))) {
  console.log(`native path unavailable: ${engine.nativeReason}`);
  process.exit(1);
}
// ReLU sign flips between the paths' forward passes.
traceRelu(true);
const subset = arg('native-kernels', '');
if (subset) setNativeSubset(subset.split(','));
await generateSynthDataset({ out: data, train: DEMO_PLANS.quick.train, val: DEMO_PLANS.quick.val, seed: 0 });
console.log(`paths ${paths.join(' vs ')} (reference ${paths[1]}); ${steps} teacher-forced steps per config: ${configs.join(', ')}; batch ${plan.batchSize}, crop ${plan.crop}, backbone ${plan.backbone}`);
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const reports = await runAgreementSuite({
  data, plan, configs, steps, paths, compareKernels: paths[0] === 'native' && paths[1] === 'wasm', compareKernelsEvery: Number(arg('kernels-every', '10')),
  onStep: (c, s) => {
    if (s.step % 10 === 0 || s.maxRelGradDiff > 1e-4) {
      console.log(`${c} step ${s.step}: loss ${s.loss[0].toFixed(6)} / ${s.loss[1].toFixed(6)} (rel ${s.lossRelDiff.toExponential(1)}), max rel grad diff ${s.maxRelGradDiff.toExponential(2)} (${s.worstParam}), ReLU flips ${s.reluFlips}`);
    }
  },
});
const kernels = kernelDiffs();
for (const [c, r] of Object.entries(reports)) {
  console.log(`\n${c}: ${r.steps} steps, max rel grad diff ${r.maxRelGradDiff.toExponential(2)}, max loss rel diff ${r.maxLossRelDiff.toExponential(2)}; steps with ReLU flips ${r.perStep.filter((s) => s.reluFlips > 0).length}, max rel grad diff on the others ${r.maxRelGradDiffNoFlips.toExponential(2)}`);
  for (const l of r.perLayer) console.log(`  ${l.param.padEnd(32)} max ${l.maxRelDiff.toExponential(2)} (step ${l.atStep})  median ${l.medianRelDiff.toExponential(2)}`);
}
if (kernels.length > 0) {
  console.log('\nper kernel (native vs wasm outputs on identical inputs):');
  for (const k of kernels) console.log(`  ${k.kernel.padEnd(36)} ${k.maxRelDiff.toExponential(2)}  x${k.calls}  ${k.geometry}`);
}
const all = Object.values(reports);
const summary = {
  steps: all.reduce((s, r) => s + r.steps, 0),
  steps_per_config: steps,
  max_rel_grad_diff: Math.max(0, ...all.map((r) => r.maxRelGradDiff)),
  max_loss_rel_diff: Math.max(0, ...all.map((r) => r.maxLossRelDiff)),
  max_rel_grad_diff_no_relu_flips: Math.max(-1, ...all.map((r) => r.maxRelGradDiffNoFlips)),
  steps_with_relu_flips: all.reduce((s, r) => s + r.perStep.filter((p) => p.reluFlips > 0).length, 0),
  paths,
  cpu_seconds: Number(((process.cpuUsage(cpu0).user + process.cpuUsage(cpu0).system) / 1e6).toFixed(1)),
  wall_seconds: Number(((performance.now() - t0) / 1000).toFixed(1)),
  configs: Object.fromEntries(Object.entries(reports).map(([c, r]) => [c, {
    steps: r.steps, max_rel_grad_diff: r.maxRelGradDiff, max_loss_rel_diff: r.maxLossRelDiff,
    max_rel_grad_diff_no_relu_flips: r.maxRelGradDiffNoFlips, steps_with_relu_flips: r.perStep.filter((p) => p.reluFlips > 0).length,
    relu_flips_total: r.perStep.reduce((s, p) => s + Math.max(0, p.reluFlips), 0),
    median_step_max_rel_grad_diff: [...r.perStep.map((s) => s.maxRelGradDiff)].sort((a, b) => a - b)[Math.floor(r.perStep.length / 2)] ?? 0,
    worst_layers: r.perLayer.slice(0, 5).map((l) => ({ param: l.param, max: l.maxRelDiff, step: l.atStep, median: l.medianRelDiff })),
  }])),
  kernels: Object.values(kernels.reduce<Record<string, { kernel: string; max_rel_diff: number; calls: number; worst_geometry: string }>>((acc, k) => {
    const e = acc[k.kernel] ?? (acc[k.kernel] = { kernel: k.kernel, max_rel_diff: 0, calls: 0, worst_geometry: k.geometry });
    e.calls += k.calls;
    if (k.maxRelDiff > e.max_rel_diff) { e.max_rel_diff = k.maxRelDiff; e.worst_geometry = k.geometry; }
    return acc;
  }, {})),
};
if (jsonOut) writeFileSync(jsonOut, JSON.stringify({ summary, reports, kernels }, null, 1));
console.log(JSON.stringify(summary));
