/**
 * Loads a full-size ResNet-38 SEAM checkpoint (the reference's layer shapes: 105.4 M numbers,
 * ~422 MB of float32) with `readWeights`, as safetensors, PyTorch zip and PyTorch legacy (pre-1.6), and the ImageNet
 * initialisation as MXNet `.params` (legacy layout: the backbone under ademxapp names plus the
 * 1000-way classifier, ~432 MB), each written first into os.tmpdir() with hfpl's own writers
 * and deleted afterwards. Each load runs in a fresh
 * child process so its peak RSS (process.resourceUsage().maxRSS) is the reader's alone.
 * Bars: load <= 10 s, peak RSS <= 2x the file size. Last line: JSON.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readWeights, writeSafetensors, writeTorchZip, type TensorToWrite } from '../src/weights/index.js';
import { torchToMxnetName, writeMxnetParams } from '../src/weights/mxnet-write.js';
import { writeTorchLegacy } from '../src/weights/torch-write.js';

/** Shapes of resnet38_SEAM.Net's state dict (network/resnet38d.py + resnet38_SEAM.py), in module order. */
export function seamResnet38Shapes(): [string, number[]][] {
  const out: [string, number[]][] = [['conv1a.weight', [64, 3, 3, 3]]];
  const bn = (name: string, c: number): void => {
    for (const p of ['weight', 'bias', 'running_mean', 'running_var']) out.push([`${name}.${p}`, [c]]);
    out.push([`${name}.num_batches_tracked`, []]);
  };
  const res = (name: string, cin: number, mid: number, cout: number): void => {
    bn(`${name}.bn_branch2a`, cin);
    out.push([`${name}.conv_branch2a.weight`, [mid, cin, 3, 3]]);
    bn(`${name}.bn_branch2b1`, mid);
    out.push([`${name}.conv_branch2b1.weight`, [cout, mid, 3, 3]]);
    if (cin !== cout) out.push([`${name}.conv_branch1.weight`, [cout, cin, 1, 1]]);
  };
  const bottleneck = (name: string, cin: number, cout: number): void => {
    bn(`${name}.bn_branch2a`, cin);
    out.push([`${name}.conv_branch2a.weight`, [cout / 4, cin, 1, 1]]);
    bn(`${name}.bn_branch2b1`, cout / 4);
    out.push([`${name}.conv_branch2b1.weight`, [cout / 2, cout / 4, 3, 3]]);
    bn(`${name}.bn_branch2b2`, cout / 2);
    out.push([`${name}.conv_branch2b2.weight`, [cout, cout / 2, 1, 1]]);
    out.push([`${name}.conv_branch1.weight`, [cout, cin, 1, 1]]);
  };
  const blocks: [string, number, number, number][] = [
    ['b2', 64, 128, 128], ['b2_1', 128, 128, 128], ['b2_2', 128, 128, 128],
    ['b3', 128, 256, 256], ['b3_1', 256, 256, 256], ['b3_2', 256, 256, 256],
    ['b4', 256, 512, 512], ['b4_1', 512, 512, 512], ['b4_2', 512, 512, 512], ['b4_3', 512, 512, 512], ['b4_4', 512, 512, 512], ['b4_5', 512, 512, 512],
    ['b5', 512, 512, 1024], ['b5_1', 1024, 512, 1024], ['b5_2', 1024, 512, 1024],
  ];
  for (const [name, cin, mid, cout] of blocks) res(name, cin, mid, cout);
  bottleneck('b6', 1024, 2048);
  bottleneck('b7', 2048, 4096);
  bn('bn7', 4096);
  out.push(['fc8.weight', [21, 4096, 1, 1]], ['f8_3.weight', [64, 512, 1, 1]], ['f8_4.weight', [128, 1024, 1, 1]], ['f9.weight', [192, 192 + 3, 1, 1]]);
  return out;
}

/** Deterministic value of pool element i (checked after loading). */
const value = (i: number): number => Math.fround(((i * 7919) % 10007) / 10007 - 0.5);

