/**
 * The reference architectures by name, built with the widths of a checkpoint, and loading a
 * weight file of any supported format (`src/weights`) into one of them with a coverage report.
 */
import { HfplError } from '../../errors.js';
import type { ParamStore } from '../params.js';
import { readStateDict, type StateDict } from '../../weights/index.js';
import { RefAffinityNet } from './affinity.js';
import { RefDeeplabLargeFov } from './deeplab-largefov.js';
import { describeRefReport, loadReferenceTensors, tfjsToReference, type RefLoadOptions, type RefLoadReport, type RefTensor } from './load-reference.js';
import type { RefParams } from './ref-params.js';
import { RefResnet50Cam, resnet50WidthsFromShapes } from './resnet50.js';
import { Resnet38dNet, resnet38dWidthsFromShapes } from './resnet38d.js';
import { RefSeamNet } from './seam.js';

type RefTensorData = RefTensor['data'];

/** Architecture names of `--arch`. */
export const REFERENCE_ARCHS = Object.freeze(['resnet38d', 'seam-resnet38', 'aff-resnet38', 'deeplab-largefov', 'resnet50', 'resnet50-cam'] as const);
export type ReferenceArch = (typeof REFERENCE_ARCHS)[number];

/** What every reference network exposes. */
export interface ReferenceNet {
  store: ParamStore;
  refs: RefParams;
  dispose(): void;
}

/** One line per architecture (for --help and README). */
export const REFERENCE_ARCH_INFO: Readonly<Record<ReferenceArch, string>> = Object.freeze({
  'resnet38d': 'ResNet-38 backbone (network/resnet38d.py; the ImageNet .params file)',
  'seam-resnet38': 'SEAM CAM network (network/resnet38_SEAM.py: fc8, f8_3, f8_4, f9 / PCM)',
  'aff-resnet38': 'AffinityNet (network/resnet38_aff.py: f8_3, f8_4, f8_5, f9)',
  'deeplab-largefov': 'deeplabv1 LargeFOV segmentation network (lib/net/deeplabv1.py)',
  'resnet50': 'torchvision ResNet-50 backbone (IRN strides 2,2,2,1; fc ignored)',
  'resnet50-cam': "IRN's ResNet-50 CAM network (net/resnet50_cam.py: resnet50.*, classifier)",
});

/** Parses `--arch`, naming the allowed values on error. */
export function parseReferenceArch(value: string): ReferenceArch {
  if ((REFERENCE_ARCHS as readonly string[]).includes(value)) return value as ReferenceArch;
  throw new HfplError('E_CONFIG', `--arch: unknown architecture '${value}'; expected one of ${REFERENCE_ARCHS.join(', ')}`);
}

/**
 * Guesses which reference architecture a state dict is from its distinctive names (null when
 * none fits); used to say "a checkpoint of another architecture" in one line.
 */
export function detectReferenceArch(names: Iterable<string>): ReferenceArch | null {
  const s = new Set(names);
  if (s.has('conv_fov.weight') && s.has('backbone.conv1a.weight')) return 'deeplab-largefov';
  if (s.has('conv1a.weight')) {
    if (s.has('fc8.weight') || (s.has('f9.weight') && !s.has('f8_5.weight'))) return 'seam-resnet38';
    if (s.has('f8_5.weight')) return 'aff-resnet38';
    return 'resnet38d';
  }
  if (s.has('resnet50.conv1.weight')) return 'resnet50-cam';
  if (s.has('conv1.weight') && s.has('layer1.0.conv1.weight')) return 'resnet50';
  return null;
}

/**
 * Builds an architecture with the widths of `shapes` (reference names, PyTorch shapes); with
 * `headDefaults`, layers the file lacks get the published widths (a backbone-only init).
 */
export function buildReferenceNet(arch: ReferenceArch, shapes: Map<string, number[]>, source: string, headDefaults = false): ReferenceNet {
  switch (arch) {
    case 'resnet38d': return new Resnet38dNet(resnet38dWidthsFromShapes(shapes, source));
    case 'seam-resnet38': return RefSeamNet.fromShapes(shapes, source, headDefaults);
    case 'aff-resnet38': return RefAffinityNet.fromShapes(shapes, source, headDefaults);
    case 'deeplab-largefov': return RefDeeplabLargeFov.fromShapes(shapes, source, headDefaults);
    case 'resnet50': return new RefResnet50Cam(resnet50WidthsFromShapes(shapes, source), 0, '');
    case 'resnet50-cam': {
      const c = shapes.get('classifier.weight');
      if (!c && !headDefaults) throw new HfplError('E_DATA', `${source}: not a ResNet-50 CAM checkpoint (no classifier.weight)`);
      return new RefResnet50Cam(resnet50WidthsFromShapes(shapes, source, 'resnet50.'), c?.[0] ?? 20, 'resnet50.');
    }
  }
}

