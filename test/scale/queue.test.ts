/**
 * Many machines (src/scale/queue.ts) over a real redis-server on a free loopback port: two
 * `hfpl worker` processes on one queue, one killed with SIGKILL while it holds a job: every CRF
 * output is present once and byte-identical to the single-process run; a poisoned image fails
 * alone and is reported by id; Redis down gives one line and exit 1. Skipped when redis-server
 * is not installed (`apt-get install redis-server`; .ci/run installs it).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { runCrf } from '../../src/infer/crf/run-crf.js';
import { CLI, ensureBuilt, tinySet, tree } from './fixture.js';
import { freePort, redisServerPath, startRedis, type TestRedis } from '../../bench/redis-server.js';

const haveRedis = redisServerPath() !== null;
const tmp = mkdtempSync(join(tmpdir(), 'hfpl-queue-'));
const data = join(tmp, 'data');
const list = join(tmp, 'list.txt');
let ids: string[] = [];
let redis: TestRedis | null = null;
const workers: ChildProcess[] = [];

/** Starts `hfpl worker` and resolves once it takes jobs. */
async function startWorker(url: string): Promise<ChildProcess> {
  const p = spawn(process.execPath, [CLI, 'worker', '--queue', url, '--lock-duration', '3000', '--stalled-interval', '1000', '--max-stalled', '3', '--delay-ms', '300'], { stdio: ['ignore', 'pipe', 'pipe'] });
  workers.push(p);
  let err = '';
  await new Promise<void>((resolve, reject) => {
    p.stderr!.on('data', (b: Buffer) => {
      err += b.toString();
      if (err.includes('taking jobs')) resolve();
    });
    p.once('exit', (code) => reject(new Error(`worker exited (${code}): ${err}`)));
  });
  return p;
}

const crfOptions = (camDir: string, outDir: string) => ({ camDir, dataDir: data, listFile: list, outDir, crf: { iterations: 3 } });

beforeAll(async () => {
  if (!haveRedis) return;
  ensureBuilt();
  ids = await tinySet(data, 8);
  writeFileSync(list, ids.join('\n') + '\n');
  redis = await startRedis();
});
afterAll(async () => {
  for (const w of workers) if (w.exitCode === null && w.signalCode === null) w.kill('SIGKILL');
  await redis?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe.skipIf(!haveRedis)(haveRedis ? 'crf through a BullMQ queue' : 'crf through a BullMQ queue (skipped: redis-server is not installed)', () => {
  it('two worker processes, one killed with SIGKILL holding a job: every output once, byte-identical to one process', async () => {
    await runCrf(crfOptions(join(data, 'cams'), join(tmp, 'ref')));
    const url = redis!.url('crf1');
    const [a] = [await startWorker(url), await startWorker(url)];
    const out = join(tmp, 'queued');
    const producer = runCrf(crfOptions(join(data, 'cams'), out), undefined, { queue: url, queueOptions: { backoffMs: 100 } });
    // Halfway (3 of 8 images written), kill one worker: it holds a job (each job pauses 300 ms first).
    const count = () => { try { return readdirSync(join(out, 'alpha24')).filter((f) => f.endsWith('.png')).length; } catch { return 0; } };
    const q = new Queue(url.split('/').pop()!, { connection: { host: '127.0.0.1', port: redis!.port } });
    await vi.waitFor(() => expect(count()).toBeGreaterThanOrEqual(3), { timeout: 60_000, interval: 20 });
    await vi.waitFor(async () => expect(await q.getActiveCount()).toBe(2), { timeout: 10_000, interval: 5 });
    a.kill('SIGKILL');
    const r = await producer;
    expect(count()).toBe(8);
    expect(r).toMatchObject({ written: 8, skipped: 0 });
    const ref = tree(join(tmp, 'ref')), got = tree(out);
    expect([...got.keys()]).toEqual([...ref.keys()]);
    for (const [k, v] of ref) expect(got.get(k)!.equals(v), k).toBe(true);
    const counts = await q.getJobCounts('completed', 'failed', 'waiting', 'active');
    // The killed worker held a job: it stalled and a live worker finished it. (On a loaded machine a
    // live worker may miss a lock renewal too; its job then runs twice, with the same bytes.)
    const stalled = (await q.getJobs(['completed'])).filter((j) => j.stalledCounter > 0).map((j) => j.data);
    await q.close();
    expect(stalled.length).toBeGreaterThanOrEqual(1);
    expect(counts).toMatchObject({ completed: 8, failed: 0, waiting: 0, active: 0 });
    // A rerun finds everything done and enqueues nothing.
    expect(await runCrf(crfOptions(join(data, 'cams'), out), undefined, { queue: url })).toMatchObject({ written: 0, skipped: 8 });
  });

  it('a poisoned image fails alone, without retries, and the producer lists its id', async () => {
    const bad = join(tmp, 'badcams');
    cpSync(join(data, 'cams'), bad, { recursive: true });
    writeFileSync(join(bad, `${ids[5]}.npy`), 'not an npy');
    const url = redis!.url('crf2');
    if (workers.filter((w) => w.exitCode === null && w.signalCode === null).length === 0) await startWorker(url);
    await startWorker(url);
    const out = join(tmp, 'poisoned');
    const err = await runCrf(crfOptions(bad, out), undefined, { queue: url, queueOptions: { backoffMs: 100 } }).catch((e: Error) => e);
    expect((err as Error).name).toBe('HfplError');
    expect((err as Error).message).toMatch(new RegExp(`^crf: 1 of 8 images failed on the queue: ${ids[5]} \\(\\[E_[A-Z]+\\] [^)]*${ids[5]}\\.npy`));
    expect(readdirSync(join(out, 'alpha1')).sort()).toEqual(ids.filter((id) => id !== ids[5]).flatMap((id) => [`${id}.npy`, `${id}.png`]));
    // Through the CLI: exit 1, one line.
    const lines: string[] = [];
    vi.spyOn(console, 'log').mockImplementation(() => {});
    const code = await runCli(['crf', '--cams', bad, '--data', data, '--list', list, '--out', out, '--iters', '3', '--queue', url, '--quiet'], (l) => lines.push(l));
    vi.restoreAllMocks();
    expect(code).toBe(1);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`1 of 1 images failed on the queue: ${ids[5]} (`);
  });

  it('a worker stops cleanly on SIGTERM', async () => {
    const live = workers.find((w) => w.exitCode === null && w.signalCode === null)!;
    const exited = new Promise<number | null>((r) => live.once('exit', (c) => r(c)));
    live.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});

describe('Redis down', () => {
  it('the producer and hfpl worker print one line and exit 1', async () => {
    const port = await freePort();
    const lines: string[] = [];
    vi.spyOn(console, 'log').mockImplementation(() => {});
    const code = await runCli(['crf', '--cams', tmp, '--data', tmp, '--list', list, '--out', join(tmp, 'down'), '--queue', `redis://127.0.0.1:${port}/q`, '--quiet'], (l) => lines.push(l));
    const code2 = await runCli(['worker', '--queue', `redis://127.0.0.1:${port}/q`], (l) => lines.push(l));
    vi.restoreAllMocks();
    expect(code).toBe(1);
    expect(code2).toBe(1);
    expect(lines).toEqual([
      `hfpl: error [E_IO]: redis://127.0.0.1:${port}/q: cannot reach Redis at 127.0.0.1:${port} (ECONNREFUSED); start redis-server or fix --queue`,
      `hfpl: error [E_IO]: redis://127.0.0.1:${port}/q: cannot reach Redis at 127.0.0.1:${port} (ECONNREFUSED); start redis-server or fix --queue`,
    ]);
  });
});
