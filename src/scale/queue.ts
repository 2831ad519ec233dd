/**
 * Many machines: the per-image tasks (tasks.ts) as BullMQ jobs on a Redis server.
 *
 * A stage run with `--queue redis://host:port/name` is a producer: it enqueues one job per image
 * not yet done (job id `<task>.<setup hash>.<image id>`, so a rerun or a second producer does not
 * add the same image twice), waits, shows progress over the queue and lists the ids that failed.
 * `hfpl worker --queue ...` processes, on any machines that see the same data and output folders
 * at the same paths, take jobs of any stage. Delivery is at-least-once (a worker that dies holding
 * a job loses its lock; after `lockDuration` the stalled-job check of a live worker puts the job
 * back), and exactly-once in effect because every output is written atomically (temp name, then
 * rename) under a name keyed by the image id with the same bytes each time. A failed attempt is
 * retried with exponential backoff; bad input (an HfplError: corrupt image, size mismatch) fails
 * at once without retries, alone.
 */
import { createHash } from 'node:crypto';
import { Queue, QueueEvents, UnrecoverableError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { HfplError } from '../errors.js';
import { createTask, isTaskName, type ImageItem, type ImageTask } from './tasks.js';
import { parseQueueUrl, type QueueTarget } from './queue-url.js';

export { parseQueueUrl, type QueueTarget };

function connectionOf(t: QueueTarget): ConnectionOptions {
  return { host: t.host, port: t.port, db: t.db, maxRetriesPerRequest: null };
}

/** Checks that Redis answers; else one line (E_IO) naming the server. */
export async function checkRedis(t: QueueTarget, timeoutMs = 3000): Promise<void> {
  const r = new Redis({ host: t.host, port: t.port, db: t.db, lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: timeoutMs });
  let cause: unknown = null;
  r.on('error', (e) => void (cause ??= e));
  try {
    await r.connect();
    await r.ping();
  } catch (e) {
    const first = (cause ?? e) as { code?: string; message?: string };
    const why = first.code ?? first.message ?? String(first);
    throw new HfplError('E_IO', `${t.url}: cannot reach Redis at ${t.host}:${t.port} (${why}); start redis-server or fix --queue`);
  } finally {
    r.disconnect();
  }
}

/** What a job carries: everything a worker anywhere needs. */
export interface ImageJobData {
  task: string;
  setup: unknown;
  item: ImageItem;
}

/** Options of `runOnQueue` (the producer). */
export interface QueueRunOptions {
  url: string;
  task: string;
  setup: unknown;
  items: ImageItem[];
  todo: number[];
  label: string;
  /** Attempts per job (first try included); default 3. */
  attempts?: number;
  /** First retry delay, ms (doubles each retry); default 2000. */
  backoffMs?: number;
  onResult: (index: number, result: unknown) => void | Promise<void>;
  onFailed: (index: number) => void | Promise<void>;
}

/** Job id of an image: task, a hash of the setup (so two runs with other options do not collide), the id. */
export function imageJobId(task: string, setup: unknown, id: string): string {
  const h = createHash('sha256').update(task + '\n' + JSON.stringify(setup)).digest('hex').slice(0, 12);
  return `${task}.${h}.${id.replace(/:/g, '%3A')}`;
}

/**
 * Enqueues `todo` and waits until each job completed or failed for good. Resolves with the
 * failed ids (the caller reports them); rejects with one line when Redis is not reachable.
 */
export async function runOnQueue(o: QueueRunOptions): Promise<{ failed: { id: string; reason: string }[] }> {
  const t = parseQueueUrl(o.url);
  await checkRedis(t);
  const connection = connectionOf(t);
  const queue = new Queue<ImageJobData>(t.name, { connection });
  const events = new QueueEvents(t.name, { connection });
  const failed: { id: string; reason: string }[] = [];
  try {
    await events.waitUntilReady();
    const pending = new Map<string, number>();
    for (const i of o.todo) pending.set(imageJobId(o.task, o.setup, o.items[i].id), i);
    let settle: () => void = () => {};
    const allDone = new Promise<void>((r) => (settle = r));
    const finish = async (jobId: string, ok: boolean, value: unknown): Promise<void> => {
      const index = pending.get(jobId);
      if (index === undefined) return;
      pending.delete(jobId);
      if (ok) await o.onResult(index, value);
      else {
        failed.push({ id: o.items[index].id, reason: String(value) });
        await o.onFailed(index);
      }
      if (pending.size === 0) settle();
    };
    events.on('completed', ({ jobId, returnvalue }) => void finish(jobId, true, returnvalue));
    events.on('failed', ({ jobId, failedReason }) => void finish(jobId, false, failedReason));
    // Enqueue: a job left completed or failed by an earlier run whose outputs are gone is replaced;
    // one still waiting or active (another producer's, or a stalled one) is waited on.
    const fresh: { name: string; data: ImageJobData; opts: { jobId: string; attempts: number; backoff: { type: 'exponential'; delay: number }; removeOnComplete: { age: number }; removeOnFail: { age: number } } }[] = [];
    for (const [jobId, i] of pending) {
      const old = await queue.getJob(jobId);
      if (old) {
        const state = await old.getState();
        if (state === 'completed' || state === 'failed') await old.remove();
        else continue;
      }
      fresh.push({
        name: o.task,
        data: { task: o.task, setup: o.setup, item: o.items[i] },
        opts: { jobId, attempts: o.attempts ?? 3, backoff: { type: 'exponential', delay: o.backoffMs ?? 2000 }, removeOnComplete: { age: 7 * 86400 }, removeOnFail: { age: 7 * 86400 } },
      });
    }
    for (let k = 0; k < fresh.length; k += 500) await queue.addBulk(fresh.slice(k, k + 500));
    if (pending.size === 0) settle();
    // Belt and braces: an event lost to a reconnect is caught by polling a few pending jobs.
    const poll = setInterval(() => {
      void (async () => {
        for (const jobId of [...pending.keys()].slice(0, 50)) {
          const job = await queue.getJob(jobId).catch(() => undefined);
          const state = job ? await job.getState().catch(() => 'unknown') : 'unknown';
          if (state === 'completed') await finish(jobId, true, job!.returnvalue);
          else if (state === 'failed') await finish(jobId, false, job!.failedReason);
        }
      })();
    }, 2000);
    try {
      await allDone;
    } finally {
      clearInterval(poll);
    }
  } finally {
    await events.close();
    await queue.close();
  }
  return { failed };
}

/** Options of `runQueueWorker`. */
export interface QueueWorkerOptions {
  url: string;
  /** Jobs at once in this process (default 1; run one process per core). */
  concurrency?: number;
  /** Job lock, ms (default 30000): a dead worker's job is taken back after this. */
  lockDuration?: number;
  /** Stalled-job check interval, ms (default 30000). */
  stalledInterval?: number;
  /** Times a job may stall before it fails (default 1). */
  maxStalledCount?: number;
  /** Pause before each job, ms (default 0; for tests and demos of recovery). */
  delayMs?: number;
  /** One line per event (job failed, worker ready). */
  log?: (line: string) => void;
  /** Resolves to stop the worker (default: SIGINT or SIGTERM). */
  stop?: Promise<void>;
}

/** Takes jobs of any stage from the queue until stopped; see the file comment. */
export async function runQueueWorker(o: QueueWorkerOptions): Promise<{ completed: number; failed: number }> {
  const t = parseQueueUrl(o.url);
  await checkRedis(t);
  const log = o.log ?? ((l: string) => process.stderr.write(l + '\n'));
  // One task per stage setup, built on first use and kept (a worker usually serves one stage at a time).
  const tasks = new Map<string, Promise<ImageTask>>();
  const taskFor = (d: ImageJobData): Promise<ImageTask> => {
    const key = d.task + '\n' + JSON.stringify(d.setup);
    let p = tasks.get(key);
    if (!p) {
      if (tasks.size >= 4) {
        const [k, old] = tasks.entries().next().value as [string, Promise<ImageTask>];
        tasks.delete(k);
        void old.then((x) => x.close?.(), () => {});
      }
      p = createTask(d.task, d.setup);
      tasks.set(key, p);
      p.catch(() => tasks.delete(key));
    }
    return p;
  };
  let completed = 0, failedCount = 0;
  const worker = new Worker<ImageJobData>(
    t.name,
    async (job: Job<ImageJobData>) => {
      const d = job.data;
      if (!isTaskName(d.task)) throw new UnrecoverableError(`unknown task '${d.task}'`);
      if (o.delayMs) await new Promise((r) => setTimeout(r, o.delayMs));
      try {
        const task = await taskFor(d);
        return await task.run(d.item);
      } catch (e) {
        // Bad input does not get better by retrying: fail this image alone, at once.
        if (e instanceof HfplError) throw new UnrecoverableError(`[${e.code}] ${e.message}`);
        throw e;
      }
    },
    {
      connection: connectionOf(t),
      concurrency: o.concurrency ?? 1,
      lockDuration: o.lockDuration ?? 30_000,
      stalledInterval: o.stalledInterval ?? 30_000,
      maxStalledCount: o.maxStalledCount ?? 1,
    },
  );
  worker.on('completed', () => void completed++);
  worker.on('failed', (job, err) => {
    failedCount++;
    if (job) log(`hfpl worker: ${job.data.task} image ${job.data.item.id}: attempt ${job.attemptsMade} failed: ${err.message}`);
  });
  worker.on('error', (e) => log(`hfpl worker: ${e.message}`));
  await worker.waitUntilReady();
  log(`hfpl worker: taking jobs from ${t.url} (pid ${process.pid}, concurrency ${o.concurrency ?? 1})`);
  const stop =
    o.stop ??
    new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    });
  await stop;
  await worker.close();
  for (const p of tasks.values()) await p.then((x) => x.close?.(), () => {});
  return { completed, failed: failedCount };
}
