/**
 * WebAssembly SIMD version of the FSL pair pass (METHOD 1) for the common case: py = 2,
 * px in {1, 2}, at most 4 image channels. For each offset o of the half window and each run of
 * 4 consecutive pixels i (pairs j = i + o) it computes the four weights K = G_o w_x(i, j) in
 * SIMD lanes (image stored as planes), then per pair adds K (q_i - q_j) to g_i, subtracts it
 * from g_j and adds K |q_i - q_j|^2 to the pair sum, four channels per vector. Direct
 * differences avoid the cancellation of the k q - Kq form in float32; the sum is kept in f64
 * per block of 4 pairs.
 */
import { FuncBuilder, Op, SimdOp, T, buildModule } from './wasm-asm.js';

const { i32, f32, f64, v128 } = T;

/**
 * pairs(h, w, nOff, offPtr, imgPtr, planeBytes, qPtr, e2mu, invNorm)
 *   -> sum over unordered pairs of K |q_i - q_j|^2, for `cx` image planes, norm px (1 or 2) and
 * `cp4` vectors of 4 prediction channels; per pixel the record [q, g] of 2 cp4 vectors at qPtr.
 */
function pairsFunction(cx: number, px2: boolean, cp4: number): FuncBuilder {
  const stride = 32 * cp4;
  const f = new FuncBuilder(
    [['h', i32], ['w', i32], ['nOff', i32], ['offPtr', i32], ['imgPtr', i32], ['planeBytes', i32],
      ['qPtr', i32], ['e2mu', f32], ['invNorm', f32]],
    [f64],
  );
  for (const n of ['o', 'dx', 'x0', 'x1', 'step', 'y', 'hy', 'i', 'iend', 'j', 'pi', 'pj', 'offp', 'row', 'cnt'])
    f.local(n, i32);
  f.local('total', f64);
  for (const n of ['kv', 'acc', 'dd', 'kd', 'dv', 'av', 'bv', 'eav', 'bbv', 'k4', 'vG', 'vInv', 'vOne', 'vEps', 'vE2mu']) f.local(n, v128);
  const splat = (src: () => void, dst: string): void => { src(); f.simd(SimdOp.f32x4Splat).set(dst); };
  const add = (a: string, b: string, dst: string): void => { f.get(a).get(b).op(Op.i32Add).set(dst); };

  splat(() => f.get('invNorm'), 'vInv');
  splat(() => f.f32(1), 'vOne');
  splat(() => f.f32(1e-5), 'vEps');
  splat(() => f.get('e2mu'), 'vE2mu');
  f.get('offPtr').set('offp');
  f.block('doneO').loop('lo');
  f.get('o').get('nOff').op(Op.i32GeS).brIf('doneO');
  // Offset record: dy (i32), dx (i32), G (f32).
  f.get('h').get('offp').mem(Op.i32Load, 2, 0).op(Op.i32Sub).set('hy');
  f.get('offp').mem(Op.i32Load, 2, 4).set('dx');
  splat(() => f.get('offp').mem(Op.f32Load, 2, 8), 'vG');
  f.i32(0).get('dx').op(Op.i32Sub).i32(0).get('dx').i32(0).op(Op.i32LtS).op(Op.select).set('x0');
  f.get('w').get('dx').op(Op.i32Sub).get('w').get('dx').i32(0).op(Op.i32GtS).op(Op.select).set('x1');
  f.get('h').get('hy').op(Op.i32Sub).get('w').op(Op.i32Mul).get('dx').op(Op.i32Add).set('step');
  f.i32(0).set('y');
  f.block('doneY').loop('ly');
  f.get('y').get('hy').op(Op.i32GeS).brIf('doneY');
  f.get('y').get('w').op(Op.i32Mul).set('row');
  add('row', 'x0', 'i');
  add('row', 'x1', 'iend');
  f.block('doneI').loop('li');
  f.get('i').get('iend').op(Op.i32GeS).brIf('doneI');
  add('i', 'step', 'j');
  f.get('iend').get('i').op(Op.i32Sub).set('cnt');
  // Colour distance of 4 pairs: sum over planes of |x_i - x_j| (px 1) or sqrt of squares (px 2).
  for (let t = 0; t < cx; t++) {
    f.get('imgPtr').get('planeBytes').i32(t).op(Op.i32Mul).op(Op.i32Add).get('i').i32(2).op(Op.i32Shl).op(Op.i32Add).vload();
    f.get('imgPtr').get('planeBytes').i32(t).op(Op.i32Mul).op(Op.i32Add).get('j').i32(2).op(Op.i32Shl).op(Op.i32Add).vload();
    f.simd(SimdOp.f32x4Sub);
    if (px2) f.tee('dd').get('dd').simd(SimdOp.f32x4Mul);
    else f.simd(SimdOp.f32x4Abs);
    if (t > 0) f.simd(SimdOp.f32x4Add);
  }
  if (px2) f.simd(SimdOp.f32x4Sqrt);
  f.get('vInv').simd(SimdOp.f32x4Mul).get('vOne').simd(SimdOp.f32x4Min).set('dv');
  // w = (e^(2mu) a^2 - b^2) / (e^(2mu) a^2 + b^2), a = d + 1e-5, b = 1 - d + 1e-5; K = G w.
  f.get('dv').get('vEps').simd(SimdOp.f32x4Add).set('av');
  f.get('vOne').get('dv').simd(SimdOp.f32x4Sub).get('vEps').simd(SimdOp.f32x4Add).set('bv');
  f.get('vE2mu').get('av').simd(SimdOp.f32x4Mul).get('av').simd(SimdOp.f32x4Mul).set('eav');
  f.get('bv').get('bv').simd(SimdOp.f32x4Mul).set('bbv');
  f.get('vG').get('eav').get('bbv').simd(SimdOp.f32x4Sub).simd(SimdOp.f32x4Mul)
    .get('eav').get('bbv').simd(SimdOp.f32x4Add).simd(SimdOp.f32x4Div).set('k4');
  f.f32(0).simd(SimdOp.f32x4Splat).set('acc');
  for (let lane = 0; lane < 4; lane++) {
    if (lane > 0) f.get('cnt').i32(lane).op(Op.i32GtS).ifThen();
    f.get('k4').simd(SimdOp.f32x4ExtractLane, lane).simd(SimdOp.f32x4Splat).set('kv');
    // Pixel records are [q (cp4 vectors), g (cp4 vectors)]: fully unrolled, static offsets.
    f.get('qPtr').get('i').i32(lane).op(Op.i32Add).i32(stride).op(Op.i32Mul).op(Op.i32Add).set('pi');
    f.get('qPtr').get('j').i32(lane).op(Op.i32Add).i32(stride).op(Op.i32Mul).op(Op.i32Add).set('pj');
    for (let v = 0; v < cp4; v++) {
      const qo = 16 * v;
      const go = 16 * (cp4 + v);
      f.get('pi').vload(qo).get('pj').vload(qo).simd(SimdOp.f32x4Sub).tee('dd').get('kv').simd(SimdOp.f32x4Mul).set('kd');
      f.get('pi').get('pi').vload(go).get('kd').simd(SimdOp.f32x4Add).vstore(go);
      f.get('pj').get('pj').vload(go).get('kd').simd(SimdOp.f32x4Sub).vstore(go);
      f.get('acc').get('kd').get('dd').simd(SimdOp.f32x4Mul).simd(SimdOp.f32x4Add).set('acc');
    }
    if (lane > 0) f.end();
  }
  f.get('total');
  f.get('acc').simd(SimdOp.f32x4ExtractLane, 0).get('acc').simd(SimdOp.f32x4ExtractLane, 1).op(Op.f32Add)
    .get('acc').simd(SimdOp.f32x4ExtractLane, 2).op(Op.f32Add).get('acc').simd(SimdOp.f32x4ExtractLane, 3).op(Op.f32Add);
  f.op(Op.f64PromoteF32).op(Op.f64Add).set('total');
  f.get('i').i32(4).op(Op.i32Add).set('i');
  f.br('li').end().end();
  f.get('y').i32(1).op(Op.i32Add).set('y');
  f.br('ly').end().end();
  f.get('o').i32(1).op(Op.i32Add).set('o');
  f.get('offp').i32(12).op(Op.i32Add).set('offp');
  f.br('lo').end().end();
  f.get('total');
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
    const bytes = buildModule([{ name: 'pairs', fn: pairsFunction(cx, px === 2, cp4) }], 1);
    const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
    const ex = new wasm.Instance(new wasm.Module(bytes)).exports as { mem: WasmMemory; pairs: (...args: number[]) => number };
    k = { memory: ex.mem, pairs: ex.pairs };
  } catch {
    k = null;
  }
  kernels.set(key, k);
  return k;
}
