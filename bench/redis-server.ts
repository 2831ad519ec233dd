/** A throwaway redis-server on a free loopback port, for the queue tests and `npm run bench:scale`. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkRedis, parseQueueUrl } from '../src/scale/queue.js';

/** Path of redis-server, or null when it is not installed. */
export function redisServerPath(): string | null {
  const r = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() ? r.stdout.trim() : null;
}

/** A port nothing listens on (at the time of asking). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** A running redis-server (no persistence) and how to stop it. */
export interface TestRedis {
  port: number;
  url: (name: string) => string;
  stop: () => Promise<void>;
}

export async function startRedis(): Promise<TestRedis> {
  const bin = redisServerPath();
  if (!bin) throw new Error('redis-server is not installed');
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'hfpl-redis-'));
  const proc: ChildProcess = spawn(bin, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  const url = (name: string) => `redis://127.0.0.1:${port}/${name}`;
  for (let k = 0; ; k++) {
    try {
      await checkRedis(parseQueueUrl(url('probe')), 500);
      break;
    } catch (e) {
      if (k > 100) throw e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    port,
    url,
    stop: async () => {
      if (proc.exitCode === null) {
        const gone = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        await gone;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
