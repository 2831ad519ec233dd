/**
 * Parameters of the synthetic VOC-layout benchmark (`hfpl synth`), their defaults and
 * validation, the class list and the per-sample seeds and ids.
 */
import { z } from 'zod';
import { HfplError } from '../../errors.js';
import { SYNTH_PATTERNS } from './patterns.js';

/** The two splits the generator writes; each has its own seed stream. */
export type SynthSplit = 'train' | 'val';

/** A `[min, max]` pair of numbers in [lo, hi] with min <= max (both benchmarks' ranges). */
export const rangeSchema = (lo: number, hi: number) =>
  z
    .tuple([z.number().min(lo).max(hi), z.number().min(lo).max(hi)])
    .refine((r) => r[0] <= r[1], { message: 'expected [min, max] with min <= max' });

const schema = z
  .object({
    seed: z.number().int().min(0).max(0xffffffff),
    width: z.number().int().min(32).max(4096),
    height: z.number().int().min(32).max(4096),
    classes: z.number().int().min(1).max(SYNTH_PATTERNS.length),
    objects: rangeSchema(1, 3),
    radius: rangeSchema(0.05, 0.6),
    markFraction: rangeSchema(0.01, 0.5),
    minMark: z.number().min(0).max(0.5),
    clutter: rangeSchema(0, 16),
    jpegQuality: z.number().int().min(1).max(100),
  })
  .strict()
  .refine((p) => Number.isInteger(p.objects[0]) && Number.isInteger(p.objects[1]), {
    message: 'objects must be integers',
    path: ['objects'],
  })
  .refine((p) => p.objects[1] <= p.classes, { message: 'max objects exceeds the number of classes', path: ['objects'] });

/**
 * Generation parameters. Lengths are fractions of the image's shorter side unless noted.
 */
export interface SynthParams {
  /** Master seed; sample (split, index) is drawn from a generator seeded by (seed, split, index). Default 0. */
  seed: number;
  /** Image width in pixels. Default 128. */
  width: number;
  /** Image height in pixels. Default 128. */
  height: number;
  /** Number of foreground classes K (at most 10, one mark pattern each). Default 6. */
  classes: number;
  /** [min, max] objects per image, each of a different class. Default [1, min(3, classes)]. */
  objects: [number, number];
  /**
   * [min, max] mean body radius for a single-object image; scaled by 0.85 with 2 objects and
   * 0.72 with 3 so that several bodies fit. Default [0.25, 0.45].
   */
  radius: [number, number];
  /** [min, max] area of the class mark's square as a fraction of the body area. Default [0.05, 0.15]. */
  markFraction: [number, number];
  /** Smallest mark side (so marks survive 0.3x downscales); a body too small for it is redrawn. Default 0.11. */
  minMark: number;
  /** [min, max] class-free clutter blobs in the background. Default [1, 4]. */
  clutter: [number, number];
  /** JPEG quality of the written images. Default 95. */
  jpegQuality: number;
}

/** The defaults: a CPU-sized benchmark (6 classes, 128 x 128). */
export const DEFAULT_SYNTH_PARAMS: Readonly<SynthParams> = Object.freeze({
  seed: 0,
  width: 128,
  height: 128,
  classes: 6,
  objects: [1, 3],
  radius: [0.25, 0.45],
  markFraction: [0.05, 0.15],
  minMark: 0.11,
  clutter: [1, 4],
  jpegQuality: 95,
}) as Readonly<SynthParams>;

/**
 * Fills defaults and validates. Throws `E_CONFIG` naming the option, the bad value and what
 * is allowed.
 *
 * @example resolveSynthParams({ classes: 4, seed: 3 }) // { ...DEFAULT_SYNTH_PARAMS, classes: 4, seed: 3 }
 */
export function resolveSynthParams(partial: Partial<SynthParams> = {}): SynthParams {
  return resolveParamsWith(schema, DEFAULT_SYNTH_PARAMS, partial, 'synth option');
}

/**
 * Both benchmarks' parameter resolution: `defaults` overlaid with the defined values of
 * `partial` (the default object count shrinks to fit fewer than 3 classes), validated by
 * `schema`; errors are `E_CONFIG` lines beginning with `what` (e.g. "synth option").
 */
export function resolveParamsWith<P extends { classes: number; objects: [number, number] }>(
  schema: z.ZodType<unknown>, defaults: Readonly<P>, partial: Partial<P>, what: string,
): P {
  const merged = { ...defaults, ...stripUndefined(partial) } as P;
  if (partial.objects === undefined && Number.isInteger(merged.classes) && merged.classes >= 1) {
    merged.objects = [1, Math.min(defaults.objects[1], merged.classes)];
  }
  const r = schema.safeParse(merged);
  if (!r.success) {
    const issue = r.error.issues[0];
    if (issue.code === 'unrecognized_keys') {
      throw new HfplError('E_CONFIG', `${what} ${issue.keys.join(', ')}: unknown (allowed: ${Object.keys(defaults).join(', ')})`);
    }
    const key = issue.path.length ? String(issue.path[0]) : '?';
    const value = JSON.stringify((merged as Record<string, unknown>)[key]);
    throw new HfplError('E_CONFIG', `${what} ${key}: ${value} is invalid (${issue.message})`);
  }
  return r.data as P;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Class names of a K-class synthetic set: 'background' then the first K pattern names. */
export function synthClassNames(classes: number): string[] {
  return ['background', ...SYNTH_PATTERNS.slice(0, classes)];
}

/** Sample id, e.g. `train_000042`. */
export function synthSampleId(split: SynthSplit, index: number): string {
  return `${split}_${String(index).padStart(6, '0')}`;
}

/** 32-bit seed of sample (seed, split, index): a murmur3-style mix, so samples are independent. */
export function synthSampleSeed(seed: number, split: SynthSplit, index: number): number {
  let h = mix32((seed >>> 0) ^ 0x5bd1e995);
  h = mix32(h ^ (split === 'train' ? 0x68e31da4 : 0x1b56c4e9));
  h = mix32(h ^ (index >>> 0));
  return h;
}

function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}
