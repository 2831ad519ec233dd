/**
 * ms per training step of the benchmark network (src/models/benchmark-net.ts) on the native
 * (libtorch) path against its PyTorch twin (bench/train_step_torch.py), for 1 and 2 threads
 * each, measured in one run with the steps interleaved (one ours, one torch) so both see the
 * same machine load; then the per-kernel split of one native step (tf.profile) and the share of
 * layout work (pads, output copies) inside the native kernels, both in CPU time (robust to load).
 *
 * Usage: node dist/bench/train-step-native.js [--steps 8] [--warmup 2] [--batch 8] [--size 128] [--threads 1,2]
 * Env: HFPL_PYTHON (python with torch; default /usr/bin/python3, then python3).
 * Last line: {"native", "runs": [{threads, ms_per_step, cpu_ms_per_step, torch_ms_per_step, ratio}], "kernels": {...}}.
 */
import * as tf from '@tensorflow/tfjs-core';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { initEngine } from '../src/engine/init.js';
import { loadNativeKernels, nativeKernelTimes } from '../src/engine/native/load.js';
import { BenchmarkNet } from '../src/models/benchmark-net.js';
import { Rng } from '../src/engine/random.js';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
}
const median = (a: number[]): number => {
  const s = [...a].sort((p, q) => p - q);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

interface Twin { step(): Promise<{ ms: number; cpuMs: number | null }>; stop(): void }

/** CPU time (user + system, ms) of a process from /proc, or null where there is no /proc. */
function cpuOfPid(pid: number | undefined): number | null {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return ((Number(rest[11]) + Number(rest[12])) * 1000) / 100; // utime, stime in 1/100 s ticks
  } catch {
    return null;
  }
}

/** bench/train_step_torch.py --serve with `threads` threads, or null when python/torch is missing. */
async function startTorch(threads: number, batch: number, size: number): Promise<Twin | null> {
  const script = fileURLToPath(new URL('../../bench/train_step_torch.py', import.meta.url));
  const python = process.env.HFPL_PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
  if (!existsSync(script)) return null;
  const proc = spawn(python, [script, '--serve', '--threads', String(threads), '--batch', String(batch), '--size', String(size)]);
  proc.on('error', () => undefined);
  const lines = createInterface({ input: proc.stdout })[Symbol.asyncIterator]();
  const next = async (): Promise<Record<string, number> | null> => {
    const r = await lines.next().catch(() => ({ done: true as const, value: undefined }));
    return r.done ? null : (JSON.parse(r.value as string) as Record<string, number>);
  };
  if (!(await next().catch(() => null))) return null;
  return {
    async step() {
      const c0 = cpuOfPid(proc.pid);
      proc.stdin.write('step\n');
      const r = await next();
      if (!r) throw new Error('torch twin stopped');
      const c1 = cpuOfPid(proc.pid);
      return { ms: r.ms, cpuMs: c0 === null || c1 === null ? null : c1 - c0 };
    },
    stop: () => proc.stdin.end('quit\n'),
  };
}

/**
 * Kernel name -> [calls, CPU ms] of one profiled step: tf.profile with the backend's kernel timer
 * swapped for process CPU time, which (unlike wall time) other processes' load barely moves.
 */
async function kernelSplit(net: BenchmarkNet, x: tf.Tensor4D, y: tf.Tensor2D): Promise<Array<[string, number, number]>> {
  const backend = tf.backend() as unknown as { time(f: () => void): Promise<{ kernelMs: number }> };
  const wallTimer = backend.time;
  backend.time = (f) => {
    const c0 = process.cpuUsage();
    f();
    const c = process.cpuUsage(c0);
    return Promise.resolve({ kernelMs: (c.user + c.system) / 1000 });
  };
  let prof: Awaited<ReturnType<typeof tf.profile>>;
  try {
    prof = await tf.profile(() => { net.step(x, y); });
  } finally {
    backend.time = wallTimer;
  }
  const by = new Map<string, [number, number]>();
  for (const k of prof.kernels) {
    const e = by.get(k.name) ?? [0, 0];
    e[0]++;
    e[1] += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    by.set(k.name, e);
  }
  return [...by.entries()].map(([n, [c, ms]]): [string, number, number] => [n, c, ms]).sort((a, b) => b[2] - a[2]);
}

