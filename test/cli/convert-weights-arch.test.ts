/**
 * `hfpl convert-weights --arch`: reference checkpoints -> hfpl TF.js model + model.safetensors;
 * both load back to the same tensors and the same network outputs; bad input writes nothing.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCliText } from './run-cli.js';
import { initEngine } from '../../src/engine/init.js';
import { loadReferenceNet } from '../../src/models/reference/architectures.js';
import { referenceStateDict } from '../../src/models/reference/load-reference.js';
import type { RefSeamNet } from '../../src/models/reference/seam.js';
import { maxDiff, nchwData, nhwcFixture, readRefNpy, refFile } from '../models/reference-helpers.js';

afterEach(() => vi.restoreAllMocks());
beforeAll(async () => {
  await initEngine();
});

const run = runCliText;

describe('hfpl convert-weights --arch (reference architectures)', () => {
  it('a legacy SEAM .pth -> TF.js + safetensors; both load back to the same tensors and outputs', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'hfpl-conv-')), 'seam');
    const r = await run(['convert-weights', '--in', refFile('seam-legacy.pth'), '--arch', 'seam-resnet38', '--out', out]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/seam-legacy\.pth \(pth-legacy\) -> seam-resnet38: 195 tensors loaded, 0 missing, 37 ignored .*, 422,512 numbers/); // README: 422,549 numbers with the 37 num_batches_tracked
    expect(JSON.parse(readFileSync(join(out, 'model.json'), 'utf8')).hfpl.arch).toBe('seam-resnet38');
    const orig = await loadReferenceNet('seam-resnet38', refFile('seam.pth'));
    const want = referenceStateDict(orig.net.refs);
    orig.net.dispose();
    const x = nhwcFixture('input-64x80.npy');
    for (const f of ['model.json', 'model.safetensors']) {
      const { net, report } = await loadReferenceNet('seam-resnet38', join(out, f));
      expect(report.loaded.length).toBe(195);
      for (const [k, v] of referenceStateDict(net.refs)) expect(Array.from(v.data), `${f} ${k}`).toEqual(Array.from(want.get(k)!.data));
      let camRv: Float32Array = new Float32Array(0);
      tf.tidy(() => void (camRv = nchwData((net as RefSeamNet).forward(x).camRv)));
      const { err, scale } = maxDiff(camRv, readRefNpy('seam-cam_rv.npy').data as Float32Array);
      expect(err).toBeLessThanOrEqual(1e-4 * scale + 1e-6);
      net.dispose();
    }
    x.dispose();
  });

  it('the ImageNet-style .params: resnet38d as is, seam-resnet38 with --allow-missing (head reported)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hfpl-conv-params-'));
    let r = await run(['convert-weights', '--in', refFile('resnet38d-v1.params'), '--arch', 'resnet38d', '--out', join(dir, 'bb')]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/\(mxnet\) -> resnet38d: 191 tensors loaded, 0 missing/);
    r = await run(['convert-weights', '--in', refFile('resnet38d.params'), '--arch', 'seam-resnet38', '--out', join(dir, 'seam')]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/a checkpoint of architecture resnet38d, not seam-resnet38 \(a backbone-only file: add --allow-missing\)$/);
    expect(existsSync(join(dir, 'seam'))).toBe(false);
    r = await run(['convert-weights', '--in', refFile('resnet38d.params'), '--arch', 'seam-resnet38', '--out', join(dir, 'seam'), '--allow-missing']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/191 tensors loaded, 4 missing/);
    expect(r.out).toMatch(/missing \(left at zero, train them\): fc8\.weight, f8_3\.weight, f8_4\.weight, f9\.weight/);
  });

  it('another architecture or an unknown --arch: one line, exit 1, nothing written', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hfpl-conv-bad-'));
    for (const [args, msg] of [
      [['--in', refFile('aff.pth'), '--arch', 'seam-resnet38'], /aff\.pth: a checkpoint of architecture aff-resnet38, not seam-resnet38 \(use --arch aff-resnet38\)$/],
      [['--in', refFile('seam.pth'), '--arch', 'seam'], /--arch: unknown architecture 'seam' \(must be one of resnet38d, seam-resnet38, /],
    ] as [string[], RegExp][]) {
      const r = await run(['convert-weights', ...args, '--out', join(dir, 'o')]);
      expect(r.code).toBe(1);
      expect(r.err.split('\n').length).toBe(1);
      expect(r.err).toMatch(msg);
      expect(existsSync(join(dir, 'o'))).toBe(false);
    }
  });
});
