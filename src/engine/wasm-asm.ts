/**
 * A minimal WebAssembly binary writer for hfpl's hand-written SIMD kernels (the FSL pair pass,
 * the dense CRF mean-field passes), so they need no toolchain.
 *
 * Encoded subset of the WebAssembly 2.0 binary format: the module header; a type section (one
 * function type per function); an optional import section holding only a memory import; a
 * function section; an optional memory section with one defined memory; an export section (the
 * memory first when it is defined here, then the functions in order); a code section. Function
 * bodies use the instructions of {@link Body}: locals, i32/f32 constants, structured control
 * (block/loop/if, branches by relative depth), i32/f32 loads and stores, a few i32/f32/f64
 * arithmetic and comparison ops and the fixed-width SIMD (0xfd-prefixed) ops the kernels use.
 * Memory accesses use the natural alignment (4 bytes for scalars, 16 for v128).
 */

/** Value types (binary encodings). */
export const I32 = 0x7f;
export const F32 = 0x7d;
export const F64 = 0x7c;
export const V128 = 0x7b;
/** One of {@link I32}, {@link F32}, {@link F64}, {@link V128}. */
export type ValType = typeof I32 | typeof F32 | typeof F64 | typeof V128;

function uleb(out: number[], v: number): void {
  do {
    let b = v & 0x7f;
    v >>>= 7;
    if (v !== 0) b |= 0x80;
    out.push(b);
  } while (v !== 0);
}

function sleb(out: number[], v: number): void {
  for (;;) {
    const b = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return;
    }
    out.push(b | 0x80);
  }
}

function append(out: number[], src: readonly number[]): void {
  for (let i = 0; i < src.length; i++) out.push(src[i]);
}

/**
 * One function under construction: its signature, locals and code. Instruction methods append
 * one instruction each and chain; locals are numbered after the parameters. `block`, `loop`
 * and `if` take no result type (empty block type) and are closed with `end()`; `br`/`brIf`
 * take the relative depth of the target (0 = innermost enclosing block/loop/if).
 */
export class Body {
  readonly code: number[] = [];
  private readonly localTypes: ValType[] = [];
  /** @param params parameter types; @param results result types (default none). */
  constructor(readonly params: readonly ValType[], readonly results: readonly ValType[] = []) {}

  /** Declares a local of `type` and returns its index. */
  local(type: ValType): number {
    this.localTypes.push(type);
    return this.params.length + this.localTypes.length - 1;
  }

  private op(...bytes: number[]): this {
    append(this.code, bytes);
    return this;
  }
  private simd(opcode: number): this {
    this.code.push(0xfd);
    uleb(this.code, opcode);
    return this;
  }
  private mem(align: number, offset: number): this {
    uleb(this.code, align);
    uleb(this.code, offset);
    return this;
  }

  get(i: number): this { this.code.push(0x20); uleb(this.code, i); return this; }
  set(i: number): this { this.code.push(0x21); uleb(this.code, i); return this; }
  tee(i: number): this { this.code.push(0x22); uleb(this.code, i); return this; }
  i32(v: number): this { this.code.push(0x41); sleb(this.code, v | 0); return this; }
  f32(v: number): this {
    const b = new Uint8Array(new Float32Array([v]).buffer);
    return this.op(0x43, b[0], b[1], b[2], b[3]);
  }

  block(): this { return this.op(0x02, 0x40); }
  loop(): this { return this.op(0x03, 0x40); }
  /** `if` on the i32 on the stack. */
  if(): this { return this.op(0x04, 0x40); }
  end(): this { return this.op(0x0b); }
  br(depth: number): this { this.code.push(0x0c); uleb(this.code, depth); return this; }
  brIf(depth: number): this { this.code.push(0x0d); uleb(this.code, depth); return this; }
  /** `select`: [a, b, cond] -> cond ? a : b. */
  select(): this { return this.op(0x1b); }

  i32Load(offset = 0): this { return this.op(0x28).mem(2, offset); }
  f32Load(offset = 0): this { return this.op(0x2a).mem(2, offset); }
  f32Store(offset = 0): this { return this.op(0x38).mem(2, offset); }
  i32Eqz(): this { return this.op(0x45); }
  i32LtS(): this { return this.op(0x48); }
  i32GtS(): this { return this.op(0x4a); }
  i32GeS(): this { return this.op(0x4e); }
  f32Gt(): this { return this.op(0x5e); }
  i32Add(): this { return this.op(0x6a); }
  i32Sub(): this { return this.op(0x6b); }
  i32Mul(): this { return this.op(0x6c); }
  i32Shl(): this { return this.op(0x74); }
  f32Add(): this { return this.op(0x92); }
  f32Div(): this { return this.op(0x95); }
  f32Min(): this { return this.op(0x96); }
  f32Max(): this { return this.op(0x97); }
  f64Add(): this { return this.op(0xa0); }
  f64PromoteF32(): this { return this.op(0xbb); }

