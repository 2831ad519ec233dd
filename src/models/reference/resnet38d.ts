/**
 * The reference ResNet-38 backbone (`network/resnet38d.py` of SEAM / hfpl, itself the
 * ademxapp "model A1"): conv1a, pre-activation residual blocks b2..b5 (`ResBlock`), bottleneck
 * blocks b6, b7 (`ResBlock_bot`, dropout 0.3 / 0.5, off in eval) and `bn7`; output stride 8
 * (b5..b7 dilated 2, 4, 4 instead of strided). Channel widths come from a checkpoint
 * (`resnet38dWidthsFromShapes`), so the full 104 M-parameter network and scaled copies load.
 */
import * as tf from '@tensorflow/tfjs-core';
import { HfplError } from '../../errors.js';
import { ParamStore } from '../params.js';
import { RefBn, RefConv, RefParams } from './ref-params.js';

/** One block of the layout: reference module name, kind, stride and dilations. */
export interface Resnet38dBlockSpec {
  name: string;
  kind: 'basic' | 'bottleneck';
  stride: 1 | 2;
  firstDilation: number;
  dilation: number;
}

function basic(name: string, stride: 1 | 2 = 1, dilation = 1, firstDilation = dilation): Resnet38dBlockSpec {
  return { name, kind: 'basic', stride, firstDilation, dilation };
}

/** The reference's block layout (`resnet38d.Net.__init__`). */
export const RESNET38D_BLOCKS: readonly Resnet38dBlockSpec[] = Object.freeze([
  basic('b2', 2), basic('b2_1'), basic('b2_2'),
  basic('b3', 2), basic('b3_1'), basic('b3_2'),
  basic('b4', 2), basic('b4_1'), basic('b4_2'), basic('b4_3'), basic('b4_4'), basic('b4_5'),
  basic('b5', 1, 2, 1), basic('b5_1', 1, 2), basic('b5_2', 1, 2),
  { name: 'b6', kind: 'bottleneck', stride: 1, firstDilation: 4, dilation: 4 },
  { name: 'b7', kind: 'bottleneck', stride: 1, firstDilation: 4, dilation: 4 },
]);

/**
 * Channel widths: `conv1a` output, then per block the output widths of its convolutions
 * (basic: [mid, out]; bottleneck: [out/4, out/2, out]).
 */
export interface Resnet38dWidths {
  conv1a: number;
  blocks: Record<string, number[]>;
}

/** Widths of the published network (104 M parameters). */
export const RESNET38D_FULL_WIDTHS: Resnet38dWidths = Object.freeze({
  conv1a: 64,
  blocks: {
    b2: [128, 128], b2_1: [128, 128], b2_2: [128, 128],
    b3: [256, 256], b3_1: [256, 256], b3_2: [256, 256],
    b4: [512, 512], b4_1: [512, 512], b4_2: [512, 512], b4_3: [512, 512], b4_4: [512, 512], b4_5: [512, 512],
    b5: [512, 1024], b5_1: [512, 1024], b5_2: [512, 1024],
    b6: [512, 1024, 2048], b7: [1024, 2048, 4096],
  },
});

/**
 * Reads the widths from reference parameter shapes (conv weights OIHW). `source` names the
 * file in the error when a convolution the layout needs is absent.
 */
export function resnet38dWidthsFromShapes(shapes: Map<string, number[]>, source: string, prefix = ''): Resnet38dWidths {
  const out = (name: string): number => {
    const s = shapes.get(prefix + name);
    if (!s || s.length !== 4) throw new HfplError('E_DATA', `${source}: not a resnet38d checkpoint (no 4-D ${prefix}${name})`);
    return s[0];
  };
  const blocks: Record<string, number[]> = {};
  for (const b of RESNET38D_BLOCKS) {
    const convs = b.kind === 'basic' ? ['conv_branch2a', 'conv_branch2b1'] : ['conv_branch2a', 'conv_branch2b1', 'conv_branch2b2'];
    blocks[b.name] = convs.map((c) => out(`${b.name}.${c}.weight`));
  }
  return { conv1a: out('conv1a.weight'), blocks };
}

/** The four feature maps `forward_as_dict` returns (NHWC). */
export interface Resnet38dFeatures {
  /** relu(b4.bn_branch2a(x)): the input of b4 after BN-ReLU (stride 4). */
  conv3: tf.Tensor4D;
  /** relu(b5.bn_branch2a(x)) (stride 8). */
  conv4: tf.Tensor4D;
  /** relu(b6.bn_branch2a(x)) (stride 8). */
  conv5: tf.Tensor4D;
  /** relu(bn7(b7(x))) (stride 8). */
  conv6: tf.Tensor4D;
}

interface RefBlock {
  spec: Resnet38dBlockSpec;
  apply(x: tf.Tensor4D): { y: tf.Tensor4D; pre: tf.Tensor4D };
}

