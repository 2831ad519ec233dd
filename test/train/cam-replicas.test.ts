/**
 * Data-parallel CAM training (src/train/cam-replicas.ts) against one replica on the same
 * batches: the losses agree to float32 rounding (the synchronised BN normalises each
 * shard with the whole batch's statistics, the summed gradients are the whole batch's), the
 * weights after 4 steps agree to 1e-4 of their scale, uneven shards (5 images over 2 and 3
 * replicas) included; a rerun with the same count is bit-identical; unsupported losses are
 * refused in one line.
 */
import { execSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateSynthDataset } from '../../src/data/synth/generate.js';
import { initEngine } from '../../src/engine/init.js';
import { readWeights } from '../../src/models/weights-io.js';
import { shardOf } from '../../src/train/cam-replicas.js';
import { resolveTrainCamConfig, type TrainCamConfig } from '../../src/train/config.js';
import { runTrainCam } from '../../src/train/train-cam.js';

const root = new URL('../../', import.meta.url).pathname;
let dir = '', data = '';
let cfg: TrainCamConfig;

beforeAll(async () => {
  execSync('node scripts/setup.mjs', { cwd: root, stdio: 'ignore' });
  await initEngine({ native: false });
  dir = mkdtempSync(join(tmpdir(), 'hfpl-replicas-'));
  data = join(dir, 'data');
  await generateSynthDataset({ out: data, train: 20, val: 2, width: 40, height: 40, classes: 3, objects: [1, 2] });
  cfg = resolveTrainCamConfig({
    overrides: {
      islWeight: 0, fslWeight: 0, batchSize: 5, steps: 4, logEvery: 1, checkpointEvery: 0, seed: 3,
      model: { backbone: 'tiny', dropout: 0 }, data: { crop: 32, resizeLong: [32, 44] },
    },
  });
}, 180_000);

async function train(name: string, replicas: number) {
  const out = join(dir, name);
  await runTrainCam({ data, out, config: cfg, replicas });
  const losses = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { loss: number }).loss);
  return { losses, weights: readWeights(out).values };
}

/** Largest |a - b| of a tensor over its largest |a|, the worst over all tensors. */
function maxRelDiff(a: Map<string, { data: ArrayLike<number> }>, b: Map<string, { data: ArrayLike<number> }>): number {
  let worst = 0;
  for (const [name, { data: x }] of a) {
    const y = b.get(name)!.data;
    let d = 0, s = 1e-12;
    for (let i = 0; i < x.length; i++) {
      d = Math.max(d, Math.abs(x[i] - y[i]));
      s = Math.max(s, Math.abs(x[i]));
    }
    worst = Math.max(worst, d / s);
  }
  return worst;
}

describe('train-cam with data-parallel replicas', () => {
  it('shards are contiguous, cover the batch, the first n % size one longer', () => {
    expect([0, 1, 2].map((r) => shardOf(5, 3, r))).toEqual([{ offset: 0, count: 2 }, { offset: 2, count: 2 }, { offset: 4, count: 1 }]);
    expect([0, 1].map((r) => shardOf(8, 2, r))).toEqual([{ offset: 0, count: 4 }, { offset: 4, count: 4 }]);
  });

  it('trains the same network as one replica, to float32 rounding, and deterministically', async () => {
    const one = await train('r1', 1);
    const two = await train('r2', 2);
    const three = await train('r3', 3);
    for (const other of [two, three]) {
      expect(Math.abs(other.losses[0] - one.losses[0]) / one.losses[0]).toBeLessThan(1e-6);
      for (let i = 0; i < 4; i++) expect(Math.abs(other.losses[i] - one.losses[i]) / one.losses[i]).toBeLessThan(2e-6); // seen: 1.3e-7
      // Weights and BN running statistics (model.json holds both).
      expect(maxRelDiff(one.weights, other.weights)).toBeLessThan(1e-5); // seen: 5.6e-7
    }
    const again = await train('r2b', 2);
    expect(again.losses).toEqual(two.losses);
    expect(maxRelDiff(two.weights, again.weights)).toBe(0);
  });

  it('refuses losses that draw per batch, in one line', async () => {
    const isl = { ...cfg, islWeight: 0.2 };
    await expect(runTrainCam({ data, out: join(dir, 'bad'), config: isl, replicas: 2 })).rejects.toThrow(/^train-cam: 2 replicas cannot train the ISL and FSL \(per-batch sampling\); use 1$/);
    await expect(runTrainCam({ data, out: join(dir, 'bad'), config: cfg, replicas: 0 })).rejects.toThrow(/replicas must be a positive integer, got 0/);
  });
});
