// Pins the reference behaviours of issue 13 (README "Departures from the reference"), each
// against a hand-made case or the reference's own definition (arvijj/hfpl file:line cited).
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../../src/engine/init.js';
import { pooledConfidentLabels, type ScoreMap } from '../../src/infer/aff-labels.js';
import { segmentationProbs } from '../../src/infer/infer-seg.js';
import { CamNet } from '../../src/models/cam-net.js';
import { DeepLab } from '../../src/models/deeplab.js';
import { BatchNorm2d, dropout } from '../../src/models/layers.js';
import { resolvePipelineOptions, scaledSpatialParams, type PipelineOptionsInput } from '../../src/pipeline/run-pipeline.js';
import { DEMO_PLANS_BY_BENCH } from '../../src/train/demo-run.js';
import { augmentScores } from '../../src/train/label-batches.js';
import { resolveTrainSegConfig, segmentationBatchLoss } from '../../src/train/train-seg.js';
import { segmentationLoss } from '../../src/models/deeplab.js';
import { parseResizeLong, parseSpatialScale, pipelineOptionsFromFlags } from '../../src/cli/commands/pipeline.js';

beforeAll(async () => {
  await initEngine();
});

/** A C x H x W score map from per-channel functions of (x, y). */
function scoreMap(C: number, W: number, H: number, f: (c: number, x: number, y: number) => number): ScoreMap {
  const data = new Float32Array(C * H * W);
  for (let c = 0; c < C; c++) for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) data[(c * H + y) * W + x] = f(c, x, y);
  return { data, channels: C, width: W, height: H };
}

describe('AffinityNet targets: CRF scores average-pooled 8 x 8, argmax per cell (voc12/data.py:232-256, tool/imutils.py:130-138)', () => {
  it('a hand-made 16 x 16 crop: pooled scores decide cells where one pixel (nearest) would not', () => {
    // 3 channels (background, class a, class b), 2 x 2 cells of 8 x 8.
    // Low alpha (fg map): cell (0,0) is a except for its top-left 4 x 4 quarter, which is b with
    //   a higher score: per pixel b wins 16 of 64 pixels, yet a's pooled mean 48*0.6/64 = 0.45
    //   beats b's 16*0.9/64 = 0.225 (and bg 16*0.1/64). Nearest sampling (pixel (4,4)) would say a too,
    //   so cell (1,0) is the telling one: pixel (4+8,4) = b, but 60 of its 64 pixels are a.
    //   Cell (0,1): background everywhere (score 0.7). Cell (1,1): zero scores (crop padding).
    // High alpha (bg map): background only in cell (0,1); elsewhere foreground.
    const low = scoreMap(3, 16, 16, (c, x, y) => {
      if (x >= 8 && y >= 8) return 0; // padding
      if (x < 8 && y >= 8) return c === 0 ? 0.7 : 0.15;
      if (x < 8) { // cell (0,0)
        const quarter = x < 4 && y < 4;
        return quarter ? [0.1, 0, 0.9][c] : [0.1, 0.6, 0.3][c];
      }
      // cell (1,0): only its pixel (12, 4) and three more in row 4 are b
      const isB = y === 4 && x >= 12 && x < 16;
      return isB ? [0, 0.1, 0.9][c] : [0.2, 0.5, 0.3][c];
    });
    const high = scoreMap(3, 16, 16, (c, x, y) => {
      if (x >= 8 && y >= 8) return 0;
      if (x < 8 && y >= 8) return c === 0 ? 0.9 : 0.05;
      return c === 0 ? 0.2 : 0.4;
    });
    const grid = pooledConfidentLabels(low, high, 8);
    expect([grid.width, grid.height]).toEqual([2, 2]);
    // Row-major cells: (0,0) a = 1, (1,0) a = 1, (0,1) background 0, (1,1) padding 255.
    expect([...grid.data]).toEqual([1, 1, 0, 255]);
    // The nearest pixel of cell (1,0) (pixel centre (12, 4), resizeLabelsNearest's choice) is b:
    const px = (m: ScoreMap, x: number, y: number) => [0, 1, 2].map((c) => m.data[(c * 16 + y) * 16 + x]);
    const at = px(low, 12, 4);
    expect(at.indexOf(Math.max(...at))).toBe(2);
  });

  it('low-alpha background is ignored unless high-alpha background; cells of only padding are 255', () => {
    // 1 x 3 cells of 2 x 2 (k = 2): (low bg, high fg) -> 255; (low bg, high bg) -> 0; padding -> 255.
    const low = scoreMap(2, 6, 2, (c, x) => (x >= 4 ? 0 : c === 0 ? 0.8 : 0.2));
    const high = scoreMap(2, 6, 2, (c, x) => (x >= 4 ? 0 : x < 2 ? [0.3, 0.7][c] : [0.6, 0.4][c]));
    expect([...pooledConfidentLabels(low, high, 2).data]).toEqual([255, 0, 255]);
    // A partial last block is averaged with zeros (skimage block_reduce pads with 0): 5 columns -> 3 cells.
    const odd = scoreMap(2, 5, 2, (c) => [0.1, 0.9][c]);
    expect([...pooledConfidentLabels(odd, odd, 2).data]).toEqual([1, 1, 1]);
  });

  it('augmentScores crops and flips the score maps with the image, 0 in the padding', () => {
    const m = scoreMap(2, 4, 2, (c, x, y) => c * 100 + y * 10 + x);
    const p = { width: 4, height: 2, flip: true, order: [0, 1, 2, 3], brightness: 1, contrast: 1, saturation: 1, hue: 0, imgTop: 0, imgLeft: 1, contTop: 1, contLeft: 0, cropH: 2, cropW: 3 };
    const out = augmentScores(m, p, 4);
    // Channel 1, container row 1 = image row 0, columns 3 - (1 + x) = 2, 1, 0 (flipped), then padding.
    expect([...out.data.subarray(16 + 4, 16 + 8)]).toEqual([102, 101, 100, 0]);
    expect([...out.data.subarray(0, 4)]).toEqual([0, 0, 0, 0]);
  });
});

