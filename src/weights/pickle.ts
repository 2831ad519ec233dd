/**
 * A safe unpickler for what `torch.save` writes (pickle protocols 2 to 5). It only builds data:
 * None, bools, ints, floats, strings, bytes, lists/tuples (JS arrays), dicts (Maps). A GLOBAL
 * resolves only through the caller's allow list, to a `PickleGlobal` whose `call` is hfpl's own
 * TypeScript (e.g. "make a tensor reference"); any other global stops the read with one line
 * naming it. Nothing from the file is ever executed. Opcodes outside the list are refused.
 */
import { HfplError } from '../errors.js';

/** A global the allow list admitted: a value (a class used as a tag) or a function hfpl implements. */
export class PickleGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
    /** hfpl's implementation when the pickle calls it (REDUCE / NEWOBJ). */
    readonly call?: (args: unknown[]) => unknown,
  ) {}
  get qualifiedName(): string {
    return `${this.module}.${this.name}`;
  }
}

/** Returned by the allow list lookup; undefined means "refuse". */
export type GlobalResolver = (module: string, name: string) => PickleGlobal | undefined;

export interface UnpickleOptions {
  /** File named in errors. */
  file: string;
  resolveGlobal: GlobalResolver;
  /** BINPERSID: turns a persistent id (e.g. a storage tuple) into a value. */
  persistentLoad?: (pid: unknown) => unknown;
}

/** Thrown when the bytes end before STOP (callers reading a stream may retry with more bytes). */
export class PickleEndOfData extends HfplError {
  constructor(file: string) {
    super('E_DATA', `${file}: truncated or corrupt: a pickle ends before its STOP opcode`);
  }
}

/** An object a BUILD opcode gave state to (kept so callers can inspect it). */
export interface PickleBuilt {
  __state__?: unknown;
}


/**
 * Reads one pickle from `bytes` starting at `start`; returns the value and the offset after STOP.
 */
