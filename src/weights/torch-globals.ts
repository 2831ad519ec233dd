/**
 * The globals a PyTorch checkpoint may name, and what hfpl makes of each (plain data, never
 * code from the file). Everything else is refused by the unpickler with one line naming it.
 */
import { PickleGlobal } from './pickle.js';
import type { WeightDtype } from './types.js';

/** A storage named by a persistent id: `('storage', torch.FloatStorage, key, location, numel[, view])`. */
export interface StorageRef {
  key: string;
  dtype: WeightDtype;
  /** Elements of the (root) storage as the id states it. */
  numel: number;
  location: string;
  /** Legacy storage views: element offset of the view in the root storage. */
  viewOffset: number;
}

/** What `_rebuild_tensor_v2` stands for: a strided view of a storage, read later. */
export class TensorRef {
  constructor(
    readonly storage: StorageRef,
    readonly storageOffset: number,
    readonly shape: number[],
    readonly strides: number[],
  ) {}
}

/** `torch.<X>Storage` -> element dtype. */
export const STORAGE_DTYPES: Readonly<Record<string, WeightDtype>> = {
  FloatStorage: 'float32',
  DoubleStorage: 'float64',
  HalfStorage: 'float16',
  BFloat16Storage: 'bfloat16',
  LongStorage: 'int64',
  IntStorage: 'int32',
  ShortStorage: 'int16',
  CharStorage: 'int8',
  ByteStorage: 'uint8',
  BoolStorage: 'bool',
};

/** `torch.<dtype>` globals (as `_rebuild_tensor_v3` passes them) -> dtype. */
const TORCH_DTYPES: Readonly<Record<string, WeightDtype>> = {
  float32: 'float32',
  float: 'float32',
  float64: 'float64',
  double: 'float64',
  float16: 'float16',
  half: 'float16',
  bfloat16: 'bfloat16',
  int64: 'int64',
  long: 'int64',
  int32: 'int32',
  int: 'int32',
  int16: 'int16',
  int8: 'int8',
  uint8: 'uint8',
  bool: 'bool',
};

/** A torch dtype global used as a value. */
export class TorchDtype extends PickleGlobal {
  constructor(
    name: string,
    readonly dtype: WeightDtype,
  ) {
    super('torch', name);
  }
}

/** A torch storage class used as a value (in persistent ids). */
export class StorageType extends PickleGlobal {
  constructor(
    name: string,
    readonly dtype: WeightDtype,
  ) {
    super('torch', name);
  }
}

function ints(v: unknown, what: string): number[] {
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'number' || !Number.isInteger(x))) throw new TypeError(`${what} is not a tuple of ints`);
  return v as number[];
}

function rebuildTensor(args: unknown[]): TensorRef {
  const [storage, offset, size, stride] = args;
  if (!storage || typeof storage !== 'object' || !('key' in storage)) throw new TypeError('_rebuild_tensor: first argument is not a storage');
  if (typeof offset !== 'number') throw new TypeError('_rebuild_tensor: storage offset is not an int');
  return new TensorRef(storage as StorageRef, offset, ints(size, 'size'), ints(stride, 'stride'));
}

/** numpy dtype as pickled (`numpy.dtype('f8', False, True)` + BUILD state with the byte order). */
interface NumpyDtype {
  npdtype: string;
  __state__?: unknown;
}

function numpyScalar(args: unknown[]): number | bigint {
  const [dt, bytes] = args as [NumpyDtype, Uint8Array];
  if (!dt || typeof dt.npdtype !== 'string' || !(bytes instanceof Uint8Array)) throw new TypeError('numpy scalar: unexpected arguments');
  const state = dt.__state__;
  const little = !(Array.isArray(state) && state[1] === '>');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (dt.npdtype) {
    case 'f8':
      return dv.getFloat64(0, little);
    case 'f4':
      return dv.getFloat32(0, little);
    case 'i8':
      return Number(dv.getBigInt64(0, little));
    case 'i4':
      return dv.getInt32(0, little);
    case 'u1':
    case 'b1':
      return dv.getUint8(0);
    default:
      throw new TypeError(`numpy scalar of dtype ${dt.npdtype} is not supported`);
  }
}

