/**
 * Reference ResNet-38 names -> the names of hfpl's own backbone (`ResidualBackbone` with the
 * `resnet38` preset, src/models/backbone.ts), so `--pretrained` (model.pretrained) accepts the
 * published files: `conv1a` -> `backbone.stem`; block `bK` / `bK_j` -> `backbone.s{K-1}.b{j+1}`;
 * `conv_branch2a|2b1|2b2|1` -> `conv2a|conv2b|conv2b2|conv1` (bottlenecks b6, b7: `conv2b1`);
 * `bn_branch2a|2b1|2b2` -> `bn2a|bn2b|bn2b2` (bottlenecks: `bn2b1`); BN `weight|bias|running_mean|running_var`
 * -> `gamma|beta|runningMean|runningVar`; `bn7` -> `backbone.bnOut`; conv weights OIHW -> HWIO.
 * Note: hfpl's backbone pads strided 3x3 convolutions as TF.js 'same' (bottom/right), the
 * reference symmetrically; as an initialisation the weights carry over, outputs are not equal
 * (the exact reference network is `Resnet38d` in this folder).
 */
import { existsSync, statSync } from 'node:fs';
import { readWeights as readTfjsWeights, type LoadedWeights } from '../weights-io.js';
import { readStateDict } from '../../weights/index.js';
import { stripModulePrefix, tfjsToReference, type RefTensor } from './load-reference.js';

const BN: Record<string, string> = { weight: 'gamma', bias: 'beta', running_mean: 'runningMean', running_var: 'runningVar' };

/** The hfpl backbone name of a reference ResNet-38 name, or null when it is not a backbone tensor. */
export function referenceToProjectName(name: string): string | null {
  if (name === 'conv1a.weight') return 'backbone.stem.weight';
  let m = /^bn7\.(weight|bias|running_mean|running_var)$/.exec(name);
  if (m) return `backbone.bnOut.${BN[m[1]]}`;
  m = /^b([2-7])(?:_(\d+))?\.(conv|bn)_branch(2a|2b1|2b2|1)\.(weight|bias|running_mean|running_var)$/.exec(name);
  if (!m) return null;
  const [, k, j, kind, branch, param] = m;
  const bottleneck = Number(k) >= 6;
  const layer = branch === '2b1' && !bottleneck ? '2b' : branch;
  const base = `backbone.s${Number(k) - 1}.b${(j === undefined ? 0 : Number(j)) + 1}.${kind}${layer}`;
  if (kind === 'conv') return param === 'weight' ? `${base}.weight` : null;
  return `${base}.${BN[param]}`;
}

function oihwToHwio(t: RefTensor): { shape: number[]; data: Float32Array } {
  const [co, ci, kh, kw] = t.shape;
  const src = t.data as Float32Array;
  const dst = new Float32Array(src.length);
  for (let o = 0; o < co; o++) for (let i = 0; i < ci; i++) for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) {
    dst[((y * kw + x) * ci + i) * co + o] = src[((o * ci + i) * kh + y) * kw + x];
  }
  return { shape: [kh, kw, ci, co], data: dst };
}

/**
 * Reads pretrained weights for hfpl's models: a TF.js file (hfpl names) as is; a PyTorch,
 * safetensors or MXNet file (any layout `src/weights` reads) with its ResNet-38 backbone
 * renamed to hfpl's names (`backbone.` prefixes of a DeepLab checkpoint stripped); other
 * tensors are left out.
 */
export async function readPretrainedWeights(path: string): Promise<LoadedWeights> {
  const isTfjs = path.endsWith('.json') || (existsSync(path) && statSync(path).isDirectory());
  let tensors: Map<string, RefTensor>;
  if (isTfjs) {
    const w = readTfjsWeights(path);
    // hfpl's own models load as they are; a reference network from `convert-weights --arch` is mapped.
    if (typeof w.meta?.arch !== 'string') return w;
    tensors = tfjsToReference(w.values);
  } else tensors = stripModulePrefix((await readStateDict(path)).tensors as Map<string, RefTensor>);
  if ([...tensors.keys()].some((k) => k.startsWith('backbone.conv1a.'))) {
    tensors = new Map([...tensors].filter(([k]) => k.startsWith('backbone.')).map(([k, v]) => [k.slice(9), v]));
  }
  const values: LoadedWeights['values'] = new Map();
  for (const [name, t] of tensors) {
    const to = referenceToProjectName(name);
    if (to === null || !(t.data instanceof Float32Array)) continue;
    values.set(to, t.shape.length === 4 ? oihwToHwio(t) : { shape: t.shape.slice(), data: t.data });
  }
  return { values, meta: null };
}
