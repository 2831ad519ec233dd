/**
 * Generates the dense CRF's WebAssembly SIMD module for a label count L and a kernel set
 * (simplex sizes d+1). Rows of P = 4 ceil(L/4) floats (labels padded to whole f32x4 vectors)
 * are fully unrolled, so a pixel's logits stay in registers. Exports:
 * - unary(n, probs, logp, minProb): logp[i] = log(min(1, max(p, minProb))) (NaN -> minProb),
 *   probs label-major (L x n), logp pixel-major padded rows (pad lanes -1e30);
 * - blur(m, src, dst, prev, next): one lattice direction, dst[v] = src[v] + (src[prev v] +
 *   src[next v]) / 2, with prev/next byte offsets from `src`;
 * - init / step / final(n, logp, per kernel: offsets (vertex indices), weights, slice scale (f32),
 *   inBuf, outBuf):
 *   'init' Q = softmax(logp) splatted; 'step' slice, softmax, splat; 'final' slice, softmax,
 *   Q written over logp (pixel-major padded). Memory bytes 0-15 hold the f32x4 lane mask of
 *   the last label vector (1 for labels, 0 for pad lanes);
 * - transpose(n, src, dst): pixel-major padded rows to label-major (L x n).
 * Vector exp: 2^k 2^f with k = nearest(x log2 e), |f| <= 1/2, degree-6 Taylor polynomial for
 * 2^f (relative error < 2e-7); inputs clamped to >= -87. Vector log: x = 2^e m with m in
 * [sqrt(1/2), sqrt(2)) by integer arithmetic on the bits, log m = 2 atanh((m-1)/(m+1)) to the
 * s^9 term (absolute error < 1e-9).
 */
import { Body, encodeModule, F32, I32, V128, type FunctionDef, type ValType } from '../../engine/wasm-asm.js';

/** Logit of padded label lanes; the pass then masks their exp (about 2^-126) to 0. */
export const PAD_LOGIT = -1e30;

/** A WebAssembly.Memory. */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}

/** The part of the WebAssembly JS API used here (not in the ES2023 lib typings). */
export interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: object };
  Memory: new (desc: { initial: number }) => WasmMemory;
}
export const wasmApi = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

const modules = new Map<string, object>();

/** The compiled module for L labels and kernels with these simplex sizes (cached). */
export function crfModule(L: number, d1s: number[]): object {
  const key = `${L}:${d1s.join(',')}`;
  let mod = modules.get(key);
  if (!mod) {
    if (!wasmApi) throw new Error('WebAssembly is not available');
    const fns = [unaryFunction(L), blurFunction(L), passFunction('init', L, d1s), passFunction('step', L, d1s), passFunction('final', L, d1s), transposeFunction(L)];
    mod = new wasmApi.Module(encodeModule(fns, { import: { module: 'env', name: 'mem' }, minPages: 1 }));
    modules.set(key, mod);
  }
  return mod;
}

const vectors = (L: number) => Math.ceil(L / 4);

/** Declares v128 locals holding f32x4 splats of `values`. */
function constants(b: Body, values: number[]): number[] {
  return values.map((v) => {
    const l = b.local(V128);
    b.f32(v).f32x4Splat().set(l);
    return l;
  });
}