const CALLS: Readonly<Record<string, (args: unknown[]) => unknown>> = {
  'torch._utils._rebuild_tensor_v2': rebuildTensor,
  'torch._utils._rebuild_tensor': rebuildTensor,
  'torch._utils._rebuild_tensor_v3': (args) => rebuildTensor(args),
  'torch._utils._rebuild_parameter': (args) => args[0],
  'torch._utils._rebuild_parameter_with_state': (args) => args[0],
  'torch._tensor._rebuild_from_type_v2': (args) => {
    const [fn, , inner] = args;
    if (!(fn instanceof PickleGlobal) || !fn.call || !Array.isArray(inner)) throw new TypeError('_rebuild_from_type_v2: unexpected arguments');
    return fn.call(inner);
  },
  'collections.OrderedDict': (args) => new Map(Array.isArray(args[0]) ? (args[0] as [unknown, unknown][]) : []),
  'builtins.set': (args) => (Array.isArray(args[0]) ? args[0] : []),
  'builtins.frozenset': (args) => (Array.isArray(args[0]) ? args[0] : []),
  'torch.Size': (args) => (Array.isArray(args[0]) ? args[0] : []),
  'torch.device': (args) => args.filter((a) => a !== null).join(':'),
  '_codecs.encode': (args) => {
    const [s, enc] = args;
    if (typeof s !== 'string') throw new TypeError('_codecs.encode: not a string');
    if (enc === 'latin1' || enc === 'latin-1') return Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff);
    return new TextEncoder().encode(s);
  },
  'numpy.core.multiarray.scalar': numpyScalar,
  'numpy._core.multiarray.scalar': numpyScalar,
  'numpy.dtype': (args) => ({ npdtype: String(args[0]) }),
};

/** The allow list: every global hfpl accepts in a PyTorch pickle (the unpickler refuses the rest). */
export function resolveTorchGlobal(module: string, name: string): PickleGlobal | undefined {
  const q = `${module}.${name}`;
  const call = CALLS[q];
  if (call) {
    return new PickleGlobal(module, name, (args) => {
      try {
        return call(args);
      } catch (e) {
        throw new TypeError(`${q}: ${(e as Error).message}`, { cause: e });
      }
    });
  }
  if (module === 'torch' && STORAGE_DTYPES[name]) return new StorageType(name, STORAGE_DTYPES[name]);
  if (module === 'torch' && TORCH_DTYPES[name]) return new TorchDtype(name, TORCH_DTYPES[name]);
  return undefined;
}

/** Checks a persistent id `('storage', type, key, location, numel[, view])` and returns its storage. */
export function storageFromPid(pid: unknown, seen: Map<string, StorageRef>): StorageRef {
  if (!Array.isArray(pid) || pid[0] !== 'storage' || pid.length < 5) throw new TypeError(`persistent id ${JSON.stringify(String(pid))} is not a storage`);
  const [, type, key, location, numel, view] = pid as [string, unknown, unknown, unknown, unknown, unknown];
  if (!(type instanceof StorageType)) throw new TypeError(`storage type ${type instanceof PickleGlobal ? type.qualifiedName : String(type)} is not a torch.*Storage`);
  if (typeof key !== 'string' || typeof numel !== 'number') throw new TypeError('storage key/size malformed');
  let viewOffset = 0;
  if (Array.isArray(view)) {
    // Legacy storage view: (view_key, offset, view_size) into the root storage `key`.
    if (typeof view[1] !== 'number') throw new TypeError('storage view offset malformed');
    viewOffset = view[1];
  }
  const id = `${key}@${viewOffset}`;
  const prev = seen.get(id);
  if (prev) return prev;
  const s: StorageRef = { key, dtype: type.dtype, numel, location: String(location), viewOffset };
  seen.set(id, s);
  return s;
}
