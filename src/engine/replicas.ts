/**
 * Data-parallel replicas in one process: K threads, each with its own TF.js engine and an
 * identical copy of the model, each computing one shard of every batch. They meet in
 * `allReduceSum`, a deterministic sum over a SharedArrayBuffer (every replica adds the K slots
 * in rank order, so all of them get bit-identical results):
 * - the training-mode batch norm sums its per-channel statistics (and, backwards, those of
 *   the gradient) over all shards, so it normalises with the whole batch's mean and variance
 *   as one replica would (synchronised BN; `wasm-kernels/batch-norm.ts`);
 * - `sgdStep` sums the shard-weighted gradients, so every replica applies the same update.
 *
 * The group of the current thread is set with `setReplicaGroup`; without one (the default)
 * nothing is reduced. A replica that fails calls `abort`, and the others' next wait throws
 * instead of hanging.
 */
import { HfplError } from '../errors.js';

/** What a replica needs to join a group (posted to its thread). */
export interface ReplicaGroupInit {
  buffer: SharedArrayBuffer;
  size: number;
  /** Float64 values each slot holds. */
  slotLength: number;
}

/** Control words: arrivals, generation, abort flag (int32, then padding to 64 bytes). */
const CTRL_BYTES = 64;
/** How long a replica waits for the others before giving up (ms). */
const WAIT_MS = 10 * 60 * 1000;

/** Allocates the shared memory of a group of `size` replicas reducing up to `slotLength` values at once. */
export function createReplicaGroupInit(size: number, slotLength: number): ReplicaGroupInit {
  if (!Number.isInteger(size) || size < 1) throw new Error(`replica group size must be a positive integer, got ${size}`);
  return { buffer: new SharedArrayBuffer(CTRL_BYTES + size * slotLength * 8), size, slotLength };
}

/** One thread's handle on a group. */
export class ReplicaGroup {
  private readonly ctrl: Int32Array;
  private readonly slots: Float64Array;
  readonly size: number;
  private readonly slotLength: number;

  constructor(init: ReplicaGroupInit, readonly rank: number) {
    if (!Number.isInteger(rank) || rank < 0 || rank >= init.size) throw new Error(`replica rank ${rank} outside 0..${init.size - 1}`);
    this.ctrl = new Int32Array(init.buffer, 0, 3);
    this.slots = new Float64Array(init.buffer, CTRL_BYTES, init.size * init.slotLength);
    this.size = init.size;
    this.slotLength = init.slotLength;
  }

  /** Waits until every replica arrived (a sense-reversing barrier on the generation word). */
  barrier(): void {
    const gen = Atomics.load(this.ctrl, 1);
    this.checkAbort();
    if (Atomics.add(this.ctrl, 0, 1) === this.size - 1) {
      Atomics.store(this.ctrl, 0, 0);
      Atomics.add(this.ctrl, 1, 1);
      Atomics.notify(this.ctrl, 1);
      return;
    }
    const t0 = Date.now();
    while (Atomics.load(this.ctrl, 1) === gen) {
      this.checkAbort();
      if (Date.now() - t0 > WAIT_MS) throw new HfplError('E_RUN', `replica ${this.rank}: the other replicas did not arrive within ${WAIT_MS / 60000} min`);
      Atomics.wait(this.ctrl, 1, gen, 1000);
    }
    this.checkAbort();
  }

  /**
   * Element-wise sum of `data` over all replicas (each passes the same length), in rank
   * order, so every replica gets the same bits. Long arrays go through in chunks.
   */
  allReduceSum(data: Float64Array): Float64Array {
    const out = new Float64Array(data.length);
    const L = this.slotLength;
    for (let off = 0; off < data.length; off += L) {
      const n = Math.min(L, data.length - off);
      this.slots.set(data.subarray(off, off + n), this.rank * L);
      this.barrier();
      for (let r = 0; r < this.size; r++) {
        const base = r * L;
        for (let i = 0; i < n; i++) out[off + i] += this.slots[base + i];
      }
      this.barrier();
    }
    return out;
  }

  /** Makes every waiting or later-arriving replica throw (call when this one fails). */
  abort(): void {
    Atomics.store(this.ctrl, 2, 1);
    Atomics.add(this.ctrl, 1, 1);
    Atomics.notify(this.ctrl, 1);
  }

  private checkAbort(): void {
    if (Atomics.load(this.ctrl, 2) !== 0) throw new HfplError('E_RUN', `replica ${this.rank}: another replica failed`);
  }
}

let current: ReplicaGroup | null = null;

/** Sets (or with null clears) the replica group of this thread. */
export function setReplicaGroup(group: ReplicaGroup | null): void {
  current = group;
}

/** The replica group of this thread, or null (single replica). */
export function replicaGroup(): ReplicaGroup | null {
  return current;
}
