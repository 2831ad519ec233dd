/**
 * Scale-out speed (issue 15): images/s of `crf` (METHOD 3.4, alphas 1 and 24: two CRFs an
 * image) and `infer-cam` (scales 0.5-2 with flips: 8 passes an image, small backbone) on a
 * small synthetic set, with 1 and 2 worker threads, and through a Redis queue (a throwaway
 * redis-server on a free port) with 2 `hfpl worker` processes. For each: wall time, CPU time
 * (this process with its threads, plus the worker processes, their start-up excluded) and
 * images per CPU-second, the steady figure on a shared machine. Closing note: the speed-ups and
 * the projected wall time of the CRF stage on COCO train (82,783 images, mean ~578 x 484 px;
 * CRF cost taken as proportional to pixels) at 1, 8 and 64 workers, from the CPU time per image.
 * The last line is a JSON summary. Run: `npm run bench:scale` (needs redis-server for the queue rows).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSynthDataset } from '../src/data/synth/generate.js';
import { initEngine } from '../src/engine/init.js';
import { runInferCam } from '../src/infer/cam-run.js';
import { runCrf } from '../src/infer/crf/run-crf.js';
import { runCli } from '../src/cli/program.js';
import type { ScaleOptions } from '../src/scale/run-images.js';
import { redisServerPath, startRedis } from './redis-server.js';

const envInt = (name: string, d: number): number => (process.env[name] ? Math.max(1, Math.floor(Number(process.env[name])) || d) : d);
/** Images per row: HFPL_BENCH_CAM_IMAGES, HFPL_BENCH_CRF_IMAGES (more images dilute the threads' start-up). */
const N_CAM = envInt('HFPL_BENCH_CAM_IMAGES', 8), N_CRF = Math.max(N_CAM, envInt('HFPL_BENCH_CRF_IMAGES', 24)), SIZE = 160;
const COCO_TRAIN = 82_783, COCO_PIXELS = 578 * 484;
const CLI = new URL('../src/cli/main.js', import.meta.url).pathname;
const TICK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

const cpuS = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
/** CPU seconds of another process so far (Linux /proc). */
function procCpuS(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(rest[11]) + Number(rest[12])) / TICK;
}

interface Row { stage: string; mode: string; images: number; wallS: number; cpuS: number; imgPerS: number; imgPerCpuS: number }
const rows: Row[] = [];