function makeBlock(store: ParamStore, refs: RefParams, spec: Resnet38dBlockSpec, inC: number, widths: number[], prefix: string): RefBlock {
  const n = prefix + spec.name;
  const outC = widths[widths.length - 1];
  const bn2a = new RefBn(store, refs, `${n}.bn_branch2a`, inC);
  if (spec.kind === 'basic') {
    const [mid] = widths;
    const conv2a = new RefConv(store, refs, `${n}.conv_branch2a`, inC, mid, 3, spec.stride, spec.firstDilation);
    const bn2b1 = new RefBn(store, refs, `${n}.bn_branch2b1`, mid);
    const conv2b1 = new RefConv(store, refs, `${n}.conv_branch2b1`, mid, outC, 3, 1, spec.dilation);
    const conv1 = inC === outC && spec.stride === 1 ? null : new RefConv(store, refs, `${n}.conv_branch1`, inC, outC, 1, spec.stride);
    return {
      spec,
      apply(x) {
        const pre = tf.relu(bn2a.run(x));
        const branch1 = conv1 ? conv1.apply(pre) : x;
        const b = conv2b1.apply(tf.relu(bn2b1.run(conv2a.apply(pre))));
        return { y: tf.add(branch1, b), pre };
      },
    };
  }
  const [q, h] = widths;
  const conv2a = new RefConv(store, refs, `${n}.conv_branch2a`, inC, q, 1, spec.stride);
  const bn2b1 = new RefBn(store, refs, `${n}.bn_branch2b1`, q);
  const conv2b1 = new RefConv(store, refs, `${n}.conv_branch2b1`, q, h, 3, 1, spec.dilation);
  const bn2b2 = new RefBn(store, refs, `${n}.bn_branch2b2`, h);
  const conv2b2 = new RefConv(store, refs, `${n}.conv_branch2b2`, h, outC, 1);
  // ResBlock_bot always has the projection shortcut (b6 and b7 change width).
  const conv1 = new RefConv(store, refs, `${n}.conv_branch1`, inC, outC, 1, spec.stride);
  return {
    spec,
    apply(x) {
      const pre = tf.relu(bn2a.run(x));
      const branch1 = conv1.apply(pre);
      // Dropout2d (0.3 / 0.5) is the identity in eval.
      let b = conv2b1.apply(tf.relu(bn2b1.run(conv2a.apply(pre))));
      b = conv2b2.apply(tf.relu(bn2b2.run(b)));
      return { y: tf.add(branch1, b), pre };
    },
  };
}

/** The reference ResNet-38 in eval mode (frozen BN, no dropout), NHWC. */
export class Resnet38d {
  readonly widths: Resnet38dWidths;
  readonly outChannels: number;
  /** Channels of conv3, conv4, conv5 (the BN-ReLU inputs of b4, b5, b6). */
  readonly tapChannels: { conv3: number; conv4: number; conv5: number };
  private readonly conv1a: RefConv;
  private readonly blocks: RefBlock[] = [];
  private readonly bn7: RefBn;

  /** `prefix` is prepended to every reference name (e.g. "backbone." in the DeepLab network). */
  constructor(readonly store: ParamStore, readonly refs: RefParams, widths: Resnet38dWidths = RESNET38D_FULL_WIDTHS, prefix = '') {
    this.widths = widths;
    this.conv1a = new RefConv(store, refs, `${prefix}conv1a`, 3, widths.conv1a, 3);
    let c = widths.conv1a;
    const ins: Record<string, number> = {};
    for (const spec of RESNET38D_BLOCKS) {
      const w = widths.blocks[spec.name];
      ins[spec.name] = c;
      this.blocks.push(makeBlock(store, refs, spec, c, w, prefix));
      c = w[w.length - 1];
    }
    this.bn7 = new RefBn(store, refs, `${prefix}bn7`, c);
    this.outChannels = c;
    this.tapChannels = { conv3: ins.b4, conv4: ins.b5, conv5: ins.b6 };
  }

  /** `forward_as_dict` on a normalised NHWC image batch. Call inside `tf.tidy`. */
  forwardAsDict(x: tf.Tensor4D): Resnet38dFeatures {
    let h = this.conv1a.apply(x);
    const taps: Record<string, tf.Tensor4D> = {};
    for (const block of this.blocks) {
      const { y, pre } = block.apply(h);
      if (block.spec.name === 'b4') taps.conv3 = pre;
      else if (block.spec.name === 'b5') taps.conv4 = pre;
      else if (block.spec.name === 'b6') taps.conv5 = pre;
      h = y;
    }
    return { conv3: taps.conv3, conv4: taps.conv4, conv5: taps.conv5, conv6: tf.relu(this.bn7.run(h)) };
  }
}

/** A standalone backbone with its own store (what the ImageNet `.params` file initialises). */
export class Resnet38dNet {
  readonly store = new ParamStore();
  readonly refs = new RefParams();
  readonly backbone: Resnet38d;
  constructor(widths: Resnet38dWidths = RESNET38D_FULL_WIDTHS) {
    this.backbone = new Resnet38d(this.store, this.refs, widths);
  }
  dispose(): void {
    this.store.dispose();
  }
}
