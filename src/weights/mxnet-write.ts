/**
 * Writes an MXNet NDArray list (`.params`) in any of the three per-array layouts `readMxnetParams`
 * reads (see mxnet.ts): for tests and the bench, and to hand weights back to MXNet-era tools.
 * float32 only, dense, cpu context. Atomic (temp name, then renamed); streams array by array.
 */
import { HfplError } from '../errors.js';
import { writeStreamAtomic } from '../util/atomic-write.js';
import { writeAll } from './file-source.js';
import type { MxnetLayout } from './mxnet.js';
import { numel } from './types.js';

/** Writes float32 arrays under their MXNet names (e.g. `arg:conv1a_weight`), in map order. */
export async function writeMxnetParams(path: string, arrays: ReadonlyMap<string, { shape: readonly number[]; data: Float32Array }>, layout: MxnetLayout = 'v2'): Promise<void> {
  await writeStreamAtomic(path, async (fh) => {
    const head = Buffer.alloc(24);
    head.writeBigUInt64LE(0x112n, 0);
    head.writeBigUInt64LE(BigInt(arrays.size), 16);
    await writeAll(fh, head);
    for (const [name, a] of arrays) {
      if (a.shape.length === 0 || numel(a.shape) !== a.data.length) throw new HfplError('E_ARG', `writeMxnetParams: array ${name} has ${a.data.length} values for shape [${a.shape.join(', ')}]`);
      const r = a.shape.length;
      const h = layout === 'legacy' ? Buffer.alloc(4 + 4 * r + 12) : Buffer.alloc(4 + (layout === 'v2' ? 4 : 0) + 4 + 8 * r + 12);
      let p = 0;
      if (layout === 'legacy') {
        h.writeUInt32LE(r, p);
        p += 4;
        for (const d of a.shape) p = h.writeUInt32LE(d, p);
      } else {
        h.writeUInt32LE(layout === 'v2' ? 0xf993fac9 : 0xf993fac8, p);
        p += 4;
        if (layout === 'v2') p = h.writeInt32LE(0, p); // dense storage type
        p = h.writeInt32LE(r, p);
        for (const d of a.shape) p = h.writeBigInt64LE(BigInt(d), p);
      }
      p = h.writeInt32LE(1, p); // cpu
      p = h.writeInt32LE(0, p); // dev id
      h.writeInt32LE(0, p); // float32
      await writeAll(fh, h);
      await writeAll(fh, new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength));
    }
    const names = [...arrays.keys()].map((n) => Buffer.from(n, 'utf8'));
    const tail: Buffer[] = [Buffer.alloc(8)];
    tail[0].writeBigUInt64LE(BigInt(names.length));
    for (const n of names) {
      const l = Buffer.alloc(8);
      l.writeBigUInt64LE(BigInt(n.length));
      tail.push(l, n);
    }
    await writeAll(fh, Buffer.concat(tail));
  });
}

/** The MXNet (ademxapp) name of a reference resnet38d parameter: the inverse of `mxnetToTorchName`, or undefined. */
export function torchToMxnetName(name: string): string | undefined {
  if (name === 'conv1a.weight') return 'arg:conv1a_weight';
  const bn: Record<string, string> = { weight: 'arg:@_gamma', bias: 'arg:@_beta', running_mean: 'aux:@_moving_mean', running_var: 'aux:@_moving_var' };
  const m7 = /^bn7\.(\w+)$/.exec(name);
  if (m7) return bn[m7[1]]?.replace('@', 'bn7');
  const m = /^b(\d)(?:_(\d))?\.(conv|bn)_(branch\w+)\.(\w+)$/.exec(name);
  if (!m) return undefined;
  const unit = `${m[1]}${m[2] === undefined ? 'a' : `b${m[2]}`}`;
  if (m[3] === 'conv') return m[5] === 'weight' ? `arg:res${unit}_${m[4]}_weight` : undefined;
  return bn[m[5]]?.replace('@', `bn${unit}_${m[4]}`);
}
