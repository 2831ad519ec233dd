/**
 * Layers of the reference networks under the reference's own parameter names: every variable
 * is registered in a `ParamStore` (as hfpl's other models) and, beside it, in a `RefParams`
 * table keyed by the PyTorch state_dict name, with the layout conversion it needs
 * (conv weights OIHW <-> HWIO, BN vectors as they are). Convolutions pad explicitly as
 * PyTorch does (`padding = dilation * (k - 1) / 2` on every side), which differs from TF.js
 * 'same' for strided 3x3 convolutions.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../../engine/random.js';
import { BatchNorm2d, Conv2d, type ForwardContext } from '../layers.js';
import type { ParamRole, ParamStore } from '../params.js';

/** How a reference tensor maps onto a TF.js variable. */
export type RefLayout = 'oihw' | 'vector';

/** One reference parameter: its TF.js variable and layout. */
export interface RefParam {
  variable: tf.Variable;
  layout: RefLayout;
  /** The shape the reference stores (OIHW for convolutions). */
  refShape: number[];
}

/** Reference state_dict names (in module order) -> TF.js variables. */
export class RefParams {
  readonly entries = new Map<string, RefParam>();
  add(name: string, variable: tf.Variable, layout: RefLayout): void {
    const s = variable.shape;
    this.entries.set(name, { variable, layout, refShape: layout === 'oihw' ? [s[3] as number, s[2] as number, s[0] as number, s[1] as number] : s.slice() });
  }
}

// Weights are zero-initialised and overwritten by the loader; the generator is never drawn from.
const NO_RNG = new Rng(0);

/** A bias-free convolution with PyTorch's symmetric padding; `name` is the reference module name. */
export class RefConv extends Conv2d {
  readonly pad: number;
  constructor(store: ParamStore, refs: RefParams, name: string, inC: number, outC: number, kernel: number, stride = 1, dilation = 1, role: ParamRole = 'backbone', bias = false) {
    super(store, name, { inChannels: inC, outChannels: outC, kernel, stride, dilation, role, init: 'zeros', bias }, NO_RNG);
    this.pad = (dilation * (kernel - 1)) / 2;
    refs.add(`${name}.weight`, this.weight, 'oihw');
    if (this.bias) refs.add(`${name}.bias`, this.bias, 'vector');
  }

  override apply(x: tf.Tensor4D): tf.Tensor4D {
    const p = this.pad;
    const d = this.dilation;
    const pad = p === 0 ? 'valid' : ([[0, 0], [p, p], [p, p], [0, 0]] as [[number, number], [number, number], [number, number], [number, number]]);
    const y = tf.conv2d(x, this.weight as tf.Tensor4D, this.stride, pad, 'NHWC', d === 1 ? 1 : [d, d]);
    return this.bias ? tf.add(y, this.bias) : y;
  }
}

/** Frozen BN (running statistics, eps 1e-5) under the names weight/bias/running_mean/running_var. */
export class RefBn extends BatchNorm2d {
  constructor(store: ParamStore, refs: RefParams, name: string, channels: number) {
    super(store, name, channels, true);
    refs.add(`${name}.weight`, this.gamma, 'vector');
    refs.add(`${name}.bias`, this.beta, 'vector');
    refs.add(`${name}.running_mean`, this.runningMean, 'vector');
    refs.add(`${name}.running_var`, this.runningVar, 'vector');
  }

  /** Always the running statistics (the reference freezes every BN). */
  run(x: tf.Tensor4D): tf.Tensor4D {
    return this.apply(x, EVAL);
  }
}

const EVAL: ForwardContext = { training: false };
