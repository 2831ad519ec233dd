/**
 * SGD with momentum, weight decay, parameter groups and the poly learning rate of METHOD 3.1:
 * lr(step) = lr0 (1 - step / maxSteps)^power, times the group's multiplier. Update (PyTorch
 * convention): g = grad + wd w; buf = momentum buf + g; w -= lr buf.
 * (The reference's PolyOptimizer stores momentum 0.9 but never passes it to torch's SGD, so it
 * effectively runs without momentum; hfpl makes momentum an option.)
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Param } from '../models/params.js';

/** One parameter group of METHOD 3.1. */
export interface ParamGroup {
  name: 'backbone-weights' | 'backbone-biases' | 'bn' | 'new-weights' | 'new-biases';
  lrMult: number;
  weightDecay: number;
  params: Param[];
}

/**
 * Groups parameters as the reference does: backbone weights (1x, decay), backbone biases
 * (2x, no decay), new-layer weights (`newLayerLrMult`x, decay), new-layer biases
 * (2 `newLayerLrMult`x, no decay); batch-norm gamma/beta (trained only with batch statistics)
 * at 1x without decay. Empty groups are dropped.
 */
export function paramGroups(params: Param[], opts: { weightDecay: number; newLayerLrMult: number }): ParamGroup[] {
  const m = opts.newLayerLrMult;
  const groups: ParamGroup[] = [
    { name: 'backbone-weights', lrMult: 1, weightDecay: opts.weightDecay, params: [] },
    { name: 'backbone-biases', lrMult: 2, weightDecay: 0, params: [] },
    { name: 'bn', lrMult: 1, weightDecay: 0, params: [] },
    { name: 'new-weights', lrMult: m, weightDecay: opts.weightDecay, params: [] },
    { name: 'new-biases', lrMult: 2 * m, weightDecay: 0, params: [] },
  ];
  for (const p of params) {
    const isBn = p.kind === 'bnGamma' || p.kind === 'bnBeta';
    const g = isBn ? 2 : (p.role === 'new' ? 3 : 0) + (p.kind === 'bias' ? 1 : 0);
    groups[g].params.push(p);
  }
  return groups.filter((g) => g.params.length > 0);
}

/** Poly learning rate lr0 (1 - step / maxSteps)^power (step counted from 0). */
export function polyLr(lr0: number, step: number, maxSteps: number, power = 0.9): number {
  return lr0 * Math.pow(Math.max(0, 1 - step / maxSteps), power);
}

export interface SgdOptions {
  lr: number;
  momentum: number;
  power: number;
  maxSteps: number;
}

/** The optimiser; momentum buffers are named by parameter for checkpoints. */
export class PolySgd {
  readonly buffers = new Map<string, tf.Variable>();
  constructor(readonly groups: ParamGroup[], readonly opts: SgdOptions) {}

  /** Learning rate of the base group at `step`. */
  lrAt(step: number): number {
    return polyLr(this.opts.lr, step, this.opts.maxSteps, this.opts.power);
  }

  /** Applies one update with gradients keyed by variable name (as `tf.variableGrads` returns them). */
  step(step: number, grads: Record<string, tf.Tensor>): void {
    const lr = this.lrAt(step);
    const mom = this.opts.momentum;
    for (const g of this.groups) {
      for (const p of g.params) {
        const grad = grads[p.variable.name];
        if (!grad) continue;
        tf.tidy(() => {
          let d = g.weightDecay > 0 ? tf.add(grad, tf.mul(p.variable, g.weightDecay)) : grad;
          if (mom > 0) {
            let buf = this.buffers.get(p.name);
            if (!buf) {
              buf = tf.variable(tf.zerosLike(p.variable), false, `${p.variable.name}/momentum`);
              this.buffers.set(p.name, buf);
              buf.assign(d);
            } else buf.assign(tf.add(tf.mul(buf, mom), d));
            d = buf;
          }
          p.variable.assign(tf.sub(p.variable, tf.mul(d, lr * g.lrMult)));
        });
      }
    }
  }

  /** Momentum buffers by parameter name (for checkpoints). */
  state(): Map<string, tf.Tensor> {
    return new Map(this.buffers);
  }

  /** Restores momentum buffers saved by `state` (values copied). */
  loadState(values: Map<string, { shape: number[]; data: Float32Array | Int32Array }>): void {
    for (const [name, v] of values) {
      const existing = this.buffers.get(name);
      const t = tf.tensor(v.data, v.shape, 'float32');
      if (existing) {
        existing.assign(t);
        t.dispose();
      } else {
        const p = this.groups.flatMap((g) => g.params).find((q) => q.name === name);
        this.buffers.set(name, tf.variable(t, false, `${p?.variable.name ?? name}/momentum`));
        t.dispose();
      }
    }
  }

  dispose(): void {
    for (const b of this.buffers.values()) b.dispose();
    this.buffers.clear();
  }
}
