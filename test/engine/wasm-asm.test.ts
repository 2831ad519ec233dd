import { describe, expect, it } from 'vitest';
import { Body, encodeModule, I32, F32, V128 } from '../../src/engine/wasm-asm.js';

/** add(a, b) = a + b (i32); sum4(p) = lane 2 of f32x4.add(v128 at p, v128 at p + 16). */
function tinyFunctions(): { name: string; body: Body }[] {
  const add = new Body([I32, I32], [I32]).get(0).get(1).i32Add();
  const sum4 = new Body([I32], [F32]);
  const v = sum4.local(V128);
  sum4.get(0).v128Load().get(0).v128Load(16).f32x4Add().tee(v).f32x4ExtractLane(2);
  return [{ name: 'add', body: add }, { name: 'sum4', body: sum4 }];
}

/** The part of the WebAssembly JS API used here (not in this project's TypeScript libs). */
interface WasmMemory { readonly buffer: ArrayBuffer }
const wasm = (globalThis as unknown as {
  WebAssembly: {
    Module: new (bytes: Uint8Array) => object;
    Instance: new (module: object, imports?: object) => { exports: object };
    Memory: new (desc: { initial: number }) => WasmMemory;
  };
}).WebAssembly;

// Hand-encoded from the WebAssembly 2.0 binary format specification.
const expected = [
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version 1
  0x01, 0x0c, 0x02, 0x60, 0x02, 0x7f, 0x7f, 0x01, 0x7f, 0x60, 0x01, 0x7f, 0x01, 0x7d, // types
  0x03, 0x03, 0x02, 0x00, 0x01, // functions: type 0, type 1
  0x05, 0x03, 0x01, 0x00, 0x01, // one memory, min 1 page
  0x07, 0x14, 0x03, // exports: mem, add, sum4
  0x03, 0x6d, 0x65, 0x6d, 0x02, 0x00,
  0x03, 0x61, 0x64, 0x64, 0x00, 0x00,
  0x04, 0x73, 0x75, 0x6d, 0x34, 0x00, 0x01,
  0x0a, 0x22, 0x02, // code, 2 bodies
  0x07, 0x00, 0x20, 0x00, 0x20, 0x01, 0x6a, 0x0b, // add: no locals, get 0, get 1, i32.add, end
  0x18, 0x01, 0x01, 0x7b, // sum4: one v128 local
  0x20, 0x00, 0xfd, 0x00, 0x04, 0x00, // get 0, v128.load align 16 offset 0
  0x20, 0x00, 0xfd, 0x00, 0x04, 0x10, // get 0, v128.load offset 16
  0xfd, 0xe4, 0x01, 0x22, 0x01, 0xfd, 0x1f, 0x02, 0x0b, // f32x4.add, tee 1, extract_lane 2, end
];

describe('wasm-asm', () => {
  it('encodes a tiny module with an exported memory byte for byte', () => {
    const bytes = encodeModule(tinyFunctions(), { export: 'mem', minPages: 1 });
    expect([...bytes]).toEqual(expected);
  });

  it('instantiates and computes', () => {
    const bytes = encodeModule(tinyFunctions(), { export: 'mem', minPages: 1 });
    const ex = new wasm.Instance(new wasm.Module(bytes)).exports as {
      mem: WasmMemory; add: (a: number, b: number) => number; sum4: (p: number) => number;
    };
    expect(ex.add(2, 40)).toBe(42);
    expect(ex.add(-5, 3)).toBe(-2);
    new Float32Array(ex.mem.buffer, 16, 8).set([1, 2, 3, 4, 10, 20, 30, 40]);
    expect(ex.sum4(16)).toBe(33);
  });

  it('encodes an imported memory and uses the host buffer', () => {
    const add = new Body([I32, I32], [I32]).get(0).get(1).i32Add();
    const f32 = new Body([I32], [F32]).get(0).f32Load(4);
    const bytes = encodeModule([{ name: 'add', body: add }, { name: 'load', body: f32 }], { import: { module: 'env', name: 'mem' }, minPages: 1 });
    // Import section right after the type section: env.mem, memory, limits min 1; no memory section.
    const imp = [0x02, 0x0c, 0x01, 0x03, 0x65, 0x6e, 0x76, 0x03, 0x6d, 0x65, 0x6d, 0x02, 0x00, 0x01];
    expect([...bytes.slice(22, 22 + imp.length)]).toEqual(imp);
    expect(bytes[22 + imp.length]).toBe(0x03);
    const mem = new wasm.Memory({ initial: 1 });
    new Float32Array(mem.buffer, 0, 4).set([0, 2.5, 0, 0]);
    const ex = new wasm.Instance(new wasm.Module(bytes), { env: { mem } }).exports as {
      add: (a: number, b: number) => number; load: (p: number) => number;
    };
    expect(ex.add(7, 8)).toBe(15);
    expect(ex.load(0)).toBe(2.5);
  });

  it('encodes signed LEB128 constants, f32 constants and grouped locals', () => {
    const b = new Body([I32]).i32(-1).i32(63).i32(64).i32(-65).f32(1);
    expect(b.code).toEqual([0x41, 0x7f, 0x41, 0x3f, 0x41, 0xc0, 0x00, 0x41, 0xbf, 0x7f, 0x43, 0x00, 0x00, 0x80, 0x3f]);
    const g = new Body([I32]);
    expect([g.local(I32), g.local(I32), g.local(V128)]).toEqual([1, 2, 3]);
    expect(g.encode()).toEqual([0x02, 0x02, 0x7f, 0x01, 0x7b, 0x0b]);
  });
});