async function startWorker(url: string): Promise<{ proc: ChildProcess; cpu0: number }> {
  const proc = spawn(process.execPath, [CLI, 'worker', '--queue', url], { stdio: ['ignore', 'ignore', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    let err = '';
    proc.stderr!.on('data', (b: Buffer) => {
      err += b.toString();
      if (err.includes('taking jobs')) resolve();
    });
    proc.once('exit', (c) => reject(new Error(`worker exited ${c}: ${err}`)));
  });
  return { proc, cpu0: procCpuS(proc.pid!) };
}

async function measure(stage: string, mode: string, N: number, fn: (scale: ScaleOptions) => Promise<unknown>, scale: ScaleOptions, extraCpu: () => number = () => 0): Promise<void> {
  const c0 = cpuS(), t0 = performance.now();
  await fn(scale);
  const wallS = (performance.now() - t0) / 1000, cpu = cpuS() - c0 + extraCpu();
  const row = { stage, mode, images: N, wallS, cpuS: cpu, imgPerS: N / wallS, imgPerCpuS: N / cpu };
  rows.push(row);
  console.log(`${stage.padEnd(9)} ${mode.padEnd(22)} ${N} images  wall ${wallS.toFixed(2)} s (${row.imgPerS.toFixed(2)} img/s)  CPU ${cpu.toFixed(2)} s (${row.imgPerCpuS.toFixed(2)} img/CPU-s)`);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'hfpl-bench-scale-'));
  try {
    const data = join(dir, 'data');
    await generateSynthDataset({ out: data, train: N_CRF, val: 0, width: SIZE, height: SIZE, classes: 3, seed: 1 });
    await initEngine({ threads: 1 });
    const code = await runCli(['train-cam', '--data', data, '--split', 'train', '--out', join(dir, 'run'), '--crop', String(SIZE), '--batch-size', '2', '--steps', '1', '--threads', '1', '--quiet']);
    if (code !== 0) throw new Error('train-cam failed');
    const cam = (out: string, limit = N_CAM) => (scale: ScaleOptions) => runInferCam({ run: join(dir, 'run'), data, split: 'train', out, limit }, undefined, scale);
    const crf = (out: string) => (scale: ScaleOptions) =>
      runCrf({ camDir: join(dir, 'cam-w1', 'cams'), dataDir: data, listFile: join(data, 'ImageSets/Segmentation/train.txt'), outDir: out }, undefined, scale);
    // CAM files of every image for the CRF rows (not timed).
    await cam(join(dir, 'cam-w1'), N_CRF)({ workers: 2 });
    rmSync(join(dir, 'cam-w1', 'summary.json'));
    console.log(`bench:scale: ${N_CRF} (crf) and ${N_CAM} (infer-cam) synthetic images of ${SIZE} x ${SIZE}; ${process.env.HFPL_NATIVE === '0' ? 'wasm' : 'native when built'}; the machine may be shared: CPU time is the steady figure; thread rows include each thread's start-up (engine, model), queue rows exclude the worker processes' start-up (warmed up)`);
    await measure('infer-cam', '1 worker', N_CAM, cam(join(dir, 'cam-t1')), { workers: 1 });
    await measure('infer-cam', '2 worker threads', N_CAM, cam(join(dir, 'cam-w2')), { workers: 2 });
    await measure('crf', '1 worker', N_CRF, crf(join(dir, 'crf-w1')), { workers: 1 });
    await measure('crf', '2 worker threads', N_CRF, crf(join(dir, 'crf-w2')), { workers: 2 });
    if (redisServerPath()) {
      const redis = await startRedis();
      const workers = [await startWorker(redis.url('bench')), await startWorker(redis.url('bench'))];
      const workerCpu = () => workers.reduce((s, w) => s + procCpuS(w.proc.pid!) - w.cpu0, 0);
      try {
        // Warm-up (not timed): the workers load their engines, so the rows show the per-image cost.
        await cam(join(dir, 'cam-warm'), 2)({ queue: redis.url('bench') });
        await crf(join(dir, 'crf-warm'))({ queue: redis.url('bench') });
        let base = workerCpu();
        await measure('infer-cam', 'queue, 2 worker procs', N_CAM, cam(join(dir, 'cam-q')), { queue: redis.url('bench') }, () => workerCpu() - base);
        base = workerCpu();
        await measure('crf', 'queue, 2 worker procs', N_CRF, crf(join(dir, 'crf-q')), { queue: redis.url('bench') }, () => workerCpu() - base);
      } finally {
        for (const w of workers) w.proc.kill('SIGTERM');
        await redis.stop();
      }
    } else {
      console.log('queue rows skipped: redis-server is not installed');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const get = (stage: string, mode: string) => rows.find((r) => r.stage === stage && r.mode === mode);
  const speedup = (stage: string, mode: string) => {
    const a = get(stage, '1 worker'), b = get(stage, mode);
    return a && b ? Number((b.imgPerS / a.imgPerS).toFixed(2)) : null;
  };
  const crf1 = get('crf', '1 worker')!;
  const cpuPerCocoImage = (1 / crf1.imgPerCpuS) * (COCO_PIXELS / (SIZE * SIZE));
  const cocoHours = Object.fromEntries([1, 8, 64].map((w) => [`workers${w}`, Number(((COCO_TRAIN * cpuPerCocoImage) / w / 3600).toFixed(2))]));
  console.log(`speed-up of 2 threads (wall): crf x${speedup('crf', '2 worker threads')}, infer-cam x${speedup('infer-cam', '2 worker threads')}; queue with 2 processes: crf x${speedup('crf', 'queue, 2 worker procs')}, infer-cam x${speedup('infer-cam', 'queue, 2 worker procs')}`);
  console.log(`CRF stage on COCO train (${COCO_TRAIN} images, ${cpuPerCocoImage.toFixed(2)} CPU-s an image projected from ${SIZE} x ${SIZE}): ${cocoHours.workers1} h on 1 worker, ${cocoHours.workers8} h on 8, ${cocoHours.workers64} h on 64 (ideal scaling of CPU time)`);
  console.log(JSON.stringify({ bench: 'scale', imagesCam: N_CAM, imagesCrf: N_CRF, size: SIZE, rows: rows.map((r) => ({ ...r, wallS: +r.wallS.toFixed(3), cpuS: +r.cpuS.toFixed(3), imgPerS: +r.imgPerS.toFixed(3), imgPerCpuS: +r.imgPerCpuS.toFixed(3) })), speedupWall: { crf2: speedup('crf', '2 worker threads'), cam2: speedup('infer-cam', '2 worker threads'), crfQueue2: speedup('crf', 'queue, 2 worker procs'), camQueue2: speedup('infer-cam', 'queue, 2 worker procs') }, cocoCrfCpuSPerImage: +cpuPerCocoImage.toFixed(3), cocoCrfHours: cocoHours }));
}

await main();
