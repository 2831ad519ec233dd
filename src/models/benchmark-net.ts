/**
 * The reference network for engine speed comparisons (issue 2, item 6), from plain tfjs-core
 * variables and ops: stem conv 3x3/2 (32) + BN + ReLU; four residual BasicBlocks (two 3x3 conv +
 * BN, 1x1 projection + BN when the shape changes) of widths 32, 64, 128, 256, strides 1, 2, 2, 1,
 * the last dilated by 2 (output stride 8); 1x1 conv 256 -> 21 without bias; global average
 * pooling of the 20 foreground channels; multi-label soft margin loss; SGD momentum 0.9, lr 0.01.
 * bench/train_step_torch.py is the same network in PyTorch.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../engine/random.js';
import { batchNormTrain } from '../engine/ops/batch-norm.js';
import { ensureEngine } from '../engine/init.js';

interface Bn { gamma: tf.Variable; beta: tf.Variable; runMean: tf.Variable; runVar: tf.Variable }
interface Block { conv1: tf.Variable; bn1: Bn; conv2: tf.Variable; bn2: Bn; stride: number; dilation: number; proj?: { w: tf.Variable; bn: Bn } }

/** Options of the benchmark network. */
export interface BenchmarkNetOptions {
  /** Seed of the weight initialisation; default 0. */
  seed?: number;
  /** Learning rate; default 0.01. */
  lr?: number;
  /** SGD momentum; default 0.9. */
  momentum?: number;
}

/** A variable holding `t`'s data; `t` itself is freed. */
function owned(t: tf.Tensor, trainable: boolean): tf.Variable {
  const v = tf.variable(t, trainable);
  t.dispose();
  return v;
}

const WIDTHS = [32, 64, 128, 256];
const STRIDES = [1, 2, 2, 1];
const DILATIONS = [1, 1, 1, 2];
const CLASSES = 21;

/** The benchmark network: parameters, a training step and dispose. */
export class BenchmarkNet {
  private readonly stem: { w: tf.Variable; bn: Bn };
  private readonly blocks: Block[] = [];
  private readonly head: tf.Variable;
  private readonly optimizer: tf.MomentumOptimizer;
  private readonly trainable: tf.Variable[] = [];
  private readonly all: tf.Variable[] = [];

  constructor(opts: BenchmarkNetOptions = {}) {
    const rng = new Rng(opts.seed ?? 0);
    this.stem = { w: this.conv(rng, 3, 3, 32), bn: this.bn(32) };
    let cin = 32;
    WIDTHS.forEach((width, i) => {
      const stride = STRIDES[i], dilation = DILATIONS[i];
      const block: Block = {
        conv1: this.conv(rng, 3, cin, width), bn1: this.bn(width),
        conv2: this.conv(rng, 3, width, width), bn2: this.bn(width), stride, dilation,
      };
      if (stride !== 1 || cin !== width) block.proj = { w: this.conv(rng, 1, cin, width), bn: this.bn(width) };
      this.blocks.push(block);
      cin = width;
    });
    this.head = this.conv(rng, 1, cin, CLASSES);
    this.optimizer = tf.train.momentum(opts.lr ?? 0.01, opts.momentum ?? 0.9);
  }

  /** He-normal conv weight [k, k, cin, cout]. */
  private conv(rng: Rng, k: number, cin: number, cout: number): tf.Variable {
    const std = Math.sqrt(2 / (k * k * cin));
    const v = new Float32Array(k * k * cin * cout);
    for (let i = 0; i < v.length; i++) v[i] = rng.normal(0, std);
    return this.track(owned(tf.tensor4d(v, [k, k, cin, cout]), true), true);
  }

  private bn(c: number): Bn {
    return {
      gamma: this.track(owned(tf.ones([c]), true), true),
      beta: this.track(owned(tf.zeros([c]), true), true),
      runMean: this.track(owned(tf.zeros([c]), false), false),
      runVar: this.track(owned(tf.ones([c]), false), false),
    };
  }

  private track(v: tf.Variable, trainable: boolean): tf.Variable {
    if (trainable) this.trainable.push(v);
    this.all.push(v);
    return v;
  }

  /** Training-mode batch norm; running statistics updated with momentum 0.1 (as PyTorch). */
  private bnTrain(x: tf.Tensor4D, p: Bn, stats: Array<() => void>): tf.Tensor4D {
    const { y, mean, variance } = batchNormTrain(x, p.gamma as tf.Tensor1D, p.beta as tf.Tensor1D, 1e-5);
    const m = x.shape[0] * x.shape[1] * x.shape[2];
    // kept past the gradient scope, which frees its intermediates; disposed after the update
    const [mu, va] = [tf.keep(mean), tf.keep(variance)];
    stats.push(() => {
      p.runMean.assign(tf.add(tf.mul(p.runMean, 0.9), tf.mul(mu, 0.1)));
      p.runVar.assign(tf.add(tf.mul(p.runVar, 0.9), tf.mul(va, 0.1 * m / Math.max(1, m - 1))));
      tf.dispose([mu, va]);
    });
    return y;
  }

