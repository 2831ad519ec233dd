import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../../src/engine/init.js';
import { loadReferenceTensors } from '../../src/models/reference/load-reference.js';
import { RefSeamNet } from '../../src/models/reference/seam.js';
import { maxDiff, nchwData, nhwcFixture, readRefNpy, fixtureStateDict } from './reference-helpers.js';

let net: RefSeamNet;
let out: Record<string, Float32Array> = {};

beforeAll(async () => {
  await initEngine();
  const tensors = await fixtureStateDict('seam.safetensors');
  net = RefSeamNet.fromShapes(new Map([...tensors].map(([k, v]) => [k, v.shape])), 'seam.safetensors');
  const report = loadReferenceTensors(net.refs, tensors, 'seam.safetensors');
  expect(report.missing).toEqual([]);
  const x = nhwcFixture('input-64x80.npy');
  tf.tidy(() => {
    const o = net.forward(x);
    out = {
      conv3: nchwData(o.features.conv3), conv4: nchwData(o.features.conv4), conv5: nchwData(o.features.conv5), conv6: nchwData(o.features.conv6),
      cam: nchwData(o.cam), cam_rv: nchwData(o.camRv), logits: nchwData(o.logits), pcm_cam: nchwData(o.pcmCam), pcm_f: nchwData(o.pcmF), pcm_out: nchwData(o.pcmOut),
    };
  });
  x.dispose();
});

afterAll(() => net?.dispose());

describe('reference SEAM (resnet38_SEAM.py) on the scaled fixture', () => {
  for (const name of ['conv3', 'conv4', 'conv5', 'conv6', 'logits', 'cam', 'pcm_cam', 'pcm_f', 'pcm_out', 'cam_rv']) {
    it(`${name} equals seam-${name}.npy within 1e-4 * max|ref| + 1e-6`, () => {
      const ref = readRefNpy(`seam-${name}.npy`);
      const { err, scale } = maxDiff(out[name], ref.data as Float32Array);
      console.log(`seam-${name}: max abs err ${err.toExponential(2)} (max |ref| ${scale.toFixed(3)}, rel ${(err / scale).toExponential(2)})`);
      expect(err).toBeLessThanOrEqual(1e-4 * scale + 1e-6);
    });
  }
});
