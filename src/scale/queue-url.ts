/** `--queue redis://host:port/name`: parsing only, so the CLI checks the flag without loading BullMQ. */
import { HfplError } from '../errors.js';

/** Where a queue lives. */
export interface QueueTarget {
  host: string;
  port: number;
  /** Redis database number (`?db=N`), default 0. */
  db: number;
  /** Queue name. */
  name: string;
  url: string;
}

/** Parses `redis://host:port/name` (optionally `?db=N`). */
export function parseQueueUrl(url: string): QueueTarget {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    u = new URL('invalid://');
  }
  const name = decodeURIComponent(u.pathname.replace(/^\//, ''));
  if (u.protocol !== 'redis:' || !u.hostname || !/^[A-Za-z0-9_.-]+$/.test(name)) {
    throw new HfplError('E_CONFIG', `--queue: expected redis://host:port/name (name of letters, digits, _ . -), got '${url}'`);
  }
  const db = Number(u.searchParams.get('db') ?? 0);
  if (!Number.isInteger(db) || db < 0) throw new HfplError('E_CONFIG', `--queue: db must be an integer >= 0, got '${u.searchParams.get('db')}'`);
  return { host: u.hostname, port: u.port ? Number(u.port) : 6379, db, name, url };
}
