import type { Command } from 'commander';

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('run the whole pipeline on a generated data set (what `npm start` runs)')
    .option('--quick', 'a 1-2 minute variant')
    .action(async () => {
      console.log('demo: not yet implemented');
    });
}
