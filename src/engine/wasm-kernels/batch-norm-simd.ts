/**
 * WebAssembly SIMD passes of the training-mode batch norm (`batch-norm.ts`), run on the wasm
 * backend's own heap (the module imports its memory), for channel counts that are multiples
 * of 4. They compute exactly what the typed-array loops compute, bit for bit: every value is
 * widened to f64 (f64x2 lanes), per-channel sums run over the rows in the same order, products
 * of two float32 values are exact in f64, and the one rounding to float32 happens at the store.
 *
 * - `stats1(x, rows, c, s1, s2)`: s1[k] = sum x, s2[k] = sum x^2 (f64 arrays of c values);
 * - `stats2(dy, x, rows, c, s1, s2)`: s1[k] = sum dy, s2[k] = sum dy x;
 * - `affine(x, y, rows, c, a, b)`: y = float32(a[k] x + b[k]);
 * - `dx(dy, x, out, rows, c, a, b, d)`: out = float32(a[k] dy - b[k] x - d[k]).
 * Pointers are byte offsets; a, b, d are f64 arrays (float32 values, as the loops use them).
 * The statistics passes hold 16 channels (4 vectors, 16 f64x2 accumulators) per sweep when
 * c is a multiple of 16, else 4.
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { Body, encodeModule, I32, V128, type FunctionDef } from '../wasm-asm.js';

/** Bytes 8-15 of a vector moved to 0-7 (float32 lanes 2, 3 to 0, 1) for the widening. */
const HIGH_HALF = [8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15];
/** Lanes 0, 1 of each of two demoted vectors, joined (a0 a1 b0 b1). */
const JOIN_LOW = [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23];

/** Widens the f32x4 `src` to f64x2 locals lo (lanes 0, 1) and hi (lanes 2, 3). */
function widen(f: Body, src: number, lo: number, hi: number): void {
  f.get(src).f64x2PromoteLowF32x4().set(lo);
  f.get(src).get(src).i8x16Shuffle(HIGH_HALF).f64x2PromoteLowF32x4().set(hi);
}

/** stats1 (two = false) or stats2 (two = true) with `V` vectors per sweep. */
function statsFunction(two: boolean, V: number): Body {
  const f = new Body(two ? [I32, I32, I32, I32, I32, I32] : [I32, I32, I32, I32, I32]);
  const [a, x, rows, c, s1, s2] = two ? [0, 1, 2, 3, 4, 5] : [0, 0, 1, 2, 3, 4];
  const [k, p, q, end, rowBytes] = Array.from({ length: 5 }, () => f.local(I32));
  const acc = Array.from({ length: 4 * V }, () => f.local(V128)); // per vector: s1 lo, s1 hi, s2 lo, s2 hi
  const [va, vx, lo, hi, xlo, xhi] = Array.from({ length: 6 }, () => f.local(V128));
  f.get(c).i32(4).i32Mul().set(rowBytes);
  f.i32(0).set(k);
  f.block().loop(); // channel sweeps
  f.get(k).get(rowBytes).i32GeS().brIf(1);
  for (const l of acc) f.f32(0).f32x4Splat().set(l);
  f.get(a).get(k).i32Add().set(p);
  if (two) f.get(x).get(k).i32Add().set(q);
  f.get(p).get(rows).get(rowBytes).i32Mul().i32Add().set(end);
  f.block().loop(); // rows
  f.get(p).get(end).i32GeS().brIf(1);
  for (let v = 0; v < V; v++) {
    const [s1lo, s1hi, s2lo, s2hi] = acc.slice(4 * v, 4 * v + 4);
    f.get(p).v128Load(16 * v).set(va);
    widen(f, va, lo, hi);
    f.get(s1lo).get(lo).f64x2Add().set(s1lo);
    f.get(s1hi).get(hi).f64x2Add().set(s1hi);
    if (two) {
      f.get(q).v128Load(16 * v).set(vx);
      widen(f, vx, xlo, xhi);
      f.get(s2lo).get(lo).get(xlo).f64x2Mul().f64x2Add().set(s2lo);
      f.get(s2hi).get(hi).get(xhi).f64x2Mul().f64x2Add().set(s2hi);
    } else {
      f.get(s2lo).get(lo).get(lo).f64x2Mul().f64x2Add().set(s2lo);
      f.get(s2hi).get(hi).get(hi).f64x2Mul().f64x2Add().set(s2hi);
    }
  }
  f.get(p).get(rowBytes).i32Add().set(p);
  if (two) f.get(q).get(rowBytes).i32Add().set(q);
  f.br(0).end().end();
  // Channel k/4 + j is at byte 8 (k/4 + j) = 2k + 8j of the f64 arrays.
  for (let v = 0; v < V; v++) {
    const [s1lo, s1hi, s2lo, s2hi] = acc.slice(4 * v, 4 * v + 4);
    f.get(s1).get(k).get(k).i32Add().i32Add().get(s1lo).v128Store(32 * v);
    f.get(s1).get(k).get(k).i32Add().i32Add().get(s1hi).v128Store(32 * v + 16);
    f.get(s2).get(k).get(k).i32Add().i32Add().get(s2lo).v128Store(32 * v);
    f.get(s2).get(k).get(k).i32Add().i32Add().get(s2hi).v128Store(32 * v + 16);
  }
  f.get(k).i32(16 * V).i32Add().set(k);
  f.br(0).end().end();
  return f;
}