  /** Logits [N, 20] of the foreground classes for images x [N, H, W, 3]. */
  forward(x: tf.Tensor4D, stats: Array<() => void> = []): tf.Tensor2D {
    ensureEngine('BenchmarkNet');
    let h = tf.relu(this.bnTrain(tf.conv2d(x, this.stem.w as tf.Tensor4D, 2, 'same'), this.stem.bn, stats));
    for (const b of this.blocks) {
      const c1 = tf.conv2d(h, b.conv1 as tf.Tensor4D, b.stride, 'same', 'NHWC', b.dilation);
      const a1 = tf.relu(this.bnTrain(c1, b.bn1, stats));
      const c2 = tf.conv2d(a1, b.conv2 as tf.Tensor4D, 1, 'same', 'NHWC', b.dilation);
      const y2 = this.bnTrain(c2, b.bn2, stats);
      const sc = b.proj ? this.bnTrain(tf.conv2d(h, b.proj.w as tf.Tensor4D, b.stride, 'same'), b.proj.bn, stats) : h;
      h = tf.relu(tf.add(y2, sc));
    }
    const logits = tf.conv2d(h, this.head as tf.Tensor4D, 1, 'valid');
    const fg = tf.slice(logits, [0, 0, 0, 1], [-1, -1, -1, CLASSES - 1]);
    return tf.mean(fg, [1, 2]) as tf.Tensor2D;
  }

  /** One SGD step on (x, labels [N, 20] in {0, 1}); returns the loss before the update. */
  step(x: tf.Tensor4D, labels: tf.Tensor2D): number {
    const stats: Array<() => void> = [];
    const loss = tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => {
        const z = this.forward(x, stats);
        // multi-label soft margin = mean(softplus(z) - y z)  (BCE on logits)
        return tf.mean(tf.sub(tf.softplus(z), tf.mul(labels, z))) as tf.Scalar;
      }, this.trainable);
      this.optimizer.applyGradients(grads as unknown as Record<string, tf.Variable>);
      tf.tidy(() => stats.forEach((f) => f()));
      return value;
    });
    const v = loss.dataSync()[0];
    loss.dispose();
    return v;
  }

  /** Number of trainable parameters. */
  get numParams(): number {
    return this.trainable.reduce((s, v) => s + v.size, 0);
  }

  dispose(): void {
    tf.dispose(this.all);
    this.optimizer.dispose();
    // TF.js 4.22's MomentumOptimizer.dispose() forgets its SGD base's learning-rate scalar
    (this.optimizer as unknown as { c?: tf.Tensor }).c?.dispose();
  }
}

/** Options of {@link trainBenchmarkNet}. */
export interface TrainBenchmarkOptions extends BenchmarkNetOptions {
  /** Training steps; default 10. */
  steps?: number;
  /** Batch size; default 8. */
  batch?: number;
  /** Square input size in pixels; default 128. */
  size?: number;
  /** Called after every step with the step index (0-based), loss and its wall time in ms. */
  onStep?: (step: number, loss: number, ms: number) => void;
}

/** Losses and per-step wall times of a run. */
export interface TrainBenchmarkResult { losses: number[]; ms: number[]; numParams: number }

/**
 * Trains the benchmark network on one fixed synthetic batch (seeded normal images, seeded
 * multi-labels) for `steps` steps.
 *
 * @example
 * const { losses } = trainBenchmarkNet({ steps: 5, batch: 2, size: 32 });
 */
export function trainBenchmarkNet(opts: TrainBenchmarkOptions = {}): TrainBenchmarkResult {
  const steps = opts.steps ?? 10, batch = opts.batch ?? 8, size = opts.size ?? 128;
  const rng = new Rng((opts.seed ?? 0) + 1);
  const img = new Float32Array(batch * size * size * 3);
  for (let i = 0; i < img.length; i++) img[i] = rng.normal();
  const lab = new Float32Array(batch * (CLASSES - 1));
  for (let i = 0; i < lab.length; i++) lab[i] = rng.bernoulli(0.15) ? 1 : 0;
  const x = tf.tensor4d(img, [batch, size, size, 3]);
  const y = tf.tensor2d(lab, [batch, CLASSES - 1]);
  const net = new BenchmarkNet(opts);
  const losses: number[] = [], ms: number[] = [];
  try {
    for (let s = 0; s < steps; s++) {
      const t0 = performance.now();
      const loss = net.step(x, y);
      const dt = performance.now() - t0;
      losses.push(loss);
      ms.push(dt);
      opts.onStep?.(s, loss, dt);
    }
  } finally {
    net.dispose();
    tf.dispose([x, y]);
  }
  return { losses, ms, numParams: net.numParams };
}
