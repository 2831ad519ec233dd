import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';

describe('CLI', () => {
  it('rejects an unknown command with exit code 1 and one message', async () => {
    const lines: string[] = [];
    const code = await runCli(['no-such-command'], (l) => lines.push(l));
    expect(code).toBe(1);
    expect(lines.join('\n')).toMatch(/unknown command 'no-such-command'/);
  });
});
