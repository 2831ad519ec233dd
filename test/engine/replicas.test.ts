/**
 * The replica group's all-reduce (src/engine/replicas.ts) across real threads: every replica
 * gets the same sum, added in rank order (checked bit for bit against a hand sum), long arrays go
 * through in chunks, and a replica that aborts makes the others throw instead of hanging.
 */
import { execSync } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { beforeAll, describe, expect, it } from 'vitest';
import { createReplicaGroupInit, ReplicaGroup, type ReplicaGroupInit } from '../../src/engine/replicas.js';

const root = new URL('../../', import.meta.url).pathname;
const compiled = new URL('../../dist/src/engine/replicas.js', import.meta.url).href;

/** A replica thread that reduces `data(rank)` (or aborts) and posts what it got. */
function replica(init: ReplicaGroupInit, rank: number, length: number, abort = false): Promise<number[] | string> {
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    import(workerData.compiled).then(({ ReplicaGroup }) => {
      const g = new ReplicaGroup(workerData.init, workerData.rank);
      if (workerData.abort) { g.abort(); parentPort.postMessage('aborted'); return; }
      const data = Float64Array.from({ length: workerData.length }, (_, i) => (workerData.rank + 1) * 0.1 + i / 3);
      try { parentPort.postMessage(Array.from(g.allReduceSum(data))); } catch (e) { parentPort.postMessage('threw: ' + e.message); }
    });`;
  const w = new Worker(code, { eval: true, workerData: { init, rank, length, abort, compiled } });
  return new Promise((resolve, reject) => {
    w.once('message', (m: number[] | string) => {
      resolve(m);
      void w.terminate();
    });
    w.once('error', reject);
  });
}

beforeAll(() => {
  execSync('node scripts/setup.mjs', { cwd: root, stdio: 'ignore' });
});

describe('ReplicaGroup.allReduceSum', () => {
  it('gives every replica the rank-ordered sum, in chunks longer arrays than a slot', async () => {
    const size = 3, length = 10;
    const init = createReplicaGroupInit(size, 4); // 10 values: chunks of 4, 4, 2
    const results = await Promise.all([0, 1, 2].map((r) => replica(init, r, length)));
    const expected = Array.from({ length }, (_, i) => {
      let s = 0;
      for (let r = 0; r < size; r++) s += (r + 1) * 0.1 + i / 3;
      return s;
    });
    for (const r of results) expect(r).toEqual(expected); // toEqual on numbers: bitwise (Object.is)
  });

  it('is the identity for a group of one', () => {
    const g = new ReplicaGroup(createReplicaGroupInit(1, 2), 0);
    const x = Float64Array.from([1.5, -2, 1e-30, 7]);
    expect(Array.from(g.allReduceSum(x))).toEqual([1.5, -2, 1e-30, 7]);
  });

  it('a replica that aborts makes the waiting ones throw', async () => {
    const init = createReplicaGroupInit(3, 8);
    const [a, b, c] = await Promise.all([replica(init, 0, 4), replica(init, 1, 4), replica(init, 2, 4, true)]);
    expect(c).toBe('aborted');
    expect(a).toMatch(/^threw: replica 0: another replica failed$/);
    expect(b).toMatch(/^threw: replica 1: another replica failed$/);
  });

  it('refuses a rank outside the group', () => {
    expect(() => new ReplicaGroup(createReplicaGroupInit(2, 1), 2)).toThrow(/rank 2 outside 0..1/);
  });
});
