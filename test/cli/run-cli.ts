/** Runs the CLI in-process (as `hfpl <args>`) and captures what it prints: the tests' one CLI driver. */
import { vi } from 'vitest';
import { runCli } from '../../src/cli/program.js';

/** Exit code, console.log lines (`out`), the CLI's error lines (`err`) and console.error lines (`stderr`). */
export interface CliRun {
  code: number;
  out: string[];
  err: string[];
  stderr: string[];
}

export async function runCliCaptured(args: string[]): Promise<CliRun> {
  const err: string[] = [], out: string[] = [], stderr: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void stderr.push(a.join(' ')));
  try {
    const code = await runCli(args, (l) => err.push(l));
    return { code, out, err, stderr };
  } finally {
    vi.restoreAllMocks();
  }
}

/** `runCliCaptured` with `out` and `err` joined into one string each. */
export async function runCliText(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const r = await runCliCaptured(args);
  return { code: r.code, out: r.out.join('\n'), err: r.err.join('\n') };
}
