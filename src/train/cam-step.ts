/**
 * The training objective of one batch (METHOD 1 and 2):
 * - CAM baseline: L = (1 - w) L_GAP + w L_ISL + f L_FSL, with w = islWeight, f = fslWeight;
 * - SEAM baseline: see `seam-step.ts`.
 * The FSL's image is the jittered RGB crop in [0, 1] resized to the CAM size (bilinear,
 * corners aligned); its prediction is `fslTargetFromCam(cam logits, labels)`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { featureSimilarityLoss } from '../losses/feature-similarity.js';
import { fslTargetFromCam } from '../losses/max-norm.js';
import { multilabelSoftMarginLoss } from '../losses/multilabel-soft-margin.js';
import { importanceSamplingLoss } from '../losses/importance-sampling.js';
import { gapLogits, type CamNet } from '../models/cam-net.js';
import type { ForwardContext } from '../models/layers.js';
import type { TrainCamConfig } from './config.js';

/** Inputs of one step. */
export interface StepInputs {
  /** Normalised images N x H x W x 3. */
  images: tf.Tensor4D;
  /** RGB in [0, 1], N x H x W x 3 (needed when fslWeight > 0). */
  raw?: tf.Tensor4D;
  /** Multi-hot labels N x K. */
  labels: tf.Tensor2D;
  /** Seed of the importance sampling of this step. */
  islSeed: number;
  /**
   * Fixed ISL sample positions, int32 [N, K, S] flat pixel indices (replacing the draw from
   * `islSeed`): lets two engine paths use the same samples (src/engine/agreement/).
   */
  islIndices?: tf.Tensor3D;
}

/** The total loss and its named parts (scalars owned by the caller's scope). */
export interface StepLoss {
  total: tf.Scalar;
  parts: Record<string, tf.Scalar>;
}

/** Foreground channels of CAM logits: N x h x w x (1+K) -> N x h x w x K. */
export function foreground(cam: tf.Tensor4D): tf.Tensor4D {
  return tf.slice(cam, [0, 0, 0, 1], [-1, -1, -1, -1]);
}

/**
 * Classification part shared by both baselines: (1 - w) L_GAP + w L_ISL on one view's logits.
 * `isl` is the seed of the importance sampling or fixed int32 [N, K, S] sample indices.
 */
export function classificationLoss(cam: tf.Tensor4D, labels: tf.Tensor2D, cfg: TrainCamConfig, isl: number | tf.Tensor3D, parts: Record<string, tf.Scalar>, suffix = ''): tf.Scalar {
  const gap = multilabelSoftMarginLoss(tf.slice(gapLogits(cam), [0, 1], [-1, -1]), labels);
  parts[`gap${suffix}`] = gap;
  const w = cfg.islWeight;
  if (w === 0) return gap;
  const sampling = typeof isl === 'number' ? { seed: isl } : { indices: isl };
  // The binomial form samples each foreground channel; the multinomial one (ICASSP 2022) the softmax over all 1 + K.
  const islLogits = cfg.isl.form === 'multinomial' ? cam : foreground(cam);
  const lIsl = importanceSamplingLoss(islLogits, labels, { numSamples: cfg.isl.numSamples, form: cfg.isl.form, ...sampling });
  parts[`isl${suffix}`] = lIsl;
  return w === 1 ? lIsl : tf.add(tf.mul(gap, 1 - w), tf.mul(lIsl, w));
}

/** FSL of CAM logits against the RGB crop (METHOD 1). */
export function fslTerm(cam: tf.Tensor4D, raw: tf.Tensor4D, labels: tf.Tensor2D, cfg: TrainCamConfig): tf.Scalar {
  const [, h, w] = cam.shape;
  const small = tf.clipByValue(tf.image.resizeBilinear(raw, [h, w], true), 0, 1);
  return featureSimilarityLoss(small, fslTargetFromCam(cam, labels), { mu: cfg.fsl.mu, sigma: cfg.fsl.sigma });
}

/** Loss of the CAM (GAP) baseline with the add-on. Call inside `tf.variableGrads`. */
export function camStepLoss(model: CamNet, inp: StepInputs, cfg: TrainCamConfig, ctx: ForwardContext): StepLoss {
  const { cam } = model.forward(inp.images, ctx);
  const parts: Record<string, tf.Scalar> = {};
  let total = classificationLoss(cam, inp.labels, cfg, inp.islIndices ?? inp.islSeed, parts);
  if (cfg.fslWeight > 0) {
    if (!inp.raw) throw new Error('camStepLoss: raw images are needed for the FSL');
    const fsl = fslTerm(cam, inp.raw, inp.labels, cfg);
    parts.fsl = fsl;
    total = tf.add(total, tf.mul(fsl, cfg.fslWeight));
  }
  return { total, parts };
}
