/**
 * Parameters of benchmark v2 (`hfpl synth --bench v2`), their defaults and validation.
 */
import { z } from 'zod';
import { rangeSchema, resolveParamsWith } from '../params.js';
import { SPECIES } from './species.js';

const range = rangeSchema;

const schema = z
  .object({
    seed: z.number().int().min(0).max(0xffffffff),
    width: z.number().int().min(64).max(4096),
    height: z.number().int().min(64).max(4096),
    classes: z.number().int().min(1).max(SPECIES.length),
    objects: range(1, 3),
    radius: range(0.05, 0.6),
    partFraction: range(0.02, 0.3),
    minPart: z.number().min(0).max(0.2),
    bodyCue: z.number().min(0).max(1),
    distractors: range(0, 16),
    occluders: range(0, 4),
    jpegQuality: z.number().int().min(1).max(100),
  })
  .strict()
  .refine((p) => [...p.objects, ...p.distractors, ...p.occluders].every(Number.isInteger), {
    message: 'objects, distractors and occluders must be integers',
    path: ['objects'],
  })
  .refine((p) => p.objects[1] <= p.classes, { message: 'max objects exceeds the number of classes', path: ['objects'] });

/** Generation parameters of benchmark v2. Lengths are fractions of the image's shorter side. */
export interface SynthV2Params {
  /** Master seed; sample (split, index) is drawn from a generator seeded by (seed, split, index). Default 0. */
  seed: number;
  /** Image width in pixels. Default 320. */
  width: number;
  /** Image height in pixels. Default 240. */
  height: number;
  /** Number of foreground classes K (at most 10, see species.ts). Default 6. */
  classes: number;
  /** [min, max] objects per image, each of a different class. Default [1, min(3, classes)]. */
  objects: [number, number];
  /**
   * [min, max] mean body radius of a single object, drawn log-uniformly; scaled by 0.85 with 2
   * objects and 0.75 with 3. Default [0.13, 0.42].
   */
  radius: [number, number];
  /** [min, max] area of the discriminative part (a disc) as a fraction of the body area. Default [0.05, 0.1]. */
  partFraction: [number, number];
  /** Smallest part radius, so the glyph survives the 0.3x view after the training resize. Default 0.06. */
  minPart: number;
  /**
   * Strength of the body evidence in [0, 1]: the texture contrast is scaled by (1 + bodyCue) / 2,
   * and with probability (1 - bodyCue) / 2 an object takes a random hue instead of its class's.
   * Default 0.7 (see docs/benchmark-v2.md for the body-only accuracy it gives).
   */
  bodyCue: number;
  /** [min, max] class-free distractors behind the objects (sticks, boards, pebbles, bushes). Default [4, 10]. */
  distractors: [number, number];
  /** [min, max] class-free occluders drawn in front of the objects (mask 0 where they lie). Default [0, 2]. */
  occluders: [number, number];
  /** JPEG quality of the written images. Default 92. */
  jpegQuality: number;
}

/** The defaults: 320 x 240 images, 6 classes. */
export const DEFAULT_SYNTH_V2_PARAMS: Readonly<SynthV2Params> = Object.freeze({
  seed: 0,
  width: 320,
  height: 240,
  classes: 6,
  objects: [1, 3],
  radius: [0.13, 0.42],
  partFraction: [0.05, 0.1],
  minPart: 0.06,
  bodyCue: 0.7,
  distractors: [4, 10],
  occluders: [0, 2],
  jpegQuality: 92,
}) as Readonly<SynthV2Params>;

/**
 * Fills defaults and validates. Throws `E_CONFIG` naming the option, the bad value and what
 * is allowed.
 *
 * @example resolveSynthV2Params({ classes: 4 }) // { ...DEFAULT_SYNTH_V2_PARAMS, classes: 4 }
 */
export function resolveSynthV2Params(partial: Partial<SynthV2Params> = {}): SynthV2Params {
  return resolveParamsWith(schema, DEFAULT_SYNTH_V2_PARAMS, partial, 'synth v2 option');
}

/** Class names of a K-class v2 set: 'background' then the first K species names. */
export function synthV2ClassNames(classes: number): string[] {
  return ['background', ...SPECIES.slice(0, classes).map((s) => s.name)];
}
