/**
 * The final-stage segmentation network of the reference (`lib/net/deeplabv1.py`, `deeplabv1`):
 * resnet38d under `backbone.`, then the LargeFOV head `conv_fov` (3x3, dilation 12, 512) ->
 * `bn_fov` -> ReLU -> `conv_fov2` (1x1, 512) -> `bn_fov2` -> ReLU -> Dropout(0.5, off in eval)
 * -> `cls_conv` (1x1 with bias), upsampled to the input (bilinear, align corners). Only the
 * reference names and an eval forward pass: hfpl's trainable DeepLab lives in ../deeplab.ts.
 */
import * as tf from '@tensorflow/tfjs-core';
import { HfplError } from '../../errors.js';
import { ParamStore } from '../params.js';
import { RefBn, RefConv, RefParams } from './ref-params.js';
import { RESNET38D_FULL_WIDTHS, Resnet38d, resnet38dWidthsFromShapes, type Resnet38dWidths } from './resnet38d.js';

/** Widths of the LargeFOV head. */
export interface LargeFovWidths {
  fov: number;
  classes: number;
}

export const LARGEFOV_FULL_HEAD: LargeFovWidths = Object.freeze({ fov: 512, classes: 21 });

/** The reference deeplabv1 (eval mode). */
export class RefDeeplabLargeFov {
  readonly store = new ParamStore();
  readonly refs = new RefParams();
  readonly backbone: Resnet38d;
  private readonly convFov: RefConv;
  private readonly bnFov: RefBn;
  private readonly convFov2: RefConv;
  private readonly bnFov2: RefBn;
  private readonly cls: RefConv;

  constructor(widths: Resnet38dWidths = RESNET38D_FULL_WIDTHS, head: LargeFovWidths = LARGEFOV_FULL_HEAD) {
    this.backbone = new Resnet38d(this.store, this.refs, widths, 'backbone.');
    const s = this.store, r = this.refs;
    this.convFov = new RefConv(s, r, 'conv_fov', this.backbone.outChannels, head.fov, 3, 1, 12, 'new');
    this.bnFov = new RefBn(s, r, 'bn_fov', head.fov);
    this.convFov2 = new RefConv(s, r, 'conv_fov2', head.fov, head.fov, 1, 1, 1, 'new');
    this.bnFov2 = new RefBn(s, r, 'bn_fov2', head.fov);
    this.cls = new RefConv(s, r, 'cls_conv', head.fov, head.classes, 1, 1, 1, 'new', true);
  }

  /** With `headDefaults`, an absent head gets the published widths (backbone-only files). */
  static fromShapes(shapes: Map<string, number[]>, source: string, headDefaults = false): RefDeeplabLargeFov {
    const fov = shapes.get('conv_fov.weight'), cls = shapes.get('cls_conv.weight');
    if (!headDefaults && (!fov || !cls)) throw new HfplError('E_DATA', `${source}: not a deeplabv1 (LargeFOV) checkpoint (no ${fov ? 'cls_conv' : 'conv_fov'}.weight)`);
    return new RefDeeplabLargeFov(resnet38dWidthsFromShapes(shapes, source, 'backbone.'), { fov: fov?.[0] ?? LARGEFOV_FULL_HEAD.fov, classes: cls?.[0] ?? LARGEFOV_FULL_HEAD.classes });
  }

  /** Class scores at the input size (NHWC). Call inside `tf.tidy`. */
  forward(x: tf.Tensor4D): tf.Tensor4D {
    const [, h, w] = x.shape;
    const f = this.backbone.forwardAsDict(x).conv6;
    let y = tf.relu(this.bnFov.run(this.convFov.apply(f)));
    y = tf.relu(this.bnFov2.run(this.convFov2.apply(y)));
    return tf.image.resizeBilinear(this.cls.apply(y), [h, w], true);
  }

  dispose(): void {
    this.store.dispose();
  }
}
