/**
 * hfpl public API. Grouped, explicit exports: engine, data, models, losses, train, infer,
 * eval, viz.
 */

// Errors
export { HfplError, isHfplError, type HfplErrorCode } from './errors.js';

// Engine
export { initEngine, engineInfo, type EngineOptions, type EngineInfo, type BackendName } from './engine/init.js';
export { Rng } from './engine/random.js';
