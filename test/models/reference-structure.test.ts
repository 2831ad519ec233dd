import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../../src/engine/init.js';
import { RefAffinityNet } from '../../src/models/reference/affinity.js';
import { RefDeeplabLargeFov } from '../../src/models/reference/deeplab-largefov.js';
import { loadReferenceTensors, referenceStateDict, stripModulePrefix } from '../../src/models/reference/load-reference.js';
import { loadReferenceStateDict } from '../../src/models/reference/architectures.js';
import { RefResnet50Cam, resnet50WidthsFromShapes } from '../../src/models/reference/resnet50.js';
import { Resnet38dNet } from '../../src/models/reference/resnet38d.js';
import { RefSeamNet } from '../../src/models/reference/seam.js';
import { fixtureStateDict, refFile } from './reference-helpers.js';

type Entry = [string, number[], string];
const manifest = JSON.parse(readFileSync(refFile('manifest.json'), 'utf8')) as { state_dicts: Record<'seam' | 'aff', Entry[]> };
const shapesOf = (entries: Entry[]) => new Map(entries.map(([k, s]) => [k, s]));
const refEntries = (refs: { entries: Map<string, { refShape: number[] }> }) => [...refs.entries].map(([k, v]) => [k, v.refShape]);
const floatEntries = (entries: Entry[]) => entries.filter(([k]) => !k.endsWith('num_batches_tracked')).map(([k, s]) => [k, s]);

beforeAll(async () => {
  await initEngine();
});

describe('reference architectures: names, order and shapes', () => {
  it('SEAM and AffinityNet built from the fixture shapes list exactly the state_dict keys (minus num_batches_tracked), in order', () => {
    const seam = RefSeamNet.fromShapes(shapesOf(manifest.state_dicts.seam), 'manifest');
    expect(refEntries(seam.refs)).toEqual(floatEntries(manifest.state_dicts.seam));
    seam.dispose();
    const aff = RefAffinityNet.fromShapes(shapesOf(manifest.state_dicts.aff), 'manifest');
    expect(refEntries(aff.refs)).toEqual(floatEntries(manifest.state_dicts.aff));
    aff.dispose();
  });

  it('full-size SEAM: fc8 21 x 4096, f9 192 x 195, 105,070,912 backbone parameters (conv weights + BN affine)', () => {
    const net = new RefSeamNet();
    const e = net.refs.entries;
    expect(e.get('fc8.weight')!.refShape).toEqual([21, 4096, 1, 1]);
    expect(e.get('f9.weight')!.refShape).toEqual([192, 195, 1, 1]);
    expect(e.get('b7.conv_branch2b1.weight')!.refShape).toEqual([2048, 1024, 3, 3]);
    expect(e.get('bn7.running_var')!.refShape).toEqual([4096]);
    expect(e.size).toBe(191 + 4); // 191 backbone tensors (the README's .params count) + fc8, f8_3, f8_4, f9
    // Summed by hand over resnet38d.Net.__init__ (ResBlock: 2 in + 9 in mid + 2 mid + 9 mid out [+ in out];
    // ResBlock_bot: 2 in + in o/4 + 2 o/4 + 9 o/4 o/2 + 2 o/2 + o/2 o + in o; bn7 2 x 4096).
    const backbone = net.store.trainable((p) => p.role === 'backbone').reduce((a, p) => a + p.variable.size, 0);
    expect(backbone).toBe(105_070_912);
    expect(net.store.countParams()).toBe(105_070_912 + 21 * 4096 + 64 * 512 + 128 * 1024 + 192 * 195);
    net.dispose();
  });

  it('torchvision ResNet-50 (IRN strides 2,2,2,1): 23,508,032 backbone parameters, 265 tensors, blocks 3-4-6-3', () => {
    const net = new RefResnet50Cam(undefined, 0, '');
    expect(net.store.countParams()).toBe(23_508_032); // torchvision's 25,557,032 minus fc (2048 * 1000 + 1000)
    expect(net.refs.entries.size).toBe(265); // 320 state_dict keys - 53 num_batches_tracked - fc.weight/bias
    const widths = resnet50WidthsFromShapes(new Map([...net.refs.entries].map(([k, v]) => [k, v.refShape])), 'x');
    expect(widths.layers.map((l) => l.blocks)).toEqual([3, 4, 6, 3]);
    net.dispose();
  });

  it('ResNet-50: conv1 (7x7/2, pad 3), max-pool (3x3/2, pad 1) and strided shortcuts index pixels as PyTorch (hand-derived)', () => {
    // Widths 1, one block per layer; every conv zero except conv1's tap (0, 0) of input channel 0
    // and the downsample convs (1): a block's output is then relu(its shortcut), so the stride-16
    // feature (i, j) is the max-pooled stem at (4i, 4j) times three BN factors 1/sqrt(1 + 1e-5).
    const widths = { stem: 1, layers: [0, 1, 2, 3].map(() => ({ blocks: 1, planes: 1, out: 1 })) };
    const net = new RefResnet50Cam(widths, 0, '');
    const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
    for (const [k, v] of net.refs.entries) {
      const data = new Float32Array(v.refShape.reduce((a, b) => a * b, 1));
      if (/(bn\d|downsample\.1)\.(weight|running_var)$/.test(k) || /downsample\.0\.weight$/.test(k)) data.fill(1);
      tensors.set(k, { shape: v.refShape, data });
    }
    tensors.get('conv1.weight')!.data[0] = 1;
    expect(loadReferenceTensors(net.refs, tensors, 'hand').loaded.length).toBe(net.refs.entries.size);
    // 32 x 32 input, channel 0 = y * 32 + x + 1 (increasing, so a max-pool window's max is its last cell).
    const x = tf.tidy(() => tf.concat([tf.reshape(tf.range(1, 32 * 32 + 1), [1, 32, 32, 1]), tf.zeros([1, 32, 32, 2])], 3) as tf.Tensor4D);
    const f = tf.tidy(() => Array.from(net.forward(x).features.dataSync()));
    x.dispose();
    // conv out (oy, ox) = input (2 oy - 3, 2 ox - 3); pool (4, 4) = max over conv (7..9, 7..9) = input (15, 15) = 496.
    const s = (1 / Math.sqrt(1 + 1e-5)) ** 3;
    expect(f.length).toBe(4);
    expect(f[0]).toBe(0);
    expect(f[1]).toBe(0);
    expect(f[2]).toBe(0);
    expect(f[3]).toBeCloseTo(496 * s, 3);
    net.dispose();
  });

  it('DeepLab-LargeFOV (deeplabv1): backbone under "backbone.", conv_fov 512 x 4096 x 3 x 3 dil 12, cls_conv with bias', () => {
    const net = new RefDeeplabLargeFov();
    const e = net.refs.entries;
    expect(e.get('backbone.conv1a.weight')!.refShape).toEqual([64, 3, 3, 3]);
    expect(e.get('conv_fov.weight')!.refShape).toEqual([512, 4096, 3, 3]);
    expect(e.get('bn_fov2.running_mean')!.refShape).toEqual([512]);
    expect(e.get('cls_conv.bias')!.refShape).toEqual([21]);
    expect(e.size).toBe(191 + 1 + 4 + 1 + 4 + 2);
    net.dispose();
  });
});

