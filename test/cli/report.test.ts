import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { writeFixtureRun } from '../viz/report-html/fixture.js';

afterEach(() => vi.restoreAllMocks());

describe('hfpl report <run-dir>', () => {
  it('writes report.html and names it in the closing line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hfpl-report-cli-'));
    try {
      await writeFixtureRun(dir);
      const logged: string[] = [], err: string[] = [];
      vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void logged.push(a.join(' ')));
      const code = await runCli(['report', dir, '--quiet', '--eval-images', '1', '--train-images', '0'], (l) => err.push(l));
      vi.restoreAllMocks();
      expect(code, err.join('\n')).toBe(0);
      const kb = (statSync(join(dir, 'report.html')).size / 1024).toFixed(0);
      expect(logged).toEqual([`report: ${join(dir, 'report.html')} (${kb} KB, 12 plots, 1 image)`]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a folder that is no run: one line, non-zero exit', async () => {
    const err: string[] = [];
    const code = await runCli(['report', join(tmpdir(), 'hfpl-no-such-run')], (l) => err.push(l));
    expect(code).not.toBe(0);
    expect(err.join('\n')).toBe(`hfpl: error [E_IO]: ${join(tmpdir(), 'hfpl-no-such-run')}: run folder not found`);
    const bad: string[] = [];
    expect(await runCli(['report', tmpdir(), '--max-side', '4'], (l) => bad.push(l))).not.toBe(0);
    expect(bad.join('\n')).toMatch(/--max-side: expected an integer >= 16, got '4'/);
  });
});
