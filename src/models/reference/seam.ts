/**
 * SEAM's CAM network in the reference layout (`network/resnet38_SEAM.py`): resnet38d, `fc8`
 * (1x1, 21 classes incl. background), and the pixel correlation module (PCM) with `f8_3`,
 * `f8_4`, `f9`. Eval mode (`dropout7` off). NHWC throughout.
 */
import * as tf from '@tensorflow/tfjs-core';
import { HfplError } from '../../errors.js';
import { ParamStore } from '../params.js';
import { pcmInputCam } from '../seam-net.js';
import { RefConv, RefParams } from './ref-params.js';
import { RESNET38D_FULL_WIDTHS, Resnet38d, resnet38dWidthsFromShapes, type Resnet38dFeatures, type Resnet38dWidths } from './resnet38d.js';

/** Widths of SEAM's head (outputs of f8_3, f8_4, f9; classes of fc8). */
export interface SeamHeadWidths {
  classes: number;
  f8_3: number;
  f8_4: number;
  f9: number;
}

export const SEAM_FULL_HEAD: SeamHeadWidths = Object.freeze({ classes: 21, f8_3: 64, f8_4: 128, f9: 192 });

/** Outputs of `RefSeamNet.forward` (NHWC). */
export interface RefSeamOutput {
  /** fc8(conv6) upsampled to the input size (bilinear, align corners). */
  cam: tf.Tensor4D;
  /** PCM-refined CAM upsampled to the input size (bilinear, align corners). */
  camRv: tf.Tensor4D;
  /** fc8(conv6) at stride 8. */
  logits: tf.Tensor4D;
  /** Debug: the PCM's CAM input (cam_d_norm), its features and its output at stride 8. */
  pcmCam: tf.Tensor4D;
  pcmF: tf.Tensor4D;
  pcmOut: tf.Tensor4D;
  features: Resnet38dFeatures;
}

function out(shapes: Map<string, number[]>, name: string, source: string, fallback?: number): number {
  const s = shapes.get(name);
  if (!s && fallback !== undefined) return fallback;
  if (!s || s.length !== 4) throw new HfplError('E_DATA', `${source}: not a SEAM checkpoint (no 4-D ${name})`);
  return s[0];
}

/** SEAM head widths from reference parameter shapes; with `defaults`, absent layers get the published widths. */
export function seamHeadFromShapes(shapes: Map<string, number[]>, source: string, defaults = false): SeamHeadWidths {
  const d = defaults ? SEAM_FULL_HEAD : ({} as Partial<SeamHeadWidths>);
  return { classes: out(shapes, 'fc8.weight', source, d.classes), f8_3: out(shapes, 'f8_3.weight', source, d.f8_3), f8_4: out(shapes, 'f8_4.weight', source, d.f8_4), f9: out(shapes, 'f9.weight', source, d.f9) };
}

/**
 * PCM (`resnet38_SEAM.py` PCM): f = f9(feat), L2-normalised over channels (+1e-5),
 * aff = relu(f^T f) normalised over the first index (+1e-5), cam_rv = cam @ aff.
 */
export function pcmRefine(cam: tf.Tensor4D, f: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const [n, h, w, c] = cam.shape;
    const flat = tf.reshape(f, [n, h * w, f.shape[3]]) as tf.Tensor3D;
    const unit = tf.div(flat, tf.add(tf.sqrt(tf.sum(tf.square(flat), 2, true)), 1e-5)) as tf.Tensor3D;
    const aff = tf.relu(tf.matMul(unit, unit, false, true));
    const affN = tf.div(aff, tf.add(tf.sum(aff, 1, true), 1e-5)) as tf.Tensor3D;
    const camFlat = tf.reshape(cam, [n, h * w, c]) as tf.Tensor3D;
    return tf.reshape(tf.matMul(affN, camFlat, true, false), [n, h, w, c]) as tf.Tensor4D;
  });
}

/** The reference SEAM network (eval mode). */
export class RefSeamNet {
  readonly store = new ParamStore();
  readonly refs = new RefParams();
  readonly backbone: Resnet38d;
  readonly head: SeamHeadWidths;
  private readonly fc8: RefConv;
  private readonly f83: RefConv;
  private readonly f84: RefConv;
  private readonly f9: RefConv;

  constructor(widths: Resnet38dWidths = RESNET38D_FULL_WIDTHS, head: SeamHeadWidths = SEAM_FULL_HEAD) {
    this.backbone = new Resnet38d(this.store, this.refs, widths);
    this.head = head;
    const t = this.backbone.tapChannels;
    this.fc8 = new RefConv(this.store, this.refs, 'fc8', this.backbone.outChannels, head.classes, 1, 1, 1, 'new');
    this.f83 = new RefConv(this.store, this.refs, 'f8_3', t.conv4, head.f8_3, 1, 1, 1, 'new');
    this.f84 = new RefConv(this.store, this.refs, 'f8_4', t.conv5, head.f8_4, 1, 1, 1, 'new');
    this.f9 = new RefConv(this.store, this.refs, 'f9', 3 + head.f8_3 + head.f8_4, head.f9, 1, 1, 1, 'new');
  }

  /** Builds the network with the widths of a checkpoint's parameter shapes. */
  static fromShapes(shapes: Map<string, number[]>, source: string, headDefaults = false): RefSeamNet {
    return new RefSeamNet(resnet38dWidthsFromShapes(shapes, source), seamHeadFromShapes(shapes, source, headDefaults));
  }

  /** `Net.forward` on a normalised NHWC batch, plus the debug tensors. Call inside `tf.tidy`. */
  forward(x: tf.Tensor4D): RefSeamOutput {
    const [, H, W] = x.shape;
    const features = this.backbone.forwardAsDict(x);
    const logits = this.fc8.apply(features.conv6);
    const [, h, w] = logits.shape;
    const pcmCam = pcmInputCam(logits);
    const xs = tf.image.resizeBilinear(x, [h, w], true);
    const pcmF = tf.concat([xs, tf.relu(this.f83.apply(features.conv4)), tf.relu(this.f84.apply(features.conv5))], 3) as tf.Tensor4D;
    const pcmOut = pcmRefine(pcmCam, this.f9.apply(pcmF));
    const camRv = tf.image.resizeBilinear(pcmOut, [H, W], true);
    const cam = tf.image.resizeBilinear(logits, [H, W], true);
    return { cam, camRv, logits, pcmCam, pcmF, pcmOut, features };
  }

  dispose(): void {
    this.store.dispose();
  }
}
