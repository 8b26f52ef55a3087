// The code-signing rule on this host, in its strictest form: the test command runs the host
// tests under `node --jitless` with tests/exec-guard/noexec.c preloaded, which refuses every
// request for executable memory made through libc, anonymous or file-backed. This file proves
// the guard is really active in that run, so every other test (callbacks included) is known to
// pass without any code mapped at run time.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { arkffi, guardPath, fixturePath } = require('./helpers');
const { dlopen, FFIType: T, JSCallback } = arkffi;

const required = process.env.ARKFFI_EXEC_GUARD === 'required';

test('the exec guard is active (when the test command requires it)', { skip: !required && 'run through scripts/test.sh' }, () => {
  assert.ok(process.execArgv.includes('--jitless'), 'node runs with --jitless');
  assert.ok((process.env.LD_PRELOAD || '').includes('libnoexec.so'), 'the guard is preloaded');
  const PROT_READ = 1, PROT_WRITE = 2, PROT_EXEC = 4, MAP_PRIVATE = 2, MAP_ANONYMOUS = 0x20;
  // The guard's mmap is the one the whole process resolves to (V8, libffi, libc callers).
  const libc = dlopen(guardPath, {
    mmap: { args: [T.ptr, T.usize, T.i32, T.i32, T.i32, T.i64], returns: T.ptr },
    munmap: { args: [T.ptr, T.usize], returns: T.i32 },
  });
  const MAP_FAILED = 2n ** 64n - 1n;
  assert.equal(libc.symbols.mmap(null, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), MAP_FAILED,
    'anonymous executable memory is refused');
  assert.equal(libc.symbols.mmap(null, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), MAP_FAILED);
  const rw = libc.symbols.mmap(null, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  assert.notEqual(rw, MAP_FAILED, 'plain data memory is fine');
  libc.symbols.munmap(rw, 4096);
  // A page of a library file, mapped executable again (what libffi's static trampolines do):
  // refused too. Read-only, the same page maps fine.
  const sys = dlopen('libc.so.6', {
    open: { args: [T.CString, T.i32], returns: T.i32 },
    close: { args: [T.i32], returns: T.i32 },
  });
  const fd = sys.symbols.open(fixturePath, 0 /* O_RDONLY */);
  assert.ok(fd >= 0);
  assert.equal(libc.symbols.mmap(null, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0), MAP_FAILED,
    'a file-backed executable mapping is refused');
  const ro = libc.symbols.mmap(null, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
  assert.notEqual(ro, MAP_FAILED);
  libc.symbols.munmap(ro, 4096);
  sys.symbols.close(fd);
  sys.close();
  libc.close();
});

test('callbacks need no executable memory: thousands made, called and closed under the guard', () => {
  const guard = required ? dlopen(guardPath, { noexec_guard_refusals: { returns: T.i64 } }) : null;
  const before = guard ? guard.symbols.noexec_guard_refusals() : 0n;
  const lib = dlopen(fixturePath, { call_add: { args: [T.callback, T.i32, T.i32], returns: T.i32 } });
  let right = 0;
  for (let i = 0; i < 3000; i++) {
    const cb = new JSCallback((a, b) => a * b + i, { args: [T.i32, T.i32], returns: T.i32, threadsafe: i % 2 === 0 });
    if (lib.symbols.call_add(cb, 6, 7) === 42 + i) right++;
    cb.close();
  }
  assert.equal(right, 3000);
  if (guard) {
    assert.equal(guard.symbols.noexec_guard_refusals(), before, 'not one request for executable memory was refused');
    guard.close();
  }
  lib.close();
});
