/**
 * TF.js's own gradients, for Node.
 *
 * `@tensorflow/tfjs-core`'s Node entry (dist/tf-core.node.js) ships without gradient configs:
 * only the `@tensorflow/tfjs` umbrella package registers them, and hfpl depends on tfjs-core
 * alone. Its ESM files dist/gradients/*_grad.js are there but cannot be imported by Node (no
 * "type": "module", extensionless imports). This module loads those files' source and evaluates
 * each one against tfjs-core's public API (every op they import is public, except a few backprop
 * ops that are one `runKernel` call, shimmed below), then registers the configs. The result is
 * exactly TF.js 4.22's gradient set; hfpl's own gradients are registered on top.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { GradConfig, NamedAttrMap, NamedTensorMap } from '@tensorflow/tfjs-core';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const run = (name: string, inputs: NamedTensorMap, attrs: object): tf.Tensor =>
  tf.engine().runKernel(name, inputs, attrs as NamedAttrMap) as tf.Tensor;

/** The non-public ops the gradient files import: each is one kernel call on 4-D/5-D tensors. */
const SHIMS: Record<string, unknown> = {
  ENGINE: tf.engine(),
  avgPoolGrad: (dy: tf.Tensor, input: tf.Tensor, filterSize: unknown, strides: unknown, pad: unknown) =>
    run('AvgPoolGrad', { dy, input }, { filterSize, strides, pad }),
  avgPool3dGrad: (dy: tf.Tensor, input: tf.Tensor, filterSize: unknown, strides: unknown, pad: unknown, dimRoundingMode: unknown) =>
    run('AvgPool3DGrad', { dy, input }, { filterSize, strides, pad, dimRoundingMode }),
  conv2DBackpropFilter: (x: tf.Tensor, dy: tf.Tensor, filterShape: unknown, strides: unknown, pad: unknown, dataFormat = 'NHWC', dimRoundingMode?: unknown) =>
    run('Conv2DBackpropFilter', { x, dy }, { strides, pad, dataFormat, dimRoundingMode, filterShape }),
  conv2DBackpropInput: (xShape: unknown, dy: tf.Tensor, filter: tf.Tensor, strides: unknown, pad: unknown, dataFormat = 'NHWC', dimRoundingMode?: unknown) =>
    run('Conv2DBackpropInput', { dy, filter }, { strides, pad, dataFormat, dimRoundingMode, inputShape: xShape }),
  conv3DBackpropFilter: (x: tf.Tensor, dy: tf.Tensor, filterShape: unknown, strides: unknown, pad: unknown) =>
    run('Conv3DBackpropFilterV2', { x, dy }, { strides, pad, filterShape }),
  conv3DBackpropInput: (xShape: unknown, dy: tf.Tensor, filter: tf.Tensor, strides: unknown, pad: unknown) =>
    run('Conv3DBackpropInputV2', { dy, filter }, { pad, strides, inputShape: xShape }),
  depthwiseConv2dNativeBackpropFilter: (x: tf.Tensor, dy: tf.Tensor, filterShape: unknown, strides: unknown, pad: unknown, dilations: unknown = [1, 1], dimRoundingMode?: unknown) =>
    run('DepthwiseConv2dNativeBackpropFilter', { x, dy }, { strides, pad, dimRoundingMode, dilations, filterShape }),
  depthwiseConv2dNativeBackpropInput: (xShape: unknown, dy: tf.Tensor, filter: tf.Tensor, strides: unknown, pad: unknown, dilations: unknown = [1, 1], dimRoundingMode?: unknown) =>
    run('DepthwiseConv2dNativeBackpropInput', { dy, filter }, { strides, pad, dimRoundingMode, dilations, inputShape: xShape }),
  localResponseNormalizationBackprop: (x: tf.Tensor, y: tf.Tensor, dy: tf.Tensor, depthRadius = 5, bias = 1, alpha = 1, beta = 0.5) =>
    run('LRNGrad', { x, y, dy }, { depthRadius, bias, alpha, beta }),
  maxPoolGrad: (dy: tf.Tensor, input: tf.Tensor, output: tf.Tensor, filterSize: unknown, strides: unknown, pad: unknown, dimRoundingMode?: unknown) =>
    run('MaxPoolGrad', { dy, input, output }, { filterSize, strides, pad, dimRoundingMode }),
  maxPool3dGrad: (dy: tf.Tensor, input: tf.Tensor, output: tf.Tensor, filterSize: unknown, strides: unknown, pad: unknown, dimRoundingMode?: unknown) =>
    run('MaxPool3DGrad', { dy, input, output }, { filterSize, strides, pad, dimRoundingMode }),
  parseSliceParams: tf.slice_util.parseSliceParams,
};

