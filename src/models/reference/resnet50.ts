/**
 * torchvision's ResNet-50 as a CAM backbone, in IRN's layout (`jiwoon-ahn/irn`
 * `net/resnet50.py`, `net/resnet50_cam.py`): strides (2, 2, 2, 1), i.e. conv1 7x7/2 and
 * max-pool 3x3/2, layer2 and layer3 strided, layer4 not (output stride 16); frozen BN
 * (eps 1e-5); torchvision v1.5 bottlenecks (stride on the 3x3). Parameter names are
 * torchvision's (`conv1`, `bn1`, `layerI.J.convK`, `layerI.J.downsample.0|1`), so the published
 * `resnet50-*.pth` loads directly (its `fc.*` classifier is ignored); IRN's CAM network puts
 * them under `resnet50.` and adds `classifier` (1x1, 20 classes, no bias).
 */
import * as tf from '@tensorflow/tfjs-core';
import { HfplError } from '../../errors.js';
import { ParamStore } from '../params.js';
import { RefBn, RefConv, RefParams } from './ref-params.js';

/** Blocks per layer and the widths of their 1x1 / 3x3 convolutions (output = 4x). */
export interface Resnet50Widths {
  stem: number;
  layers: { blocks: number; planes: number; out: number }[];
}

export const RESNET50_FULL_WIDTHS: Resnet50Widths = Object.freeze({
  stem: 64,
  layers: [
    { blocks: 3, planes: 64, out: 256 },
    { blocks: 4, planes: 128, out: 512 },
    { blocks: 6, planes: 256, out: 1024 },
    { blocks: 3, planes: 512, out: 2048 },
  ],
});

/** IRN's CAM strides. */
export const RESNET50_CAM_STRIDES: readonly [number, number, number, number] = Object.freeze([2, 2, 2, 1]) as [number, number, number, number];

/** Widths from torchvision parameter shapes (`prefix` e.g. "resnet50."). */
export function resnet50WidthsFromShapes(shapes: Map<string, number[]>, source: string, prefix = ''): Resnet50Widths {
  const get = (n: string) => shapes.get(prefix + n);
  const stem = get('conv1.weight');
  if (!stem || stem.length !== 4) throw new HfplError('E_DATA', `${source}: not a ResNet-50 checkpoint (no 4-D ${prefix}conv1.weight)`);
  const layers: Resnet50Widths['layers'] = [];
  for (let i = 1; i <= 4; i++) {
    let blocks = 0;
    while (get(`layer${i}.${blocks}.conv1.weight`)) blocks++;
    if (blocks === 0) throw new HfplError('E_DATA', `${source}: not a ResNet-50 checkpoint (no ${prefix}layer${i}.0.conv1.weight)`);
    layers.push({ blocks, planes: get(`layer${i}.0.conv1.weight`)![0], out: get(`layer${i}.0.conv3.weight`)![0] });
  }
  return { stem: stem[0], layers };
}

interface Bottleneck {
  apply(x: tf.Tensor4D): tf.Tensor4D;
}

function bottleneck(s: ParamStore, r: RefParams, n: string, inC: number, planes: number, outC: number, stride: number): Bottleneck {
  const conv1 = new RefConv(s, r, `${n}.conv1`, inC, planes, 1);
  const bn1 = new RefBn(s, r, `${n}.bn1`, planes);
  const conv2 = new RefConv(s, r, `${n}.conv2`, planes, planes, 3, stride);
  const bn2 = new RefBn(s, r, `${n}.bn2`, planes);
  const conv3 = new RefConv(s, r, `${n}.conv3`, planes, outC, 1);
  const bn3 = new RefBn(s, r, `${n}.bn3`, outC);
  const down = stride !== 1 || inC !== outC ? { conv: new RefConv(s, r, `${n}.downsample.0`, inC, outC, 1, stride), bn: new RefBn(s, r, `${n}.downsample.1`, outC) } : null;
  return {
    apply(x) {
      let y = tf.relu(bn1.run(conv1.apply(x)));
      y = tf.relu(bn2.run(conv2.apply(y)));
      y = bn3.run(conv3.apply(y));
      const res = down ? down.bn.run(down.conv.apply(x)) : x;
      return tf.relu(tf.add(y, res));
    },
  };
}

/** ResNet-50 feature extractor (eval), NHWC. */
export class Resnet50 {
  readonly outChannels: number;
  private readonly conv1: RefConv;
  private readonly bn1: RefBn;
  private readonly layers: Bottleneck[][] = [];

  constructor(store: ParamStore, refs: RefParams, widths: Resnet50Widths = RESNET50_FULL_WIDTHS, strides: readonly number[] = RESNET50_CAM_STRIDES, prefix = '') {
    this.conv1 = new RefConv(store, refs, `${prefix}conv1`, 3, widths.stem, 7, strides[0]);
    this.bn1 = new RefBn(store, refs, `${prefix}bn1`, widths.stem);
    let c = widths.stem;
    widths.layers.forEach((l, i) => {
      const stride = i === 0 ? 1 : strides[i];
      const blocks: Bottleneck[] = [];
      for (let j = 0; j < l.blocks; j++) {
        blocks.push(bottleneck(store, refs, `${prefix}layer${i + 1}.${j}`, c, l.planes, l.out, j === 0 ? stride : 1));
        c = l.out;
      }
      this.layers.push(blocks);
    });
    this.outChannels = c;
  }

  /** Features of each layer (stage1 .. stage4 of IRN). Call inside `tf.tidy`. */
  forward(x: tf.Tensor4D): tf.Tensor4D[] {
    let h = tf.relu(this.bn1.run(this.conv1.apply(x)));
    // nn.MaxPool2d(3, stride 2, padding 1): padded cells never win (as TF's pooling).
    h = tf.maxPool(h, 3, 2, [[0, 0], [1, 1], [1, 1], [0, 0]] as never);
    const outs: tf.Tensor4D[] = [];
    for (const blocks of this.layers) {
      for (const b of blocks) h = b.apply(h);
      outs.push(h);
    }
    return outs;
  }
}

/** IRN's `resnet50_cam.CAM`: relu(classifier(stage4)), or a backbone-only network without classifier. */
export class RefResnet50Cam {
  readonly store = new ParamStore();
  readonly refs = new RefParams();
  readonly backbone: Resnet50;
  private readonly classifier: RefConv | null;

  /** `prefix` "resnet50." with `classes` > 0: IRN's CAM network; "" and 0: torchvision's backbone. */
  constructor(widths: Resnet50Widths = RESNET50_FULL_WIDTHS, classes = 20, prefix = 'resnet50.') {
    this.backbone = new Resnet50(this.store, this.refs, widths, RESNET50_CAM_STRIDES, prefix);
    this.classifier = classes > 0 ? new RefConv(this.store, this.refs, 'classifier', this.backbone.outChannels, classes, 1, 1, 1, 'new') : null;
  }

  /** Stage-4 features and, with a classifier, relu(CAM) (NHWC, stride 16). Call inside `tf.tidy`. */
  forward(x: tf.Tensor4D): { features: tf.Tensor4D; cam: tf.Tensor4D | null } {
    const features = this.backbone.forward(x)[3];
    return { features, cam: this.classifier ? tf.relu(this.classifier.apply(features)) : null };
  }

  dispose(): void {
    this.store.dispose();
  }
}
