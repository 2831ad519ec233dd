// Step-by-step gradient agreement of the engine paths on the demo's CAM network (issue 12): the
// demo's pre-training and fine-tuning configurations (baseline, +ISL, +FSL, +ISL +FSL, SEAM) on a
// small synthetic batch, teacher-forced (both paths start every step from the same weights).
// With the addon: native vs wasm, plus every native kernel's output against the wasm kernel on the
// same inputs; with HFPL_NATIVE=0 (or no addon): wasm vs cpu, the reference backend.
// A step where a pre-activation is within rounding of 0 on one path flips a ReLU (the gradient
// passes on one path only): such steps are counted, and only the flip-free ones are held to
// float32 rounding. The seeds below give flip-free steps on both pairs of paths.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initEngine } from '../../src/engine/init.js';
import { installPathSwitch, kernelDiffs, removePathSwitch, traceRelu, usePath, type EnginePath } from '../../src/engine/agreement/engine-paths.js';
import { generateSynthDataset } from '../../src/data/synth/generate.js';
import { AGREEMENT_CONFIGS, runAgreementSuite } from '../../src/train/path-agreement-suite.js';

const info = await initEngine({ backend: 'wasm' });
const native = info.native && installPathSwitch(1);
const paths: [EnginePath, EnginePath] = native ? ['native', 'wasm'] : ['wasm', 'cpu'];
const dir = mkdtempSync(join(tmpdir(), 'hfpl-agree-'));
const data = join(dir, 'data');
const plan = { pretrainSteps: 50, steps: 50, fineTuneLr: 0.01, lr: 0.05, batchSize: 2, backbone: 'tiny' as const, crop: 32, resizeLong: [28, 40] as [number, number] };

beforeAll(async () => {
  await generateSynthDataset({ out: data, train: 8, val: 2, width: 40, height: 40, classes: 3, objects: [1, 2] });
  traceRelu(true);
});
afterAll(async () => {
  traceRelu(false);
  removePathSwitch();
  await usePath('wasm');
  rmSync(dir, { recursive: true, force: true });
});

it(`demo CAM training configurations: ${paths.join(' vs ')} losses and gradients agree step by step`, async () => {
  const before = tf.memory().numTensors;
  kernelDiffs(true);
  // The cpu backend is slow (its filter gradients): there, one step of the full add-on and of SEAM.
  const steps = native ? 3 : 1;
  const configs = native ? AGREEMENT_CONFIGS : (['both', 'seam'] as const);
  const reports = await runAgreementSuite({ data, plan, configs, steps, paths, compareKernels: native });
  await usePath('wasm');
  expect(Object.keys(reports)).toEqual([...configs]);
  let flipFree = 0;
  for (const [config, r] of Object.entries(reports)) {
    expect(r.steps, config).toBe(steps);
    for (const s of r.perStep) {
      // Same weights, same batch: the losses agree to float32 rounding whatever the ReLUs do.
      expect(s.lossRelDiff, `${config} step ${s.step} loss`).toBeLessThan(1e-5);
      expect(s.reluFlips, `${config} step ${s.step}: ReLU tracing`).toBeGreaterThanOrEqual(0);
      if (s.reluFlips === 0) {
        flipFree++;
        expect(s.maxRelGradDiff, `${config} step ${s.step} (${s.worstParam})`).toBeLessThan(2e-5);
      }
    }
    // Every trained parameter was compared (CAM: 31 tensors; SEAM adds its 3 head convolutions).
    expect(r.perLayer.length, config).toBe(config === 'seam' ? 34 : 31);
  }
  expect(flipFree).toBeGreaterThanOrEqual(Math.ceil(0.8 * steps * configs.length));
  if (native) {
    const k = kernelDiffs(true);
    const byKernel = new Map<string, number>();
    for (const d of k) byKernel.set(d.kernel, Math.max(byKernel.get(d.kernel) ?? 0, d.maxRelDiff));
    // The geometries of the demo's network: dilated 3x3 (stage 4), strided 'same' (stages 2, 3),
    // 1x1 heads, SEAM's matmuls with a transpose.
    expect(k.some((d) => d.kernel === 'Conv2D' && d.geometry.includes('d2x2'))).toBe(true);
    expect(k.some((d) => d.kernel === 'Conv2DBackpropInput' && d.geometry.includes('s2'))).toBe(true);
    expect(k.some((d) => d.kernel === 'BatchMatMul' && /tA|tB/.test(d.geometry))).toBe(true);
    for (const [name, rel] of byKernel) {
      // The batch-norm kernels do the wasm kernels' float64 arithmetic: bit-identical.
      if (name.startsWith('HfplBatchNorm')) expect(rel, name).toBe(0);
      else expect(rel, name).toBeLessThan(1e-5);
    }
  }
  expect(tf.memory().numTensors).toBe(before);
}, 600_000);
