/**
 * Per-kernel profile of a training step of the benchmark network (src/models/benchmark-net.ts),
 * or with `--net cam` of the demo's backbone pre-training (CAM network, tiny backbone, GAP loss,
 * crop 128, batch 8; `--batch 4` is one replica's shard under `--replicas 2`), or with `--net seg`
 * of the `--full` segmentation training (DeepLab, tiny backbone, reference head, width 256,
 * cross-entropy at the crop's resolution).
 * Every kernel of the active backend is wrapped to add up its CPU time (process.cpuUsage: steadier
 * than wall time on a shared machine) and calls; kernels called from inside other kernels count
 * toward their caller. "(outside kernels)" is the rest of the step: engine, tape and JS glue.
 *
 * Usage: node dist/bench/profile-train-step.js [--net bench|cam|seg] [--steps 3] [--batch 8] [--size 128] [--by-shape] [--no-native]
 * Last line: {"backend", "cpu_ms_per_step", "kernels": {name: {cpu_ms, calls}}} (per step).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { KernelFunc } from '@tensorflow/tfjs-core';
import { initEngine } from '../src/engine/init.js';
import { refreshRegistrations } from '../src/engine/guard.js';
import { BenchmarkNet } from '../src/models/benchmark-net.js';
import { Rng } from '../src/engine/random.js';
import { CamNet } from '../src/models/cam-net.js';
import { camStepLoss } from '../src/train/cam-step.js';
import { DEMO_PLANS, demoTrainConfig } from '../src/train/demo-run.js';
import { buildOptimizer, sgdStep } from '../src/train/run-setup.js';
import { DeepLab } from '../src/models/deeplab.js';
import { resolveTrainSegConfig, segmentationBatchLoss } from '../src/train/train-seg.js';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}
const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

const stats = new Map<string, { ms: number; calls: number }>();
let depth = 0;
/** --by-shape: one row per kernel and input shapes. */
const byShape = process.argv.includes('--by-shape');

/** Re-registers every kernel of `backend` with a CPU-timing wrapper (top-level calls only). */
function instrument(backend: string): void {
  for (const config of tf.getKernelsForBackend(backend)) {
    const inner = config.kernelFunc;
    const name = config.kernelName;
    const wrapped: KernelFunc = (args) => {
      if (depth > 0) return inner(args);
      depth++;
      const t0 = cpuMs();
      try {
        return inner(args);
      } finally {
        depth--;
        const key = byShape ? `${name} ${Object.values(args.inputs).map((t) => `[${t?.shape.join(',')}]`).join(' ')}` : name;
        const e = stats.get(key) ?? { ms: 0, calls: 0 };
        e.ms += cpuMs() - t0;
        e.calls++;
        stats.set(key, e);
      }
    };
    Object.assign(wrapped, inner); // keeps markers such as hfplDilations
    tf.unregisterKernel(name, backend);
    tf.registerKernel({ ...config, kernelFunc: wrapped, setupFunc: undefined });
  }
  // hfpl's models restore the kernels initEngine() registered: make the wrapped ones the expected state.
  refreshRegistrations(backend);
}

async function main(): Promise<void> {
  const steps = arg('steps', 3), batch = arg('batch', 8), size = arg('size', 128);
  const engine = await initEngine(process.argv.includes('--no-native') ? { native: false } : {});
  const rng = new Rng(1);
  const x = tf.tensor4d(new Float32Array(batch * size * size * 3).map(() => rng.normal()), [batch, size, size, 3]);
  const y = tf.tensor2d(new Float32Array(batch * 20).map(() => (rng.bernoulli(0.15) ? 1 : 0)), [batch, 20]);
  let step: () => Promise<void>, dispose: () => void;
  const netName = process.argv.includes('--net') ? process.argv[process.argv.indexOf('--net') + 1] : 'bench';
  if (netName === 'seg') {
    const cfg = resolveTrainSegConfig({ overrides: { model: { backbone: 'tiny', pretrained: null } } });
    const seg = new DeepLab({ numClasses: 7, head: cfg.head, headWidth: cfg.headWidth, bnMomentum: cfg.headBnMomentum, backbone: 'tiny' }, 0);
    const { trainable, opt } = buildOptimizer(seg, cfg.optim, 1000);
    const vars = trainable.map((p) => p.variable);
    const labels = new Uint8Array(batch * size * size).map(() => (rng.bernoulli(0.05) ? 255 : Math.floor(rng.uniform() * 7)));
    let n = 0;
    step = async () => { await sgdStep(opt, n++, vars, (ctx) => segmentationBatchLoss(seg, x, labels, ctx, cfg.lossResolution)); };
    dispose = () => { opt.dispose(); seg.dispose(); };
  } else if (netName === 'cam') {
    const cfg = { ...demoTrainConfig(DEMO_PLANS.default, null, 0), batchSize: batch };
    const cam = new CamNet({ head: 'cam', numClasses: 20, backbone: cfg.model.backbone, dropout: cfg.model.dropout }, 0);
    const { trainable, opt } = buildOptimizer(cam, cfg.optim, 1000);
    const vars = trainable.map((p) => p.variable);
    let n = 0;
    step = async () => { await sgdStep(opt, n++, vars, (ctx) => camStepLoss(cam, { images: x, labels: y, islSeed: 0 }, cfg, ctx)); };
    dispose = () => { opt.dispose(); cam.dispose(); };
  } else {
    const net = new BenchmarkNet({ seed: 0 });
    step = async () => { net.step(x, y); };
    dispose = () => net.dispose();
  }
  await step();
  instrument(tf.getBackend());
  const w0 = performance.now(), c0 = cpuMs();
  for (let s = 0; s < steps; s++) await step();
  const stepCpu = (cpuMs() - c0) / steps, stepWall = (performance.now() - w0) / steps;
  dispose();
  tf.dispose([x, y]);
  const rows = [...stats.entries()]
    .map(([name, e]) => ({ name, ms: e.ms / steps, calls: e.calls / steps }))
    .sort((a, b) => b.ms - a.ms);
  const kernelMs = rows.reduce((s, r) => s + r.ms, 0);
  rows.push({ name: '(outside kernels)', ms: stepCpu - kernelMs, calls: 0 });
  console.log(`backend ${engine.backend}${engine.native ? ' (native)' : ''}: ${stepCpu.toFixed(1)} cpu ms per step ` +
    `(${stepWall.toFixed(1)} ms wall), ${kernelMs.toFixed(1)} cpu ms in kernels`);
  console.log('kernel                                  cpu ms/step  calls  share');
  for (const r of rows) {
    console.log(`${r.name.padEnd(byShape ? 70 : 40)} ${r.ms.toFixed(1).padStart(9)} ${String(r.calls).padStart(6)} ${(100 * r.ms / stepCpu).toFixed(1).padStart(5)}%`);
  }
  const kernels = Object.fromEntries(rows.map((r) => [r.name, { cpu_ms: Number(r.ms.toFixed(2)), calls: r.calls }]));
  console.log(JSON.stringify({ backend: engine.backend, cpu_ms_per_step: Number(stepCpu.toFixed(2)), wall_ms_per_step: Number(stepWall.toFixed(2)), kernels }));
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
