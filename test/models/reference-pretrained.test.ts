import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../../src/engine/init.js';
import { Rng } from '../../src/engine/random.js';
import { ResidualBackbone } from '../../src/models/backbone.js';
import { ParamStore } from '../../src/models/params.js';
import { convertReferenceWeights } from '../../src/models/reference/convert.js';
import { readPretrainedWeights, referenceToProjectName } from '../../src/models/reference/project-names.js';
import { assignWeights } from '../../src/models/weights-io.js';
import { readStateDict } from '../../src/weights/index.js';
import { refFile } from './reference-helpers.js';

// hfpl's resnet38 preset with the fixture's scaled widths (every channel count / 16).
const SCALED = {
  stemWidth: 4, stemStride: 1 as const, frozenBn: true,
  stages: [
    { width: 8, blocks: 3, stride: 2 as const },
    { width: 16, blocks: 3, stride: 2 as const },
    { width: 32, blocks: 6, stride: 2 as const },
    { width: 64, midWidth: 32, blocks: 3, stride: 1 as const, dilation: 2, firstDilation: 1 },
    { width: 128, blocks: 1, stride: 1 as const, dilation: 4, bottleneck: true },
    { width: 256, blocks: 1, stride: 1 as const, dilation: 4, bottleneck: true },
  ],
};

beforeAll(async () => {
  await initEngine();
});

describe('--pretrained from reference files into hfpl\'s own resnet38 backbone', () => {
  it('maps names (hand-checked examples)', () => {
    expect(referenceToProjectName('conv1a.weight')).toBe('backbone.stem.weight');
    expect(referenceToProjectName('b2.bn_branch2a.weight')).toBe('backbone.s1.b1.bn2a.gamma');
    expect(referenceToProjectName('b4_5.conv_branch2b1.weight')).toBe('backbone.s3.b6.conv2b.weight');
    expect(referenceToProjectName('b5.conv_branch1.weight')).toBe('backbone.s4.b1.conv1.weight');
    expect(referenceToProjectName('b7.bn_branch2b2.running_var')).toBe('backbone.s6.b1.bn2b2.runningVar');
    expect(referenceToProjectName('b6.conv_branch2b1.weight')).toBe('backbone.s5.b1.conv2b1.weight');
    expect(referenceToProjectName('bn7.bias')).toBe('backbone.bnOut.beta');
    expect(referenceToProjectName('fc8.weight')).toBeNull();
    expect(referenceToProjectName('b3.bn_branch2a.num_batches_tracked')).toBeNull();
  });

  it('the .params, a SEAM .pth and a converted TF.js model each cover every backbone tensor, HWIO transposed', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'hfpl-pre-')), 'seam');
    await convertReferenceWeights({ input: refFile('seam.pth'), arch: 'seam-resnet38', out });
    const ref = (await readStateDict(refFile('seam.pth'))).tensors;
    const w = ref.get('b3_1.conv_branch2a.weight')!; // [16, 16, 3, 3] OIHW
    for (const f of [refFile('resnet38d-v1.params'), refFile('seam-legacy.pth'), join(out, 'model.json')]) {
      const store = new ParamStore();
      new ResidualBackbone(store, SCALED, new Rng(0));
      const r = assignWeights(store, await readPretrainedWeights(f), { strict: true, prefix: 'backbone.' }, f);
      expect(r.loaded.length).toBe(191);
      const v = store.params.get('backbone.s2.b2.conv2a.weight')!.variable.dataSync(); // HWIO [3, 3, 16, 16]
      const at = (o: number, i: number, y: number, x: number) => (w.data as Float32Array)[((o * 16 + i) * 3 + y) * 3 + x];
      expect(v[((2 * 3 + 1) * 16 + 5) * 16 + 7]).toBe(at(7, 5, 2, 1));
      expect(store.buffers.get('backbone.bnOut.runningVar')!.dataSync()[3]).toBe((ref.get('bn7.running_var')!.data as Float32Array)[3]);
      store.dispose();
    }
  });
});
