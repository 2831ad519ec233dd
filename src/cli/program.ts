/**
 * The `hfpl` command line: one subcommand per pipeline stage. Each command module exports a
 * `register(program)` function; this file only assembles them and maps errors to exit codes.
 */
import { Command, CommanderError } from 'commander';
import { isHfplError } from '../errors.js';
import { commandModules } from './commands/index.js';

export function buildProgram(err: (line: string) => void = (l) => process.stderr.write(l + '\n')): Command {
  const program = new Command('hfpl')
    // Configured before the subcommands are added so that they inherit it.
    .configureOutput({ writeErr: (s) => err(s.trimEnd()) })
    .description('High-fidelity pseudo-labels for weakly-supervised semantic segmentation')
    .version('0.1.0')
    .showHelpAfterError()
    .exitOverride();
  for (const register of commandModules) register(program);
  return program;
}

/**
 * Runs the CLI on `argv` (without node and script) and returns the exit code. Known errors
 * (HfplError) print one line without a stack; anything else prints its stack.
 */
export async function runCli(argv: string[], err: (line: string) => void = (l) => process.stderr.write(l + '\n')): Promise<number> {
  const program = buildProgram(err);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      return e.exitCode === 0 ? 0 : e.exitCode || 2;
    }
    if (isHfplError(e)) {
      err(`hfpl: error [${e.code}]: ${e.message}`);
      return 1;
    }
    err(`hfpl: internal error: ${(e as Error)?.stack ?? String(e)}`);
    return 70;
  }
}
