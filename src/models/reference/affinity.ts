/**
 * AffinityNet in the reference layout (`network/resnet38_aff.py`): resnet38d, `f8_3`, `f8_4`,
 * `f8_5` (1x1 on conv4, conv5, conv6, ELU), `f9` (1x1 on their concatenation, ELU), and the
 * affinities exp(-mean_c |f_to - f_from|) of the pixel pairs of `indicesOfPairs`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { HfplError } from '../../errors.js';
import { pairOffsets, pairWindow } from '../../infer/aff-labels.js';
import { elu } from '../affinity-net.js';
import { ParamStore } from '../params.js';
import { RefConv, RefParams } from './ref-params.js';
import { RESNET38D_FULL_WIDTHS, Resnet38d, resnet38dWidthsFromShapes, type Resnet38dWidths } from './resnet38d.js';

/** Output widths of AffinityNet's head. */
export interface AffHeadWidths {
  f8_3: number;
  f8_4: number;
  f8_5: number;
  f9: number;
}

export const AFF_FULL_HEAD: AffHeadWidths = Object.freeze({ f8_3: 64, f8_4: 128, f8_5: 256, f9: 448 });

/** Pair indices of a feature grid (flat y * w + x): `from` (F) and `to` (D x F, grouped by offset). */
export interface PairIndices {
  radius: number;
  from: Int32Array;
  to: Int32Array;
}

/**
 * `pyutils.get_indices_of_pairs(radius, (h, w))`: "from" pixels are rows [0, h - r + 1),
 * columns [r - 1, w - r + 1); for each offset (dy, dx) of `pairOffsets(radius)` the "to"
 * pixels are the same window shifted by it.
 */
export function indicesOfPairs(radius: number, h: number, w: number): PairIndices {
  const { height: ch, width: cw } = pairWindow(h, w, radius);
  const r = radius - 1;
  const offs = pairOffsets(radius);
  const F = ch * cw;
  const from = new Int32Array(F);
  const to = new Int32Array(offs.length * F);
  for (let y = 0, p = 0; y < ch; y++) for (let x = 0; x < cw; x++, p++) from[p] = y * w + x + r;
  offs.forEach(([dy, dx], d) => {
    for (let p = 0; p < F; p++) to[d * F + p] = from[p] + dy * w + dx;
  });
  return { radius, from, to };
}

/** The reference's radius rule: (min(h, w) - 1) // 2 when min(h, w) < 2 * 5 + 1, else 5. */
export function affinityRadius(h: number, w: number, radius = 5): number {
  const m = Math.min(h, w);
  return m < radius * 2 + 1 ? Math.floor((m - 1) / 2) : radius;
}

/** Outputs of `RefAffinityNet.forward`. */
export interface RefAffOutput {
  /** elu(f9(...)), N x h x w x C. */
  feat: tf.Tensor4D;
  /** N x D x F affinities. */
  aff: tf.Tensor3D;
  pairs: PairIndices;
}

function out(shapes: Map<string, number[]>, name: string, source: string, fallback?: number): number {
  const s = shapes.get(name);
  if (!s && fallback !== undefined) return fallback;
  if (!s || s.length !== 4) throw new HfplError('E_DATA', `${source}: not an AffinityNet checkpoint (no 4-D ${name})`);
  return s[0];
}

/** The reference AffinityNet (eval mode). */
export class RefAffinityNet {
  readonly store = new ParamStore();
  readonly refs = new RefParams();
  readonly backbone: Resnet38d;
  readonly head: AffHeadWidths;
  private readonly f83: RefConv;
  private readonly f84: RefConv;
  private readonly f85: RefConv;
  private readonly f9: RefConv;

  constructor(widths: Resnet38dWidths = RESNET38D_FULL_WIDTHS, head: AffHeadWidths = AFF_FULL_HEAD) {
    this.backbone = new Resnet38d(this.store, this.refs, widths);
    this.head = head;
    const t = this.backbone.tapChannels;
    this.f83 = new RefConv(this.store, this.refs, 'f8_3', t.conv4, head.f8_3, 1, 1, 1, 'new');
    this.f84 = new RefConv(this.store, this.refs, 'f8_4', t.conv5, head.f8_4, 1, 1, 1, 'new');
    this.f85 = new RefConv(this.store, this.refs, 'f8_5', this.backbone.outChannels, head.f8_5, 1, 1, 1, 'new');
    this.f9 = new RefConv(this.store, this.refs, 'f9', head.f8_3 + head.f8_4 + head.f8_5, head.f9, 1, 1, 1, 'new');
  }

  /** With `headDefaults`, absent head layers get the published widths (backbone-only files). */
  static fromShapes(shapes: Map<string, number[]>, source: string, headDefaults = false): RefAffinityNet {
    const d = headDefaults ? AFF_FULL_HEAD : ({} as Partial<AffHeadWidths>);
    const head = { f8_3: out(shapes, 'f8_3.weight', source, d.f8_3), f8_4: out(shapes, 'f8_4.weight', source, d.f8_4), f8_5: out(shapes, 'f8_5.weight', source, d.f8_5), f9: out(shapes, 'f9.weight', source, d.f9) };
    return new RefAffinityNet(resnet38dWidthsFromShapes(shapes, source), head);
  }

  /** The features `forward` compares (NHWC). Call inside `tf.tidy`. */
  features(x: tf.Tensor4D): tf.Tensor4D {
    const d = this.backbone.forwardAsDict(x);
    const cat = tf.concat([elu(this.f83.apply(d.conv4)), elu(this.f84.apply(d.conv5)), elu(this.f85.apply(d.conv6))], 3) as tf.Tensor4D;
    return elu(this.f9.apply(cat));
  }

  /** `Net.forward(x)`: features and the N x D x F pair affinities (radius by `affinityRadius`). */
  forward(x: tf.Tensor4D): RefAffOutput {
    const feat = this.features(x);
    const [n, h, w, c] = feat.shape;
    const pairs = indicesOfPairs(affinityRadius(h, w), h, w);
    const flat = tf.reshape(feat, [n, h * w, c]);
    const F = pairs.from.length;
    const D = pairs.to.length / F;
    const ff = tf.reshape(tf.gather(flat, tf.tensor1d(pairs.from, 'int32'), 1), [n, 1, F, c]);
    const ft = tf.reshape(tf.gather(flat, tf.tensor1d(pairs.to, 'int32'), 1), [n, D, F, c]);
    const aff = tf.exp(tf.neg(tf.mean(tf.abs(tf.sub(ft, ff)), 3))) as tf.Tensor3D;
    return { feat, aff, pairs };
  }

  dispose(): void {
    this.store.dispose();
  }
}

/**
 * `forward(x, to_dense=True)` for one image: the (h w) x (h w) matrix with `aff` at (from, to)
 * and (to, from) and ones on the diagonal.
 */
export function denseAffinity(aff: Float32Array, pairs: PairIndices, area: number): Float32Array {
  const m = new Float32Array(area * area);
  const F = pairs.from.length;
  for (let k = 0; k < pairs.to.length; k++) {
    const i = pairs.from[k % F], j = pairs.to[k];
    m[i * area + j] = aff[k];
    m[j * area + i] = aff[k];
  }
  for (let i = 0; i < area; i++) m[i * area + i] = 1;
  return m;
}
