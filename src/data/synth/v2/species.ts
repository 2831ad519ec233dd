/**
 * The classes of benchmark v2 ("species"): each spreads its evidence over the whole object
 * through a shape family, a colour family and a body texture (each drawn with within-class
 * variation), and carries one most-discriminative part, a disc with the class glyph of
 * benchmark v1 (patterns.ts). Families overlap between classes on purpose (two classes may
 * share a hue range or a shape family, never all three cues), so the body is real but weaker
 * evidence than the part.
 */

/** Outline families (local frame: u along the major axis, v across). None is a rectangle. */
export type ShapeFamily = 'ellipse' | 'round' | 'lobed' | 'pear' | 'lens' | 'polygon' | 'bean' | 'squircle';

/**
 * Body textures, in the object's own frame (units of its radius), so they follow the object's
 * rotation and map to the same distribution under a horizontal flip.
 */
export type TextureKind = 'bands' | 'spots' | 'blotches' | 'rings' | 'streaks' | 'speckles' | 'scales' | 'chevrons' | 'plates' | 'fur';

/** One class of benchmark v2. Ranges are [min, max], drawn uniformly per object. */
export interface Species {
  name: string;
  shape: ShapeFamily;
  /** Major / minor axis ratio. */
  aspect: [number, number];
  /** Body hue centre (degrees) and half-width of its range. */
  hue: [number, number];
  saturation: [number, number];
  value: [number, number];
  texture: TextureKind;
  /** Texture period in units of the body's mean radius. */
  period: [number, number];
  /** Texture ink strength: 0 = none, 1 = the ink colour fully replaces the body colour. */
  contrast: [number, number];
}

/** The classes in order (class k = SPECIES[k - 1]); names are the labels.json class names. */
export const SPECIES: readonly Species[] = Object.freeze([
  { name: 'banded', shape: 'ellipse', aspect: [1.6, 2.3], hue: [30, 18], saturation: [0.55, 0.85], value: [0.6, 0.9], texture: 'bands', period: [0.28, 0.42], contrast: [0.5, 0.8] },
  { name: 'spotted', shape: 'round', aspect: [1.0, 1.3], hue: [48, 16], saturation: [0.4, 0.7], value: [0.7, 0.95], texture: 'spots', period: [0.28, 0.4], contrast: [0.55, 0.85] },
  { name: 'mottled', shape: 'lobed', aspect: [1.0, 1.4], hue: [100, 25], saturation: [0.35, 0.65], value: [0.45, 0.75], texture: 'blotches', period: [0.6, 0.9], contrast: [0.45, 0.75] },
  { name: 'ringed', shape: 'pear', aspect: [1.2, 1.6], hue: [205, 22], saturation: [0.3, 0.6], value: [0.5, 0.85], texture: 'rings', period: [0.22, 0.34], contrast: [0.4, 0.7] },
  { name: 'streaked', shape: 'lens', aspect: [1.7, 2.4], hue: [8, 16], saturation: [0.5, 0.8], value: [0.45, 0.75], texture: 'streaks', period: [0.14, 0.22], contrast: [0.4, 0.7] },
  { name: 'speckled', shape: 'polygon', aspect: [1.0, 1.5], hue: [40, 180], saturation: [0.0, 0.15], value: [0.55, 0.9], texture: 'speckles', period: [0.1, 0.15], contrast: [0.55, 0.85] },
  { name: 'scaly', shape: 'bean', aspect: [1.3, 1.7], hue: [170, 20], saturation: [0.35, 0.7], value: [0.45, 0.75], texture: 'scales', period: [0.22, 0.3], contrast: [0.45, 0.75] },
  { name: 'veined', shape: 'lens', aspect: [1.3, 1.7], hue: [285, 25], saturation: [0.3, 0.6], value: [0.45, 0.8], texture: 'chevrons', period: [0.3, 0.45], contrast: [0.4, 0.7] },
  { name: 'plated', shape: 'squircle', aspect: [1.2, 1.8], hue: [335, 20], saturation: [0.3, 0.6], value: [0.55, 0.85], texture: 'plates', period: [0.45, 0.65], contrast: [0.5, 0.8] },
  { name: 'furred', shape: 'round', aspect: [1.1, 1.5], hue: [25, 15], saturation: [0.2, 0.45], value: [0.35, 0.65], texture: 'fur', period: [0.08, 0.12], contrast: [0.4, 0.7] },
] as Species[]);
