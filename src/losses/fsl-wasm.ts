/**
 * WebAssembly SIMD version of the FSL pair pass (METHOD 1) for the common case: py = 2,
 * px in {1, 2}, at most 4 image channels. For each offset o of the half window and each run of
 * 4 consecutive pixels i (pairs j = i + o) it computes the four weights K = G_o w_x(i, j) in
 * SIMD lanes (image stored as planes), then per pair adds K (q_i - q_j) to g_i, subtracts it
 * from g_j and adds K |q_i - q_j|^2 to the pair sum, four channels per vector. Direct
 * differences avoid the cancellation of the k q - Kq form in float32; the sum is kept in f64
 * per block of 4 pairs.
 */
import { Body, encodeModule, F32, F64, I32, V128 } from '../engine/wasm-asm.js';

/**
 * pairs(h, w, nOff, offPtr, imgPtr, planeBytes, qPtr, e2mu, invNorm)
 *   -> sum over unordered pairs of K |q_i - q_j|^2, for `cx` image planes, norm px (1 or 2) and
 * `cp4` vectors of 4 prediction channels; per pixel the record [q, g] of 2 cp4 vectors at qPtr.
 */
function pairsFunction(cx: number, px2: boolean, cp4: number): Body {
  const stride = 32 * cp4;
  const f = new Body([I32, I32, I32, I32, I32, I32, I32, F32, F32], [F64]);
  const [h, w, nOff, offPtr, imgPtr, planeBytes, qPtr, e2mu, invNorm] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const [o, dx, x0, x1, step, y, hy, i, iend, j, pi, pj, offp, row, cnt] = Array.from({ length: 15 }, () => f.local(I32));
  const total = f.local(F64);
  const [kv, acc, dd, kd, dv, av, bv, eav, bbv, k4, vG, vInv, vOne, vEps, vE2mu] = Array.from({ length: 15 }, () => f.local(V128));
  const add = (a: number, b: number, dst: number): void => { f.get(a).get(b).i32Add().set(dst); };

  f.get(invNorm).f32x4Splat().set(vInv);
  f.f32(1).f32x4Splat().set(vOne);
  f.f32(1e-5).f32x4Splat().set(vEps);
  f.get(e2mu).f32x4Splat().set(vE2mu);
  f.get(offPtr).set(offp);
  f.block().loop(); // offsets o
  f.get(o).get(nOff).i32GeS().brIf(1);
  // Offset record: dy (i32), dx (i32), G (f32).
  f.get(h).get(offp).i32Load(0).i32Sub().set(hy);
  f.get(offp).i32Load(4).set(dx);
  f.get(offp).f32Load(8).f32x4Splat().set(vG);
  f.i32(0).get(dx).i32Sub().i32(0).get(dx).i32(0).i32LtS().select().set(x0);
  f.get(w).get(dx).i32Sub().get(w).get(dx).i32(0).i32GtS().select().set(x1);
  f.get(h).get(hy).i32Sub().get(w).i32Mul().get(dx).i32Add().set(step);
  f.i32(0).set(y);
  f.block().loop(); // rows y
  f.get(y).get(hy).i32GeS().brIf(1);
  f.get(y).get(w).i32Mul().set(row);
  add(row, x0, i);
  add(row, x1, iend);
  f.block().loop(); // runs of 4 pixels i
  f.get(i).get(iend).i32GeS().brIf(1);
  add(i, step, j);
  f.get(iend).get(i).i32Sub().set(cnt);
  // Colour distance of 4 pairs: sum over planes of |x_i - x_j| (px 1) or sqrt of squares (px 2).
  for (let t = 0; t < cx; t++) {
    f.get(imgPtr).get(planeBytes).i32(t).i32Mul().i32Add().get(i).i32(2).i32Shl().i32Add().v128Load();
    f.get(imgPtr).get(planeBytes).i32(t).i32Mul().i32Add().get(j).i32(2).i32Shl().i32Add().v128Load();
    f.f32x4Sub();
    if (px2) f.tee(dd).get(dd).f32x4Mul();
    else f.f32x4Abs();
    if (t > 0) f.f32x4Add();
  }
  if (px2) f.f32x4Sqrt();
  f.get(vInv).f32x4Mul().get(vOne).f32x4Min().set(dv);
  // w = (e^(2mu) a^2 - b^2) / (e^(2mu) a^2 + b^2), a = d + 1e-5, b = 1 - d + 1e-5; K = G w.
  f.get(dv).get(vEps).f32x4Add().set(av);
  f.get(vOne).get(dv).f32x4Sub().get(vEps).f32x4Add().set(bv);
  f.get(vE2mu).get(av).f32x4Mul().get(av).f32x4Mul().set(eav);
  f.get(bv).get(bv).f32x4Mul().set(bbv);
  f.get(vG).get(eav).get(bbv).f32x4Sub().f32x4Mul()
    .get(eav).get(bbv).f32x4Add().f32x4Div().set(k4);
  f.f32(0).f32x4Splat().set(acc);
  for (let lane = 0; lane < 4; lane++) {
    if (lane > 0) f.get(cnt).i32(lane).i32GtS().if();
    f.get(k4).f32x4ExtractLane(lane).f32x4Splat().set(kv);
    // Pixel records are [q (cp4 vectors), g (cp4 vectors)]: fully unrolled, static offsets.
    f.get(qPtr).get(i).i32(lane).i32Add().i32(stride).i32Mul().i32Add().set(pi);
    f.get(qPtr).get(j).i32(lane).i32Add().i32(stride).i32Mul().i32Add().set(pj);
    for (let v = 0; v < cp4; v++) {
      const qo = 16 * v;
      const go = 16 * (cp4 + v);
      f.get(pi).v128Load(qo).get(pj).v128Load(qo).f32x4Sub().tee(dd).get(kv).f32x4Mul().set(kd);
      f.get(pi).get(pi).v128Load(go).get(kd).f32x4Add().v128Store(go);
      f.get(pj).get(pj).v128Load(go).get(kd).f32x4Sub().v128Store(go);
      f.get(acc).get(kd).get(dd).f32x4Mul().f32x4Add().set(acc);
    }
    if (lane > 0) f.end();
  }
  f.get(total);
  f.get(acc).f32x4ExtractLane(0).get(acc).f32x4ExtractLane(1).f32Add()
    .get(acc).f32x4ExtractLane(2).f32Add().get(acc).f32x4ExtractLane(3).f32Add();
  f.f64PromoteF32().f64Add().set(total);
  f.get(i).i32(4).i32Add().set(i);
  f.br(0).end().end();
  f.get(y).i32(1).i32Add().set(y);
  f.br(0).end().end();
  f.get(o).i32(1).i32Add().set(o);
  f.get(offp).i32(12).i32Add().set(offp);
  f.br(0).end().end();
  f.get(total);
  return f;
}

