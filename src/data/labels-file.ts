/**
 * `labels.json`, the image-level labels of a VOC-layout dataset (format: `LabelsFile` in
 * types.ts), read with checks and written atomically.
 */
import { readFileSync } from 'node:fs';
import { HfplError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import type { LabelsFile } from './types.js';

function bad(path: string, what: string): never {
  throw new HfplError('E_DATA', `${path}: ${what}`);
}

/**
 * Reads and checks a labels file: `classes` is a list of at least 2 distinct names and every
 * label list holds integers in 1..classes.length-1 (returned sorted and unique). Throws `E_IO`
 * when unreadable, `E_DATA` naming the file and the entry otherwise.
 */
export function readLabelsFile(path: string): LabelsFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new HfplError('E_IO', `${path}: labels file not found or unreadable`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    bad(path, `not valid JSON (${(e as Error).message.split('\n')[0]})`);
  }
  const obj = json as Partial<Record<keyof LabelsFile, unknown>> | null;
  const classes = obj?.classes;
  if (!Array.isArray(classes) || classes.length < 2 || !classes.every((c) => typeof c === 'string')) {
    bad(path, '"classes" must be a list of at least 2 class names (index 0 = background)');
  }
  if (new Set(classes).size !== classes.length) bad(path, '"classes" has a duplicate name');
  const raw = obj?.labels;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) bad(path, '"labels" must be an object { "<id>": [class indices] }');
  const labels: Record<string, number[]> = {};
  for (const [id, list] of Object.entries(raw as Record<string, unknown>)) {
    if (!Array.isArray(list)) bad(path, `labels of '${id}' is not a list`);
    for (const c of list) {
      if (!Number.isInteger(c) || c < 1 || c >= classes.length) {
        bad(path, `labels of '${id}' holds ${JSON.stringify(c)}, expected class indices 1..${classes.length - 1}`);
      }
    }
    labels[id] = [...new Set(list as number[])].sort((a, b) => a - b);
  }
  return { classes: classes as string[], labels };
}

/** Writes a labels file atomically (one id per line, ids in the given order). */
export async function writeLabelsFile(path: string, file: LabelsFile): Promise<void> {
  const rows = Object.entries(file.labels).map(([id, l]) => `    ${JSON.stringify(id)}: ${JSON.stringify(l)}`);
  const text = `{\n  "classes": ${JSON.stringify(file.classes)},\n  "labels": {\n${rows.join(',\n')}\n  }\n}\n`;
  await writeFileAtomic(path, text);
}
