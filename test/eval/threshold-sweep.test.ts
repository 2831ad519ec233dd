import { mkdtempSync, rmSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CamThresholdSweep, DEFAULT_CAM_THRESHOLDS, sweepCamThresholds } from '../../src/eval/threshold-sweep.js';
import { camsToLabelMap, readCamFile, writeCamFile, type CamFile } from '../../src/eval/cam-files.js';
import { ConfusionAccumulator } from '../../src/eval/confusion.js';
import { encodeNpy } from '../../src/util/npy.js';
import { Rng } from '../../src/engine/random.js';
import type { LabelMap } from '../../src/data/label-png.js';

const tmp = mkdtempSync(join(tmpdir(), 'hfpl-cams-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('camsToLabelMap', () => {
  it('takes argmax over [t, cams]: background wins ties with t, the lower class wins ties between maps', () => {
    const cam: CamFile = { id: 'a', labels: [3, 7], width: 4, height: 1, cams: Float32Array.from([0.2, 0.5, 0.1, 0.4, 0.2, 0.5, 0.3, 0.4]) };
    expect(Array.from(camsToLabelMap(cam, 0.2).data)).toEqual([0, 3, 7, 3]);
    expect(Array.from(camsToLabelMap(cam, 0.1).data)).toEqual([3, 3, 7, 3]);
    expect(Array.from(camsToLabelMap(cam, 0.4).data)).toEqual([0, 3, 0, 0]);
    expect(Array.from(camsToLabelMap({ ...cam, labels: [], cams: new Float32Array(0) }, 0).data)).toEqual([0, 0, 0, 0]);
  });
});

describe('threshold sweep', () => {
  it('gives, for every t, the confusion of the label map argmax [t, cams] (random CAMs with ties at the thresholds)', async () => {
    const rng = new Rng(3);
    const K = 6, W = 23, H = 17;
    const pairs: { cam: CamFile; gt: LabelMap }[] = [];
    for (let k = 0; k < 5; k++) {
      const labels = [1, 2, 3, 4, 5].filter(() => rng.next() < 0.5);
      // Values on the 0.01 grid (exact ties with thresholds) and off it.
      const cams = Float32Array.from({ length: labels.length * W * H }, () => (rng.next() < 0.5 ? rng.int(0, 70) / 100 : rng.next() * 0.7));
      const gt = Uint8Array.from({ length: W * H }, () => (rng.next() < 0.1 ? 255 : rng.int(0, K)));
      pairs.push({ cam: { id: `i${k}`, labels, width: W, height: H, cams }, gt: { data: gt, width: W, height: H } });
    }
    const sweep = new CamThresholdSweep(K);
    for (const p of pairs) sweep.add(p.cam, p.gt);
    const res = sweep.result();
    expect(res.curve.map((c) => c.t)).toEqual(DEFAULT_CAM_THRESHOLDS);
    for (let j = 0; j < 60; j++) {
      const acc = new ConfusionAccumulator(K);
      for (const p of pairs) acc.add(camsToLabelMap(p.cam, DEFAULT_CAM_THRESHOLDS[j]), p.gt);
      expect(Array.from(sweep.confusionAt(j))).toEqual(acc.confusion().flat());
      expect(res.curve[j].miou).toBe(acc.miou());
    }
    const best = res.curve.reduce((b, c) => (c.miou > b.miou ? c : b));
    expect(res.bestThreshold).toBe(best.t);
    expect(res.bestMiou).toBe(best.miou);
    // Uneven thresholds, some on the CAM value grid.
    const uneven = [0, 0.013, 0.3, 0.31, 0.5, 0.69];
    const s2 = new CamThresholdSweep(K, 255, uneven);
    for (const p of pairs) s2.add(p.cam, p.gt);
    uneven.forEach((t, j) => {
      const acc = new ConfusionAccumulator(K);
      for (const p of pairs) acc.add(camsToLabelMap(p.cam, t), p.gt);
      expect(Array.from(s2.confusionAt(j))).toEqual(acc.confusion().flat());
    });
    const viaAsync = await sweepCamThresholds((async function* () { yield* pairs; })(), { numClasses: K });
    expect(viaAsync).toEqual(res);
  });

  it('hand case: one class map, two thresholds', () => {
    const gt: LabelMap = { data: Uint8Array.from([0, 1, 1, 255]), width: 4, height: 1 };
    const cam: CamFile = { id: 'h', labels: [1], width: 4, height: 1, cams: Float32Array.from([0.25, 0.3, 0.1, 0.9]) };
    const s = new CamThresholdSweep(2, 255, [0.2, 0.28]);
    s.add(cam, gt);
    // t = 0.2: labels [1, 1, 0, -]; t = 0.28: [0, 1, 0, -].
    expect(Array.from(s.confusionAt(0))).toEqual([0, 1, 1, 1]);
    expect(Array.from(s.confusionAt(1))).toEqual([1, 0, 1, 1]);
    const r = s.result();
    expect(r.curve.map((c) => c.miou)).toEqual([(0 / 2 + 1 / 3) / 2, (1 / 2 + 1 / 2) / 2]);
    expect(r.bestThreshold).toBe(0.28);
  });

  it('rejects a CAM class outside the class set and a size mismatch, naming the file', () => {
    const gt: LabelMap = { data: new Uint8Array(4), width: 2, height: 2 };
    const s = new CamThresholdSweep(3);
    expect(() => s.add({ id: 'x', labels: [5], width: 2, height: 2, cams: new Float32Array(4) }, gt, { pred: 'c/x.npy' }))
      .toThrow('c/x.npy: class 5 is not a foreground class (1..2)');
    expect(() => s.add({ id: 'x', labels: [1], width: 4, height: 1, cams: new Float32Array(4) }, gt, { pred: 'c/x.npy', gt: 'g/x.png' }))
      .toThrow('c/x.npy is 4x1 but g/x.png is 2x2');
  });
});

describe('CAM files', () => {
  it('round-trips exactly, .npy + .json, no temporary files left', async () => {
    const cams = Float32Array.from({ length: 2 * 3 * 5 }, (_, i) => i / 29);
    await writeCamFile(tmp, 'img1', cams, [1, 15], 3, 5);
    expect(readdirSync(tmp).sort()).toEqual(['img1.json', 'img1.npy']);
    const back = await readCamFile(tmp, 'img1');
    expect(back.labels).toEqual([1, 15]);
    expect([back.height, back.width]).toEqual([3, 5]);
    expect(Array.from(back.cams)).toEqual(Array.from(cams));
  });

  it('treats a .npy without its .json as missing and names the file', async () => {
    writeFileSync(join(tmp, 'half.npy'), encodeNpy(new Float32Array(4), [1, 2, 2]));
    await expect(readCamFile(tmp, 'half')).rejects.toThrow(`${join(tmp, 'half.json')}: CAM file not found (missing or incomplete)`);
  });

  it('rejects a .npy whose shape disagrees with the .json', async () => {
    writeFileSync(join(tmp, 'bad.npy'), encodeNpy(new Float32Array(8), [2, 2, 2]));
    writeFileSync(join(tmp, 'bad.json'), JSON.stringify({ id: 'bad', labels: [3], height: 2, width: 2 }));
    await expect(readCamFile(tmp, 'bad')).rejects.toThrow(`${join(tmp, 'bad.npy')}: expected float32 [1, 2, 2], found Float32Array [2, 2, 2]`);
    await expect(writeCamFile(tmp, 'w', new Float32Array(3), [1], 2, 2)).rejects.toThrow(/3 values, expected 1 x 2 x 2/);
    expect(existsSync(join(tmp, 'w.json'))).toBe(false);
  });
});
