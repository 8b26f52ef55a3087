// The libraries of the sample app on this (desktop) host: libsample.so compiled from
// entry/src/main/cpp/sample.c with the system C compiler, the C library, and zlib.
// Used by entry/host/run-showcase.js and tests/hypium/run-host.js. On a device the same code
// loads them by their bare names ('libsample.so', 'libc.so', 'libz.so').
'use strict';
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');

const root = path.resolve(__dirname, '..', '..');
const source = path.join(root, 'entry', 'src', 'main', 'cpp', 'sample.c');
const outDir = path.join(root, 'target', 'sample');
const samplePath = path.join(outDir, 'libsample.so');

// Compiles sample.c into target/sample/libsample.so (again only when sample.c is newer).
function buildSample() {
  if (fs.existsSync(samplePath) && fs.statSync(samplePath).mtimeMs >= fs.statSync(source).mtimeMs) {
    return samplePath;
  }
  fs.mkdirSync(outDir, { recursive: true });
  const cc = process.env.CC || 'cc';
  const env = { ...process.env };
  delete env.LD_PRELOAD; // the compiler needs no exec guard
  const tmp = `${samplePath}.${process.pid}.tmp`;
  try {
    execFileSync(cc, ['-std=c11', '-O2', '-Wall', '-Wextra', '-Werror', '-fPIC', '-shared', '-pthread',
      '-fvisibility=hidden', '-o', tmp, source], { env, stdio: ['ignore', 'inherit', 'inherit'] });
  } catch (e) {
    if (e.code === 'ENOENT') {
      throw new Error(`no C compiler ('${cc}') to build libsample.so: install one (apt-get install gcc)`);
    }
    throw new Error(`compiling ${path.relative(root, source)} failed (${cc} exited with ${e.status})`);
  }
  fs.renameSync(tmp, samplePath); // atomic: a concurrent run never loads a half-written file
  return samplePath;
}

// The host's zlib (libz.so.1): the usual paths first, then the loader cache.
function findLibz() {
  const candidates = [
    '/lib/x86_64-linux-gnu/libz.so.1', '/usr/lib/x86_64-linux-gnu/libz.so.1',
    '/lib/aarch64-linux-gnu/libz.so.1', '/usr/lib/aarch64-linux-gnu/libz.so.1',
    '/lib64/libz.so.1', '/usr/lib64/libz.so.1', '/usr/lib/libz.so.1', '/lib/libz.so.1',
  ];
  for (const c of candidates) if (fs.existsSync(c)) return c;
  for (const ldconfig of ['ldconfig', '/sbin/ldconfig', '/usr/sbin/ldconfig']) {
    try {
      const env = { ...process.env };
      delete env.LD_PRELOAD;
      const out = execFileSync(ldconfig, ['-p'], { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'ignore'] });
      const m = out.match(/^\s*libz\.so\.1 \([^)]*\) => (\S+)$/m);
      if (m) return m[1];
    } catch {
      // try the next location of ldconfig
    }
  }
  throw new Error('zlib (libz.so.1) is not installed on this machine: apt-get install zlib1g');
}

// The ShowcaseLibraries / Libraries.ets values for this host.
function hostLibraries() {
  return { libc: 'libc.so.6', libz: findLibz(), sample: buildSample() };
}

// The host build of ArkFFI that scripts/build-ets.js binds 'arkffi' to.
function checkHostBuild() {
  const hostBuild = path.join(root, 'target', 'host', 'index.js');
  if (!fs.existsSync(hostBuild) || !fs.existsSync(path.join(root, 'target', 'host', 'arkffi.node'))) {
    throw new Error('the host build of ArkFFI (target/host/) is missing: run bash scripts/test.sh or scripts/demo.sh first');
  }
  return hostBuild;
}

module.exports = { buildSample, checkHostBuild, findLibz, hostLibraries, samplePath, root };