  v128Load(offset = 0): this { return this.simd(0x00).mem(4, offset); }
  v128Store(offset = 0): this { return this.simd(0x0b).mem(4, offset); }
  i32x4Splat(): this { return this.simd(0x11); }
  f32x4Splat(): this { return this.simd(0x13); }
  f32x4ExtractLane(lane: number): this { this.simd(0x1f); this.code.push(lane); return this; }
  f32x4Nearest(): this { return this.simd(0x6a); }
  i32x4Shl(): this { return this.simd(0xab); }
  i32x4ShrS(): this { return this.simd(0xac); }
  i32x4Add(): this { return this.simd(0xae); }
  i32x4Sub(): this { return this.simd(0xb1); }
  f32x4Abs(): this { return this.simd(0xe0); }
  f32x4Sqrt(): this { return this.simd(0xe3); }
  f32x4Add(): this { return this.simd(0xe4); }
  f32x4Sub(): this { return this.simd(0xe5); }
  f32x4Mul(): this { return this.simd(0xe6); }
  f32x4Div(): this { return this.simd(0xe7); }
  f32x4Min(): this { return this.simd(0xe8); }
  f32x4Max(): this { return this.simd(0xe9); }
  i32x4TruncSatF32x4S(): this { return this.simd(0xf8); }
  f32x4ConvertI32x4S(): this { return this.simd(0xfa); }
  /** i8x16.shuffle of the two operands by 16 byte-lane indices (0-15 first operand, 16-31 second). */
  i8x16Shuffle(lanes: readonly number[]): this {
    if (lanes.length !== 16) throw new Error('i8x16.shuffle takes 16 lane indices');
    this.simd(0x0d);
    append(this.code, lanes);
    return this;
  }
  f32x4DemoteF64x2Zero(): this { return this.simd(0x5e); }
  f64x2PromoteLowF32x4(): this { return this.simd(0x5f); }
  f64x2Add(): this { return this.simd(0xf0); }
  f64x2Sub(): this { return this.simd(0xf1); }
  f64x2Mul(): this { return this.simd(0xf2); }

  /** The function type (`0x60 params results`). */
  encodeType(): number[] {
    const out = [0x60];
    uleb(out, this.params.length);
    append(out, this.params);
    uleb(out, this.results.length);
    append(out, this.results);
    return out;
  }

  /** The body: local declarations (runs of equal types grouped), code, `end`. */
  encode(): number[] {
    const out: number[] = [];
    const groups: [number, number][] = [];
    for (const t of this.localTypes) {
      const last = groups[groups.length - 1];
      if (last && last[1] === t) last[0]++;
      else groups.push([1, t]);
    }
    uleb(out, groups.length);
    for (const [count, t] of groups) {
      uleb(out, count);
      out.push(t);
    }
    append(out, this.code);
    out.push(0x0b);
    return out;
  }
}

/** An exported function. */
export interface FunctionDef {
  name: string;
  body: Body;
}

/**
 * The module's one linear memory: imported as `module.name` (the host passes a shared
 * WebAssembly.Memory), or defined in the module and exported as `export`. `minPages` is the
 * initial size in 64 KiB pages; no maximum.
 */
export type MemoryDef =
  | { import: { module: string; name: string }; minPages: number }
  | { export: string; minPages: number };

function section(out: number[], id: number, content: number[]): void {
  out.push(id);
  uleb(out, content.length);
  append(out, content);
}

function name(out: number[], s: string): void {
  const b = new TextEncoder().encode(s);
  uleb(out, b.length);
  for (let i = 0; i < b.length; i++) out.push(b[i]);
}

/** Encodes a module with one memory (`memory`) exporting `funcs` (function i is `funcs[i]`). */
export function encodeModule(funcs: readonly FunctionDef[], memory: MemoryDef): Uint8Array {
  const out = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  const types: number[] = [];
  uleb(types, funcs.length);
  for (const f of funcs) append(types, f.body.encodeType());
  section(out, 1, types);
  const limits = [0x00]; // min only
  uleb(limits, memory.minPages);
  if ('import' in memory) {
    const imports = [1];
    name(imports, memory.import.module);
    name(imports, memory.import.name);
    imports.push(0x02);
    append(imports, limits);
    section(out, 2, imports);
  }
  const fsec: number[] = [];
  uleb(fsec, funcs.length);
  funcs.forEach((_, i) => uleb(fsec, i));
  section(out, 3, fsec);
  if ('export' in memory) section(out, 5, [1, ...limits]);
  const exps: number[] = [];
  uleb(exps, funcs.length + ('export' in memory ? 1 : 0));
  if ('export' in memory) {
    name(exps, memory.export);
    exps.push(0x02, 0x00);
  }
  funcs.forEach((f, i) => {
    name(exps, f.name);
    exps.push(0x00);
    uleb(exps, i);
  });
  section(out, 7, exps);
  const code: number[] = [];
  uleb(code, funcs.length);
  for (const f of funcs) {
    const b = f.body.encode();
    uleb(code, b.length);
    append(code, b);
  }
  section(out, 10, code);
  return new Uint8Array(out);
}