async function main(): Promise<void> {
  const steps = Number(arg('steps', '8')), warmup = Number(arg('warmup', '2'));
  const batch = Number(arg('batch', '8')), size = Number(arg('size', '128'));
  const threadList = arg('threads', '1,2').split(',').map(Number);
  const engine = await initEngine({ backend: 'wasm', threads: threadList[0] });
  if (!engine.native) {
    console.log(`native path unavailable: ${engine.nativeReason}`);
    console.log(JSON.stringify({ native: false, reason: engine.nativeReason }));
    return;
  }
  const rng = new Rng(1);
  const x = tf.tensor4d(new Float32Array(batch * size * size * 3).map(() => rng.normal()), [batch, size, size, 3]);
  const y = tf.tensor2d(new Float32Array(batch * 20).map(() => (rng.bernoulli(0.15) ? 1 : 0)), [batch, 20]);
  const net = new BenchmarkNet({ seed: 0 });
  console.log(`benchmark net: ${net.numParams} parameters, input ${batch}x${size}x${size}x3; ${engine.nativeReason}`);
  const runs: Array<Record<string, number | null>> = [];
  for (const threads of threadList) {
    loadNativeKernels({ threads });
    const torch = await startTorch(threads, batch, size);
    const wall: number[] = [], cpu: number[] = [], theirs: number[] = [], theirCpu: number[] = [];
    for (let s = 0; s < warmup + steps; s++) {
      const t0 = performance.now(), c0 = process.cpuUsage();
      net.step(x, y);
      const ms = performance.now() - t0, c = process.cpuUsage(c0);
      const t = torch ? await torch.step() : null;
      if (s >= warmup) {
        wall.push(ms);
        cpu.push((c.user + c.system) / 1000);
        if (t !== null) theirs.push(t.ms);
        if (t?.cpuMs != null) theirCpu.push(t.cpuMs);
      }
    }
    torch?.stop();
    const ours = median(wall), ref = theirs.length ? median(theirs) : null;
    // CPU time: /proc ticks are 10 ms, so the torch figure is a mean over the steps.
    const ourCpu = median(cpu), refCpu = theirCpu.length ? theirCpu.reduce((a, b) => a + b, 0) / theirCpu.length : null;
    console.log(`${threads} thread(s): native ${ours.toFixed(1)} ms/step (cpu ${ourCpu.toFixed(1)} ms)` +
      (ref === null ? '; torch twin unavailable' : `, torch ${ref.toFixed(1)} ms/step (cpu ${refCpu?.toFixed(1) ?? '?'} ms), ` +
        `ratio ${(ours / ref).toFixed(2)}x wall${refCpu ? `, ${(ourCpu / refCpu).toFixed(2)}x cpu` : ''}`));
    runs.push({ threads, ms_per_step: +ours.toFixed(2), cpu_ms_per_step: +ourCpu.toFixed(2),
      torch_ms_per_step: ref === null ? null : +ref.toFixed(2), torch_cpu_ms_per_step: refCpu === null ? null : +refCpu.toFixed(2),
      ratio: ref === null ? null : +(ours / ref).toFixed(3), cpu_ratio: refCpu === null ? null : +(ourCpu / refCpu).toFixed(3) });
  }

  loadNativeKernels({ threads: threadList[0] });
  nativeKernelTimes(true);
  const split = await kernelSplit(net, x, y);
  const inside = nativeKernelTimes(true) ?? {};
  const total = split.reduce((s, k) => s + k[2], 0);
  console.log(`per-kernel split of one step (${threadList[0]} thread, tf.profile, CPU time; kernels total ${total.toFixed(1)} ms):`);
  for (const [name, calls, ms] of split.slice(0, 16)) {
    console.log(`  ${name.padEnd(36)} ${String(calls).padStart(4)} calls ${ms.toFixed(1).padStart(8)} ms ${(100 * ms / total).toFixed(1).padStart(5)} %`);
  }
  console.log('inside the native kernels (CPU time; layout = pads and output copies):');
  for (const [name, s] of Object.entries(inside)) {
    if (s.calls) console.log(`  ${name.padEnd(24)} ${String(s.calls).padStart(4)} calls ${s.ms.toFixed(1).padStart(8)} ms, layout ${s.layoutMs.toFixed(1)} ms, ${s.copies} result copies`);
  }
  net.dispose();
  tf.dispose([x, y]);
  console.log(JSON.stringify({
    native: true, batch, size, steps, runs,
    kernels: Object.fromEntries(split.map(([n, c, ms]) => [n, { calls: c, ms: +ms.toFixed(2) }])),
    native_layout: inside,
  }));
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