/** What `import * as X from '../ops/X'` means, by the module's base name. */
const NAMESPACES: Record<string, unknown> = {
  util: tf.util,
  broadcast_util: tf.broadcast_util,
  axis_util: tf.backend_util,
  conv_util: tf.backend_util,
};

/** Where imported names are looked up, in order. */
const SOURCES = [SHIMS, tf, tf.backend_util, tf.util, tf.broadcast_util, tf.slice_util] as unknown as Array<Record<string, unknown>>;

function lookup(name: string, file: string, siblings: (base: string) => Record<string, unknown>, from: string): unknown {
  if (from.startsWith('./')) return siblings(from.slice(2))[name];
  for (const source of SOURCES) if (name in source) return source[name];
  throw new Error(`TF.js gradient ${file}: cannot resolve "${name}" from "${from}"`);
}

const IMPORT_NAMED = /^import \{([^}]*)\} from '([^']+)';$/;
const IMPORT_NS = /^import \* as (\w+) from '([^']+)';$/;
const EXPORT = /^export (const|function) (\w+)/;

/** Evaluates one ESM gradient file of tfjs-core and returns its exports. */
function loadModule(dir: string, base: string, cache: Map<string, Record<string, unknown>>): Record<string, unknown> {
  const hit = cache.get(base);
  if (hit) return hit;
  const src = readFileSync(join(dir, `${base}.js`), 'utf8');
  const names: string[] = [];
  const values: unknown[] = [];
  const exported: string[] = [];
  const body: string[] = [];
  const siblings = (b: string): Record<string, unknown> => loadModule(dir, b, cache);
  for (const line of src.split('\n')) {
    const named = IMPORT_NAMED.exec(line);
    const ns = IMPORT_NS.exec(line);
    const ex = EXPORT.exec(line);
    if (named) {
      for (const spec of named[1].split(',').map((s) => s.trim()).filter(Boolean)) {
        const [orig, local] = spec.split(/\s+as\s+/);
        names.push(local ?? orig);
        values.push(lookup(orig, base, siblings, named[2]));
      }
    } else if (ns) {
      const key = ns[2].split('/').pop() ?? '';
      if (!(key in NAMESPACES)) throw new Error(`TF.js gradient ${base}: unknown namespace import "${ns[2]}"`);
      names.push(ns[1]);
      values.push(NAMESPACES[key]);
    } else if (ex) {
      exported.push(ex[2]);
      body.push(line.replace(/^export /, ''));
    } else if (!line.startsWith('//# sourceMappingURL')) {
      body.push(line);
    }
  }
  const code = `"use strict";\n${body.join('\n')}\nreturn { ${exported.join(', ')} };`;
  const factory = new Function(...names, code) as (...args: unknown[]) => Record<string, unknown>;
  const out = factory(...values);
  cache.set(base, out);
  return out;
}

let loaded: GradConfig[] | null = null;

/** Loads (once) the gradient configs of the installed tfjs-core from its dist/gradients folder. */
export function coreGradientConfigs(): GradConfig[] {
  if (loaded) return loaded;
  const require = createRequire(import.meta.url);
  const dir = join(dirname(require.resolve('@tensorflow/tfjs-core')), 'gradients');
  const cache = new Map<string, Record<string, unknown>>();
  const configs: GradConfig[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('_grad.js')).sort()) {
    const mod = loadModule(dir, file.slice(0, -3), cache);
    for (const v of Object.values(mod)) {
      if (v && typeof v === 'object' && 'kernelName' in v && 'gradFunc' in v) configs.push(v as GradConfig);
    }
  }
  loaded = configs;
  return configs;
}

/** Registers TF.js's own gradients (see module comment); returns their kernel names. */
export function registerCoreGradients(): string[] {
  const configs = coreGradientConfigs();
  for (const c of configs) tf.registerGradient(c);
  return configs.map((c) => c.kernelName);
}
