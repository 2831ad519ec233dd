// examples/train-layers.ts, run as a user runs it (built, `node dist/examples/train-layers.js`,
// a fresh process): a tfjs-layers CAM model trained with GAP + ISL + FSL. The loss falls, the
// tensor count stays flat, and the first loss is the seeded model's (pinned; same on both
// engine paths to float tolerance).
import { execFileSync, execSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url).pathname;

beforeAll(() => {
  execSync('node scripts/setup.mjs', { cwd: root, stdio: 'ignore' }); // builds dist/ when stale
});

it('trains: loss falls by a fifth in 8 steps, tensor count flat, first loss pinned', () => {
  const out = execFileSync(process.execPath, [join(root, 'dist/examples/train-layers.js'), '--steps', '8'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const lines = out.trim().split('\n');
  const r = JSON.parse(lines[lines.length - 1]) as { steps: number; losses: number[]; numTensors: number[]; engine: string };
  expect(r.steps).toBe(8);
  expect(r.losses).toHaveLength(8);
  // 0.8 GAP + 0.2 ISL + FSL of the seeded model on the seeded batch (ISL seed 0).
  expect(r.losses[0]).toBeCloseTo(0.71003, 3);
  expect(r.losses[7]).toBeLessThan(0.8 * r.losses[0]);
  expect(new Set(r.numTensors).size, `tensor counts ${r.numTensors.join(', ')}`).toBe(1);
  expect(r.engine).toMatch(/^wasm/);
}, 120_000);

it("README's \"Use as a library\" loss is the example's, line for line", () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Use as a library'));
  const block = section.slice(section.indexOf('```ts') + 5, section.indexOf('```', section.indexOf('```ts') + 5));
  const body = block.slice(block.indexOf('const loss'), block.indexOf('\n});') + 4).split('\n').map((l) => l.trim());
  expect(body.length).toBeGreaterThan(8);
  const example = readFileSync(join(root, 'examples/train-layers.ts'), 'utf8').split('\n').map((l) => l.trim());
  for (const line of body) expect(example, line).toContain(line);
});
