/**
 * Atomic file output: data goes to `<name>.tmp-<pid>-<n>` in the same folder and is renamed
 * over the final name, so an interrupted run never leaves a file that looks complete.
 */
import { mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, open, rename, rm, writeFile, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';

let counter = 0;
function tmpName(path: string): string {
  return `${path}.tmp-${process.pid}-${counter++}`;
}

/** Writes `data` to `path` atomically (creating parent folders). */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = tmpName(path);
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/** Synchronous twin of `writeFileAtomic`. */
export function writeFileAtomicSync(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = tmpName(path);
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/**
 * Streams a large file atomically: `write` fills an open handle on the temp file, which is renamed
 * over `path` only when `write` resolves (on any error the temp file is removed).
 */
export async function writeStreamAtomic(path: string, write: (fh: FileHandle) => Promise<void>): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = tmpName(path);
  const fh = await open(tmp, 'w');
  try {
    await write(fh);
    await fh.close();
    await rename(tmp, path);
  } catch (e) {
    await fh.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw e;
  }
}

/** True when `pid` names a live process on this machine. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the temp files (`<name>.tmp-<pid>-<n>`) that writers which died mid-write (e.g. a
 * SIGKILLed queue worker) left in `dir`: those of pids not alive on this machine. For a producer
 * once all of its jobs have finished; returns how many it removed.
 */
export function removeDeadWritersTemps(dir: string): number {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    const m = /\.tmp-(\d+)-\d+$/.exec(name);
    if (!m || alive(Number(m[1]))) continue;
    rmSync(`${dir}/${name}`, { force: true });
    removed++;
  }
  return removed;
}
