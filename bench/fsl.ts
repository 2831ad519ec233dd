/**
 * Feature-similarity loss speed (issue 3): forward + backward of `featureSimilarityLoss` at
 * N = 8, C = 21, sigma 5, default window (4.5 sigma), on 56 x 56 and 112 x 112 maps.
 * "dense21": random predictions in all 21 channels (worst case). "fromCam": the training path,
 * fslTargetFromCam on random CAM logits with 1-3 classes per image (label-masked channels are
 * skipped exactly), gradient w.r.t. the logits. Times are medians of 5 runs, wall clock and
 * process CPU (the machine is shared: CPU time is the load-independent figure). Memory: peak RSS
 * above the RSS measured after setup. Prints one line per size and, last, a JSON summary.
 * Run: `npm run bench:fsl`.
 */
import { loadavg } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { initEngine } from '../src/engine/init.js';
import { Rng } from '../src/engine/random.js';
import { featureSimilarityLoss, fslWindowRadius } from '../src/losses/feature-similarity.js';
import { fslTargetFromCam } from '../src/losses/max-norm.js';

const N = 8;
const C = 21;
const SIGMA = 5;
const RUNS = 5;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function inputs(size: number, rng: Rng) {
  const rand = (n: number, f: () => number) => Float32Array.from({ length: n }, f);
  const image = tf.tensor4d(rand(N * size * size * 3, () => rng.next()), [N, size, size, 3]);
  const pred = tf.tensor4d(rand(N * size * size * C, () => rng.next()), [N, size, size, C]);
  const cam = tf.tensor4d(rand(N * size * size * C, () => rng.normal()), [N, size, size, C]);
  const lab = new Float32Array(N * (C - 1));
  for (let n = 0; n < N; n++) for (let k = 0, m = 1 + rng.int(0, 3); k < m; k++) lab[n * (C - 1) + rng.int(0, C - 1)] = 1;
  return { image, pred, cam, labels: tf.tensor2d(lab, [N, C - 1]) };
}

/** Median wall and CPU (user + system) milliseconds of forward + backward. */
function timeCase(f: () => tf.Tensor[]): { wall: number; cpu: number } {
  tf.dispose(f()); // warm-up (JIT, wasm memory growth)
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const out = f();
    for (const t of out) t.dataSync();
    const c1 = process.cpuUsage(c0);
    wall.push(performance.now() - t0);
    cpu.push((c1.user + c1.system) / 1000);
    tf.dispose(out);
  }
  return { wall: median(wall), cpu: median(cpu) };
}

async function main(): Promise<void> {
  const info = await initEngine();
  const rng = new Rng(1);
  const results: Record<string, number> = {};
  const cases = [56, 112].map((size) => ({ size, ...inputs(size, rng) }));
  const baseline = process.memoryUsage().rss;
  for (const { size, image, pred, cam, labels } of cases) {
    const dense = timeCase(() => {
      const { value, grad } = tf.valueAndGrad((p: tf.Tensor) => featureSimilarityLoss(image, p as tf.Tensor4D))(pred);
      return [value, grad];
    });
    const fromCam = timeCase(() => {
      const { value, grad } = tf.valueAndGrad((z: tf.Tensor) => featureSimilarityLoss(image, fslTargetFromCam(z as tf.Tensor4D, labels)))(cam);
      return [value, grad];
    });
    const peakMb = (process.resourceUsage().maxRSS * 1024 - baseline) / 2 ** 20;
    console.log(
      `${size}x${size} N=${N} C=${C} sigma=${SIGMA} radius=${fslWindowRadius(SIGMA)}: ` +
        `dense21 ${dense.wall.toFixed(0)} ms (cpu ${dense.cpu.toFixed(0)}), fromCam ${fromCam.wall.toFixed(0)} ms (cpu ${fromCam.cpu.toFixed(0)}), ` +
        `peak +${peakMb.toFixed(0)} MB over baseline, load ${loadavg()[0].toFixed(1)}`,
    );
    results[`ms${size}Dense21`] = Math.round(dense.wall);
    results[`cpuMs${size}Dense21`] = Math.round(dense.cpu);
    results[`ms${size}FromCam`] = Math.round(fromCam.wall);
    results[`cpuMs${size}FromCam`] = Math.round(fromCam.cpu);
    results[`peakMbAboveBaseline${size}`] = Math.round(peakMb);
  }
  tf.dispose(cases.flatMap((c) => [c.image, c.pred, c.cam, c.labels]));
  console.log(JSON.stringify({ bench: 'fsl', backend: info.backend, n: N, c: C, sigma: SIGMA, radius: fslWindowRadius(SIGMA), runs: RUNS, loadAvg1m: Number(loadavg()[0].toFixed(2)), ...results }));
}

await main();
