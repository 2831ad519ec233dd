/**
 * SEAM network (METHOD 2; reference `network/resnet38_SEAM.py`): the CAM network plus the
 * pixel correlation module (PCM), which refines a detached, normalised CAM with affinities of
 * features built from the image and two backbone taps.
 */
import * as tf from '@tensorflow/tfjs-core';
import { CamNet, type CamModelConfigInput } from './cam-net.js';
import { detach } from './detach.js';
import { Conv2d, type ForwardContext } from './layers.js';

export interface SeamForward {
  /** CAM logits at stride 8, N x h x w x (1+K). */
  cam: tf.Tensor4D;
  /** PCM-refined CAM at stride 8, N x h x w x (1+K). */
  camRv: tf.Tensor4D;
}

/**
 * Normalised, one-hot-ish CAM the PCM propagates (no gradient): relu, divide by the spatial
 * max (+1e-5), background = 1 - max foreground, foreground entries below the pixel's
 * foreground max set to 0.
 */
export function pcmInputCam(cam: tf.Tensor4D): tf.Tensor4D {
  return detach(cam, (x) => {
    const c = tf.relu(x);
    const max = tf.add(tf.max(c, [1, 2], true), 1e-5);
    const norm = tf.div(tf.relu(tf.sub(c, 1e-5)), max);
    const k = (norm.shape[3] as number) - 1;
    const fg = tf.slice(norm, [0, 0, 0, 1], [-1, -1, -1, k]);
    const fgMax = tf.max(fg, 3, true);
    const fgKept = tf.where(tf.less(fg, fgMax), tf.zerosLike(fg), fg);
    return tf.concat([tf.sub(1, fgMax), fgKept], 3) as tf.Tensor4D;
  });
}

/** CAM network with SEAM's PCM head (new layers `head.f8_3`, `head.f8_4`, `head.f9`). */
export class SeamNet extends CamNet {
  private readonly f83: Conv2d;
  private readonly f84: Conv2d;
  private readonly f9: Conv2d;

  constructor(config: CamModelConfigInput, seed = 0) {
    super({ ...config, head: 'seam' }, seed);
    const [c4, c5] = this.backbone.tapChannels;
    const rng = this.initRng;
    this.f83 = new Conv2d(this.store, 'head.f8_3', { inChannels: c4, outChannels: 64, kernel: 1, role: 'new', init: 'heNormal' }, rng);
    this.f84 = new Conv2d(this.store, 'head.f8_4', { inChannels: c5, outChannels: 128, kernel: 1, role: 'new', init: 'heNormal' }, rng);
    this.f9 = new Conv2d(this.store, 'head.f9', { inChannels: 192 + 3, outChannels: 192, kernel: 1, role: 'new', init: 'xavierUniform', gain: 4 }, rng);
  }

  /**
   * Forward pass of one view. `rgb` is the view itself (what the reference concatenates: the
   * normalised input resized to h x w, align corners).
   */
  forwardSeam(x: tf.Tensor4D, ctx: ForwardContext): SeamForward {
    const { cam, taps } = this.forward(x, ctx, true);
    const [, h, w] = cam.shape;
    const f83 = tf.relu(this.f83.apply(detach(taps[0])));
    const f84 = tf.relu(this.f84.apply(detach(taps[1])));
    const xs = tf.image.resizeBilinear(x, [h, w], true);
    const f = tf.concat([xs, f83, f84], 3) as tf.Tensor4D;
    return { cam, camRv: this.pcm(pcmInputCam(cam), f) };
  }

  /** PCM: cam_rv_j = sum_i aff_ij cam_i, aff = relu(f_i . f_j) normalised over i (f per-pixel L2-normalised). */
  pcm(cam: tf.Tensor4D, f: tf.Tensor4D): tf.Tensor4D {
    const [n, h, w, c] = cam.shape;
    const g = this.f9.apply(f);
    const flat = tf.reshape(g, [n, h * w, g.shape[3]]) as tf.Tensor3D;
    const unit = tf.div(flat, tf.add(tf.norm(flat, 'euclidean', 2, true), 1e-5)) as tf.Tensor3D;
    const aff = tf.relu(tf.matMul(unit, unit, false, true));
    const affN = tf.div(aff, tf.add(tf.sum(aff, 1, true), 1e-5)) as tf.Tensor3D;
    const camFlat = tf.reshape(cam, [n, h * w, c]) as tf.Tensor3D;
    return tf.reshape(tf.matMul(affN, camFlat, true, false), [n, h, w, c]) as tf.Tensor4D;
  }
}
