/**
 * A minimal WebAssembly binary writer for the dense CRF's SIMD kernels: one module that
 * imports its memory (`env.mem`) and exports functions whose bodies are written with the
 * `Body` instruction helpers below. Only the instructions those kernels use are provided;
 * opcodes follow the WebAssembly 2.0 core and fixed-width SIMD specifications.
 */

/** Value types. */
export const I32 = 0x7f;
export const F32 = 0x7d;
export const V128 = 0x7b;

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

/** A function body under construction; locals are numbered after the parameters. */
export class Body {
  readonly code: number[] = [];
  private readonly localTypes: number[] = [];
  constructor(private readonly nParams: number) {}

  /** Declares a local of `type` and returns its index. */
  local(type: number): number {
    this.localTypes.push(type);
    return this.nParams + this.localTypes.length - 1;
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
  /** `block` / `loop` with no result; close with `end()`. */
  block(): this { return this.op(0x02, 0x40); }
  loop(): this { return this.op(0x03, 0x40); }
  end(): this { return this.op(0x0b); }
  br(depth: number): this { this.code.push(0x0c); uleb(this.code, depth); return this; }
  brIf(depth: number): this { this.code.push(0x0d); uleb(this.code, depth); return this; }
  /** `if` (no result) on the i32 on the stack; close with `end()`. */
  if(): this { return this.op(0x04, 0x40); }

  i32Load(offset = 0): this { return this.op(0x28).mem(2, offset); }
  f32Load(offset = 0): this { return this.op(0x2a).mem(2, offset); }
  f32Store(offset = 0): this { return this.op(0x38).mem(2, offset); }
  i32Add(): this { return this.op(0x6a); }
  i32Sub(): this { return this.op(0x6b); }
  i32Mul(): this { return this.op(0x6c); }
  i32GeU(): this { return this.op(0x4f); }
  i32LtU(): this { return this.op(0x49); }
  i32Eqz(): this { return this.op(0x45); }
  f32Add(): this { return this.op(0x92); }
  f32Gt(): this { return this.op(0x5e); }
  f32Min(): this { return this.op(0x96); }
  /** `select`: [a, b, cond] -> cond ? a : b. */
  select(): this { return this.op(0x1b); }
  f32Div(): this { return this.op(0x95); }
  f32Max(): this { return this.op(0x97); }

  v128Load(offset = 0): this { return this.simd(0x00).mem(4, offset); }
  v128Store(offset = 0): this { return this.simd(0x0b).mem(4, offset); }
  f32x4Splat(): this { return this.simd(0x13); }
  f32x4ExtractLane(lane: number): this { this.simd(0x1f); this.code.push(lane); return this; }
  i32x4Splat(): this { return this.simd(0x11); }
  f32x4Nearest(): this { return this.simd(0x6a); }
  i32x4Shl(): this { return this.simd(0xab); }
  i32x4ShrS(): this { return this.simd(0xac); }
  i32x4Add(): this { return this.simd(0xae); }
  i32x4Sub(): this { return this.simd(0xb1); }
  f32x4Add(): this { return this.simd(0xe4); }
  f32x4Sub(): this { return this.simd(0xe5); }
  f32x4Mul(): this { return this.simd(0xe6); }
  f32x4Div(): this { return this.simd(0xe7); }
  f32x4Max(): this { return this.simd(0xe9); }
  f32x4ConvertI32x4S(): this { return this.simd(0xfa); }
  i32x4TruncSatF32x4S(): this { return this.simd(0xf8); }

  /** Encoded body: local declarations, code, `end`. */
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

/** An exported function: parameter types (no results) and body. */
export interface FunctionDef {
  name: string;
  params: number[];
  body: Body;
}

function append(out: number[], src: number[]): void {
  for (let i = 0; i < src.length; i++) out.push(src[i]);
}

function section(out: number[], id: number, content: number[]): void {
  out.push(id);
  uleb(out, content.length);
  append(out, content);
}

function name(out: number[], s: string): void {
  uleb(out, s.length);
  for (let i = 0; i < s.length; i++) out.push(s.charCodeAt(i));
}

/** Encodes a module importing `env.mem` (memory, min 1 page) and exporting `funcs`. */
export function encodeModule(funcs: FunctionDef[]): Uint8Array {
  const out = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  const types: number[] = [];
  uleb(types, funcs.length);
  for (const f of funcs) {
    types.push(0x60);
    uleb(types, f.params.length);
    types.push(...f.params);
    types.push(0x00);
  }
  section(out, 1, types);
  const imports: number[] = [1];
  name(imports, 'env');
  name(imports, 'mem');
  imports.push(0x02, 0x00, 0x01); // memory, limits: min 1, no max
  section(out, 2, imports);
  const fsec: number[] = [];
  uleb(fsec, funcs.length);
  funcs.forEach((_, i) => uleb(fsec, i));
  section(out, 3, fsec);
  const exps: number[] = [];
  uleb(exps, funcs.length);
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
