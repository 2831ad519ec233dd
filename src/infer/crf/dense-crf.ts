/**
 * Fully connected CRF with Gaussian-kernel pairwise terms (Kraehenbuehl and Koltun 2011), as
 * pydensecrf's `DenseCRF2D` runs it in the reference (METHOD 3.4):
 * - unary U_i(l) = -log(clip(p_i(l), 1e-5, 1));
 * - a Gaussian kernel on (x/sxy, y/sxy) and a bilateral kernel on (x/sxy, y/sxy, r/srgb,
 *   g/srgb, b/srgb), each filtered on its own permutohedral lattice (densecrf uses the lattice
 *   for both; so does hfpl, so the output follows the reference's approximation);
 * - symmetric normalisation (densecrf's default NORMALIZE_SYMMETRIC):
 *   K~ Q = norm * K(norm * Q), norm = 1 / sqrt(K 1 + 1e-20);
 * - Potts compatibility: densecrf's PottsCompatibility returns -w * K~Q and inference does
 *   logits = -U - sum_m (-w_m K~_m Q), i.e. logit(l) = -U(l) + sum_m w_m (K~_m Q)(l). This equals
 *   the textbook update with mu(l, l') = [l != l'] up to a per-pixel constant. As in densecrf,
 *   the self term (j = i) is NOT removed from the lattice filter;
 * - Q_0 = softmax(-U); t mean-field steps Q_t = softmax(logit(Q_{t-1})); returns Q_t.
 * Probabilities and the result are label-major, L x H x W (the layout of CAM files and of
 * pydensecrf's `setUnaryEnergy` / `inference`).
 *
 * Each iteration blurs the two lattices, then makes one pass over the pixels that slices
 * them, takes the softmax and splats the new Q straight into the next lattice buffers
 * (`kernel.ts` folds the normalisation into the lattice weights). The pass runs as
 * WebAssembly SIMD (`mean-field-wasm.ts`) when available, else in plain JS
 * (`mean-field-js.ts`); the two agree to float32 rounding.
 * Cost at 500 x 375, 21 labels, 10 iterations, one core: about 200 ms for the iterations,
 * 100 ms for the two lattice builds (JS) and page faults on fresh memory (~2.7 ms per MB on
 * the benchmark machine): about 65 MB when nothing is cached (wasm memory, result, Gaussian
 * lattice), 20 MB when they are; see bench/crf.ts.
 */
import { z } from 'zod';
import { HfplError, check } from '../../errors.js';
import type { LabelMap } from '../../data/label-png.js';
import type { RgbImage } from '../../data/types.js';
import { buildCrfKernel, type CrfKernel } from './kernel.js';
import { meanFieldJs } from './mean-field-js.js';
import { meanFieldWasm, releaseWasmMemory, wasmBytesNeeded, wasmSimdAvailable } from './mean-field-wasm.js';

const positive = (name: string) => z.number({ error: `${name} must be a number` }).positive({ error: `${name} must be > 0` });
const nonNegative = (name: string) => z.number({ error: `${name} must be a number` }).min(0, { error: `${name} must be >= 0` });

/** Dense CRF options (defaults: METHOD 3.4, i.e. SEAM/PSA `crf_inference`). */
export const denseCrfOptionsSchema = z
  .object({
    /** Mean-field iterations; default 10. */
    iterations: z.number().int({ error: 'iterations must be an integer' }).min(0, { error: 'iterations must be >= 0' }).max(1000, { error: 'iterations must be <= 1000' }).default(10),
    /** Gaussian (smoothness) kernel standard deviation, pixels; default 3. */
    gaussianSxy: positive('gaussianSxy').default(3),
    /** Gaussian kernel weight (Potts compatibility); default 3. */
    gaussianCompat: nonNegative('gaussianCompat').default(3),
    /** Bilateral (appearance) kernel spatial standard deviation, pixels; default 80. */
    bilateralSxy: positive('bilateralSxy').default(80),
    /** Bilateral kernel colour standard deviation, 8-bit RGB units; default 13. */
    bilateralSrgb: positive('bilateralSrgb').default(13),
    /** Bilateral kernel weight; default 10. */
    bilateralCompat: nonNegative('bilateralCompat').default(10),
    /** Spatial standard deviations are divided by this (the reference's `scale_factor`); default 1. */
    scaleFactor: positive('scaleFactor').default(1),
    /** Probabilities are clipped to [minProb, 1] before the log; default 1e-5. */
    minProb: positive('minProb').max(1, { error: 'minProb must be <= 1' }).default(1e-5),
    /** 'auto' (WebAssembly SIMD when available), 'wasm' or 'js'; default 'auto'. */
    implementation: z.enum(['auto', 'wasm', 'js'], { error: "implementation must be 'auto', 'wasm' or 'js'" }).default('auto'),
  })
  .strict();

