/**
 * Where the tests find `shared/` (METHOD, fixtures, the VOC and COCO samples): `$HFPL_SHARED`,
 * else `../shared` beside the checkout (as CI lays it out).
 */
import { join, resolve } from 'node:path';

export const SHARED_DIR = resolve(process.env.HFPL_SHARED ?? new URL('../../shared', import.meta.url).pathname);

/** A path under the shared folder; `join` keeps a trailing slash (tests append file names to it). */
export function sharedPath(rel: string): string {
  return join(SHARED_DIR, rel);
}
