// errno(): C's errno as the most recent synchronous call of this thread left it, read by the
// call path right after the C function returned (tests/fixtures/core.c, and libc itself).
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { arkffi, fixturePath } = require('./helpers');
const { dlopen, FFIType: T, CFunction, JSCallback, C, errno } = arkffi;

const lib = dlopen(fixturePath, {
  set_errno: { args: [T.i32], returns: T.i32 },
  set_errno7: { args: [T.i32, T.i32, T.i32, T.i32, T.i32, T.i32, T.i32], returns: T.i32 },
  set_errno_str: { args: [T.i32], returns: T.CString },
  set_errno_after: { args: [T.callback, T.i32], returns: T.i32 },
});

test('errno after a direct-path call', () => {
  assert.equal(lib.symbols.set_errno(42), -1);
  assert.equal(errno(), 42);
  assert.equal(lib.symbols.set_errno(0), -1);
  assert.equal(errno(), 0);
});

test('errno after a libffi-path call (seven arguments)', () => {
  lib.symbols.set_errno7(1, 2, 3, 4, 5, 6, 7);
  assert.equal(errno(), 28);
});

test('errno is read before the result is converted', () => {
  assert.equal(lib.symbols.set_errno_str(13), 'errno');
  assert.equal(errno(), 13);
});

test('errno is the outer call\'s when a callback made calls of its own inside it', () => {
  const cb = new JSCallback(() => {
    lib.symbols.set_errno(99);
    assert.equal(errno(), 99);
  }, { returns: T.void });
  lib.symbols.set_errno_after(cb, 7);
  assert.equal(errno(), 7);
  cb.close();
});

test('errno of real libc failures, through CFunction and lib.func', () => {
  const libc = dlopen('libc.so.6');
  const close = libc.func('close', C.i32, C.i32);
  assert.equal(close(-1), -1);
  assert.equal(errno(), 9); // EBADF
  const open = CFunction({ ptr: libc.symbolPtr('open'), args: [T.CString, T.i32], returns: T.i32 });
  assert.equal(open('/nonexistent/arkffi-errno', 0), -1);
  assert.equal(errno(), 2); // ENOENT
  libc.close();
});

test('nonblocking calls do not change errno (their C runs on another thread)', async () => {
  lib.symbols.set_errno(5);
  assert.equal(await lib.funcAsync('set_errno', C.i32, C.i32)(77), -1);
  assert.equal(errno(), 5);
});

test('errno takes no arguments and is a number', () => {
  assert.equal(typeof errno(), 'number');
});
