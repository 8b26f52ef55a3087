// Shared setup of the host tests: the host build of the package and the fixture library.
'use strict';
const path = require('path');
const fs = require('fs');

const root = path.resolve(__dirname, '..', '..');
// ARKFFI_HOST_BUILD runs the suites against another host build of the package
// (ohos-build.test.js: the one linked with the prebuilt static libffi).
const hostBuild = process.env.ARKFFI_HOST_BUILD
  ? path.resolve(process.env.ARKFFI_HOST_BUILD)
  : path.join(root, 'target', 'host', 'index.js');
const fixturePath = path.join(root, 'target', 'fixtures', 'libfixture.so');
for (const f of [hostBuild, fixturePath]) {
  if (!fs.existsSync(f)) throw new Error(`${f} is missing: run bash scripts/test.sh`);
}

const guardPath = path.join(root, 'target', 'fixtures', 'libnoexec.so');

// Run a script in a child Node process with the same flags as this one (--jitless under the
// exec guard), the host build at HOST_BUILD and the fixture at FIXTURE.
function runNode(script, { env = {}, args = [] } = {}) {
  const { spawnSync } = require('child_process');
  const r = spawnSync(process.execPath, [...process.execArgv.filter((a) => !a.startsWith('--test')), ...args, '-e', script], {
    env: { ...process.env, HOST_BUILD: hostBuild, FIXTURE: fixturePath, ...env },
    encoding: 'utf8',
    timeout: 60000,
  });
  return { status: r.status, signal: r.signal, stdout: r.stdout.trim(), stderr: r.stderr };
}

const arkffi = require(hostBuild);

// Whether plain `char` is signed in the target's C ABI (x86_64: signed; aarch64: unsigned), as
// the C compiler that built the fixture library says. Tests take ABI-dependent expectations
// from the target, not from a list of architectures.
function charIsSigned() {
  const lib = arkffi.dlopen(fixturePath, { char_is_signed: { returns: arkffi.FFIType.i32 } });
  const signed = lib.symbols.char_is_signed() === 1;
  lib.close();
  return signed;
}

// A seeded PRNG (mulberry32) of numbers in [0, 1), for the randomised tests: the same seed
// gives the same cases, so a failure names the seed that reproduces it.
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// The memory glibc's malloc has handed out and not got back (mallinfo2's uordblks + hblkhd),
// read through ArkFFI itself: for the tests of loops that must keep nothing per cycle.
let mallinfo = null;
function mallocInUse() {
  const { dlopen, FFIType: T, StructSchema, releasePtr } = module.exports.arkffi;
  if (!mallinfo) {
    const MallInfo = new StructSchema({
      arena: T.usize, ordblks: T.usize, smblks: T.usize, hblks: T.usize, hblkhd: T.usize,
      usmblks: T.usize, fsmblks: T.usize, uordblks: T.usize, fordblks: T.usize, keepcost: T.usize,
    });
    mallinfo = { MallInfo, libc: dlopen('libc.so.6', { mallinfo2: { returns: MallInfo } }) };
  }
  const p = mallinfo.libc.symbols.mallinfo2();
  const m = mallinfo.MallInfo.fromPtr(p);
  releasePtr(p);
  return Number(m.uordblks) + Number(m.hblkhd);
}

// The rows a probe script prints (as JSON), run twice in child processes: with the direct
// call paths, and with every call through libffi (ARKFFI_NO_DIRECT=1).
function directAndLibffi(probe) {
  const assert = require('node:assert/strict');
  const run = (env) => {
    const r = runNode(probe, { env });
    assert.equal(r.status, 0, r.stderr.slice(-600));
    return JSON.parse(r.stdout);
  };
  return { direct: run({}), libffi: run({ ARKFFI_NO_DIRECT: '1' }) };
}

module.exports = { arkffi, charIsSigned, directAndLibffi, fixturePath, guardPath, hostBuild, mallocInUse, prng, root, runNode };
