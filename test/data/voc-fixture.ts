/** Test helper: a writable copy of the shared VOC sample in a temp folder. */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sharedPath } from '../shared-path.js';

export const VOC_SAMPLE = sharedPath('data/voc-sample/');

function copyTree(src: string, dest: string): void {
  mkdirSync(dest, { recursive: true });
  for (const name of readdirSync(src)) {
    const s = join(src, name), d = join(dest, name);
    if (statSync(s).isDirectory()) copyTree(s, d);
    else writeFileSync(d, readFileSync(s));
  }
}

/** Copies the VOC sample to a new temp folder; returns its path and a cleanup function. */
export function vocCopy(prefix = 'hfpl-voc-'): { root: string; cleanup: () => void } {
  const root = mkdtempSync(join(tmpdir(), prefix));
  copyTree(VOC_SAMPLE, root);
  return { root, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

/** Writes the first half of a file over `dest` (a truncated copy). */
export function truncateInto(src: string, dest: string): void {
  const b = readFileSync(src);
  writeFileSync(dest, b.subarray(0, b.length >> 1));
}
