/**
 * ms per training step of the benchmark network (src/models/benchmark-net.ts) on the TF.js
 * backend initEngine() picks (wasm by default), side by side with its PyTorch twin
 * (bench/train_step_torch.py, one thread) when python3 with torch is available: the two run
 * alternately, one step each, so both see the same machine load.
 *
 * Usage: node dist/bench/train-step.js [--steps 12] [--warmup 3] [--batch 8] [--size 128] [--no-torch] [--no-native]
 * (--no-native, like HFPL_NATIVE=0, measures the pure wasm engine even when the libtorch addon is built.)
 * Env: HFPL_PYTHON (python with torch; default /usr/bin/python3, then python3), HFPL_BACKEND.
 * Last line: {"ms_per_step", "backend", "torch_ms_per_step", "torch_threads", "ratio", ...}.
 */
import * as tf from '@tensorflow/tfjs-core';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { initEngine } from '../src/engine/init.js';
import { BenchmarkNet } from '../src/models/benchmark-net.js';
import { Rng } from '../src/engine/random.js';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}
/** CPU time of this process in ms (user + system): steadier than wall time on a shared machine. */
const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const median = (a: number[]): number => {
  const s = [...a].sort((p, q) => p - q);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** A PyTorch twin answering one step per request, or null when python/torch is missing. */
async function startTorch(batch: number, size: number): Promise<{ step(): Promise<{ ms: number; cpuMs: number; loss: number }>; stop(): void; info: string } | null> {
  if (process.argv.includes('--no-torch')) return null;
  const script = fileURLToPath(new URL('../../bench/train_step_torch.py', import.meta.url));
  const python = process.env.HFPL_PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
  let proc: ChildProcessWithoutNullStreams;
  try {
    proc = spawn(python, [script, '--serve', '--threads', '1', '--batch', String(batch), '--size', String(size)]);
  } catch {
    return null;
  }
  const lines = createInterface({ input: proc.stdout })[Symbol.asyncIterator]();
  const next = async (): Promise<Record<string, unknown> | null> => {
    const r = await lines.next().catch(() => ({ done: true, value: undefined }));
    return r.done ? null : (JSON.parse(r.value as string) as Record<string, unknown>);
  };
  proc.on('error', () => undefined);
  const ready = await next().catch(() => null);
  if (!ready) return null;
  return {
    info: `torch ${String(ready.torch)}, ${String(ready.threads)} thread(s)`,
    async step() {
      proc.stdin.write('step\n');
      const r = await next();
      if (!r) throw new Error('torch twin stopped');
      return { ms: r.ms as number, cpuMs: r.cpu_ms as number, loss: r.loss as number };
    },
    stop() {
      proc.stdin.end('quit\n');
    },
  };
}

async function main(): Promise<void> {
  const steps = arg('steps', 12), warmup = arg('warmup', 3), batch = arg('batch', 8), size = arg('size', 128);
  const engine = await initEngine(process.argv.includes('--no-native') ? { native: false } : {});
  const torch = await startTorch(batch, size);
  const rng = new Rng(1);
  const img = new Float32Array(batch * size * size * 3).map(() => rng.normal());
  const lab = new Float32Array(batch * 20).map(() => (rng.bernoulli(0.15) ? 1 : 0));
  const x = tf.tensor4d(img, [batch, size, size, 3]);
  const y = tf.tensor2d(lab, [batch, 20]);
  const net = new BenchmarkNet({ seed: 0 });
  console.log(`benchmark net: ${net.numParams} parameters, input ${batch}x${size}x${size}x3, backend ${engine.backend}` +
    `${engine.native ? ' (native)' : ''}; twin: ${torch ? torch.info : 'none'}`);
  const ours: number[] = [], theirs: number[] = [], oursCpu: number[] = [], theirsCpu: number[] = [];
  try {
    for (let s = 0; s < warmup + steps; s++) {
      const t0 = performance.now(), c0 = cpuMs();
      const loss = net.step(x, y);
      const ms = performance.now() - t0, cpu = cpuMs() - c0;
      const t = torch ? await torch.step() : null;
      const tag = s < warmup ? ' (warm-up)' : '';
      console.log(`step ${s}: ${engine.backend} ${ms.toFixed(1)} ms (cpu ${cpu.toFixed(1)}) loss ${loss.toFixed(4)}` +
        `${t ? ` | torch ${t.ms.toFixed(1)} ms (cpu ${t.cpuMs.toFixed(1)}) loss ${t.loss.toFixed(4)}` : ''}${tag}`);
      if (s >= warmup) {
        ours.push(ms);
        oursCpu.push(cpu);
        if (t) {
          theirs.push(t.ms);
          theirsCpu.push(t.cpuMs);
        }
      }
    }
  } finally {
    torch?.stop();
  }
  net.dispose();
  tf.dispose([x, y]);
  const msOurs = median(ours);
  const msTorch = theirs.length ? median(theirs) : null;
  const cpuOurs = median(oursCpu);
  const cpuTorch = theirsCpu.length ? median(theirsCpu) : null;
  console.log(`${engine.backend}: ${msOurs.toFixed(1)} ms per step, cpu ${cpuOurs.toFixed(1)} ms (median of ${ours.length})` +
    (msTorch && cpuTorch ? `; torch 1 thread: ${msTorch.toFixed(1)} ms, cpu ${cpuTorch.toFixed(1)} ms; ratio ${(msOurs / msTorch).toFixed(2)}x wall, ${(cpuOurs / cpuTorch).toFixed(2)}x cpu` : ''));
  console.log(JSON.stringify({
    ms_per_step: Number(msOurs.toFixed(2)),
    backend: engine.native ? `${engine.backend}+native` : engine.backend,
    torch_ms_per_step: msTorch == null ? null : Number(msTorch.toFixed(2)),
    torch_threads: msTorch == null ? null : 1,
    ratio: msTorch == null ? null : Number((msOurs / msTorch).toFixed(3)),
    cpu_ms_per_step: Number(cpuOurs.toFixed(2)),
    torch_cpu_ms_per_step: cpuTorch == null ? null : Number(cpuTorch.toFixed(2)),
    cpu_ratio: cpuTorch == null ? null : Number((cpuOurs / cpuTorch).toFixed(3)),
    steps: ours.length,
    batch,
    size,
  }));
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
