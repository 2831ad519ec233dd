/**
 * What the HTML report shows, gathered from a run folder (`gather-*.ts`) and rendered by
 * `page.ts`. Fractions are in [0, 1]; the page shows percentages.
 */

/** Loss and learning rate of one training run (from its `metrics.jsonl`). */
export interface TrainingSeries {
  name: string;
  /** Colour key: runs of one variant share a colour (seeds differ by dash). */
  variant: string;
  seedIndex: number;
  points: { step: number; loss: number; lr: number }[];
}

/** Training runs of one kind (e.g. CAM fine-tuning of every variant), plotted together. */
export interface TrainingGroup {
  title: string;
  series: TrainingSeries[];
}

/** A background-threshold sweep: mIoU per t, the best t and the contour F computed there. */
export interface SweepSeries {
  name: string;
  variant: string;
  seedIndex: number;
  curve: { t: number; miou: number }[];
  bestThreshold: number;
  miou: number;
  contourF: number;
}

export interface SweepGroup {
  title: string;
  series: SweepSeries[];
}

/** Per-class IoU (K values, background first) and contour F (K - 1 foreground values) per series. */
export interface PerClassGroup {
  title: string;
  classNames: string[];
  series: { name: string; variant: string; iou: number[]; contourF: number[] }[];
}

/** A table of labelled numbers; cells carry a key so tests can find them. */
export interface NumberTable {
  caption: string;
  headers: string[];
  rows: { label: string; cells: TableCell[] }[];
}

/** One cell: a text, or a fraction shown in % with an optional spread / interval. */
export type TableCell =
  | { text: string }
  | { key: string; value: number; spread?: number; interval?: [number, number]; percent?: boolean; digits?: number; signed?: boolean };

/** One picture in the image browser: an overlay laid over the image. */
export interface BrowserCell {
  variant: string;
  stage: string;
  /** 'heat': CAM heat map (opaque colours); 'label': label map (background transparent). */
  kind: 'heat' | 'label';
  /** data: URI of the overlay (same aspect as the image). */
  overlay: string;
  /** The image's own mIoU of this label map (classes in GT or prediction), null for heat maps. */
  iou: number | null;
}

export interface BrowserImage {
  id: string;
  split: string;
  /** data: URIs of the image and of the GT overlay (background transparent). */
  image: string;
  gt: string;
  width: number;
  height: number;
  /** Column titles in order (stages); `cells` holds at most one per (variant, stage). */
  stages: string[];
  variants: string[];
  cells: BrowserCell[];
  /** Classes (not void) in the GT or any label map of this image, ascending, with their colours. */
  classes: { index: number; color: string }[];
}

/** Everything the page shows. */
export interface ReportData {
  title: string;
  /** Lines under the title (plan, data, backbone ...). */
  intro: string[];
  runDir: string;
  /** Class names, background first (for the image browser's colour key). */
  classNames: string[];
  /** All variant names in display order (colours follow this order). */
  variants: string[];
  summary: NumberTable | null;
  training: TrainingGroup[];
  sweeps: SweepGroup[];
  perClass: PerClassGroup[];
  stages: NumberTable | null;
  paired: NumberTable | null;
  images: BrowserImage[];
  /** What was missing (a partial run) or worth knowing. */
  notes: string[];
}
