// The published package as a TypeScript consumer gets it: `npm pack` (the files and types that
// would be published), unpacked into a fresh project's node_modules/hfpl, compiles
// examples/train-layers.ts under `strict` and runs it. Offline: npm's cache holds the tarballs
// `npm ci` fetched but not the registry metadata `npm install <name>` needs, so the project links
// the repo's installed dependencies (tfjs-core, tfjs-layers, typescript, ...) instead of
// installing them. A deliberate type error proves the types are checked, not `any`.
// skipLibCheck is on as for any TF.js consumer (TF.js's own .d.ts fail without it); hfpl's
// declarations are what the example's calls are checked against.
import { execFileSync, execSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url).pathname;
const tsc = join(root, 'node_modules/typescript/bin/tsc');
let dir = '';

beforeAll(() => {
  execSync('node scripts/setup.mjs', { cwd: root, stdio: 'ignore' }); // builds dist/ when stale
  dir = mkdtempSync(join(tmpdir(), 'hfpl-consumer-'));
  const packed = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', dir], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })) as Array<{ filename: string }>;
  const modules = join(dir, 'node_modules');
  mkdirSync(join(modules, 'hfpl'), { recursive: true });
  execFileSync('tar', ['xzf', join(dir, packed[0].filename), '-C', join(modules, 'hfpl'), '--strip-components=1']);
  for (const e of readdirSync(join(root, 'node_modules'))) {
    if (e.startsWith('.') || e === 'hfpl') continue;
    symlinkSync(join(root, 'node_modules', e), join(modules, e));
  }
  mkdirSync(join(dir, 'src'));
  copyFileSync(join(root, 'examples/train-layers.ts'), join(dir, 'src/train-layers.ts'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: {
      target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', lib: ['ES2023'], types: ['node'],
      // skipLibCheck: TF.js 4.22's own .d.ts need the DOM lib and fail in tfjs-layers.
      strict: true, skipLibCheck: true, outDir: 'out', rootDir: 'src',
    },
    include: ['src/**/*.ts'],
  }));
}, 120_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it('compiles the example under strict against the packed types (a wrong option type is the only error), and the compiled example trains', () => {
  // One tsc run: the example must compile cleanly; the deliberate error proves the types are real.
  writeFileSync(join(dir, 'src/bad.ts'), [
    "import * as tf from '@tensorflow/tfjs-core';",
    "import { importanceSamplingLoss } from 'hfpl';",
    'export const l = (x: tf.Tensor4D, y: tf.Tensor2D): tf.Scalar => importanceSamplingLoss(x, y, { numSamples: "ten" });',
  ].join('\n'));
  const r = spawnSync(process.execPath, [tsc, '-p', '.'], { cwd: dir, encoding: 'utf8' });
  const errors = r.stdout.split('\n').filter((l) => / error TS/.test(l));
  expect(errors).toHaveLength(1);
  expect(errors[0]).toMatch(/^src\/bad\.ts\(3,\d+\): error TS2322: Type 'string' is not assignable to type 'number'/);
  // tsc emits despite the error in bad.ts; the example's output runs against the packed JS.
  const out = execFileSync(process.execPath, [join(dir, 'out/train-layers.js'), '--steps', '3'], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const last = JSON.parse(out.trim().split('\n').pop() ?? '{}') as { losses: number[] };
  expect(last.losses).toHaveLength(3);
  expect(last.losses[0]).toBeCloseTo(0.71003, 3); // the same model and loss as from the repo
}, 120_000);