function unaryFunction(L: number): FunctionDef {
  const nv = vectors(L), P = 4 * nv;
  const b = new Body([I32, I32, I32, F32]);
  const [n, probs, logp, minProb] = [0, 1, 2, 3];
  const q = b.local(I32), stride = b.local(I32), x = b.local(V128), e = b.local(V128), s = b.local(V128), s2 = b.local(V128);
  const [one, c9, c7, c5, c3, c1, ln2] = constants(b, [1, 2 / 9, 2 / 7, 2 / 5, 2 / 3, 2, Math.LN2]);
  const sqrtHalfBits = b.local(V128);
  b.i32(0x3f3504f3).i32x4Splat().set(sqrtHalfBits);
  b.get(n).i32(4).i32Mul().set(stride);
  b.block().loop();
  b.get(n).i32Eqz().brIf(1);
  b.get(probs).set(q);
  for (let k = 0; k < L; k++) {
    // min(1, p > minProb ? p : minProb)
    b.get(logp).get(q).f32Load().get(minProb).get(q).f32Load().get(minProb).f32Gt().select().f32(1).f32Min().f32Store(4 * k);
    b.get(q).get(stride).i32Add().set(q);
  }
  for (let k = L; k < P; k++) b.get(logp).f32(1).f32Store(4 * k);
  for (let j = 0; j < nv; j++) {
    b.get(logp).v128Load(16 * j).set(x);
    b.get(x).get(sqrtHalfBits).i32x4Sub().i32(23).i32x4ShrS().set(e);
    b.get(x).get(e).i32(23).i32x4Shl().i32x4Sub().set(x); // mantissa in [sqrt(1/2), sqrt(2))
    b.get(x).get(one).f32x4Sub().get(x).get(one).f32x4Add().f32x4Div().set(s);
    b.get(s).get(s).f32x4Mul().set(s2);
    b.get(c9);
    for (const c of [c7, c5, c3, c1]) b.get(s2).f32x4Mul().get(c).f32x4Add();
    b.get(s).f32x4Mul();
    b.get(e).f32x4ConvertI32x4S().get(ln2).f32x4Mul().f32x4Add().set(x);
    b.get(logp).get(x).v128Store(16 * j);
  }
  for (let k = L; k < P; k++) b.get(logp).f32(PAD_LOGIT).f32Store(4 * k);
  b.get(probs).i32(4).i32Add().set(probs);
  b.get(logp).i32(16 * nv).i32Add().set(logp);
  b.get(n).i32(1).i32Sub().set(n);
  b.br(0).end().end();
  return { name: 'unary', body: b };
}

function blurFunction(L: number): FunctionDef {
  const nv = vectors(L);
  const b = new Body([I32, I32, I32, I32, I32]);
  const [m, src, dst, prev, next] = [0, 1, 2, 3, 4];
  const pa = b.local(I32), pb = b.local(I32), s = b.local(I32);
  const [half] = constants(b, [0.5]);
  b.get(src).set(s);
  b.block().loop();
  b.get(m).i32Eqz().brIf(1);
  // Neighbour offsets are relative to the buffer start `src`; `s` and `dst` walk the rows.
  b.get(src).get(prev).i32Load().i32Add().set(pa);
  b.get(src).get(next).i32Load().i32Add().set(pb);
  for (let j = 0; j < nv; j++) {
    b.get(dst).get(s).v128Load(16 * j);
    b.get(pa).v128Load(16 * j).get(pb).v128Load(16 * j).f32x4Add().get(half).f32x4Mul();
    b.f32x4Add().v128Store(16 * j);
  }
  for (const p of [s, dst]) b.get(p).i32(16 * nv).i32Add().set(p);
  for (const p of [prev, next]) b.get(p).i32(4).i32Add().set(p);
  b.get(m).i32(1).i32Sub().set(m);
  b.br(0).end().end();
  return { name: 'blur', body: b };
}

function transposeFunction(L: number): FunctionDef {
  const nv = vectors(L);
  const b = new Body([I32, I32, I32]);
  const [n, src, dst] = [0, 1, 2];
  const ptr = b.local(I32), stride = b.local(I32), x = b.local(V128);
  b.get(n).i32(4).i32Mul().set(stride);
  b.block().loop();
  b.get(n).i32Eqz().brIf(1);
  b.get(dst).set(ptr);
  for (let k = 0; k < L; k++) {
    if ((k & 3) === 0) b.get(src).v128Load(4 * k).set(x);
    b.get(ptr).get(x).f32x4ExtractLane(k & 3).f32Store();
    if (k < L - 1) b.get(ptr).get(stride).i32Add().set(ptr);
  }
  b.get(src).i32(16 * nv).i32Add().set(src);
  b.get(dst).i32(4).i32Add().set(dst);
  b.get(n).i32(1).i32Sub().set(n);
  b.br(0).end().end();
  return { name: 'transpose', body: b };
}

