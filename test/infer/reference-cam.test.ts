import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRgbImage } from '../../src/data/image-io.js';
import { initEngine } from '../../src/engine/init.js';
import { referenceCams, type ReferenceCams } from '../../src/infer/reference-cam.js';
import { loadReferenceTensors } from '../../src/models/reference/load-reference.js';
import { RefSeamNet } from '../../src/models/reference/seam.js';
import { maxDiff, readRefNpy, fixtureStateDict, refFile } from '../models/reference-helpers.js';

let net: RefSeamNet;
let res: ReferenceCams;
const items: { raw: Float32Array; cam: Float32Array; size: [number, number] }[] = [];

beforeAll(async () => {
  await initEngine();
  const tensors = await fixtureStateDict('seam.safetensors');
  net = RefSeamNet.fromShapes(new Map([...tensors].map(([k, v]) => [k, v.shape])), 'seam.safetensors');
  loadReferenceTensors(net.refs, tensors, 'seam.safetensors');
  const img = await readRgbImage(refFile('cam-input.png'));
  const label = readRefNpy('cam-label.npy').data as Float32Array;
  const labels = [...label].flatMap((v, i) => (v > 1e-5 ? [i + 1] : []));
  res = referenceCams(net, img, labels, { onItem: (i, cam, raw, size) => (items[i] = { raw, cam, size }) });
});

afterAll(() => net?.dispose());

describe('reference CAM inference (infer_cam_voc.py) on the fixture image', () => {
  it('cam_rv of every item (channel aeroplane, before upsampling) within 1e-4 * max + 1e-6', () => {
    const names = ['s0.5-noflip', 's0.5-flip', 's1.0-noflip', 's1.0-flip', 's1.5-noflip', 's1.5-flip', 's2.0-noflip', 's2.0-flip'];
    names.forEach((n, i) => {
      const ref = readRefNpy(`cam-raw-${n}.npy`);
      expect(ref.shape).toEqual(items[i].size);
      const hw = ref.shape[0] * ref.shape[1];
      const { err, scale } = maxDiff(items[i].raw.subarray(0, hw), ref.data as Float32Array);
      expect(err, n).toBeLessThanOrEqual(1e-4 * scale + 1e-6);
    });
  });

  it('cam_list[:, 0] and the sum over items within 1e-4 * max + 1e-6', () => {
    const list = readRefNpy('cam-list-c0.npy').data as Float32Array;
    const hw = res.height * res.width;
    items.forEach((it, i) => {
      const { err, scale } = maxDiff(it.cam.subarray(0, hw), list.subarray(i * hw, (i + 1) * hw));
      expect(err).toBeLessThanOrEqual(1e-4 * scale + 1e-6);
    });
    const s = maxDiff(res.sum.subarray(0, hw), readRefNpy('cam-sum-c0.npy').data as Float32Array);
    expect(s.err).toBeLessThanOrEqual(1e-4 * s.scale + 1e-6);
  });

  it('normalised CAM equals cam-norm-0.npy within abs 1e-4 (incl. the negative zeroed pixel)', () => {
    expect(res.labels).toEqual([1]);
    expect([res.height, res.width]).toEqual([67, 100]);
    const ref = readRefNpy('cam-norm-0.npy').data as Float32Array;
    const { err } = maxDiff(res.cams, ref);
    console.log(`cam-norm-0: max abs err ${err.toExponential(2)}`);
    expect(err).toBeLessThanOrEqual(1e-4);
    expect(Math.min(...res.cams)).toBeCloseTo(-7.1083, 3);
  });
});
