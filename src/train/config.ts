/**
 * Configuration of CAM training (`hfpl train-cam`): one strict zod schema (unknown keys are
 * rejected by name), two presets (`reference` = METHOD 3.1's defaults, `cpu` = sized for the
 * synthetic benchmark on a 2-core CPU), and `resolveTrainCamConfig`, which layers
 * preset <- config file <- command-line overrides and validates the result.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { HfplError } from '../errors.js';
import { backboneConfigSchema } from '../models/backbone.js';

const jitter = z.strictObject({
  brightness: z.number().min(0).max(1),
  contrast: z.number().min(0).max(1),
  saturation: z.number().min(0).max(1),
  hue: z.number().min(0).max(0.5),
});

/** Seed of weights, data order, augmentation and (CAM) importance sampling. */
export const seedSchema = z.number().int().min(0).max(0xffffffff);

/** `model` of every training config. */
export const modelOptionsSchema = z.strictObject({
  /** Preset name or a full layout (see `backbonePresets`). */
  backbone: z.union([z.enum(['tiny', 'small', 'resnet38']), backboneConfigSchema]),
  /** Local TF.js weights file (model.json, e.g. the CAM run's) whose `backbone.*` weights initialise the backbone; null = from scratch. */
  pretrained: z.string().nullable(),
});

/** `model` of the CAM training config: the common options plus the head's dropout. */
export const camModelOptionsSchema = modelOptionsSchema.extend({
  /** Channel dropout before `fc8`, training only (reference resnet38_SEAM.py:14: 0.5); 0 = none. */
  dropout: z.number().min(0).max(0.95),
});

/** The augmentation options of every training config's `data` (after its `crop`). */
export const augmentOptionsShape = {
  /** Random long-side resize [min, max] (pixels), or null for none. */
  resizeLong: z.tuple([z.number().int().positive(), z.number().int().positive()]).nullable(),
  flip: z.boolean(),
  colorJitter: jitter.nullable(),
};

/** `optim` of every training config (poly-LR SGD, METHOD 3.1). */
export const optimOptionsSchema = z.strictObject({
  /** Base learning rate lr0 of the poly schedule lr0 (1 - step / max)^power. */
  lr: z.number().positive(),
  power: z.number().min(0),
  momentum: z.number().min(0).max(1),
  weightDecay: z.number().min(0),
  /** Learning-rate multiplier of new-layer weights (biases get twice it). METHOD 3.1: 10. */
  newLayerLrMult: z.number().positive(),
});
export type OptimConfig = z.output<typeof optimOptionsSchema>;

/** Every training option; see `trainCamPresets` for the defaults. */
export const trainCamConfigSchema = z.strictObject({
  seed: seedSchema,
  /** Baseline the add-on is applied to: 'cam' (GAP) or 'seam'. */
  baseline: z.enum(['cam', 'seam']),
  /** ISL weight w: L_cls = (1 - w) L_GAP + w L_ISL (0 turns the ISL off). METHOD 1: 0.2. */
  islWeight: z.number().min(0).max(1),
  /** FSL weight (0 turns it off). METHOD 1: 1.0 on VOC, 0.2 on COCO. */
  fslWeight: z.number().min(0),
  isl: z.strictObject({
    /** Samples per (image, class). */
    numSamples: z.number().int().positive(),
    form: z.enum(['binomial', 'multinomial']),
  }),
  fsl: z.strictObject({
    mu: z.number(),
    /** Gaussian sigma in CAM pixels. */
    sigma: z.number().positive(),
  }),
  model: camModelOptionsSchema,
  data: z.strictObject({
    /** Split list under ImageSets/Segmentation. */
    split: z.string().min(1),
    /** Square training crop (pixels). */
    crop: z.number().int().min(16),
    ...augmentOptionsShape,
  }),
  optim: optimOptionsSchema,
  batchSize: z.number().int().positive(),
  /** Epochs over the split; ignored when `steps` is set. */
  epochs: z.number().int().positive(),
  /** Total optimisation steps (overrides epochs); null = epochs x batches per epoch. */
  steps: z.number().int().positive().nullable(),
  /** Also checkpoint every this many steps (0 = only at epoch ends). */
  checkpointEvery: z.number().int().min(0),
  /** Write a metrics line every this many steps. */
  logEvery: z.number().int().positive(),
});

export type TrainCamConfig = z.output<typeof trainCamConfigSchema>;

/** Deep-partial config as found in a config file or built from flags. */
export type TrainCamConfigOverrides = { [K in keyof TrainCamConfig]?: TrainCamConfig[K] extends object | null ? Partial<NonNullable<TrainCamConfig[K]>> | TrainCamConfig[K] : TrainCamConfig[K] };