export type DenseCrfOptions = z.input<typeof denseCrfOptionsSchema>;
export type ResolvedDenseCrfOptions = z.output<typeof denseCrfOptionsSchema>;

/** The final-segmentation variant (METHOD 3.6): one iteration, bilateral sxy 32, rest as 3.4. */
export const segmentationCrfOptions: Readonly<DenseCrfOptions> = Object.freeze({ iterations: 1, bilateralSxy: 32 });

/** Validates and fills dense CRF options; throws `E_CONFIG` naming the bad option and value. */
export function resolveDenseCrfOptions(opts: DenseCrfOptions = {}): ResolvedDenseCrfOptions {
  const r = denseCrfOptionsSchema.safeParse(opts);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const key = issue.path.join('.');
  if (issue.code === 'unrecognized_keys') {
    throw new HfplError('E_CONFIG', `denseCrf: unknown option ${issue.keys.map((k) => `'${k}'`).join(', ')}; allowed: ${Object.keys(denseCrfOptionsSchema.shape).join(', ')}`);
  }
  const value = (opts as Record<string, unknown>)[key];
  throw new HfplError('E_CONFIG', `denseCrf: option ${key} = ${JSON.stringify(value)} is invalid: ${issue.message}`);
}

function checkShapes(image: RgbImage, probs: Float32Array): number {
  const n = image.width * image.height;
  check(image.data.length === n * 3, `denseCrf: image data holds ${image.data.length} bytes, expected ${image.height} x ${image.width} x 3`);
  const labels = probs.length / n;
  if (!Number.isInteger(labels) || labels < 1) {
    throw new HfplError('E_ARG', `denseCrf: probabilities hold ${probs.length} values, not L x ${image.height} x ${image.width} for any L >= 1`);
  }
  return labels;
}

/**
 * Runs dense CRF mean-field inference. `probs` is L x H x W (label-major) with H, W those of
 * `image`; values need not sum to 1 (they are clipped, then logged). Returns Q, L x H x W,
 * each pixel's column summing to 1.
 * @example denseCrf(img, bgAndCams) // METHOD 3.4 defaults: 10 iterations, sxy 3 / 80, srgb 13
 */
export function denseCrf(image: RgbImage, probs: Float32Array, opts: DenseCrfOptions = {}): Float32Array {
  const o = resolveDenseCrfOptions(opts);
  const L = checkShapes(image, probs);
  const { width: W, height: H } = image;
  const n = W * H;
  const out = new Float32Array(n * L);
  // Fresh memory costs page faults, a large part of the total: the features, and the
  // bilateral kernel's arrays on the wasm path (copied into the wasm memory before Q is
  // written), borrow the result's memory when it is large enough.
  const fits = (at: number, len: number) => at + len <= out.length;
  const scratch = (at: number, len: number) => (fits(at, len) ? new Float32Array(out.buffer, 4 * at, len) : new Float32Array(len));
  const wasmLikely = o.implementation !== 'js' && wasmSimdAvailable();
  const kernels: CrfKernel[] = [];
  let borrowed = false;
  if (o.iterations > 0) {
    const gSxy = o.gaussianSxy / o.scaleFactor;
    const bSxy = o.bilateralSxy / o.scaleFactor;
    if (o.gaussianCompat > 0) kernels.push(gaussianKernel(W, H, gSxy, o.gaussianCompat, scratch(0, 2 * n)));
    if (o.bilateralCompat > 0) {
      const fb = scratch(0, 5 * n);
      for (let y = 0, i = 0; y < H; y++) {
        for (let x = 0; x < W; x++, i++) {
          fb[5 * i] = x / bSxy;
          fb[5 * i + 1] = y / bSxy;
          for (let c = 0; c < 3; c++) fb[5 * i + 2 + c] = image.data[3 * i + c] / o.bilateralSrgb;
        }
      }
      borrowed = wasmLikely && fits(5 * n, 12 * n);
      const arrays = borrowed ? { offsets: new Int32Array(out.buffer, 20 * n, 6 * n), weights: new Float32Array(out.buffer, 44 * n, 6 * n) } : undefined;
      kernels.push(buildCrfKernel(fb, n, 5, o.bilateralCompat, arrays));
    }
  }
  if (o.iterations > 0 && useWasm(o.implementation, n, L, kernels)) return meanFieldWasm(probs, o.minProb, n, L, kernels, o.iterations, out);
  // The JS path writes Q while it still reads the kernels: not into borrowed memory.
  return meanFieldJs(probs, o.minProb, n, L, kernels, o.iterations, borrowed ? undefined : out);
}

