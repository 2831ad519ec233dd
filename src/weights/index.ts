/**
 * Reading the weight files WSSS users have (PyTorch `.pth` zip and legacy, safetensors, MXNet
 * `.params`, hfpl/TF.js `model.json`) into one form, and writing safetensors.
 *
 * @example
 * const f = await readWeights('resnet38_SEAM.pth');        // f.format === 'pth-legacy'
 * const sd = stripPrefix(f.tensors);                        // {'state_dict': {'module.x': ...}} -> {'x': ...}
 * await writeSafetensors('seam.safetensors', sd, { source: 'resnet38_SEAM.pth' });
 */
import { statSync } from 'node:fs';
import { HfplError } from '../errors.js';
import { withFile } from './file-source.js';
import { isMxnetMagic, readMxnetParams } from './mxnet.js';
import { convertMxnetToTorch } from './mxnet-names.js';
import { readSafetensors } from './safetensors.js';
import { isLegacyTorchMagic, readTorchLegacy, readTorchZip } from './torch.js';
import type { WeightFile, WeightFormat, WeightTensor } from './types.js';
import { isZipMagic } from './zip.js';

export type { WeightDtype, WeightData, WeightFile, WeightFormat, WeightTensor } from './types.js';
export { numel } from './types.js';
export { writeSafetensors, type TensorToWrite } from './safetensors.js';
export { writeTorchZip, type TorchTensorToWrite } from './torch-write.js';
export { convertMxnetToTorch, mxnetToTorchName, type MxnetConversion } from './mxnet-names.js';

/** Options of `readWeights`. */
export interface ReadWeightsOptions {
  /** Skip detection and read as this format. */
  format?: WeightFormat;
}

/** The format of `path` from its first bytes (extension only for TF.js JSON), or null. */
export function detectFormat(head: Uint8Array, path: string): WeightFormat | null {
  if (isZipMagic(head)) return 'pth-zip';
  if (isLegacyTorchMagic(head)) return 'pth-legacy';
  if (isMxnetMagic(head)) return 'mxnet';
  if (head.length >= 9 && head[8] === 0x7b /* '{' */) {
    const n = new DataView(head.buffer, head.byteOffset, head.byteLength).getBigUint64(0, true);
    if (n > 1n && n < 100_000_000n) return 'safetensors';
  }
  if (path.endsWith('.json') || head[0] === 0x7b) return 'tfjs';
  return null;
}

const KNOWN = 'PyTorch .pth/.pt (zip or legacy), .safetensors, MXNet .params, TF.js model.json';

/**
 * Reads a weight file, telling the format from its magic bytes: PyTorch zip (`PK\3\4`), PyTorch
 * legacy (pickle of the magic number 0x1950a86a20f9469cfc6c), MXNet (u64 0x112), safetensors
 * (u64 header length + '{'), TF.js (`.json` or a folder holding `model.json`). Tensors come in
 * file order, stored layout (PyTorch NCHW / OIHW), floats as Float32Array. Errors (missing,
 * truncated, corrupt, unknown format, a pickle naming a global outside the allow list) are one
 * line HfplError naming the file.
 */
export async function readWeights(path: string, opts: ReadWeightsOptions = {}): Promise<WeightFile> {
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch {
    throw new HfplError('E_IO', `${path}: weights file not found`);
  }
  if (isDir || opts.format === 'tfjs') return readTfjs(path);
  return withFile(path, async (src) => {
    const head = await src.read(0, Math.min(16, src.size), 'file header');
    const format = opts.format ?? detectFormat(head, path);
    switch (format) {
      case 'pth-zip':
        return readTorchZip(src);
      case 'pth-legacy':
        return readTorchLegacy(src);
      case 'safetensors':
        return readSafetensors(src);
      case 'mxnet':
        return readMxnetParams(src);
      case 'tfjs':
        return readTfjs(path);
      default:
        if (head.length >= 262 || src.size >= 262) {
          const ustar = await src.read(257, 5, 'tar header');
          if (new TextDecoder().decode(ustar) === 'ustar') throw new HfplError('E_DATA', `${path}: a tar archive (PyTorch < 0.4 checkpoint format); re-save it with a newer PyTorch`);
        }
        throw new HfplError('E_DATA', `${path}: unknown weights format (expected ${KNOWN})`);
    }
  });
}