/** The part of the WebAssembly global used here (not in this project's TypeScript libs). */
interface WasmMemory { buffer: ArrayBuffer; grow(pages: number): number }
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: object };
}

/** One compiled kernel (per image channel count and colour norm) with its own memory. */
export interface FslWasmKernel {
  memory: WasmMemory;
  pairs: (...args: number[]) => number;
}

const kernels = new Map<string, FslWasmKernel | null>();

/**
 * The compiled kernel for `cx` image channels (1..4), px (1 or 2) and `cp4` vectors of
 * prediction channels, or null without WebAssembly SIMD. Kernels are cached per combination.
 */
export function fslWasmKernel(cx: number, px: number, cp4: number): FslWasmKernel | null {
  const key = `${cx}:${px}:${cp4}`;
  const hit = kernels.get(key);
  if (hit !== undefined) return hit;
  let k: FslWasmKernel | null;
  try {
    const bytes = encodeModule([{ name: 'pairs', body: pairsFunction(cx, px === 2, cp4) }], { export: 'mem', minPages: 1 });
    const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
    const ex = new wasm.Instance(new wasm.Module(bytes)).exports as { mem: WasmMemory; pairs: (...args: number[]) => number };
    k = { memory: ex.mem, pairs: ex.pairs };
  } catch {
    k = null;
  }
  kernels.set(key, k);
  return k;
}
