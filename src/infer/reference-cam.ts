/**
 * Multi-scale CAM inference exactly as the reference's `infer_cam_voc.py` (with
 * `voc12/data.py` `VOC12ClsDatasetMSF`), for a reference SEAM network (`RefSeamNet`):
 *
 * 1. per scale s: PIL bicubic resize of the uint8 image to (round(W s), round(H s)) with
 *    Python's half-to-even `round`, ImageNet normalisation (`/255.` first, float64 then float32),
 *    and a horizontally flipped copy: items (s0, s0 flipped, s1, ...);
 * 2. per item: `cam_rv = model(img)[1]` (already at the item's size), foreground channels,
 *    bilinear resize to H x W (align_corners=False), times the 0/1 label, flipped items unflipped;
 * 3. float32, in numpy's order: sum over items, negatives to 0, per class min/max over H x W,
 *    values < min + 1e-5 to 0, then (sum - min - 1e-5) / (max - min + 1e-5) (so zeroed pixels
 *    become negative when min > 0, a quirk kept as is); classes with label > 1e-5 are kept.
 */
import * as tf from '@tensorflow/tfjs-core';
import { resizeBicubicPil, roundHalfEven } from '../data/pil-resize.js';
import type { RgbImage } from '../data/types.js';
import type { RefSeamNet } from '../models/reference/seam.js';

/** The reference's scales. */
export const REFERENCE_CAM_SCALES: readonly number[] = Object.freeze([0.5, 1.0, 1.5, 2.0]);
const MEAN = [0.485, 0.456, 0.406];
const STD = [0.229, 0.224, 0.225];

/** Result of `referenceCams` for one image. */
export interface ReferenceCams {
  height: number;
  width: number;
  /** 1-based class indices of the kept maps, ascending. */
  labels: number[];
  /** labels.length x H x W normalised CAMs (`cam_dict` values in class order). */
  cams: Float32Array;
  /** K x H x W sum over the items before relu / normalisation. */
  sum: Float32Array;
}

export interface ReferenceCamOptions {
  /** Default [0.5, 1, 1.5, 2]. */
  scales?: readonly number[];
  /** Called per item with its index and its K x H x W map (after label, unflipped); for tests. */
  onItem?: (index: number, cam: Float32Array, rawForeground: Float32Array, size: [number, number]) => void;
}

/** `Normalize()` then HWC -> CHW as NHWC float32: ((v / 255) - mean) / std in double, rounded once. */
export function normaliseReference(img: RgbImage): Float32Array {
  const out = new Float32Array(img.data.length);
  for (let i = 0; i < img.data.length; i++) {
    const c = i % 3;
    out[i] = (img.data[i] / 255 - MEAN[c]) / STD[c];
  }
  return out;
}

function flipWidth(data: Float32Array, planes: number, h: number, w: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let p = 0; p < planes; p++) {
    for (let y = 0; y < h; y++) {
      const row = (p * h + y) * w;
      for (let x = 0; x < w; x++) out[row + x] = data[row + w - 1 - x];
    }
  }
  return out;
}

/**
 * Normalised CAMs of one image (see the module comment).
 *
 * @param labels 1-based foreground classes present (the label vector's ones).
 */
export function referenceCams(net: RefSeamNet, image: RgbImage, labels: number[], opts: ReferenceCamOptions = {}): ReferenceCams {
  const H = image.height, W = image.width, HW = H * W;
  const K = net.head.classes - 1;
  const label = new Float32Array(K);
  for (const c of labels) label[c - 1] = 1;
  const sum = new Float32Array(K * HW);
  let item = 0;
  for (const s of opts.scales ?? REFERENCE_CAM_SCALES) {
    const w = roundHalfEven(W * s), h = roundHalfEven(H * s);
    const scaled = resizeBicubicPil(image, w, h);
    const x = normaliseReference(scaled);
    for (const flip of [false, true]) {
      // Typed arrays are read outside tidy: tidy walks a returned container element by element.
      const [upT, fgT] = tf.tidy(() => {
        let t = tf.tensor4d(x, [1, h, w, 3]);
        if (flip) t = tf.reverse(t, 2);
        const fg = tf.slice(net.forward(t).camRv, [0, 0, 0, 1], [-1, -1, -1, K]);
        const up = tf.transpose(tf.image.resizeBilinear(fg, [H, W], false, true), [0, 3, 1, 2]);
        return [up, opts.onItem ? tf.transpose(fg, [0, 3, 1, 2]) : tf.zeros([0])];
      });
      const cam = upT.dataSync() as Float32Array;
      const raw = fgT.dataSync() as Float32Array;
      tf.dispose([upT, fgT]);
      for (let k = 0; k < K; k++) {
        const l = label[k];
        for (let i = k * HW; i < (k + 1) * HW; i++) cam[i] *= l;
      }
      const c = flip ? flipWidth(cam, K, H, W) : cam;
      for (let i = 0; i < c.length; i++) sum[i] += c[i];
      opts.onItem?.(item, c, raw, [h, w]);
      item++;
    }
  }
  const kept = labels.slice().sort((a, b) => a - b);
  const cams = new Float32Array(kept.length * HW);
  const f = Math.fround;
  const eps = f(1e-5);
  kept.forEach((cls, p) => {
    const plane = sum.subarray((cls - 1) * HW, cls * HW);
    let max = -Infinity, min = Infinity;
    const v = new Float32Array(HW);
    for (let i = 0; i < HW; i++) {
      v[i] = plane[i] < 0 ? 0 : plane[i];
      if (v[i] > max) max = v[i];
      if (v[i] < min) min = v[i];
    }
    const thr = f(min + eps), den = f(f(max - min) + eps);
    const out = cams.subarray(p * HW, (p + 1) * HW);
    for (let i = 0; i < HW; i++) {
      const s = v[i] < thr ? 0 : v[i];
      out[i] = f(f(f(s - min) - eps) / den);
    }
  });
  return { height: H, width: W, labels: kept, cams, sum };
}
