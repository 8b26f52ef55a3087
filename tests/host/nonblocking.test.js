// Nonblocking calls: the C function runs on a worker thread and the symbol returns a Promise.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { arkffi, fixturePath } = require('./helpers');
const { dlopen, FFIType: T, StructSchema, releasePtr, heldPtrCount, CFunction, getSymbolPtr } = arkffi;

const ComplexT = new StructSchema({ real: T.f64, imag: T.f64 });
const open = () => dlopen(fixturePath, {
  slow_add: { args: [T.i32, T.i32, T.i32], returns: T.i32, nonblocking: true },
  slow_echo: { args: [T.CString, T.i32], returns: T.CString, nonblocking: true },
  slow_strlen: { args: [T.CString, T.i32], returns: T.usize, nonblocking: true },
  slow_fill: { args: [T.buffer, T.usize, T.u8, T.i32], nonblocking: true },
  slow_complex: { args: [T.f64, T.f64, T.i32], returns: ComplexT, nonblocking: true },
  slow_u64: { args: [T.u64, T.i32], returns: T.u64, nonblocking: true },
  complex_abs2: { args: [ComplexT], returns: T.f64, nonblocking: true },
  add_i32: { args: [T.i32, T.i32], returns: T.i32 },
});

test('a 200 ms C call does not block the JS thread', async () => {
  const lib = open();
  // Had the call blocked the JS thread, it would return only after C's 200 ms, and `await`
  // would resume (a microtask) before any timer. How many 10 ms ticks fit in the 200 ms is a
  // matter of CPU time (fewer on a loaded machine or under emulation), not of blocking.
  let ticks = 0;
  const timer = setInterval(() => ticks++, 10);
  const t0 = Date.now();
  const p = lib.symbols.slow_add(2, 3, 200);
  const returnedAfter = Date.now() - t0;
  assert.ok(p instanceof Promise);
  assert.ok(returnedAfter < 200, `the call returned before C finished (after ${returnedAfter} ms)`);
  assert.equal(lib.symbols.add_i32(1, 1), 2, 'synchronous calls go on meanwhile');
  assert.equal(await p, 5);
  clearInterval(timer);
  assert.ok(Date.now() - t0 >= 190);
  assert.ok(ticks >= 1, `the timer kept ticking while C ran (${ticks} ticks)`);
  lib.close();
});

test('many concurrent nonblocking calls', async () => {
  const lib = open();
  const t0 = Date.now();
  const results = await Promise.all(Array.from({ length: 16 }, (_, i) => lib.symbols.slow_add(i, 100, 50)));
  assert.deepEqual(results, Array.from({ length: 16 }, (_, i) => i + 100));
  assert.ok(Date.now() - t0 < 16 * 50, 'they ran in parallel on worker threads');
  lib.close();
});

test('results of every kind; strings copied, buffers and structs kept alive', async () => {
  const lib = open();
  const long = 'é'.repeat(3000);
  assert.equal(await lib.symbols.slow_strlen(long, 20), 6000);
  assert.equal(await lib.symbols.slow_u64(2n ** 64n - 1n, 1), 2n ** 64n - 1n);
  const buf = new Uint8Array(64);
  const done = lib.symbols.slow_fill(buf.subarray(8, 16), 8, 9, 30);
  assert.equal(await done, undefined);
  assert.deepEqual([...buf.subarray(6, 18)], [0, 0, 9, 9, 9, 9, 9, 9, 9, 9, 0, 0]);
  // A buffer whose only reference is the pending call survives garbage collection.
  const pending = lib.symbols.slow_fill(new Uint8Array(1 << 20), 1 << 20, 1, 50);
  if (global.gc) global.gc();
  await pending;
  const held = heldPtrCount();
  const c = await lib.symbols.slow_complex(1.5, -2, 10);
  assert.deepEqual(ComplexT.fromPtr(c), { real: 1.5, imag: -2 });
  releasePtr(c);
  assert.equal(heldPtrCount(), held);
  assert.equal(await lib.symbols.complex_abs2(ComplexT.create({ real: 3, imag: 4 })), 25);
  lib.close();
});

test('errors reject the Promise', async () => {
  const lib = open();
  await assert.rejects(lib.symbols.slow_add(1, 'x', 0), { name: 'TypeError', message: /^slow_add: args\[1\] must be i32/ });
  await assert.rejects(lib.symbols.slow_add(1, 2), { name: 'TypeError', message: 'slow_add expects 3 arguments, got 2' });
  await assert.rejects(lib.symbols.slow_echo('a\0b', 0), TypeError);
  lib.close();
  await assert.rejects(lib.symbols.slow_add(1, 2, 0), { name: 'Error', message: /is closed/ });
  assert.throws(() => dlopen(fixturePath, { slow_add: { args: [T.i32], nonblocking: 1 } }), { name: 'TypeError', message: /nonblocking must be a boolean/ });
});

test('close() during a nonblocking call: the call finishes, dlclose waits for it', async () => {
  const lib = open();
  const p = lib.symbols.slow_add(20, 22, 100);
  lib.close();
  assert.throws(() => lib.symbols.add_i32(1, 1), /is closed/);
  assert.equal(await p, 42);
});

test('nonblocking CFunction', async () => {
  const lib = open();
  const f = CFunction({ ptr: getSymbolPtr(lib, 'slow_add'), args: [T.i32, T.i32, T.i32], returns: T.i32, nonblocking: true });
  assert.equal(await f(1, 2, 5), 3);
  lib.close();
});
