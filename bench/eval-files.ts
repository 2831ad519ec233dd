/**
 * Times `hfpl eval` on 1449 VOC-val-sized label-map pairs (500 x 375 and 375 x 500, 21
 * classes): GT as palette PNGs, predictions as 8-bit grayscale PNGs (what the reference
 * writes), generated into a temporary folder first. Measures the in-process `runEval` (PNG
 * decoding included) and the CLI as a child process. Last line: JSON.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode } from 'fast-png';
import { encodeLabelPng } from '../src/data/label-png.js';
import { Rng } from '../src/engine/random.js';
import { runEval } from '../src/eval/run-eval.js';
import { makeEvalPair } from './eval-maps.js';

const N = Number(process.env.HFPL_BENCH_IMAGES ?? 1449), K = 21;

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'hfpl-bench-eval-'));
  try {
    const predDir = join(root, 'pred'), gtDir = join(root, 'gt');
    mkdirSync(predDir);
    mkdirSync(gtDir);
    const rng = new Rng(1449);
    const ids: string[] = [];
    const tg = performance.now();
    for (let i = 0; i < N; i++) {
      const id = `2012_${String(i).padStart(6, '0')}`;
      const [W, H] = rng.next() < 0.75 ? [500, 375] : [375, 500];
      const { pred, gt } = makeEvalPair(rng, W, H, K);
      writeFileSync(join(gtDir, `${id}.png`), encodeLabelPng(gt));
      writeFileSync(join(predDir, `${id}.png`), encode({ width: W, height: H, data: pred.data, depth: 8, channels: 1 }));
      ids.push(id);
    }
    const list = join(root, 'val.txt');
    writeFileSync(list, ids.join('\n') + '\n');
    console.log(`generated ${N} pairs of PNGs in ${((performance.now() - tg) / 1000).toFixed(1)} s`);

    const t0 = performance.now(), c0 = process.cpuUsage();
    const r = await runEval({ predDir, gtDir, listFile: list, numClasses: K });
    const inProcess = (performance.now() - t0) / 1000;
    const cu = process.cpuUsage(c0), cpu = (cu.user + cu.system) / 1e6;
    console.log(`runEval: ${N} pairs in ${inProcess.toFixed(2)} s wall, ${cpu.toFixed(2)} s CPU (${(N / inProcess).toFixed(0)} pairs/s), mIoU ${r.miou.toFixed(4)}, contour F ${r.contourF.toFixed(4)}`);

    const main = new URL('../src/cli/main.js', import.meta.url).pathname;
    const t1 = performance.now();
    const child = spawnSync(process.execPath, [main, 'eval', '--quiet', '--pred', predDir, '--gt', gtDir, '--list', list, '--out', join(root, 'r.json')], { encoding: 'utf8' });
    const cli = (performance.now() - t1) / 1000;
    if (child.status !== 0) throw new Error(`CLI failed: ${child.stderr}`);
    console.log(`hfpl eval (child process, startup included): ${cli.toFixed(2)} s`);
    console.log(JSON.stringify({ bench: 'eval-files', images: N, numClasses: K, runEvalSeconds: +inProcess.toFixed(2), runEvalCpuSeconds: +cpu.toFixed(2), cliSeconds: +cli.toFixed(2), miou: +r.miou.toFixed(4), contourF: +r.contourF.toFixed(4) }));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

await main();
