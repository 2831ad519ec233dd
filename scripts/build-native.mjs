#!/usr/bin/env node
// Builds the optional libtorch addon native/build/hfpl_native.node (npm `install` script).
// libtorch: the directory in LIBTORCH (an unpacked libtorch download: include/, lib/), else
// Debian's libtorch-dev (/usr/include/torch, /usr/lib/<multiarch>/libtorch_cpu.so).
// Node's headers: npm's nodedir, then <node prefix>/include/node, then node-gyp's cache.
// Never fails the install: prints one line saying what it did and exits 0. A stamp (hash of the
// sources, the libtorch location, node and compiler) skips rebuilding when nothing changed.
// HFPL_NATIVE_BUILD=0 skips the build; --force rebuilds.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const srcDir = join(root, 'native', 'src');
const buildDir = join(root, 'native', 'build');
const target = join(buildDir, 'hfpl_native.node');
const stampFile = join(buildDir, 'stamp.json');
const say = (msg) => console.error(`[build-native] ${msg}`);

function multiarch() {
  const r = spawnSync('gcc', ['-print-multiarch'], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() ? r.stdout.trim() : `${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu`;
}

/** { includes, libDir, rpath, abi } of a libtorch, or a string saying why none was found. */
function findLibtorch() {
  const dir = process.env.LIBTORCH;
  if (dir) {
    const d = resolve(dir);
    const inc = join(d, 'include');
    if (!existsSync(join(inc, 'ATen', 'ATen.h')) || !existsSync(join(d, 'lib'))) {
      return `LIBTORCH=${dir} has no include/ATen/ATen.h and lib/`;
    }
    return { includes: [inc, join(inc, 'torch', 'csrc', 'api', 'include')], libDir: join(d, 'lib'), rpath: true,
      cmake: join(d, 'share', 'cmake', 'Torch', 'TorchConfig.cmake'), where: d };
  }
  const libDir = join('/usr/lib', multiarch());
  if (existsSync('/usr/include/ATen/ATen.h') && existsSync(join(libDir, 'libtorch_cpu.so'))) {
    return { includes: ['/usr/include/torch/csrc/api/include'], libDir, rpath: false,
      cmake: join(libDir, 'cmake', 'Torch', 'TorchConfig.cmake'), where: libDir };
  }
  return 'libtorch not found (install Debian libtorch-dev, or set LIBTORCH to an unpacked libtorch)';
}

function findNodeHeaders() {
  const cands = [];
  if (process.env.npm_config_nodedir) cands.push(join(process.env.npm_config_nodedir, 'include', 'node'));
  const npmrc = join(homedir(), '.npmrc');
  if (existsSync(npmrc)) {
    const m = /^\s*nodedir\s*=\s*(.+)$/m.exec(readFileSync(npmrc, 'utf8'));
    if (m) cands.push(join(m[1].trim(), 'include', 'node'));
  }
  cands.push(join(dirname(dirname(process.execPath)), 'include', 'node'));
  cands.push(join(homedir(), '.cache', 'node-gyp', process.versions.node, 'include', 'node'));
  return cands.find((d) => existsSync(join(d, 'node_api.h'))) ?? null;
}

/** -D_GLIBCXX_USE_CXX11_ABI as libtorch was built (its TorchConfig.cmake says), default 1. */
function abiFlag(cmake) {
  const m = existsSync(cmake) ? /_GLIBCXX_USE_CXX11_ABI=([01])/.exec(readFileSync(cmake, 'utf8')) : null;
  return `-D_GLIBCXX_USE_CXX11_ABI=${m ? m[1] : '1'}`;
}

function run(cmd, args) {
  return new Promise((res) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d) => { err += d; });
    p.on('error', (e) => res({ ok: false, err: e.message }));
    p.on('close', (code) => res({ ok: code === 0, err }));
  });
}

async function main() {
  if (process.env.HFPL_NATIVE_BUILD === '0') return say('skipped: HFPL_NATIVE_BUILD=0');
  if (process.platform !== 'linux') return say(`skipped: only built on Linux (this is ${process.platform})`);
  const torch = findLibtorch();
  if (typeof torch === 'string') return say(`skipped: ${torch}; the engine stays on wasm`);
  const nodeInc = findNodeHeaders();
  if (!nodeInc) return say('skipped: Node headers (node_api.h) not found; set npm nodedir; the engine stays on wasm');
  const cxx = process.env.CXX || 'g++';
  if (spawnSync(cxx, ['--version']).status !== 0) return say(`skipped: no C++ compiler (${cxx}); the engine stays on wasm`);

  const sources = readdirSync(srcDir).filter((f) => /\.(cc|h)$/.test(f)).sort();
  const flags = ['-std=c++17', '-O2', '-fPIC', '-fvisibility=hidden', '-DNODE_GYP_MODULE_NAME=hfpl_native',
    abiFlag(torch.cmake), `-I${nodeInc}`, ...torch.includes.map((i) => `-I${i}`)];
  const libs = [`-L${torch.libDir}`, ...(torch.rpath ? [`-Wl,-rpath,${torch.libDir}`] : []), '-ltorch_cpu', '-lc10'];
  const hash = createHash('sha256');
  for (const f of sources) hash.update(f).update(readFileSync(join(srcDir, f)));
  hash.update(JSON.stringify([flags, libs, cxx, process.versions.node, torch.where]));
  const stamp = hash.digest('hex');
  if (!process.argv.includes('--force') && existsSync(target) && existsSync(stampFile)
      && readFileSync(stampFile, 'utf8').includes(stamp)) {
    return say('up to date');
  }

  const t0 = Date.now();
  const objDir = join(buildDir, 'obj');
  mkdirSync(objDir, { recursive: true });
  rmSync(stampFile, { force: true });
  const units = sources.filter((f) => f.endsWith('.cc'));
  const results = await Promise.all(units.map((f) => run(cxx, [...flags, '-c', join(srcDir, f), '-o', join(objDir, `${f}.o`)])));
  const failed = results.find((r) => !r.ok);
  if (failed) return say(`build failed (the engine stays on wasm): ${failed.err.split('\n').find((l) => /error/.test(l)) ?? failed.err.slice(0, 300)}`);
  const tmp = join(buildDir, `hfpl_native.${process.pid}.tmp.node`);
  const link = await run(cxx, ['-shared', '-o', tmp, ...units.map((f) => join(objDir, `${f}.o`)), ...libs]);
  if (!link.ok) return say(`link failed (the engine stays on wasm): ${link.err.split('\n')[0]}`);
  // Load it once in a child: a missing runtime library must not surface later.
  const check = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(tmp)}).describe()`], { encoding: 'utf8' });
  if (check.status !== 0) {
    rmSync(tmp, { force: true });
    return say(`built but not loadable (the engine stays on wasm): ${(check.stderr || '').split('\n').find((l) => l.trim()) ?? ''}`);
  }
  renameSync(tmp, target);
  writeFileSync(stampFile, JSON.stringify({ stamp, libtorch: torch.where, builtAt: new Date().toISOString() }) + '\n');
  say(`built ${target} against ${torch.where} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

main().catch((err) => say(`failed (the engine stays on wasm): ${err?.message ?? err}`)).finally(() => { process.exitCode = 0; });