const reference: TrainCamConfig = {
  seed: 0,
  baseline: 'cam',
  islWeight: 0.2,
  fslWeight: 1.0,
  isl: { numSamples: 10, form: 'binomial' },
  fsl: { mu: 2.5, sigma: 5 },
  model: { backbone: 'resnet38', pretrained: null, dropout: 0.5 },
  data: { split: 'train', crop: 448, resizeLong: [448, 768], flip: true, colorJitter: { brightness: 0.3, contrast: 0.3, saturation: 0.3, hue: 0.1 } },
  optim: { lr: 0.01, power: 0.9, momentum: 0.9, weightDecay: 5e-4, newLayerLrMult: 10 },
  batchSize: 8,
  epochs: 8,
  steps: null,
  checkpointEvery: 0,
  logEvery: 10,
};

/**
 * `reference`: METHOD 3.1 (ResNet-38, crop 448, lr 0.01, batch 8, 8 epochs).
 * `cpu` (default of the CLI): the small backbone trained from scratch with batch-norm batch
 * statistics on 128 x 128 synthetic images: crop 128, resize [112, 160], lr 0.05, batch 8,
 * 1000 steps, new layers at 1x (10x with a from-scratch backbone made training unstable).
 */
export const trainCamPresets: Readonly<Record<'reference' | 'cpu', TrainCamConfig>> = Object.freeze({
  reference,
  cpu: {
    ...reference,
    model: { backbone: 'small', pretrained: null, dropout: 0.5 },
    data: { ...reference.data, crop: 128, resizeLong: [112, 160] },
    optim: { ...reference.optim, lr: 0.05, newLayerLrMult: 1 },
    steps: 1000,
    checkpointEvery: 100,
  },
});

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep merge of plain objects (arrays and nulls replace). */
export function mergeConfig(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) continue;
    out[k] = isPlainObject(v) && isPlainObject(base[k]) && !('stages' in v) ? mergeConfig(base[k] as Record<string, unknown>, v) : v;
  }
  return out;
}

/** Formats the first zod issue as "<where>: <key path>: <message> (got <value>)". */
export function configIssue(where: string, err: z.ZodError, input: unknown): HfplError {
  const i = err.issues[0];
  if (i.code === 'unrecognized_keys') {
    const path = [...i.path, ''].join('.');
    return new HfplError('E_CONFIG', `${where}: unknown option "${path}${i.keys[0]}"`);
  }
  const path = i.path.join('.');
  let value: unknown = input;
  for (const p of i.path) value = isPlainObject(value) || Array.isArray(value) ? (value as Record<string, unknown>)[p as string] : undefined;
  return new HfplError('E_CONFIG', `${where}: option "${path}": ${i.message} (got ${JSON.stringify(value)})`);
}

/** Reads a JSON config file (E_IO when missing, E_CONFIG when not a JSON object). */
export function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new HfplError('E_IO', `${path}: config file not found or unreadable`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new HfplError('E_CONFIG', `${path}: not valid JSON (${(e as Error).message})`);
  }
  if (!isPlainObject(json)) throw new HfplError('E_CONFIG', `${path}: a config file must hold a JSON object`);
  return json;
}

/**
 * Resolves any stage's config: preset (default `defaultPreset`, 'cpu') <- file <- overrides,
 * validated by `schema` (E_CONFIG naming the file or "options", the key and the value).
 */
export function resolveStageConfig<S extends z.ZodType>(schema: S, presets: Readonly<Record<string, z.output<S>>>, opts: { preset?: string; file?: string; overrides?: Record<string, unknown> }, defaultPreset = 'cpu'): z.output<S> {
  const name = opts.preset ?? defaultPreset;
  if (!(name in presets)) throw new HfplError('E_CONFIG', `preset "${name}" is unknown: must be one of ${Object.keys(presets).join(', ')}`);
  let merged = presets[name] as Record<string, unknown>;
  if (opts.file) {
    merged = mergeConfig(merged, readConfigFile(opts.file));
    const r = schema.safeParse(merged);
    if (!r.success) throw configIssue(opts.file, r.error, merged);
  }
  if (opts.overrides) merged = mergeConfig(merged, opts.overrides);
  const r = schema.safeParse(merged);
  if (!r.success) throw configIssue('options', r.error, merged);
  return r.data;
}

/**
 * Resolves a training config: preset (default 'cpu') <- file <- overrides, validated strictly.
 * Throws E_CONFIG naming the file (or "options") and the bad key or value.
 *
 * @example resolveTrainCamConfig({ overrides: { seed: 1, fslWeight: 0 } }).optim.lr // 0.05
 */
export function resolveTrainCamConfig(opts: { preset?: string; file?: string; overrides?: Record<string, unknown> } = {}): TrainCamConfig {
  return resolveStageConfig(trainCamConfigSchema, trainCamPresets, opts);
}
