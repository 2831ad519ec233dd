import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { removeDeadWritersTemps } from '../../src/util/atomic-write.js';

describe('removeDeadWritersTemps', () => {
  it("removes only temp files of writers that are no longer alive, never finished outputs", () => {
    const dir = mkdtempSync(join(tmpdir(), 'hfpl-tmps-'));
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!; // a process that has exited
    for (const name of ['a.png', `a.png.tmp-${dead}-3`, `b.npy.tmp-${process.pid}-0`, 'c.tmp-notes.txt']) writeFileSync(join(dir, name), 'x');
    expect(removeDeadWritersTemps(dir)).toBe(1);
    expect(readdirSync(dir).sort()).toEqual(['a.png', `b.npy.tmp-${process.pid}-0`, 'c.tmp-notes.txt']);
    expect(removeDeadWritersTemps(join(dir, 'missing'))).toBe(0);
  });
});
