/**
 * A minimal WebAssembly binary writer: just enough to emit one SIMD kernel (the FSL pair pass)
 * without a toolchain. Structured control flow uses named labels so branch depths are computed.
 */

export const T = { i32: 0x7f, f32: 0x7d, f64: 0x7c, v128: 0x7b, void: 0x40 } as const;
type ValType = 0x7f | 0x7d | 0x7c | 0x7b;

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

/** Opcodes used by hfpl's kernels (core and SIMD, the latter after the 0xfd prefix). */
export const Op = {
  select: 0x1b, i32Load: 0x28, f32Load: 0x2a, i32LtS: 0x48, i32LtU: 0x49, i32GtS: 0x4a, i32GeS: 0x4e,
  i32Add: 0x6a, i32Sub: 0x6b, i32Mul: 0x6c, i32Shl: 0x74, f32Sqrt: 0x91, f32Add: 0x92, f32Sub: 0x93,
  f32Mul: 0x94, f32Div: 0x95, f32Min: 0x96, f64Add: 0xa0, f64PromoteF32: 0xbb,
} as const;
export const SimdOp = {
  load: 0x00, store: 0x0b, f32x4Splat: 0x13, f32x4ExtractLane: 0x1f, f32x4Abs: 0xe0, f32x4Sqrt: 0xe3,
  f32x4Add: 0xe4, f32x4Sub: 0xe5, f32x4Mul: 0xe6, f32x4Div: 0xe7, f32x4Min: 0xe8,
} as const;

/** Builds one function body; locals are allocated by name after the parameters. */
export class FuncBuilder {
  readonly code: number[] = [];
  private readonly locals = new Map<string, number>();
  private readonly localTypes: ValType[] = [];
  private readonly labels: string[] = [];
  constructor(private readonly params: [string, ValType][], readonly results: ValType[]) {
    params.forEach(([name], i) => this.locals.set(name, i));
  }
  local(name: string, type: ValType): this {
    this.locals.set(name, this.params.length + this.localTypes.length);
    this.localTypes.push(type);
    return this;
  }
  private idx(name: string): number {
    const i = this.locals.get(name);
    if (i === undefined) throw new Error(`wasm-asm: unknown local ${name}`);
    return i;
  }
  op(...bytes: number[]): this { this.code.push(...bytes); return this; }
  simd(op: number, ...imm: number[]): this { this.code.push(0xfd, ...uleb(op), ...imm); return this; }
  get(name: string): this { return this.op(0x20, ...uleb(this.idx(name))); }
  set(name: string): this { return this.op(0x21, ...uleb(this.idx(name))); }
  tee(name: string): this { return this.op(0x22, ...uleb(this.idx(name))); }
  i32(v: number): this { return this.op(0x41, ...sleb(v | 0)); }
  f32(v: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    return this.op(0x43, ...b);
  }
  f64(v: number): this {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, v, true);
    return this.op(0x44, ...b);
  }
  /** Memory access with alignment log2 and offset. */
  mem(op: number, align: number, offset = 0): this { return this.op(op, align, ...uleb(offset)); }
  vload(offset = 0): this { return this.simd(SimdOp.load, 4, ...uleb(offset)); }
  vstore(offset = 0): this { return this.simd(SimdOp.store, 4, ...uleb(offset)); }
  block(label: string, type: number = T.void): this { this.labels.push(label); return this.op(0x02, type); }
  loop(label: string, type: number = T.void): this { this.labels.push(label); return this.op(0x03, type); }
  ifThen(type: number = T.void): this { this.labels.push(''); return this.op(0x04, type); }
  else(): this { return this.op(0x05); }
  end(): this { this.labels.pop(); return this.op(0x0b); }
  private depth(label: string): number {
    const i = this.labels.lastIndexOf(label);
    if (i < 0) throw new Error(`wasm-asm: unknown label ${label}`);
    return this.labels.length - 1 - i;
  }
  br(label: string): this { return this.op(0x0c, ...uleb(this.depth(label))); }
  brIf(label: string): this { return this.op(0x0d, ...uleb(this.depth(label))); }
  /** The function type and body bytes (locals, code, end). */
  encode(): { type: number[]; body: number[] } {
    const type = [0x60, ...uleb(this.params.length), ...this.params.map(([, t]) => t), ...uleb(this.results.length), ...this.results];
    const locals = [...uleb(this.localTypes.length), ...this.localTypes.flatMap((t) => [1, t])];
    const body = [...locals, ...this.code, 0x0b];
    return { type, body: [...uleb(body.length), ...body] };
  }
}

function section(id: number, payload: number[]): number[] {
  return [id, ...uleb(payload.length), ...payload];
}

function name(s: string): number[] {
  const b = [...new TextEncoder().encode(s)];
  return [...uleb(b.length), ...b];
}

/** A module with one exported memory ("mem", `pages` of 64 KiB) and the given exported functions. */
export function buildModule(funcs: { name: string; fn: FuncBuilder }[], pages: number): Uint8Array {
  const enc = funcs.map((f) => f.fn.encode());
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [...uleb(enc.length), ...enc.flatMap((e) => e.type)]),
    ...section(3, [...uleb(enc.length), ...enc.map((_, i) => i)]),
    ...section(5, [1, 0x00, ...uleb(pages)]),
    ...section(7, [
      ...uleb(funcs.length + 1),
      ...name('mem'), 0x02, 0x00,
      ...funcs.flatMap((f, i) => [...name(f.name), 0x00, ...uleb(i)]),
    ]),
    ...section(10, [...uleb(enc.length), ...enc.flatMap((e) => e.body)]),
  ];
  return new Uint8Array(bytes);
}