describe('Dropout2d(0.5) before fc8 (network/resnet38_SEAM.py:14, :32): training only', () => {
  it('inference passes are deterministic and drop nothing; training passes drop whole channels, scaled by 2', () => {
    const net = new CamNet({ numClasses: 3, backbone: 'tiny' }, 1);
    expect(net.config.dropout).toBe(0.5);
    const x = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 4) as tf.Tensor4D;
    const a = net.forward(x, { training: false }), b = net.forward(x, { training: false });
    expect([...a.cam.dataSync()]).toEqual([...b.cam.dataSync()]);
    // The classifier on the features, by hand, equals the eval logits.
    const byHand = tf.conv2d(a.features, net.classifier.weight as tf.Tensor4D, 1, 'same');
    expect(Math.max(...tf.abs(tf.sub(byHand, a.cam)).dataSync())).toBeLessThan(1e-5);
    // Training: each (sample, channel) of the features is either 0 or doubled; about half kept.
    const seed = 7;
    const t1 = net.forward(x, { training: true, dropoutSeed: seed });
    const t2 = net.forward(x, { training: true, dropoutSeed: seed });
    expect([...t1.cam.dataSync()]).toEqual([...t2.cam.dataSync()]); // same seed, same mask
    const t3 = net.forward(x, { training: true, dropoutSeed: seed + 1 });
    expect([...t3.cam.dataSync()]).not.toEqual([...t1.cam.dataSync()]);
    const C = a.features.shape[3];
    // The mask itself: the layer the network applies to its features, with the same context rules.
    const ctx = { training: true, dropoutSeed: seed };
    const f = dropout(a.features, 0.5, ctx, true);
    const fv = f.dataSync(), av = a.features.dataSync();
    const [n, h, w] = a.features.shape;
    let kept = 0;
    for (let s = 0; s < n; s++) {
      for (let c = 0; c < C; c++) {
        const states = new Set<string>();
        for (let i = 0; i < h * w; i++) {
          const k = ((s * h * w) + i) * C + c;
          if (av[k] === 0) continue;
          states.add(Math.abs(fv[k]) < 1e-12 ? 'drop' : Math.abs(fv[k] - 2 * av[k]) < 1e-5 * Math.abs(av[k]) + 1e-6 ? 'keep' : 'other');
        }
        expect(states.size, `sample ${s} channel ${c}`).toBeLessThanOrEqual(1); // whole channel
        expect(states.has('other')).toBe(false);
        if (states.has('keep')) kept++;
      }
    }
    expect(kept / (n * C)).toBeGreaterThan(0.25);
    expect(kept / (n * C)).toBeLessThan(0.75);
    // Inference context: identity.
    expect(dropout(a.features, 0.5, { training: false }, true)).toBe(a.features);
    tf.dispose([x, a.cam, a.features, b.cam, b.features, byHand, t1.cam, t1.features, t2.cam, t2.features, t3.cam, t3.features, f]);
    net.dispose();
  });
});

