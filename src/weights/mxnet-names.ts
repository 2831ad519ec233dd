/**
 * The reference's MXNet -> PyTorch key conversion for the ImageNet ResNet-38 file
 * (`convert_mxnet_to_torch`, network/resnet38d.py:215-263 of arvijj/hfpl and YudeWang/SEAM),
 * reproduced string operation for string operation on names like `arg:res4b5_branch2a_weight`:
 * split on '_'; `conv1a` -> `conv1a.weight`; `linear1000*` dropped; a name whose second token
 * holds 'branch' -> `bK_j` (or `bK` for unit 'a') + `.conv_|bn_<branch>` + `.weight|bias|running_*`;
 * anything else -> `bn7.<weight|bias|running_mean|running_var>`. Where the reference would fail
 * (a key error), hfpl lists the name as unconverted instead.
 */
import type { WeightTensor } from './types.js';

const BN_PARAM: Readonly<Record<string, string>> = { beta: 'bias', gamma: 'weight', mean: 'running_mean', var: 'running_var' };

/** The PyTorch name the reference gives an MXNet array name, `null` for a dropped one (`linear1000*`), `undefined` if it cannot convert it. */
export function mxnetToTorchName(key: string): string | null | undefined {
  const toks = key.split('_');
  const t0 = toks[0];
  if (t0.includes('conv1a')) return 'conv1a.weight';
  if (t0.includes('linear1000')) return null;
  if (toks.length > 1 && toks[1].includes('branch')) {
    const block = t0[t0.length - 1] !== 'a' ? `b${t0[t0.length - 3]}_${t0[t0.length - 1]}` : `b${t0[t0.length - 2]}`;
    let layer: string, last: string | undefined;
    if (t0.includes('res')) {
      layer = 'conv';
      last = 'weight';
    } else {
      layer = 'bn';
      last = BN_PARAM[toks[toks.length - 1]];
    }
    return last === undefined ? undefined : `${block}.${layer}_${toks[1]}.${last}`;
  }
  const last = BN_PARAM[toks[toks.length - 1]];
  return last === undefined ? undefined : `bn7.${last}`;
}

/** Result of `convertMxnetToTorch`: tensors under PyTorch names, and what was left out. */
export interface MxnetConversion {
  tensors: Map<string, WeightTensor>;
  /** Names the reference drops on purpose (the 1000-way ImageNet classifier). */
  dropped: string[];
  /** Names the reference could not convert (it would raise); not in `tensors`. */
  unconverted: string[];
}

/** Renames an MXNet `.params` tensor map to the reference's PyTorch names (in file order). */
export function convertMxnetToTorch(tensors: ReadonlyMap<string, WeightTensor>): MxnetConversion {
  const out = new Map<string, WeightTensor>();
  const dropped: string[] = [];
  const unconverted: string[] = [];
  for (const [k, t] of tensors) {
    const name = mxnetToTorchName(k);
    if (name === null) dropped.push(k);
    else if (name === undefined) unconverted.push(k);
    else out.set(name, { ...t, name });
  }
  return { tensors: out, dropped, unconverted };
}
