// No Rust panic crosses the NAPI boundary or a C frame: the internal-error paths, driven by
// the native module's test hook, end as JS Errors and the process carries on.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('path');
const { arkffi, fixturePath, root } = require('./helpers');
const { dlopen, FFIType: T, JSCallback } = arkffi;
const native = require(path.join(root, 'target', 'host', 'arkffi.node'));

test('a panic inside a native entry point becomes an Error', () => {
  assert.throws(() => native.__debugPanic('entry'), { name: 'Error', message: /^arkffi internal error: debug panic requested/ });
  const lib = dlopen(fixturePath, { add_i32: { args: [T.i32, T.i32], returns: T.i32 } });
  assert.equal(lib.symbols.add_i32(1, 2), 3, 'everything still works afterwards');
  lib.close();
});

test('a panic inside a callback trampoline: C gets zero, the JS caller gets an Error', () => {
  const lib = dlopen(fixturePath, { call_both: { args: [T.callback, T.callback, T.i32], returns: T.i32 } });
  let seen;
  const first = new JSCallback((v) => v + 1, { args: [T.i32], returns: T.i32 });
  const second = new JSCallback((v) => { seen = v; return v; }, { args: [T.i32], returns: T.i32 });
  native.__debugPanic('callback');
  assert.throws(() => lib.symbols.call_both(first, second, 5), { name: 'Error', message: /^arkffi internal error in JSCallback\(0x[0-9a-f]+\): debug panic/ });
  assert.equal(seen, 0, 'the panicking callback returned 0 to C, which went on');
  assert.equal(lib.symbols.call_both(first, second, 5), 6, 'the next calls are clean');
  first.close();
  second.close();
  lib.close();
});
