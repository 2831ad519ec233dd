#!/usr/bin/env node
// Makes a fresh clone runnable: installs from the lockfile when node_modules is missing or
// older than the lockfile, and rebuilds dist/ when any source is newer than the last build.
// Used by `npm start`, `npm test` and the bench scripts, so the README's commands need nothing else.
import { execSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const mtime = (p) => (existsSync(p) ? statSync(p).mtimeMs : 0);
const run = (cmd) => execSync(cmd, { cwd: root, stdio: 'inherit' });

const installed = join(root, 'node_modules', '.package-lock.json');
if (mtime(installed) < mtime(join(root, 'package-lock.json'))) {
  console.error('[setup] installing dependencies (npm ci)');
  run('npm ci --no-audit --no-fund');
}

function newest(dir) {
  let t = 0;
  if (!existsSync(dir)) return t;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}
const stamp = join(root, 'dist', '.build-stamp');
const srcTime = Math.max(newest(join(root, 'src')), newest(join(root, 'bench')), newest(join(root, 'examples')), mtime(join(root, 'tsconfig.json')));
if (mtime(stamp) < srcTime) {
  console.error('[setup] building (tsc)');
  run('npx tsc -p tsconfig.build.json');
  run(`node -e "require('fs').writeFileSync('dist/.build-stamp', String(Date.now()))"`);
}