describe('loading reference tensors', () => {
  let t: Awaited<ReturnType<typeof fixtureStateDict>>;
  let shapes: Map<string, number[]>;
  beforeAll(async () => {
    t = await fixtureStateDict('seam.safetensors');
    shapes = new Map([...t].map(([k, v]) => [k, v.shape]));
  });

  it('reports loaded / ignored (num_batches_tracked) and round-trips to the same OIHW tensors', () => {
    const net = RefSeamNet.fromShapes(shapes, 'seam.safetensors');
    const r = loadReferenceTensors(net.refs, t, 'seam.safetensors');
    const bns = [...t.keys()].filter((k) => k.endsWith('num_batches_tracked'));
    expect(r.ignored.sort()).toEqual(bns.sort());
    expect(r.loaded.length + r.ignored.length).toBe(t.size);
    expect([r.missing, r.unexpected, r.misShaped]).toEqual([[], [], []]);
    const back = referenceStateDict(net.refs);
    for (const [k, v] of back) {
      expect(v.shape).toEqual(t.get(k)!.shape);
      expect(Array.from(v.data)).toEqual(Array.from(t.get(k)!.data as Float32Array));
    }
    net.dispose();
  });

  it('a parameter of the wrong shape: strict load fails naming it with both shapes, the model untouched', () => {
    const net = RefSeamNet.fromShapes(shapes, 'seam.safetensors');
    const bad = new Map(t);
    bad.set('b4_2.conv_branch2a.weight', { shape: [32, 32, 1, 1], data: new Float32Array(32 * 32) });
    expect(() => loadReferenceTensors(net.refs, bad, 'bad.pth')).toThrow('bad.pth: shape mismatch b4_2.conv_branch2a.weight: file [32, 32, 1, 1], architecture [32, 32, 3, 3]');
    expect(net.refs.entries.get('conv1a.weight')!.variable.dataSync().every((v) => v === 0)).toBe(true);
    net.dispose();
  });

  it('a checkpoint of another architecture (AffinityNet into SEAM): missing and unexpected names', async () => {
    const aff = await fixtureStateDict('aff.safetensors');
    const net = RefSeamNet.fromShapes(shapes, 'seam.safetensors');
    expect(() => loadReferenceTensors(net.refs, aff, 'aff.safetensors')).toThrow(/^aff\.safetensors: (shape mismatch .*; )?missing fc8\.weight.*; unexpected f8_5\.weight$/);
    net.dispose();
  });

  it('backbone only: allowMissing tolerates the head, not unexpected names; wrappers are stripped', () => {
    const backbone = new Map([...t].filter(([k]) => !/^(fc8|f8_3|f8_4|f9)\./.test(k)).map(([k, v]) => [`state_dict.module.${k}`, v]));
    const net = RefSeamNet.fromShapes(shapes, 'x');
    expect(() => loadReferenceTensors(net.refs, backbone, 'x.params')).toThrow(/missing fc8\.weight, f8_3\.weight, f8_4\.weight, f9\.weight$/);
    const r = loadReferenceTensors(net.refs, backbone, 'x.params', { allowMissing: true });
    expect(r.missing).toEqual(['fc8.weight', 'f8_3.weight', 'f8_4.weight', 'f9.weight']);
    expect(r.loaded.length).toBe(191);
    expect(stripModulePrefix(new Map([['module.a', 1], ['b', 2]]))).toEqual(new Map([['module.a', 1], ['b', 2]]));
    const bb = new Resnet38dNet(net.backbone.widths);
    expect(loadReferenceTensors(bb.refs, backbone, 'x.params').loaded.length).toBe(191);
    bb.dispose();
    net.dispose();
  });

  it('ResNet-50 files: torchvision (fc dropped), as IRN CAM init with allowMissing, and IRN checkpoints with their module aliases', () => {
    const widths = { stem: 2, layers: [1, 2, 1, 1].map((b, i) => ({ blocks: b, planes: 2 << i, out: 8 << i })) };
    const irn = new RefResnet50Cam(widths, 20, 'resnet50.');
    const irnSd = referenceStateDict(irn.refs);
    irn.dispose();
    const tv = new Map([...irnSd].filter(([k]) => k.startsWith('resnet50.')).map(([k, v]) => [k.slice(9), v]));
    tv.set('fc.weight', { shape: [1000, 64], data: new Float32Array(64000) });
    tv.set('fc.bias', { shape: [1000], data: new Float32Array(1000) });
    const a = loadReferenceStateDict('resnet50', tv, 'resnet50-19c8e357.pth');
    expect([a.report.loaded.length, a.report.missing.length, a.report.unexpected.length]).toEqual([irnSd.size - 1, 0, 0]);
    a.net.dispose();
    const b = loadReferenceStateDict('resnet50-cam', tv, 'resnet50-19c8e357.pth', { allowMissing: true });
    expect(b.report.missing).toEqual(['classifier.weight']);
    b.net.dispose();
    // IRN's state_dict repeats resnet50.conv1.weight as stage1.0.weight, backbone.0.0.weight, ...
    const withAliases = new Map(irnSd);
    withAliases.set('stage1.0.weight', irnSd.get('resnet50.conv1.weight')!);
    withAliases.set('backbone.0.0.weight', irnSd.get('resnet50.conv1.weight')!);
    withAliases.set('newly_added.0.weight', irnSd.get('classifier.weight')!);
    const c = loadReferenceStateDict('resnet50-cam', withAliases, 'res50_cam.pth');
    expect(c.report.loaded.length).toBe(irnSd.size);
    expect(c.report.ignored).toEqual(['stage1.0.weight', 'backbone.0.0.weight', 'newly_added.0.weight']);
    c.net.dispose();
    expect(() => loadReferenceStateDict('seam-resnet38', tv, 'r50.pth')).toThrow('r50.pth: a checkpoint of architecture resnet50, not seam-resnet38 (use --arch resnet50)');
  });
});