/** Backbone files that initialise a larger architecture (names prefixed as that network holds them). */
const BACKBONE_OF: Partial<Record<ReferenceArch, { backbone: ReferenceArch; prefix: string }>> = {
  'seam-resnet38': { backbone: 'resnet38d', prefix: '' },
  'aff-resnet38': { backbone: 'resnet38d', prefix: '' },
  'deeplab-largefov': { backbone: 'resnet38d', prefix: 'backbone.' },
  'resnet50-cam': { backbone: 'resnet50', prefix: 'resnet50.' },
};

/** A loaded reference network with its report and the file's format. */
export interface LoadedReferenceNet {
  net: ReferenceNet;
  report: RefLoadReport;
  format: StateDict['format'];
}

/**
 * Loads reference-named tensors into `arch` (see `loadReferenceNet`); `source` names the file
 * in errors. A backbone-only state dict (resnet38d / torchvision ResNet-50) initialises the
 * larger networks with `allowMissing`, its names prefixed as they hold it (`backbone.`,
 * `resnet50.`); torchvision's `fc.*` is dropped there.
 */
export function loadReferenceStateDict(arch: ReferenceArch, input: Map<string, { shape: number[]; data: RefTensorData }>, source: string, opts: RefLoadOptions = {}): { net: ReferenceNet; report: RefLoadReport } {
  let tensors = input;
  let detected = detectReferenceArch(tensors.keys());
  const bb = BACKBONE_OF[arch];
  const aliases: string[] = [];
  if (detected === 'resnet50' && (arch === 'resnet50' || arch === 'resnet50-cam')) tensors = new Map([...tensors].filter(([k]) => !/^fc\./.test(k)));
  if (detected === 'resnet50-cam') {
    // IRN's Net also registers its modules as stage1..4 / backbone / newly_added: the same tensors twice.
    tensors = new Map([...tensors].filter(([k]) => !(/^(stage[1-4]|backbone|newly_added)\./.test(k) && aliases.push(k))));
  }
  if (bb && detected === bb.backbone && opts.allowMissing) {
    tensors = new Map([...tensors].map(([k, v]) => [bb.prefix + k, v]));
    detected = arch;
  }
  if (detected !== null && detected !== arch) {
    const hint = bb && detected === bb.backbone ? ' (a backbone-only file: add --allow-missing)' : ` (use --arch ${detected})`;
    throw new HfplError('E_DATA', `${source}: a checkpoint of architecture ${detected}, not ${arch}${hint}`);
  }
  const shapes = new Map([...tensors].map(([k, t]) => [k, t.shape]));
  let net: ReferenceNet;
  try {
    net = buildReferenceNet(arch, shapes, source, opts.allowMissing ?? false);
  } catch (e) {
    if (e instanceof HfplError && detected === null) {
      throw new HfplError('E_DATA', `${source}: not a ${arch} checkpoint (no reference architecture matches its ${tensors.size} names, e.g. ${[...tensors.keys()].slice(0, 3).join(', ')})`);
    }
    throw e;
  }
  try {
    const report = loadReferenceTensors(net.refs, tensors, source, opts);
    report.ignored.push(...aliases);
    return { net, report };
  } catch (e) {
    net.dispose();
    throw e;
  }
}

/**
 * Reads `path` (.pth zip/legacy, .safetensors, MXNet .params, TF.js) and loads it into `arch`
 * with the widths the file holds. A file of another architecture, a missing parameter (unless
 * `allowMissing`), an unexpected one or a shape that does not fit: one-line `E_DATA` naming
 * the file (and the architecture it looks like when it is another one).
 */
export async function loadReferenceNet(arch: ReferenceArch, path: string, opts: RefLoadOptions = {}): Promise<LoadedReferenceNet> {
  return loadReferenceFromStateDict(arch, await readStateDict(path), path, opts);
}

/** `loadReferenceNet` on a state dict already read (`readStateDict`); `path` names it in errors. */
export function loadReferenceFromStateDict(arch: ReferenceArch, sd: StateDict, path: string, opts: RefLoadOptions = {}): LoadedReferenceNet {
  if (sd.unconverted.length) throw new HfplError('E_DATA', `${path}: MXNet names the reference cannot convert: ${sd.unconverted.slice(0, 5).join(', ')}`);
  let tensors = sd.tensors as Map<string, { shape: number[]; data: RefTensorData }>;
  if (sd.format === 'tfjs') {
    const fileArch = (sd.meta as { arch?: unknown }).arch;
    if (typeof fileArch === 'string' && fileArch !== arch && !opts.allowMissing) throw new HfplError('E_DATA', `${path}: a checkpoint of architecture ${fileArch}, not ${arch} (use --arch ${fileArch})`);
    tensors = tfjsToReference(tensors);
  }
  const { net, report } = loadReferenceStateDict(arch, tensors, path, opts);
  return { net, report, format: sd.format };
}

export { describeRefReport };
