/**
 * Training objective of the SEAM baseline with the add-on (METHOD 2; reference
 * `train_cam_voc.py`). View 1 is the crop, view 2 the crop scaled by 0.3 (bilinear, corners
 * aligned). Per view: CAM logits z and the PCM-refined map r, both upsampled to the view size.
 * L = 0.5 [((1 - w) L_GAP1 + w L_ISL) + L_GAP2] + 0.5 (L_min1 + L_min2) + L_er + L_ecr + f L_FSL,
 * L_er = mean |cam1 - cam2| over foreground channels (max-normed, label-masked, view 1
 * rescaled to view 2), L_ecr = top-20% mean of |max_onehot(other view's cam) - r|.
 * Deviation: GAP is taken on the stride-8 logits (the reference pools the upsampled map; the
 * two differ only by the interpolation's border weighting).
 */
import * as tf from '@tensorflow/tfjs-core';
import { maxNorm } from '../losses/max-norm.js';
import { multilabelSoftMarginLoss } from '../losses/multilabel-soft-margin.js';
import { adaptiveMinPoolingLoss, equivariantCrossRegularizationLoss, equivariantRegularizationLoss } from '../losses/seam.js';
import { gapLogits } from '../models/cam-net.js';
import type { ForwardContext } from '../models/layers.js';
import type { SeamNet } from '../models/seam-net.js';
import { classificationLoss, fslTerm, type StepInputs, type StepLoss } from './cam-step.js';
import type { TrainCamConfig } from './config.js';

const SCALE = 0.3;

/** Loss of the SEAM baseline with the add-on. Call inside `tf.variableGrads`. */
export function seamStepLoss(model: SeamNet, inp: StepInputs, cfg: TrainCamConfig, ctx: ForwardContext): StepLoss {
  const [n, H, W] = inp.images.shape;
  const h2 = Math.floor(H * SCALE), w2 = Math.floor(W * SCALE);
  const K = inp.labels.shape[1];
  const mask = tf.reshape(tf.concat([tf.ones([n, 1]), inp.labels], 1), [n, 1, 1, K + 1]);
  const parts: Record<string, tf.Scalar> = {};

  const v1 = model.forwardSeam(inp.images, ctx);
  const cam1Up = tf.image.resizeBilinear(v1.cam, [H, W], true);
  const rv1Up = tf.image.resizeBilinear(v1.camRv, [H, W], true);
  const min1 = adaptiveMinPoolingLoss(rv1Up, inp.labels);
  const cam1 = tf.mul(tf.image.resizeBilinear(maxNorm(cam1Up), [h2, w2], true), mask) as tf.Tensor4D;
  const rv1 = tf.mul(tf.image.resizeBilinear(maxNorm(rv1Up), [h2, w2], true), mask) as tf.Tensor4D;

  const img2 = tf.image.resizeBilinear(inp.images, [h2, w2], true);
  const v2 = model.forwardSeam(img2, ctx);
  const cam2Up = tf.image.resizeBilinear(v2.cam, [h2, w2], true);
  const rv2Up = tf.image.resizeBilinear(v2.camRv, [h2, w2], true);
  const min2 = adaptiveMinPoolingLoss(rv2Up, inp.labels);
  const cam2 = tf.mul(maxNorm(cam2Up), mask) as tf.Tensor4D;
  const rv2 = tf.mul(maxNorm(rv2Up), mask) as tf.Tensor4D;

  const cls1 = classificationLoss(v1.cam, inp.labels, cfg, inp.islIndices ?? inp.islSeed, parts, '1');
  const cls2 = multilabelSoftMarginLoss(tf.slice(gapLogits(v2.cam), [0, 1], [-1, -1]), inp.labels);
  parts.gap2 = cls2;
  const minPool = tf.mul(tf.add(min1, min2), 0.5);
  parts.minPool = minPool as tf.Scalar;
  const er = equivariantRegularizationLoss(cam1, cam2);
  parts.er = er;
  const ecrLoss = tf.add(equivariantCrossRegularizationLoss(cam2, rv1), equivariantCrossRegularizationLoss(cam1, rv2)) as tf.Scalar;
  parts.ecr = ecrLoss;
  let total = tf.add(tf.add(tf.mul(tf.add(cls1, cls2), 0.5), minPool), tf.add(er, ecrLoss)) as tf.Scalar;
  if (cfg.fslWeight > 0) {
    if (!inp.raw) throw new Error('seamStepLoss: raw images are needed for the FSL');
    const fsl = fslTerm(v1.cam, inp.raw, inp.labels, cfg);
    parts.fsl = fsl;
    total = tf.add(total, tf.mul(fsl, cfg.fslWeight));
  }
  return { total, parts };
}
