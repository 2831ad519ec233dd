/**
 * Rebuilds a trained CAM/SEAM network from a run folder or a `model.json` written by
 * `hfpl train-cam` (its `hfpl` field holds the model config, class names and normalisation).
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { HfplError } from '../errors.js';
import { CamNet, camModelConfigSchema, type CamModelConfig } from './cam-net.js';
import { SeamNet } from './seam-net.js';
import { assignWeights, readWeights } from './weights-io.js';

/** What `model.json`'s `hfpl` field records. */
export interface CamModelMeta extends Record<string, unknown> {
  model: CamModelConfig;
  /** Class names, index 0 = background. */
  classNames: string[];
  /** Normalisation of RGB in [0, 1]: (x - mean) / std. */
  mean: number[];
  std: number[];
}

/** Loads a trained network (weights checked strictly by name and shape). */
export function loadCamModel(path: string): { model: CamNet; meta: CamModelMeta; file: string } {
  const file = existsSync(path) && statSync(path).isDirectory() ? join(path, 'model.json') : path;
  if (!existsSync(file)) throw new HfplError('E_IO', `${file}: no trained model (run hfpl train-cam first, or it has not finished)`);
  const loaded = readWeights(file);
  const meta = loaded.meta as Partial<CamModelMeta> | null;
  const parsed = camModelConfigSchema.safeParse(meta?.model);
  if (!meta || !parsed.success || !Array.isArray(meta.classNames) || !Array.isArray(meta.mean) || !Array.isArray(meta.std)) {
    throw new HfplError('E_DATA', `${file}: not an hfpl CAM model (its "hfpl" field lacks model, classNames, mean or std)`);
  }
  const model = parsed.data.head === 'seam' ? new SeamNet(parsed.data) : new CamNet(parsed.data);
  try {
    assignWeights(model.store, loaded, { strict: true }, file);
  } catch (e) {
    model.dispose();
    throw e;
  }
  return { model, meta: meta as CamModelMeta, file };
}
