import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../../src/engine/init.js';
import { loadReferenceNet, parseReferenceArch } from '../../src/models/reference/architectures.js';
import type { Resnet38dNet } from '../../src/models/reference/resnet38d.js';
import type { RefSeamNet } from '../../src/models/reference/seam.js';
import { maxDiff, nchwData, nhwcFixture, readRefNpy, refFile } from './reference-helpers.js';

beforeAll(async () => {
  await initEngine();
});

describe('reference networks from every fixture weight format', () => {
  it('seam.pth, seam-legacy.pth, seam-wrapped.pth and seam.safetensors give the same cam_rv (bit-identical) as the fixture', async () => {
    const x = nhwcFixture('input-64x80.npy');
    const ref = readRefNpy('seam-cam_rv.npy').data as Float32Array;
    let first: Float32Array | null = null;
    for (const f of ['seam.pth', 'seam-legacy.pth', 'seam-wrapped.pth', 'seam.safetensors']) {
      const { net, report, format } = await loadReferenceNet('seam-resnet38', refFile(f));
      expect(format).toBe(f.endsWith('.safetensors') ? 'safetensors' : f.includes('legacy') ? 'pth-legacy' : 'pth-zip');
      expect(report.loaded.length).toBe(net.refs.entries.size);
      let camRv: Float32Array = new Float32Array(0);
      tf.tidy(() => void (camRv = nchwData((net as RefSeamNet).forward(x).camRv)));
      net.dispose();
      const { err, scale } = maxDiff(camRv, ref);
      expect(err).toBeLessThanOrEqual(1e-4 * scale + 1e-6);
      if (first) expect(Array.from(camRv)).toEqual(Array.from(first));
      first = camRv;
    }
    x.dispose();
  });

  it('the three MXNet .params layouts load into resnet38d (linear1000 dropped) and give seam-conv3..conv6', async () => {
    const x = nhwcFixture('input-64x80.npy');
    for (const f of ['resnet38d.params', 'resnet38d-v1.params', 'resnet38d-v1magic.params']) {
      const { net, report } = await loadReferenceNet('resnet38d', refFile(f));
      expect(report.loaded.length).toBe(191);
      expect([report.missing, report.unexpected]).toEqual([[], []]);
      let feats: Float32Array[] = [];
      tf.tidy(() => {
        const d = (net as Resnet38dNet).backbone.forwardAsDict(x);
        feats = [nchwData(d.conv3), nchwData(d.conv4), nchwData(d.conv5), nchwData(d.conv6)];
      });
      net.dispose();
      ['conv3', 'conv4', 'conv5', 'conv6'].forEach((n, i) => {
        const { err, scale } = maxDiff(feats[i], readRefNpy(`seam-${n}.npy`).data as Float32Array);
        expect(err, `${f} ${n}`).toBeLessThanOrEqual(1e-4 * scale + 1e-6);
      });
    }
    x.dispose();
  });

  it('the ImageNet-style .params initialises SEAM and AffinityNet with allowMissing (head missing, reported)', async () => {
    const { net, report } = await loadReferenceNet('seam-resnet38', refFile('resnet38d.params'), { allowMissing: true });
    expect(report.loaded.length).toBe(191);
    expect(report.missing).toEqual(['fc8.weight', 'f8_3.weight', 'f8_4.weight', 'f9.weight']);
    net.dispose();
    const aff = await loadReferenceNet('aff-resnet38', refFile('resnet38d.params'), { allowMissing: true });
    expect(aff.report.missing).toEqual(['f8_3.weight', 'f8_4.weight', 'f8_5.weight', 'f9.weight']);
    aff.net.dispose();
    await expect(loadReferenceNet('seam-resnet38', refFile('resnet38d.params'))).rejects.toThrow(/resnet38d\.params: a checkpoint of architecture resnet38d, not seam-resnet38 \(a backbone-only file: add --allow-missing\)$/);
  });

  it('a checkpoint of another architecture and an unknown --arch: one line each', async () => {
    await expect(loadReferenceNet('seam-resnet38', refFile('aff.pth'))).rejects.toThrow(/aff\.pth: a checkpoint of architecture aff-resnet38, not seam-resnet38 \(use --arch aff-resnet38\)$/);
    await expect(loadReferenceNet('resnet50', refFile('seam.pth'))).rejects.toThrow(/seam\.pth: a checkpoint of architecture seam-resnet38, not resnet50/);
    expect(() => parseReferenceArch('seam')).toThrow("--arch: unknown architecture 'seam'; expected one of resnet38d, seam-resnet38, aff-resnet38, deeplab-largefov, resnet50, resnet50-cam");
  });
});