/** affine (y = a x + b) or dx (out = a dy - b x - d): element-wise with per-channel f64 coefficients. */
function elementwiseFunction(kind: 'affine' | 'dx'): Body {
  const dx = kind === 'dx';
  const f = new Body(dx ? [I32, I32, I32, I32, I32, I32, I32, I32] : [I32, I32, I32, I32, I32, I32]);
  const [src, src2, out, rows, c, ca, cb, cd] = dx ? [0, 1, 2, 3, 4, 5, 6, 7] : [0, -1, 1, 2, 3, 4, 5, -1];
  const [p, q, o, j, rowBytes, end, cp] = Array.from({ length: 7 }, () => f.local(I32));
  const [v1, v2, lo, hi, lo2, hi2] = Array.from({ length: 6 }, () => f.local(V128));
  f.get(c).i32(4).i32Mul().set(rowBytes);
  f.get(src).set(p);
  if (dx) f.get(src2).set(q);
  f.get(out).set(o);
  f.get(src).get(rows).get(rowBytes).i32Mul().i32Add().set(end);
  f.block().loop(); // rows
  f.get(p).get(end).i32GeS().brIf(1);
  f.i32(0).set(j);
  f.block().loop(); // vectors of the row; j = byte offset in the row
  f.get(j).get(rowBytes).i32GeS().brIf(1);
  f.get(j).get(j).i32Add().set(cp); // byte offset of the channel in the f64 arrays
  f.get(p).get(j).i32Add().v128Load().set(v1);
  widen(f, v1, lo, hi);
  // lo = a lo (- b xlo - d) or a lo + b; same for hi.
  f.get(ca).get(cp).i32Add().v128Load().get(lo).f64x2Mul().set(lo);
  f.get(ca).get(cp).i32Add().v128Load(16).get(hi).f64x2Mul().set(hi);
  if (dx) {
    f.get(q).get(j).i32Add().v128Load().set(v2);
    widen(f, v2, lo2, hi2);
    f.get(lo).get(cb).get(cp).i32Add().v128Load().get(lo2).f64x2Mul().f64x2Sub().get(cd).get(cp).i32Add().v128Load().f64x2Sub().set(lo);
    f.get(hi).get(cb).get(cp).i32Add().v128Load(16).get(hi2).f64x2Mul().f64x2Sub().get(cd).get(cp).i32Add().v128Load(16).f64x2Sub().set(hi);
  } else {
    f.get(lo).get(cb).get(cp).i32Add().v128Load().f64x2Add().set(lo);
    f.get(hi).get(cb).get(cp).i32Add().v128Load(16).f64x2Add().set(hi);
  }
  f.get(o).get(j).i32Add();
  f.get(lo).f32x4DemoteF64x2Zero().get(hi).f32x4DemoteF64x2Zero().i8x16Shuffle(JOIN_LOW);
  f.v128Store();
  f.get(j).i32(16).i32Add().set(j);
  f.br(0).end().end();
  f.get(p).get(rowBytes).i32Add().set(p);
  if (dx) f.get(q).get(rowBytes).i32Add().set(q);
  f.get(o).get(rowBytes).i32Add().set(o);
  f.br(0).end().end();
  return f;
}

/** The kernels bound to one wasm backend's memory. */
export interface BatchNormSimd {
  stats1(x: number, rows: number, c: number, s1: number, s2: number): void;
  stats2(dy: number, x: number, rows: number, c: number, s1: number, s2: number): void;
  affine(x: number, y: number, rows: number, c: number, a: number, b: number): void;
  dx(dy: number, x: number, out: number, rows: number, c: number, a: number, b: number, d: number): void;
}

interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: object };
}

let compiled: object | null | undefined;
const bound = new WeakMap<object, BatchNormSimd | null>();

function compile(): object | null {
  if (compiled !== undefined) return compiled;
  try {
    const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
    const fns: FunctionDef[] = [
      { name: 'stats1v4', body: statsFunction(false, 4) }, { name: 'stats1v1', body: statsFunction(false, 1) },
      { name: 'stats2v4', body: statsFunction(true, 4) }, { name: 'stats2v1', body: statsFunction(true, 1) },
      { name: 'affine', body: elementwiseFunction('affine') }, { name: 'dx', body: elementwiseFunction('dx') },
    ];
    compiled = new wasm.Module(encodeModule(fns, { import: { module: 'env', name: 'mem' }, minPages: 1 }));
  } catch {
    compiled = null;
  }
  return compiled;
}

type Fn = (...args: number[]) => void;

/**
 * The SIMD kernels on `backend`'s heap, or null (no WebAssembly SIMD, or a backend whose memory
 * is not reachable); `HFPL_BN_SIMD=0` turns them off (the typed-array loops run instead).
 */
export function batchNormSimd(backend: BackendWasm): BatchNormSimd | null {
  if (process.env.HFPL_BN_SIMD === '0') return null;
  const hit = bound.get(backend);
  if (hit !== undefined) return hit;
  let k: BatchNormSimd | null = null;
  const mem = (backend.wasm as unknown as { asm?: { memory?: unknown } }).asm?.memory;
  const mod = compile();
  if (mem && mod) {
    try {
      const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
      const e = new wasm.Instance(mod, { env: { mem } }).exports as Record<string, Fn>;
      k = {
        stats1: (x, rows, c, s1, s2) => (c % 16 === 0 ? e.stats1v4 : e.stats1v1)(x, rows, c, s1, s2),
        stats2: (dy, x, rows, c, s1, s2) => (c % 16 === 0 ? e.stats2v4 : e.stats2v1)(dy, x, rows, c, s1, s2),
        affine: (x, y, rows, c, a, b) => e.affine(x, y, rows, c, a, b),
        dx: (dy, x, out, rows, c, a, b, d) => e.dx(dy, x, out, rows, c, a, b, d),
      };
    } catch {
      k = null;
    }
  }
  bound.set(backend, k);
  return k;
}