function passFunction(kind: 'init' | 'step' | 'final', L: number, d1s: number[]): FunctionDef {
  const nv = vectors(L);
  const params: ValType[] = [I32, I32, ...d1s.flatMap((): ValType[] => [I32, I32, F32, I32, I32])];
  const b = new Body(params);
  const [n, logp] = [0, 1];
  const kp = d1s.map((_, k) => ({ off: 2 + 5 * k, wts: 3 + 5 * k, scale: 4 + 5 * k, inBuf: 5 + 5 * k, outBuf: 6 + 5 * k }));
  const acc = Array.from({ length: nv }, () => b.local(V128));
  const w = b.local(V128), mx = b.local(V128), sum = b.local(V128), t = b.local(V128), mask = b.local(V128);
  const base = b.local(I32), inv = b.local(V128);
  const sliceScale = d1s.map(() => b.local(V128));
  const [lo, log2e, c1, c2, c3, c4, c5, c6, one] = constants(b, [
    -87, Math.LOG2E, 0.6931471805599453, 0.2402265069591007, 0.05550410866482158, 0.009618129107628477, 0.0013333558146428443,
    0.00015403530393381606, 1,
  ]);
  const bias = b.local(V128);
  b.i32(127).i32x4Splat().set(bias);
  b.i32(0).v128Load().set(mask);
  d1s.forEach((_, k) => b.get(kp[k].scale).f32x4Splat().set(sliceScale[k]));

  b.block().loop();
  b.get(n).i32Eqz().brIf(1);
  for (let j = 0; j < nv; j++) b.get(logp).v128Load(16 * j).set(acc[j]);
  if (kind !== 'init') {
    d1s.forEach((d1, k) => {
      for (let r = 0; r < d1; r++) {
        b.get(kp[k].wts).f32Load(4 * r).f32x4Splat().get(sliceScale[k]).f32x4Mul().set(w);
        b.get(kp[k].inBuf).get(kp[k].off).i32Load(4 * r).i32(16 * nv).i32Mul().i32Add().set(base);
        for (let j = 0; j < nv; j++) b.get(acc[j]).get(w).get(base).v128Load(16 * j).f32x4Mul().f32x4Add().set(acc[j]);
      }
    });
  }
  // Softmax: max over all lanes, exp(x - max), sum.
  b.get(acc[0]).set(mx);
  for (let j = 1; j < nv; j++) b.get(mx).get(acc[j]).f32x4Max().set(mx);
  b.get(mx).f32x4ExtractLane(0).get(mx).f32x4ExtractLane(1).f32Max();
  b.get(mx).f32x4ExtractLane(2).get(mx).f32x4ExtractLane(3).f32Max().f32Max().f32x4Splat().set(mx);
  b.f32(0).f32x4Splat().set(sum);
  for (let j = 0; j < nv; j++) {
    b.get(acc[j]).get(mx).f32x4Sub().get(lo).f32x4Max().get(log2e).f32x4Mul().set(t);
    b.get(t).f32x4Nearest().set(w);
    b.get(t).get(w).f32x4Sub().set(t);
    b.get(c6);
    for (const c of [c5, c4, c3, c2, c1, one]) b.get(t).f32x4Mul().get(c).f32x4Add();
    b.get(w).i32x4TruncSatF32x4S().get(bias).i32x4Add().i32(23).i32x4Shl().f32x4Mul();
    // Pad lanes (about 2^-126) to exactly 0: wasm keeps IEEE denormals, and their products in
    // the splat, blur and slice made an iteration twice as slow (39 -> 20 ms at 500 x 375 x 21).
    if (j === nv - 1 && L % 4 !== 0) b.get(mask).f32x4Mul();
    b.tee(acc[j]).get(sum).f32x4Add().set(sum);
  }
  b.f32(1);
  b.get(sum).f32x4ExtractLane(0).get(sum).f32x4ExtractLane(1).f32Add();
  b.get(sum).f32x4ExtractLane(2).get(sum).f32x4ExtractLane(3).f32Add().f32Add();
  b.f32Div().f32x4Splat().set(inv);
  if (kind === 'final') {
    for (let j = 0; j < nv; j++) b.get(logp).get(acc[j]).get(inv).f32x4Mul().v128Store(16 * j);
  } else {
    // Splat the unnormalised exp with weights w_ir / sum.
    d1s.forEach((d1, k) => {
      for (let r = 0; r < d1; r++) {
        b.get(kp[k].wts).f32Load(4 * r).f32x4Splat().get(inv).f32x4Mul().set(w);
        b.get(kp[k].outBuf).get(kp[k].off).i32Load(4 * r).i32(16 * nv).i32Mul().i32Add().set(base);
        for (let j = 0; j < nv; j++) b.get(base).get(base).v128Load(16 * j).get(acc[j]).get(w).f32x4Mul().f32x4Add().v128Store(16 * j);
      }
    });
  }
  b.get(logp).i32(16 * nv).i32Add().set(logp);
  d1s.forEach((d1, k) => {
    for (const p of [kp[k].off, kp[k].wts]) b.get(p).i32(4 * d1).i32Add().set(p);
  });
  b.get(n).i32(1).i32Sub().set(n);
  b.br(0).end().end();
  return { name: kind, body: b };
}
