/**
 * Kill-and-resume: a training process killed (SIGKILL) after a checkpoint and resumed with
 * --resume ends with the same weights as an uninterrupted run of the same seed. Also the
 * run-folder guards (finished run needs --force, unfinished run needs --resume or --force).
 */
import { spawn, execSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateSynthDataset } from '../../src/data/synth/generate.js';
import { readWeights } from '../../src/models/weights-io.js';
import { listCheckpointSteps } from '../../src/train/checkpoint.js';

const root = new URL('../../', import.meta.url).pathname;
const main = join(root, 'dist/src/cli/main.js');
let dir = '';
let data = '';

function train(out: string, extra: string[] = []) {
  const args = [main, 'train-cam', '--data', data, '--out', out, '--backbone', 'tiny', '--crop', '32', '--batch-size', '4', '--steps', '40', '--checkpoint-every', '5', '--seed', '7', '--quiet', '--config', join(dir, 'cfg.json'), ...extra];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((res) => child.on('exit', (code, signal) => res({ code, signal, stderr })));
  return { child, done };
}

beforeAll(async () => {
  execSync('node scripts/setup.mjs', { cwd: root, stdio: 'ignore' });
  dir = mkdtempSync(join(tmpdir(), 'hfpl-resume-'));
  data = join(dir, 'data');
  await generateSynthDataset({ out: data, train: 16, val: 2, width: 40, height: 40, classes: 3, objects: [1, 2] });
  const { writeFileSync } = await import('node:fs');
  writeFileSync(join(dir, 'cfg.json'), JSON.stringify({ data: { resizeLong: [32, 44] } }));
}, 180_000);

describe('train-cam --resume', () => {
  it('a run killed after a checkpoint and resumed ends with the weights of an uninterrupted run', async () => {
    const a = await train(join(dir, 'a')).done;
    expect(a.code, a.stderr).toBe(0);

    const runB = join(dir, 'b');
    const b = train(runB);
    let killedAt = -1;
    while (killedAt < 0) {
      const steps = listCheckpointSteps(runB);
      if (steps.length > 0) {
        b.child.kill('SIGKILL');
        killedAt = steps[steps.length - 1];
      }
      if (b.child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    const killed = await b.done;
    expect(killed.signal).toBe('SIGKILL');
    expect(killedAt).toBeGreaterThan(0);
    expect(killedAt).toBeLessThan(40);
    expect(existsSync(join(runB, 'DONE'))).toBe(false);

    // without --resume the unfinished run is protected
    const guard = await train(runB).done;
    expect(guard.code).toBe(1);
    expect(guard.stderr).toContain('holds an unfinished run; use --resume to continue it or --force to start over');

    const resumed = await train(runB, ['--resume']).done;
    expect(resumed.code, resumed.stderr).toBe(0);
    const done = JSON.parse(readFileSync(join(runB, 'DONE'), 'utf8'));
    expect(done.steps).toBe(40);
    expect(done.startStep).toBeGreaterThanOrEqual(killedAt);

    const wa = readWeights(join(dir, 'a')).values, wb = readWeights(runB).values;
    expect([...wb.keys()]).toEqual([...wa.keys()]);
    let maxDiff = 0;
    for (const [k, v] of wa) {
      const u = wb.get(k)!.data;
      for (let i = 0; i < v.data.length; i++) maxDiff = Math.max(maxDiff, Math.abs(v.data[i] - u[i]));
    }
    expect(maxDiff).toBeLessThanOrEqual(1e-5);
    // the metrics log has each step once, as the uninterrupted run's
    const steps = (run: string) => readFileSync(join(run, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).step);
    expect(steps(runB)).toEqual(steps(join(dir, 'a')));
    const losses = (run: string) => readFileSync(join(run, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).loss);
    expect(losses(runB).at(-1)).toBeCloseTo(losses(join(dir, 'a')).at(-1), 5);
  }, 180_000);

  it('never overwrites a finished run without --force', async () => {
    const r = await train(join(dir, 'a')).done;
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(`hfpl: error [E_RUN]: ${join(dir, 'a')}: holds a finished run; use --force to overwrite it`);
    const before = readFileSync(join(dir, 'a', 'weights.bin'));
    const forced = await train(join(dir, 'a'), ['--force', '--steps', '3']).done;
    expect(forced.code, forced.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'a', 'DONE'), 'utf8')).steps).toBe(3);
    expect(readFileSync(join(dir, 'a', 'weights.bin')).equals(before)).toBe(false);
  }, 120_000);
});