describe('deeplabv1 head (lib/net/deeplabv1.py:21-54): the default of train-seg', () => {
  it('layers and widths: 3x3 dil 12 (no bias) -> BN -> ReLU -> 1x1 (no bias) -> BN -> ReLU -> Dropout(0.5) -> 1x1 with bias, 512 wide', () => {
    const ref = resolveTrainSegConfig({ preset: 'reference' });
    expect([ref.head, ref.headWidth, ref.headBnMomentum, ref.lossResolution]).toEqual(['deeplabv1', 512, 0.0003, 'full']);
    expect(resolveTrainSegConfig().head).toBe('deeplabv1');
    const net = new DeepLab({ numClasses: 21, head: 'deeplabv1', headWidth: 512, backbone: 'tiny' }, 0);
    const c = net.backbone.outChannels;
    const shapes = Object.fromEntries([...net.store.namedTensors()].filter(([k]) => k.startsWith('head.')).map(([k, v]) => [k, v.shape]));
    expect(shapes).toEqual({
      'head.conv_fov.weight': [3, 3, c, 512],
      'head.bn_fov.gamma': [512], 'head.bn_fov.beta': [512], 'head.bn_fov.runningMean': [512], 'head.bn_fov.runningVar': [512],
      'head.conv_fov2.weight': [1, 1, 512, 512],
      'head.bn_fov2.gamma': [512], 'head.bn_fov2.beta': [512], 'head.bn_fov2.runningMean': [512], 'head.bn_fov2.runningVar': [512],
      'head.cls_conv.weight': [1, 1, 512, 21], 'head.cls_conv.bias': [21],
    });
    // kaiming_normal_(mode='fan_out', relu): std sqrt(2 / (9 * 512)) for conv_fov.
    const w = net.store.params.get('head.conv_fov.weight')!.variable.dataSync() as Float32Array;
    const std = Math.sqrt(w.reduce((s: number, v: number) => s + v * v, 0) / w.length);
    expect(std / Math.sqrt(2 / (9 * 512))).toBeCloseTo(1, 1);
    expect(net.alignCorners).toBe(true);
    net.dispose();
  });

  it('the forward pass equals the layers applied by hand (eval), dropout changes it only in training, BN momentum 0.0003', () => {
    const net = new DeepLab({ numClasses: 5, head: 'deeplabv1', headWidth: 16, backbone: 'tiny' }, 3);
    const x = tf.randomNormal([1, 32, 24, 3], 0, 1, 'float32', 9) as tf.Tensor4D;
    const y = net.forward(x, { training: false });
    const { features } = net.backbone.apply(x, { training: false });
    const p = (k: string) => net.store.params.get(k)!.variable as tf.Tensor;
    const b = (k: string) => net.store.buffers.get(k)! as tf.Tensor;
    const bn = (t: tf.Tensor4D, n: string) => tf.batchNorm4d(t, b(`${n}.runningMean`) as tf.Tensor1D, b(`${n}.runningVar`) as tf.Tensor1D, p(`${n}.beta`) as tf.Tensor1D, p(`${n}.gamma`) as tf.Tensor1D, 1e-5);
    const h1 = tf.relu(bn(tf.conv2d(features, p('head.conv_fov.weight') as tf.Tensor4D, 1, 'same', 'NHWC', [12, 12]), 'head.bn_fov'));
    const h2 = tf.relu(bn(tf.conv2d(h1, p('head.conv_fov2.weight') as tf.Tensor4D, 1, 'same'), 'head.bn_fov2'));
    const want = tf.add(tf.conv2d(h2, p('head.cls_conv.weight') as tf.Tensor4D, 1, 'same'), p('head.cls_conv.bias'));
    expect(y.shape).toEqual([1, 4, 3, 5]);
    expect(Math.max(...tf.abs(tf.sub(y, want)).dataSync())).toBeLessThan(1e-4);
    const t1 = net.forward(x, { training: true, dropoutSeed: 1 }), t2 = net.forward(x, { training: true, dropoutSeed: 2 });
    expect([...t1.dataSync()]).not.toEqual([...t2.dataSync()]);
    const bnLayer = new BatchNorm2d(net.store, 'probe', 1, false, 0.0003);
    expect(bnLayer.momentum).toBe(0.0003);
    // Upsampled logits: align corners, the corners are the grid's corners (deeplabv1.py:53).
    const up = net.upsampledLogits(y, 32, 24);
    expect(up.shape).toEqual([1, 32, 24, 5]);
    const yv = y.arraySync()[0], uv = up.arraySync()[0];
    expect(uv[31][23][2]).toBeCloseTo(yv[3][2][2], 5);
    expect(uv[0][0][4]).toBeCloseTo(yv[0][0][4], 5);
    tf.dispose([x, y, features, h1, h2, want, t1, t2, up]);
    net.dispose();
  });

  it('full-resolution loss: cross-entropy of the upsampled logits against the full-size labels (train_final_voc.py:104-105)', () => {
    const net = new DeepLab({ numClasses: 3, head: 'deeplabv1', headWidth: 8, backbone: 'tiny' }, 1);
    const x = tf.randomNormal([1, 16, 16, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
    const labels = new Uint8Array(256).map((_, i) => (i % 17 === 0 ? 255 : i % 3));
    const ctx = { training: false };
    const got = segmentationBatchLoss(net, x, labels, ctx).total;
    const up = net.upsampledLogits(net.forward(x, ctx), 16, 16);
    const want = segmentationLoss(up, tf.tensor3d(Int32Array.from(labels), [1, 16, 16], 'int32'));
    expect(got.dataSync()[0]).toBeCloseTo(want.dataSync()[0], 5);
    const coarse = segmentationBatchLoss(net, x, labels, ctx, 'stride8').total;
    expect(Math.abs(coarse.dataSync()[0] - got.dataSync()[0])).toBeGreaterThan(1e-4);
    tf.dispose([x, got, up, want, coarse]);
    net.dispose();
  });
});

describe('multi-scale test: logits averaged, then softmax (eval_final_voc.py:84-89)', () => {
  it('equals the softmax of the mean of the upsampled (and unflipped) logits, not the mean of softmaxes', () => {
    const net = new DeepLab({ numClasses: 4, head: 'deeplabv1', headWidth: 8, backbone: 'tiny' }, 5);
    const W = 32, H = 16; // multiples of 8 at both scales: no padding, as the reference
    const data = new Uint8Array(W * H * 3).map((_, i) => (i * 37 + (i % 5) * 19) % 256);
    const image = { data, width: W, height: H };
    const got = segmentationProbs(net, image, { scales: [1, 0.5], flip: true });
    const mean = [0.485, 0.456, 0.406], std = [0.229, 0.224, 0.225];
    const logitsAt = (s: number) => tf.tidy(() => {
      let img = tf.div(tf.sub(tf.div(tf.tensor3d(data, [H, W, 3], 'float32'), 255), tf.tensor1d(mean)), tf.tensor1d(std)) as tf.Tensor3D;
      if (s !== 1) img = tf.image.resizeBilinear(img, [H * s, W * s], false, true);
      const x = tf.expandDims(img, 0) as tf.Tensor4D;
      const both = tf.concat([x, tf.reverse(x, 2)], 0) as tf.Tensor4D;
      const up = tf.image.resizeBilinear(net.forward(both, { training: false }), [H * s, W * s], true);
      const full = tf.image.resizeBilinear(up, [H, W], true);
      const [a, b] = tf.split(full, 2, 0);
      return tf.concat([a, tf.reverse(b, 2)], 0);
    });
    const all = tf.concat([logitsAt(1), logitsAt(0.5)], 0);
    const want = tf.transpose(tf.softmax(tf.mean(all, 0)), [2, 0, 1]).dataSync();
    const avgSoftmax = tf.transpose(tf.mean(tf.softmax(all), 0), [2, 0, 1]).dataSync();
    let worst = 0, apart = 0;
    for (let i = 0; i < want.length; i++) {
      worst = Math.max(worst, Math.abs(got[i] - want[i]));
      apart = Math.max(apart, Math.abs(avgSoftmax[i] - want[i]));
    }
    expect(worst).toBeLessThan(1e-5);
    expect(apart).toBeGreaterThan(1e-3); // the two averages differ on this case
    all.dispose();
    net.dispose();
  });
});

describe('pipeline defaults: test CRF on, spatial scale 1', () => {
  it('segCrf defaults to true (TEST_CRF, voc12/config_voc2012.py:45); spatialScale 1 keeps the reference values', () => {
    const o = resolvePipelineOptions({ data: 'd', out: 'o' });
    expect([o.segCrf, o.spatialScale]).toEqual([true, 1]);
    expect(scaledSpatialParams(1)).toEqual({ crfScaleFactor: 1, radius: 5 });
    // 128-px images: s = 128 / 500; CRF sxy 80 -> 20.48 (scale factor 500 / 128), radius 5 -> max(2, round(1.28)) = 2.
    const s = scaledSpatialParams(128 / 500);
    expect(80 / s.crfScaleFactor).toBeCloseTo(20.48, 10);
    expect(s.radius).toBe(2);
    expect(scaledSpatialParams(2).radius).toBe(10);
    expect(parseSpatialScale('auto')).toBe('auto');
    expect(parseSpatialScale('0.5')).toBe(0.5);
    expect(() => parseSpatialScale('-1')).toThrow(/--spatial-scale: expected 'auto' or a positive number, got '-1'/);
    expect(() => resolvePipelineOptions({ data: 'd', out: 'o', spatialScale: 0 })).toThrow(/spatialScale/);
  });

  it('--seg-resize-long reaches the pipeline options (the demo trains the segmentation at the CAM scale on v2)', () => {
    const o = resolvePipelineOptions(pipelineOptionsFromFlags({ data: 'd', out: 'o', flip: true, segCrf: true, segResizeLong: '128,192', segLr: '0.01' }) as PipelineOptionsInput);
    expect(o.segResizeLong).toEqual([128, 192]);
    expect(o.segLr).toBe(0.01);
    expect(() => pipelineOptionsFromFlags({ data: 'd', out: 'o', flip: true, segCrf: true, segLr: 'x' })).toThrow("--seg-lr: expected a number, got 'x'");
    // The v2 demo's --full trains the segmentation at lr 0.01 (benchmark-v2 calibration, session 5); v1 keeps the preset's.
    expect([DEMO_PLANS_BY_BENCH.v2.default.segLr, DEMO_PLANS_BY_BENCH.v1.default.segLr]).toEqual([0.01, null]);
    expect(pipelineOptionsFromFlags({ data: 'd', out: 'o', flip: true, segCrf: true }).segResizeLong).toBeUndefined();
    for (const bad of ['128', '192,128', '0,10', 'a,b', '1.5,2']) {
      expect(() => parseResizeLong(bad)).toThrow(`--seg-resize-long: expected two integers lo,hi with 1 <= lo <= hi, got '${bad}'`);
    }
  });
});
