/**
 * A tiny parameter system on tfjs-core (no tfjs-layers): every trainable tensor is a named
 * `tf.Variable` registered in a `ParamStore` with its role (pretrainable backbone or new layer)
 * and kind (weight, bias, batch-norm affine), so that checkpoints address weights by name and the
 * optimiser builds the parameter groups of METHOD 3.1 from the tags. Batch-norm running
 * statistics are non-trainable buffers in the same store.
 */
import * as tf from '@tensorflow/tfjs-core';
import { HfplError } from '../errors.js';
import type { Rng } from '../engine/random.js';

/** `backbone`: layers that a pretrained file may provide; `new`: layers trained from scratch (10x lr). */
export type ParamRole = 'backbone' | 'new';
/** What a parameter is, for the learning-rate multiplier and weight decay of METHOD 3.1. */
export type ParamKind = 'weight' | 'bias' | 'bnGamma' | 'bnBeta';

export interface Param {
  name: string;
  variable: tf.Variable;
  role: ParamRole;
  kind: ParamKind;
}

/** Weight initialisations (seeded; see `initTensor`). */
export type InitKind = 'heNormal' | 'heNormalFanOut' | 'heUniform' | 'xavierUniform' | 'zeros' | 'ones';

/**
 * Draws an initial value with hfpl's seeded `Rng` (not TF.js's generator), so that a model
 * is identical for a seed on every backend. Fan-in/out are for conv kernels [kh, kw, in, out].
 */
export function initTensor(shape: number[], kind: InitKind, rng: Rng, gain = 1): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  if (kind === 'ones') data.fill(1);
  else if (kind !== 'zeros') {
    const receptive = shape.length === 4 ? shape[0] * shape[1] : 1;
    const fanIn = (shape.length === 4 ? shape[2] : shape[0]) * receptive;
    const fanOut = (shape.length === 4 ? shape[3] : shape[shape.length - 1]) * receptive;
    if (kind === 'heNormal') {
      // PyTorch kaiming_normal_ default: fan_in, gain sqrt(2).
      const std = gain * Math.sqrt(2 / fanIn);
      for (let i = 0; i < n; i++) data[i] = rng.normal(0, std);
    } else if (kind === 'heNormalFanOut') {
      // kaiming_normal_(mode='fan_out', nonlinearity='relu'): std sqrt(2 / fan_out).
      const std = gain * Math.sqrt(2 / fanOut);
      for (let i = 0; i < n; i++) data[i] = rng.normal(0, std);
    } else if (kind === 'heUniform') {
      // Same variance as heNormal (2 / fan_in), about 4x faster to draw (no log/sin per value).
      const a = gain * Math.sqrt(6 / fanIn);
      for (let i = 0; i < n; i++) data[i] = rng.uniform(-a, a);
    } else {
      const a = gain * Math.sqrt(6 / (fanIn + fanOut));
      for (let i = 0; i < n; i++) data[i] = rng.uniform(-a, a);
    }
  }
  return tf.tensor(data, shape, 'float32');
}

/** Named parameters and buffers of a model. */
export class ParamStore {
  readonly params = new Map<string, Param>();
  readonly buffers = new Map<string, tf.Variable>();

  /** Registers a trainable parameter (its initial value is owned by the store from now on). */
  addParam(name: string, value: tf.Tensor, role: ParamRole, kind: ParamKind): tf.Variable {
    if (this.params.has(name) || this.buffers.has(name)) throw new HfplError('E_ARG', `parameter "${name}" registered twice`);
    const variable = tf.variable(value, true, `${name}#${uid++}`);
    value.dispose();
    this.params.set(name, { name, variable, role, kind });
    return variable;
  }

  /** Registers a non-trainable buffer (e.g. batch-norm running mean). */
  addBuffer(name: string, value: tf.Tensor): tf.Variable {
    if (this.params.has(name) || this.buffers.has(name)) throw new HfplError('E_ARG', `buffer "${name}" registered twice`);
    const variable = tf.variable(value, false, `${name}#${uid++}`);
    value.dispose();
    this.buffers.set(name, variable);
    return variable;
  }

  /** Every named tensor (parameters then buffers), as saved in a weights file. */
  namedTensors(): Map<string, tf.Variable> {
    const out = new Map<string, tf.Variable>();
    for (const [k, p] of this.params) out.set(k, p.variable);
    for (const [k, b] of this.buffers) out.set(k, b);
    return out;
  }

  /** Parameters that receive gradients (all of them unless frozen by the caller's filter). */
  trainable(filter: (p: Param) => boolean = () => true): Param[] {
    return [...this.params.values()].filter(filter);
  }

  /** Total number of scalar parameters (buffers excluded). */
  countParams(): number {
    let n = 0;
    for (const p of this.params.values()) n += p.variable.size;
    return n;
  }

  dispose(): void {
    for (const v of this.namedTensors().values()) v.dispose();
    this.params.clear();
    this.buffers.clear();
  }
}

// Variable names must be unique in the TF.js engine; several models may coexist in a process.
let uid = 0;
