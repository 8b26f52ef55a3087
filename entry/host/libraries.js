// The libraries of the sample app on this (desktop) host: libsample.so compiled from
// entry/src/main/cpp/sample.c with $CC (default cc; scripts/test-aarch64.sh sets the aarch64
// cross compiler), the C library, and zlib.
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

// This process's architecture as ELF and Debian multiarch name it. A multiarch host has a libz
// of each architecture (the aarch64 suite, scripts/test-aarch64.sh, runs an arm64 Node on an
// x86_64 machine): only the one of the running Node can be loaded.
const ARCHES = {
  x64: { elfMachine: 62, multiarch: 'x86_64-linux-gnu' },
  arm64: { elfMachine: 183, multiarch: 'aarch64-linux-gnu' },
};

// Is `file` an ELF file for this process's architecture? (e_machine, little-endian: both
// architectures above are.) Unknown architectures accept any file.
function isOwnArch(file) {
  const arch = ARCHES[process.arch];
  if (!arch) return true;
  const header = Buffer.alloc(20);
  let fd;
  try {
    fd = fs.openSync(file, 'r');
    if (fs.readSync(fd, header, 0, 20, 0) < 20) return false;
  } catch {
    return false;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
  return header.readUInt32BE(0) === 0x7f454c46 && header.readUInt16LE(18) === arch.elfMachine;
}

// The host's zlib (libz.so.1) for this process's architecture: its multiarch directories
// first, then the usual paths, then the loader cache; each candidate checked for the
// architecture.
function findLibz() {
  const multiarch = ARCHES[process.arch] ? [ARCHES[process.arch].multiarch] : [];
  const candidates = [
    ...multiarch.flatMap((m) => [`/lib/${m}/libz.so.1`, `/usr/lib/${m}/libz.so.1`]),
    '/lib64/libz.so.1', '/usr/lib64/libz.so.1', '/usr/lib/libz.so.1', '/lib/libz.so.1',
  ];
  for (const c of candidates) if (fs.existsSync(c) && isOwnArch(c)) return c;
  for (const ldconfig of ['ldconfig', '/sbin/ldconfig', '/usr/sbin/ldconfig']) {
    try {
      const env = { ...process.env };
      delete env.LD_PRELOAD;
      const out = execFileSync(ldconfig, ['-p'], { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'ignore'] });
      for (const m of out.matchAll(/^\s*libz\.so\.1 \([^)]*\) => (\S+)$/gm)) if (isOwnArch(m[1])) return m[1];
    } catch {
      // try the next location of ldconfig
    }
  }
  throw new Error(`zlib (libz.so.1) for ${process.arch} is not installed on this machine: apt-get install zlib1g`);
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