export function unpickle(bytes: Uint8Array, start: number, opts: UnpickleOptions): { value: unknown; end: number } {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const file = opts.file;
  const utf8 = new TextDecoder('utf-8');
  let p = start;
  const stack: unknown[] = [];
  const marks: number[] = [];
  const memo = new Map<number, unknown>();

  const need = (n: number): void => {
    if (p + n > bytes.length) throw new PickleEndOfData(file);
  };
  const corrupt = (what: string): never => {
    throw new HfplError('E_DATA', `${file}: corrupt pickle at byte ${p}: ${what}`);
  };
  const pop = (): unknown => {
    if (stack.length === 0 || (marks.length > 0 && stack.length <= marks[marks.length - 1])) corrupt('stack underflow');
    return stack.pop();
  };
  const top = (): unknown => {
    if (stack.length === 0) corrupt('stack underflow');
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const m = marks.pop();
    if (m === undefined) return corrupt('no MARK');
    return stack.splice(m);
  };
  const line = (): string => {
    const e = bytes.indexOf(0x0a, p);
    if (e < 0) throw new PickleEndOfData(file);
    const s = utf8.decode(bytes.subarray(p, e));
    p = e + 1;
    return s;
  };
  const str = (n: number): string => {
    need(n);
    const s = utf8.decode(bytes.subarray(p, p + n));
    p += n;
    return s;
  };
  const raw = (n: number): Uint8Array => {
    need(n);
    const b = bytes.slice(p, p + n);
    p += n;
    return b;
  };
  const u64 = (): number => {
    need(8);
    const v = dv.getBigUint64(p, true);
    p += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) corrupt('length too large');
    return Number(v);
  };
  const longLE = (n: number): number | bigint => {
    need(n);
    let v = 0n;
    for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[p + i]);
    if (n > 0 && bytes[p + n - 1] & 0x80) v -= 1n << BigInt(8 * n);
    p += n;
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  };
  const global = (module: string, name: string): PickleGlobal => {
    const g = opts.resolveGlobal(module, name);
    if (!g) {
      const hint = module.startsWith('__torch__')
        ? '; this is a TorchScript archive: load it in PyTorch and save model.state_dict()'
        : module.startsWith('torch.nn.') || /(^|\.)(net|network|model|models)(\.|$)/i.test(module)
          ? '; the file seems to pickle a whole model object: save model.state_dict() instead'
          : '';
      throw new HfplError('E_DATA', `${file}: refused: the pickle references the global ${module}.${name}, which is not on hfpl's allow list (nothing was executed)${hint}`);
    }
    return g;
  };
  const callGlobal = (fn: unknown, args: unknown): unknown => {
    if (!(fn instanceof PickleGlobal) || !fn.call) corrupt(`calls ${fn instanceof PickleGlobal ? fn.qualifiedName : 'a non-callable value'}, which hfpl does not construct`);
    if (!Array.isArray(args)) return corrupt('call arguments are not a tuple');
    try {
      return (fn as PickleGlobal).call!(args);
    } catch (e) {
      if (e instanceof HfplError) throw e;
      return corrupt((e as Error).message);
    }
  };
  const setItems = (d: unknown, kv: unknown[]): void => {
    if (!(d instanceof Map)) corrupt('SETITEM(S) on a value that is not a dict');
    if (kv.length % 2) corrupt('odd number of items for SETITEMS');
    for (let i = 0; i < kv.length; i += 2) (d as Map<unknown, unknown>).set(kv[i], kv[i + 1]);
  };
  const appendItems = (l: unknown, items: unknown[]): void => {
    if (!Array.isArray(l)) corrupt('APPEND(S) on a value that is not a list');
    for (const it of items) (l as unknown[]).push(it);
  };

  for (;;) {
    need(1);
    const op = bytes[p++];
    switch (op) {
      case 0x80: // PROTO
        need(1);
        if (bytes[p] > 5) corrupt(`pickle protocol ${bytes[p]} (hfpl reads 2..5)`);
        p++;
        break;
      case 0x95: // FRAME: a length hint only
        need(8);
        p += 8;
        break;
      case 0x2e: // STOP
        return { value: pop(), end: p };
      case 0x28: // MARK
        marks.push(stack.length);
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push([]);
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x7d: // EMPTY_DICT
        stack.push(new Map());
        break;
      case 0x8f: // EMPTY_SET (a JS array: sets only appear in non-tensor content)
        stack.push([]);
        break;
      case 0x90: {
        // ADDITEMS
        const items = popMark();
        appendItems(top(), items);
        break;
      }
      case 0x91: // FROZENSET
        stack.push(popMark());
        break;
      case 0x61: {
        // APPEND
        const v = pop();
        appendItems(top(), [v]);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        appendItems(top(), items);
        break;
      }
      case 0x73: {
        // SETITEM
        const v = pop(), k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: {
        // SETITEMS
        const kv = popMark();
        setItems(top(), kv);
        break;
      }
      case 0x74: // TUPLE
      case 0x6c: // LIST
        stack.push(popMark());
        break;
      case 0x64: {
        // DICT
        const kv = popMark(), d = new Map();
        setItems(d, kv);
        stack.push(d);
        break;
      }
      case 0x85: // TUPLE1
        stack.push([pop()]);
        break;
      case 0x86: {
        // TUPLE2
        const b = pop(), a = pop();
        stack.push([a, b]);
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop(), b = pop(), a = pop();
        stack.push([a, b, c]);
        break;
      }
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4a: // BININT
        need(4);
        stack.push(dv.getInt32(p, true));
        p += 4;
        break;
      case 0x4b: // BININT1
        need(1);
        stack.push(bytes[p++]);
        break;
      case 0x4d: // BININT2
        need(2);
        stack.push(dv.getUint16(p, true));
        p += 2;
        break;
      case 0x8a: {
        // LONG1
        need(1);
        const n = bytes[p++];
        stack.push(longLE(n));
        break;
      }
      case 0x8b: {
        // LONG4
        need(4);
        const n = dv.getInt32(p, true);
        p += 4;
        if (n < 0 || n > 1024) corrupt(`LONG4 of ${n} bytes`);
        stack.push(longLE(n));
        break;
      }
      case 0x47: // BINFLOAT (big-endian double)
        need(8);
        stack.push(dv.getFloat64(p, false));
        p += 8;
        break;
      case 0x58: {
        // BINUNICODE
        need(4);
        const n = dv.getUint32(p, true);
        p += 4;
        stack.push(str(n));
        break;
      }
      case 0x8c: {
        // SHORT_BINUNICODE
        need(1);
        const n = bytes[p++];
        stack.push(str(n));
        break;
      }
      case 0x8d: // BINUNICODE8
        stack.push(str(u64()));
        break;
      case 0x54: {
        // BINSTRING (Python 2 str, read as latin-1)
        need(4);
        const n = dv.getInt32(p, true);
        p += 4;
        if (n < 0) corrupt('negative string length');
        stack.push(new TextDecoder('latin1').decode(raw(n)));
        break;
      }
      case 0x55: {
        // SHORT_BINSTRING
        need(1);
        const n = bytes[p++];
        stack.push(new TextDecoder('latin1').decode(raw(n)));
        break;
      }
      case 0x42: {
        // BINBYTES
        need(4);
        const n = dv.getUint32(p, true);
        p += 4;
        stack.push(raw(n));
        break;
      }
      case 0x43: {
        // SHORT_BINBYTES
        need(1);
        const n = bytes[p++];
        stack.push(raw(n));
        break;
      }
      case 0x8e: // BINBYTES8
      case 0x96: // BYTEARRAY8
        stack.push(raw(u64()));
        break;
      case 0x63: {
        // GLOBAL "module\nname\n"
        const module = line();
        const name = line();
        stack.push(global(module, name));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop(), module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') corrupt('STACK_GLOBAL needs two strings');
        stack.push(global(module as string, name as string));
        break;
      }
      case 0x71: // BINPUT
        need(1);
        memo.set(bytes[p++], top());
        break;
      case 0x72: // LONG_BINPUT
        need(4);
        memo.set(dv.getUint32(p, true), top());
        p += 4;
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x68: // BINGET
      case 0x6a: {
        // LONG_BINGET
        const n = op === 0x68 ? 1 : 4;
        need(n);
        const k = n === 1 ? bytes[p] : dv.getUint32(p, true);
        p += n;
        if (!memo.has(k)) corrupt(`memo entry ${k} is missing`);
        stack.push(memo.get(k));
        break;
      }
      case 0x51: {
        // BINPERSID
        const pid = pop();
        if (!opts.persistentLoad) corrupt('persistent id where none is expected');
        try {
          stack.push(opts.persistentLoad!(pid));
        } catch (e) {
          if (e instanceof HfplError) throw e;
          corrupt((e as Error).message);
        }
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop(), fn = pop();
        stack.push(callGlobal(fn, args));
        break;
      }
      case 0x81: {
        // NEWOBJ
        const args = pop(), cls = pop();
        stack.push(callGlobal(cls, args));
        break;
      }
      case 0x92: {
        // NEWOBJ_EX (keyword arguments are not supported by any allowed class)
        const kwargs = pop(), args = pop(), cls = pop();
        if (kwargs instanceof Map && kwargs.size > 0) corrupt('NEWOBJ_EX with keyword arguments');
        stack.push(callGlobal(cls, args));
        break;
      }
      case 0x62: {
        // BUILD: state for the object below (OrderedDict `_metadata`, numpy dtype, ...): kept, not applied
        const state = pop();
        const obj = top();
        if (obj !== null && typeof obj === 'object') (obj as PickleBuilt).__state__ = state;
        break;
      }
      case 0x30: // POP
        if (marks.length > 0 && stack.length === marks[marks.length - 1]) marks.pop();
        else pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      default:
        corrupt(`opcode 0x${op.toString(16).padStart(2, '0')} is not one torch.save writes`);
    }
  }
}