/**
 * The Gaussian kernel depends only on the image size, sxy and compat, so the last one is
 * kept: a data set of equally sized images builds it once (about 6 MB for 500 x 375).
 * `f` (n x 2) is scratch for its features.
 */
let lastGaussian: { key: string; kernel: CrfKernel } | null = null;

function gaussianKernel(width: number, height: number, sxy: number, compat: number, f: Float32Array): CrfKernel {
  const key = `${width}x${height}:${sxy}:${compat}`;
  if (lastGaussian?.key !== key) {
    for (let y = 0, i = 0; y < height; y++) {
      for (let x = 0; x < width; x++, i++) {
        f[2 * i] = x / sxy;
        f[2 * i + 1] = y / sxy;
      }
    }
    lastGaussian = { key, kernel: buildCrfKernel(f, width * height, 2, compat) };
  }
  return lastGaussian.kernel;
}

/** Drops the cached Gaussian kernel and the wasm memory (for cold-start timing, or to free them). */
export function clearDenseCrfCache(): void {
  lastGaussian = null;
  releaseWasmMemory();
}

/** Wasm memory is 32-bit: stay well below 4 GB. */
const WASM_MAX_BYTES = 2 ** 31;

function useWasm(impl: 'auto' | 'wasm' | 'js', n: number, L: number, kernels: CrfKernel[]): boolean {
  if (impl === 'js') return false;
  const fits = wasmBytesNeeded(n, L, kernels) <= WASM_MAX_BYTES;
  if (impl === 'wasm') {
    if (!wasmSimdAvailable()) throw new HfplError('E_ENGINE', 'denseCrf: implementation wasm requested but WebAssembly SIMD is not available');
    if (!fits) throw new HfplError('E_ARG', `denseCrf: ${n} pixels x ${L} labels exceed the wasm memory limit; use implementation 'js'`);
    return true;
  }
  return fits && wasmSimdAvailable();
}

/**
 * Per-pixel argmax over the L labels of `q` (L x H x W). Channel k is written as
 * `labelValues[k]` when given (e.g. [0, ...present classes]), else as k.
 */
export function argmaxLabels(q: Float32Array, width: number, height: number, labelValues?: readonly number[]): LabelMap {
  const n = width * height;
  const L = q.length / n;
  check(Number.isInteger(L) && L >= 1, `argmaxLabels: ${q.length} values are not L x ${height} x ${width}`);
  check(!labelValues || labelValues.length === L, `argmaxLabels: ${labelValues?.length} label values for ${L} channels`);
  check(labelValues || L <= 256, `argmaxLabels: ${L} channels do not fit 8-bit labels; pass labelValues`);
  const data = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    let bv = q[i];
    for (let k = 1; k < L; k++) {
      const v = q[k * n + i];
      if (v > bv) {
        bv = v;
        best = k;
      }
    }
    data[i] = labelValues ? labelValues[best] : best;
  }
  return { data, width, height };
}

/** `denseCrf` followed by `argmaxLabels`: the CRF label map. */
export function crfLabels(image: RgbImage, probs: Float32Array, opts: DenseCrfOptions = {}, labelValues?: readonly number[]): LabelMap {
  return argmaxLabels(denseCrf(image, probs, opts), image.width, image.height, labelValues);
}
