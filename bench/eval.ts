/**
 * Times `evaluateSegmentation` (confusion + contour F, METHOD 4) on 500 x 375 label maps with
 * 21 classes: piecewise-constant maps of a few ellipses and rectangles (VOC-like), the
 * prediction a shifted, partly relabelled copy of the GT with some void. Single thread.
 * Last line: JSON { pairsPerSecond, msPerPair, ... }.
 */
import { evaluateSegmentation, type SegmentationPair } from '../src/eval/evaluate.js';
import { Rng } from '../src/engine/random.js';
import { makeEvalPair } from './eval-maps.js';

const W = 500, H = 375, K = 21;

async function main(): Promise<void> {
  const rng = new Rng(2024);
  const pool = Array.from({ length: 64 }, () => makeEvalPair(rng, W, H, K));
  function* pairs(count: number): Generator<SegmentationPair> {
    for (let i = 0; i < count; i++) yield pool[i % pool.length];
  }
  await evaluateSegmentation(pairs(100), { numClasses: K }); // warm-up (JIT)
  const runs: number[] = [];
  let result = await evaluateSegmentation(pairs(1), { numClasses: K });
  const count = 1000;
  const cpuRuns: number[] = [];
  for (let rep = 0; rep < 3; rep++) {
    const t0 = performance.now(), c0 = process.cpuUsage();
    result = await evaluateSegmentation(pairs(count), { numClasses: K });
    runs.push((performance.now() - t0) / 1000);
    const cu = process.cpuUsage(c0);
    cpuRuns.push((cu.user + cu.system) / 1e6);
  }
  const best = Math.min(...runs), bestCpu = Math.min(...cpuRuns);
  const t1 = performance.now();
  await evaluateSegmentation(pairs(count), { numClasses: K, skipContour: true });
  const confusionOnly = (performance.now() - t1) / 1000;
  console.log(`evaluateSegmentation, ${W}x${H}, ${K} classes, ${count} pairs per run: ${runs.map((s) => s.toFixed(2) + ' s').join(', ')}`);
  console.log(`CPU time per run: ${cpuRuns.map((s) => s.toFixed(2) + ' s').join(', ')} (wall time counts waiting for a core on a loaded machine)`);
  console.log(`best ${(count / best).toFixed(0)} pairs/s (${((best / count) * 1000).toFixed(2)} ms/pair); confusion only ${(count / confusionOnly).toFixed(0)} pairs/s`);
  console.log(`mIoU ${result.miou.toFixed(4)}  contour F ${result.contourF.toFixed(4)} (sanity)`);
  console.log(JSON.stringify({
    bench: 'eval', width: W, height: H, numClasses: K, pairs: count,
    pairsPerSecond: Math.round(count / best), cpuPairsPerSecond: Math.round(count / bestCpu), msPerPair: +((best / count) * 1000).toFixed(3),
    confusionOnlyPairsPerSecond: Math.round(count / confusionOnly), miou: +result.miou.toFixed(4), contourF: +result.contourF.toFixed(4),
  }));
}

await main();