async function readTfjs(path: string): Promise<WeightFile> {
  const { readWeights: readTf } = await import('../models/weights-io.js');
  const w = readTf(path);
  const tensors = new Map<string, WeightTensor>();
  for (const [name, v] of w.values) tensors.set(name, { name, dtype: v.data instanceof Int32Array ? 'int32' : 'float32', shape: v.shape.slice(), data: v.data });
  return { format: 'tfjs', tensors, meta: w.meta ?? {} };
}

/** Options of `stripPrefix`. */
export interface StripPrefixOptions {
  /**
   * `WeightFile.containers` of the file: which top-level keys are nested dicts. With it, the
   * container to unwrap is the first of `wrappers` present, or the only container; without it,
   * names starting with `state_dict.` / `model_state_dict.` are unwrapped.
   */
  containers?: readonly string[];
  /** Container names tried in order (default `state_dict`, `model_state_dict`, `model`, `net`, `network`, `module`). */
  wrappers?: readonly string[];
  /** Prefixes removed when every remaining name has them (default `module.`, as nn.DataParallel saves). */
  prefixes?: readonly string[];
}

const WRAPPERS = ['state_dict', 'model_state_dict', 'model', 'net', 'network', 'module'];

/**
 * The state dict inside a checkpoint: unwraps `{'state_dict': {...}, 'epoch': ...}` (flattened as
 * `state_dict.<name>`; other entries such as optimizer state are left out), then removes
 * `module.` when every name carries it. Returns a new map with renamed tensors.
 *
 * @example
 * stripPrefix(f.tensors, { containers: f.containers }) // {'model': {'module.conv.weight'}, 'optimizer': ...} -> {'conv.weight'}
 */
export function stripPrefix(tensors: ReadonlyMap<string, WeightTensor>, opts: StripPrefixOptions = {}): Map<string, WeightTensor> {
  let entries = [...tensors];
  let wrapper: string | undefined;
  if (opts.containers) {
    wrapper = (opts.wrappers ?? WRAPPERS).find((w) => opts.containers!.includes(w)) ?? (opts.containers.length === 1 ? opts.containers[0] : undefined);
  } else {
    wrapper = (opts.wrappers ?? ['state_dict', 'model_state_dict']).find((w) => entries.some(([k]) => k.startsWith(`${w}.`)));
  }
  if (wrapper !== undefined) entries = entries.filter(([k]) => k.startsWith(`${wrapper}.`)).map(([k, t]) => [k.slice(wrapper.length + 1), t]);
  for (const p of opts.prefixes ?? ['module.']) {
    if (entries.length > 0 && entries.every(([k]) => k.startsWith(p))) entries = entries.map(([k, t]) => [k.slice(p.length), t]);
  }
  return new Map(entries.map(([k, t]) => [k, t.name === k ? t : { ...t, name: k }]));
}

/** A state dict under PyTorch names, from any supported file, and how it was derived. */
export interface StateDict {
  format: WeightFormat;
  tensors: Map<string, WeightTensor>;
  meta: Record<string, unknown>;
  /** MXNet names dropped on purpose (the ImageNet classifier `linear1000*`). */
  dropped: string[];
  /** MXNet names the reference's conversion does not know (left out). */
  unconverted: string[];
}

/**
 * `readWeights` + the steps the reference applies before `load_state_dict`: unwrapping and
 * `module.` stripping for PyTorch/safetensors files, `convert_mxnet_to_torch` naming for MXNet.
 */
export async function readStateDict(path: string, opts: ReadWeightsOptions & StripPrefixOptions = {}): Promise<StateDict> {
  const f = await readWeights(path, opts);
  if (f.format === 'mxnet') {
    const c = convertMxnetToTorch(f.tensors);
    return { format: f.format, tensors: c.tensors, meta: f.meta, dropped: c.dropped, unconverted: c.unconverted };
  }
  const containers = opts.containers ?? f.containers;
  return { format: f.format, tensors: stripPrefix(f.tensors, { ...opts, containers }), meta: f.meta, dropped: [], unconverted: [] };
}
