import type { Command } from 'commander';
import { registerDemo } from './demo.js';

/** Every subcommand, in the order `hfpl --help` lists them. */
export const commandModules: ReadonlyArray<(program: Command) => void> = [
  registerDemo,
];
