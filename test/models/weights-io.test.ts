import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../../src/engine/init.js';
import { CamNet } from '../../src/models/cam-net.js';
import { assignWeights, loadModelWeights, readWeights, saveWeights } from '../../src/models/weights-io.js';

beforeAll(async () => {
  await initEngine();
});

const tmp = () => mkdtempSync(join(tmpdir(), 'hfpl-weights-'));

describe('weights in the TF.js format', () => {
  it('round-trips a model exactly (parameters and BN buffers) with a valid manifest', async () => {
    const dir = tmp();
    const a = new CamNet({ numClasses: 4, backbone: 'tiny' }, 1);
    await saveWeights(dir, a.store.namedTensors(), { note: 'x' });
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    expect(json.weightsManifest[0].paths).toEqual(['weights.bin']);
    const n = json.weightsManifest[0].weights.reduce((s: number, w: { shape: number[] }) => s + w.shape.reduce((p, d) => p * d, 1), 0);
    expect(readFileSync(join(dir, 'weights.bin')).length).toBe(4 * n);
    expect(json.hfpl).toEqual({ note: 'x' });

    const b = new CamNet({ numClasses: 4, backbone: 'tiny' }, 2);
    const report = loadModelWeights(b.store, join(dir, 'model.json'));
    expect(report.missing).toEqual([]);
    expect(report.loaded.length).toBe(a.store.namedTensors().size);
    for (const [name, v] of a.store.namedTensors()) {
      expect(Array.from(b.store.namedTensors().get(name)!.dataSync())).toEqual(Array.from(v.dataSync()));
    }
    a.dispose();
    b.dispose();
  });

  it('reads weights written by TF.js (tf.io.encodeWeights, two shards)', async () => {
    const dir = tmp();
    const w = tf.tensor2d([[1, 2], [3, 4]]), b = tf.tensor1d([0.5, -1, 7], 'int32');
    const { data, specs } = await tf.io.encodeWeights({ w, b });
    const bytes = new Uint8Array(data as ArrayBuffer);
    writeFileSync(join(dir, 'group1-shard1of2.bin'), bytes.subarray(0, 10));
    writeFileSync(join(dir, 'group1-shard2of2.bin'), bytes.subarray(10));
    writeFileSync(join(dir, 'model.json'), JSON.stringify({ modelTopology: null, weightsManifest: [{ paths: ['group1-shard1of2.bin', 'group1-shard2of2.bin'], weights: specs }] }));
    const r = readWeights(dir);
    expect(Array.from(r.values.get('w')!.data)).toEqual([1, 2, 3, 4]);
    expect(r.values.get('w')!.shape).toEqual([2, 2]);
    expect(Array.from(r.values.get('b')!.data)).toEqual([0, -1, 7]);
    tf.dispose([w, b]);
  });

  it('reports missing, unexpected and mis-shaped weights by name', async () => {
    const dir = tmp();
    const small = new CamNet({ numClasses: 4, backbone: 'tiny' });
    const other = new CamNet({ numClasses: 9, backbone: 'tiny' });
    const tensors = new Map<string, tf.Tensor>(small.store.namedTensors());
    tensors.delete('backbone.stem.weight');
    const extra = tf.zeros([2]);
    tensors.set('something.else', extra);
    await saveWeights(dir, tensors);
    const loaded = readWeights(dir);
    const r = assignWeights(other.store, loaded, { strict: false });
    expect(r.missing).toEqual(['backbone.stem.weight']);
    expect(r.unexpected).toEqual(['something.else']);
    expect(r.misShaped).toEqual([{ name: 'head.fc8.weight', expected: [1, 1, 128, 10], found: [1, 1, 128, 5] }]);
    expect(() => assignWeights(other.store, loaded, {}, 'pre.json')).toThrow(
      /pre\.json: missing backbone\.stem\.weight; unexpected something\.else; wrong shape head\.fc8\.weight \[1,1,128,5\] \(model \[1,1,128,10\]\)/,
    );
    // a backbone-only load (pretrained start) ignores the head
    const bb = assignWeights(other.store, loaded, { strict: false, prefix: 'backbone.' });
    expect(bb.misShaped).toEqual([]);
    expect(bb.missing).toEqual(['backbone.stem.weight']);
    extra.dispose();
    small.dispose();
    other.dispose();
  });

  it('fails with clear errors for a missing file, a truncated shard and quantised weights', async () => {
    const dir = tmp();
    expect(() => readWeights(join(dir, 'nope.json'))).toThrow(/nope\.json: weights file not found/);
    writeFileSync(join(dir, 'model.json'), JSON.stringify({ weightsManifest: [{ paths: ['w.bin'], weights: [{ name: 'a', shape: [4], dtype: 'float32' }] }] }));
    writeFileSync(join(dir, 'w.bin'), new Uint8Array(8));
    expect(() => readWeights(dir)).toThrow(/shards end before weight a/);
    writeFileSync(join(dir, 'model.json'), JSON.stringify({ weightsManifest: [{ paths: ['w.bin'], weights: [{ name: 'a', shape: [2], dtype: 'float32', quantization: { dtype: 'uint8' } }] }] }));
    expect(() => readWeights(dir)).toThrow(/weight a is quantised/);
  });
});
