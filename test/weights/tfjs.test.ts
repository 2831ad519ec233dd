/** readWeights on hfpl's TF.js weight files (model.json + weights.bin): a folder or the JSON path. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { readWeights } from '../../src/weights/index.js';

const dir = mkdtempSync(join(tmpdir(), 'hfpl-test-tfjs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('a TF.js model.json reads as format tfjs with its hfpl metadata', async () => {
  const w = Float32Array.from([1, -2, 3.5, 4]), i = Int32Array.from([7, -8]);
  writeFileSync(join(dir, 'weights.bin'), Buffer.concat([Buffer.from(w.buffer), Buffer.from(i.buffer)]));
  const manifest = [{ paths: ['weights.bin'], weights: [{ name: 'conv/w', shape: [2, 2], dtype: 'float32' }, { name: 'idx', shape: [2], dtype: 'int32' }] }];
  writeFileSync(join(dir, 'model.json'), JSON.stringify({ weightsManifest: manifest, hfpl: { arch: 'x' } }));
  for (const path of [dir, join(dir, 'model.json')]) {
    const f = await readWeights(path);
    expect(f.format).toBe('tfjs');
    expect(f.meta).toEqual({ arch: 'x' });
    expect([...f.tensors.values()].map((t) => [t.name, t.dtype, t.shape, Array.from(t.data as Float32Array)])).toEqual([
      ['conv/w', 'float32', [2, 2], [1, -2, 3.5, 4]],
      ['idx', 'int32', [2], [7, -8]],
    ]);
  }
});
