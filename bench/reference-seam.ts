/**
 * The full-size reference SEAM network (105.4 M numbers): writes a checkpoint with the
 * published shapes (safetensors, deterministic values, in os.tmpdir(), deleted afterwards),
 * loads it with `loadReferenceNet('seam-resnet38', ...)` (widths from the file), runs one
 * forward pass at 160 x 160 and the reference CAM inference of one 100 x 67 image at the four
 * scales. Prints wall and CPU time (process.cpuUsage; wall time is inflated on a shared machine)
 * and peak RSS. Last line: JSON.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { describeEngine, initEngine } from '../src/engine/init.js';
import { referenceCams } from '../src/infer/reference-cam.js';
import { loadReferenceNet } from '../src/models/reference/architectures.js';
import { referenceStateDict } from '../src/models/reference/load-reference.js';
import { RefSeamNet } from '../src/models/reference/seam.js';
import { writeSafetensors } from '../src/weights/index.js';

function timed<T>(f: () => T): { value: T; wallS: number; cpuS: number } {
  const t0 = performance.now(), c0 = process.cpuUsage();
  const value = f();
  const c = process.cpuUsage(c0);
  return { value, wallS: (performance.now() - t0) / 1000, cpuS: (c.user + c.system) / 1e6 };
}

async function main(): Promise<void> {
  const engine = await initEngine();
  const dir = mkdtempSync(join(tmpdir(), 'hfpl-bench-seam-'));
  const file = join(dir, 'seam-full.safetensors');
  try {
    // A full-size checkpoint: small deterministic weights, BN near identity (keeps activations finite).
    const gen = new RefSeamNet();
    const sd = referenceStateDict(gen.refs);
    gen.dispose();
    let k = 0;
    for (const [name, t] of sd) {
      const isVar = name.endsWith('running_var') || (name.includes('bn') && name.endsWith('.weight'));
      for (let i = 0; i < t.data.length; i++, k++) t.data[i] = isVar ? 1 : name.includes('bn') ? 0 : (((k * 7919) % 10007) / 10007 - 0.5) * 0.02;
    }
    await writeSafetensors(file, sd);
    sd.clear();
    const size = statSync(file).size;
    const t0 = performance.now(), c0 = process.cpuUsage();
    const { net, report } = await loadReferenceNet('seam-resnet38', file);
    const c1 = process.cpuUsage(c0);
    const load = { wallS: (performance.now() - t0) / 1000, cpuS: (c1.user + c1.system) / 1e6 };
    const seam = net as RefSeamNet;
    const x = tf.randomNormal([1, 160, 160, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    const fwd = timed(() => tf.tidy(() => seam.forward(x).camRv.shape));
    x.dispose();
    const img = { width: 100, height: 67, data: new Uint8Array(100 * 67 * 3).map((_, i) => (i * 37) % 256) };
    const cams = timed(() => referenceCams(seam, img, [1]).cams.length);
    net.dispose();
    const rssMb = process.resourceUsage().maxRSS / 1024;
    console.log(`engine: ${describeEngine(engine)}`);
    console.log(`full SEAM checkpoint: ${(size / 1e6).toFixed(0)} MB, ${report.loaded.length} tensors; load ${load.wallS.toFixed(1)} s wall / ${load.cpuS.toFixed(1)} s CPU`);
    console.log(`forward 160x160: ${fwd.wallS.toFixed(1)} s wall / ${fwd.cpuS.toFixed(1)} s CPU; CAM inference 100x67 (8 items): ${cams.wallS.toFixed(1)} s wall / ${cams.cpuS.toFixed(1)} s CPU; peak RSS ${rssMb.toFixed(0)} MB`);
    console.log(JSON.stringify({ fileMB: size / 1e6, tensors: report.loaded.length, loadWallS: load.wallS, loadCpuS: load.cpuS, forward160WallS: fwd.wallS, forward160CpuS: fwd.cpuS, camInferWallS: cams.wallS, camInferCpuS: cams.cpuS, peakRssMB: rssMb, native: engine.native }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