function child(file: string): void {
  const t0 = performance.now(), c0 = process.cpuUsage();
  void readWeights(file).then((w) => {
    const seconds = (performance.now() - t0) / 1000;
    const cu = process.cpuUsage(c0);
    const peakRssBytes = process.resourceUsage().maxRSS * 1024;
    // Spot-check values: every float tensor k is pool[off_k .. off_k + n).
    let bad = 0, n = 0;
    for (const t of w.tensors.values()) {
      if (!(t.data instanceof Float32Array)) continue;
      const off = Number(t.name.length % 97);
      for (const j of [0, t.data.length >> 1, t.data.length - 1]) if (t.data[j] !== value(off + j)) bad++;
      n += t.data.length;
    }
    console.log(JSON.stringify({ format: w.format, tensors: w.tensors.size, numbers: n, seconds, cpuSeconds: (cu.user + cu.system) / 1e6, peakRssBytes, badValues: bad }));
  });
}

async function main(): Promise<void> {
  const shapes = seamResnet38Shapes();
  const sizes = shapes.map(([, s]) => s.reduce((a, b) => a * b, 1));
  const total = sizes.reduce((a, b) => a + b, 0);
  // One pool backs every float tensor (tensor k is pool[off_k .. off_k + n_k), off_k from its name),
  // so generating the file does not need 422 MB here.
  const pool = new Float32Array(Math.max(...sizes) + 97);
  for (let i = 0; i < pool.length; i++) pool[i] = value(i);
  const tensors = new Map<string, TensorToWrite>();
  shapes.forEach(([name, shape], k) => {
    const off = name.length % 97;
    tensors.set(name, { shape, data: shape.length === 0 ? BigInt64Array.from([BigInt(1000 + k)]) : pool.subarray(off, off + sizes[k]) });
  });
  console.log(`ResNet-38 SEAM state dict: ${tensors.size} tensors, ${total} numbers`);
  // The ImageNet file: backbone arrays under MXNet names, then linear1000 (1000 x 4096 + 1000).
  const mx = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [name, shape] of shapes) {
    const m = torchToMxnetName(name);
    if (!m) continue;
    const off = m.length % 97;
    mx.set(m, { shape, data: pool.subarray(off, off + shape.reduce((a, b) => a * b, 1)) });
  }
  for (const [m, shape] of [['arg:linear1000_weight', [1000, 4096]], ['arg:linear1000_bias', [1000]]] as [string, number[]][]) {
    const off = m.length % 97;
    mx.set(m, { shape, data: pool.subarray(off, off + shape.reduce((a, b) => a * b, 1)) });
  }
  const root = mkdtempSync(join(tmpdir(), 'hfpl-bench-weights-'));
  const results: Record<string, unknown>[] = [];
  try {
    for (const [format, name] of [['safetensors', 'seam-full.safetensors'], ['pth-zip', 'seam-full.pth'], ['pth-legacy', 'seam-full-legacy.pth'], ['mxnet', 'ilsvrc-resnet38.params']] as const) {
      const path = join(root, name);
      const tw = performance.now();
      if (format === 'safetensors') await writeSafetensors(path, tensors);
      else if (format === 'pth-zip') await writeTorchZip(path, tensors);
      else if (format === 'pth-legacy') await writeTorchLegacy(path, tensors);
      else await writeMxnetParams(path, mx, 'legacy');
      const fileBytes = statSync(path).size;
      console.log(`${format}: wrote ${(fileBytes / 1e6).toFixed(1)} MB in ${((performance.now() - tw) / 1000).toFixed(2)} s`);
      const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--load', path], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`loading ${path} failed: ${r.stderr}`);
      const m = JSON.parse(r.stdout.trim().split('\n').pop()!) as { seconds: number; cpuSeconds: number; peakRssBytes: number; numbers: number; badValues: number };
      const rssRatio = m.peakRssBytes / fileBytes;
      console.log(
        `${format}: loaded ${m.numbers} numbers in ${m.seconds.toFixed(2)} s wall, ${m.cpuSeconds.toFixed(2)} s CPU; peak RSS ${(m.peakRssBytes / 1e6).toFixed(0)} MB = ${rssRatio.toFixed(2)}x file; ${m.badValues} wrong values`,
      );
      results.push({ format, fileBytes, seconds: +m.seconds.toFixed(2), cpuSeconds: +m.cpuSeconds.toFixed(2), peakRssBytes: m.peakRssBytes, rssRatio: +rssRatio.toFixed(2), badValues: m.badValues, pass: m.seconds <= 10 && rssRatio <= 2 && m.badValues === 0 });
      rmSync(path, { force: true });
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  console.log(JSON.stringify({ bench: 'weights', numbers: total, bars: { seconds: 10, rssRatio: 2 }, results }));
}

const i = process.argv.indexOf('--load');
if (i >= 0) child(process.argv[i + 1]);
else await main();
