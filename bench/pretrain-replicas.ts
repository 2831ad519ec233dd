/**
 * Images/s of the demo's backbone pre-training (v2 plan: tiny backbone, crop 128, batch 8, GAP
 * loss, no dropout) at 1 and n data-parallel replicas (src/train/cam-replicas.ts), on a small
 * generated v2 set, with the loss of each step compared between the counts (equal to float32
 * rounding at first, then apart as training amplifies it). Pure wasm unless --native.
 *
 * Usage: node dist/bench/pretrain-replicas.js [--steps 60] [--replicas 2] [--native]
 * Last line: {"steps", "replicas", "images_per_s_1", "images_per_s_n", "speedup", "first_loss_rel_diff"}.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSynthDataset } from '../src/data/synth/generate.js';
import { describeEngine, initEngine } from '../src/engine/init.js';
import { DEMO_PLANS, demoSynthOptions, demoTrainConfig } from '../src/train/demo-run.js';
import { runTrainCam } from '../src/train/train-cam.js';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

async function main(): Promise<void> {
  const steps = arg('steps', 60), n = arg('replicas', 2);
  const engine = await initEngine(process.argv.includes('--native') ? {} : { native: false });
  const dir = mkdtempSync(join(tmpdir(), 'hfpl-bench-replicas-'));
  try {
    const plan = DEMO_PLANS.default;
    await generateSynthDataset({ ...demoSynthOptions(plan, join(dir, 'data')), train: 64, val: 2 });
    const cfg = { ...demoTrainConfig(plan, null, 0), steps, logEvery: 1, checkpointEvery: 0 };
    const run = async (replicas: number) => {
      const out = join(dir, `r${replicas}`);
      const r = await runTrainCam({ data: join(dir, 'data'), out, config: cfg, replicas });
      const losses = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { loss: number }).loss);
      console.log(`${replicas} replica(s): ${r.imagesPerSec.toFixed(1)} images/s over ${steps} steps (${r.seconds.toFixed(1)} s), final loss ${r.finalLoss.toFixed(4)}`);
      return { ips: r.imagesPerSec, losses };
    };
    console.log(`backend ${describeEngine(engine)}; demo pre-training config, batch ${cfg.batchSize}, crop ${cfg.data.crop}`);
    const one = await run(1);
    const many = await run(n);
    const rel = Math.abs(many.losses[0] - one.losses[0]) / one.losses[0];
    console.log(JSON.stringify({ steps, replicas: n, images_per_s_1: Number(one.ips.toFixed(2)), images_per_s_n: Number(many.ips.toFixed(2)), speedup: Number((many.ips / one.ips).toFixed(3)), first_loss_rel_diff: rel }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
