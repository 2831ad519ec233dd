/**
 * The dataset records every stage exchanges. All datasets (VOC, COCO materialised to the VOC
 * layout, the synthetic benchmark) are read into this one shape.
 */

/** One sample of a VOC-layout dataset. */
export interface SampleRecord {
  /** Image id, e.g. "2007_000032". */
  id: string;
  /** Absolute path of the RGB image (JPEG or PNG). */
  imagePath: string;
  /** Absolute path of the class-index mask, when the dataset has one for this id. */
  maskPath?: string;
  /** Foreground class indices present (1-based, background excluded), sorted ascending. */
  labels: number[];
}

/** A dataset split: its records and class names (index 0 = background). */
export interface DatasetSplit {
  root: string;
  split: string;
  classNames: readonly string[];
  samples: SampleRecord[];
}

/** A decoded RGB image: interleaved HWC, 3 channels, 8 bits. */
export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

/**
 * `labels.json`, the image-level labels file of a VOC-layout dataset (written by
 * `hfpl labels`, `hfpl synth` and `hfpl coco-masks`):
 * `{ "classes": ["background", ...], "labels": { "<id>": [1, 15], ... } }`; label indices are
 * 1-based foreground class indices into `classes`.
 */
export interface LabelsFile {
  classes: string[];
  labels: Record<string, number[]>;
}
