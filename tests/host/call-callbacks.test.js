// Callbacks for one call: a CallbackType parameter takes a plain function, which gets a
// callback slot for that call only (libc's qsort, tests/fixtures/core.c's apply_i32).
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { arkffi, fixturePath } = require('./helpers');
const { dlopen, FFIType: T, C, CFunction, CallbackType, JSCallback, read, ptr } = arkffi;

const Cmp = new CallbackType({ args: [T.ptr, T.ptr], returns: T.i32 });
const IntFn = new CallbackType({ args: [C.i32], returns: C.i32 });
const libc = dlopen('libc.so.6', { qsort: { args: [T.buffer, T.usize, T.usize, Cmp] } });
const lib = dlopen(fixturePath, { apply_i32: { args: [IntFn, T.i32], returns: T.i32 } });

test('qsort with a plain comparator; its slot is freed when the call returns', () => {
  const before = JSCallback.liveCount();
  const ints = new Int32Array([5, -3, 9, 0, 2, 7]);
  let calls = 0;
  libc.symbols.qsort(ints, ints.length, 4, (a, b) => {
    calls++;
    assert.equal(JSCallback.liveCount(), before + 1);
    return read.i32(a) - read.i32(b);
  });
  assert.deepEqual([...ints], [-3, 0, 2, 5, 7, 9]);
  assert.ok(calls > 0);
  assert.equal(JSCallback.liveCount(), before);
  // Many calls: every one gives its slot back.
  for (let i = 0; i < 2 * JSCallback.slotCount() / 1024; i++) assert.equal(lib.symbols.apply_i32((x) => x + i, 1), 1 + i);
  for (let i = 0; i < 5000; i++) lib.symbols.apply_i32((x) => x, i);
  assert.equal(JSCallback.liveCount(), before);
});

test('a JSCallback or an address is still accepted, and a typed token', () => {
  const cb = new JSCallback((x) => x * 3, { args: [T.i32], returns: T.i32 });
  assert.equal(lib.symbols.apply_i32(cb, 5), 15);
  const twice = lib.symbolPtr('twice');
  assert.equal(lib.symbols.apply_i32(twice, 5), 10);
  assert.equal(lib.symbols.apply_i32(null, 5), -1);
  cb.close();
  const apply = lib.func('apply_i32', C.i32, IntFn, C.i32);
  assert.equal(apply((x) => x - 1, 5), 4);
  const qsort = CFunction({ ptr: libc.symbolPtr('qsort'), args: [T.buffer, T.usize, T.usize, Cmp] });
  const d = new Float64Array([3.5, -1, 2]);
  qsort(d, 3, 8, (a, b) => Math.sign(read.f64(a) - read.f64(b)));
  assert.deepEqual([...d], [-1, 2, 3.5]);
});

test('a nested call that uses another per-call callback', () => {
  const before = JSCallback.liveCount();
  const ints = new Int32Array([3, 1, 2]);
  libc.symbols.qsort(ints, 3, 4, (a, b) => {
    // Inside the comparator: another call with a plain function of its own.
    const da = lib.symbols.apply_i32((x) => x * 10, read.i32(a));
    assert.equal(JSCallback.liveCount(), before + 1);
    return da - read.i32(b) * 10;
  });
  assert.deepEqual([...ints], [1, 2, 3]);
  assert.equal(JSCallback.liveCount(), before);
});

test('an exception inside the callback is thrown by the call; the slot is freed', () => {
  const before = JSCallback.liveCount();
  assert.throws(() => lib.symbols.apply_i32(() => { throw new RangeError('from the callback'); }, 1),
    { name: 'RangeError', message: 'from the callback' });
  assert.throws(() => lib.symbols.apply_i32(() => 'not a number', 1), { name: 'TypeError', message: /returned a value that must be i32/ });
  assert.equal(JSCallback.liveCount(), before);
  // A conversion error after the callback was made: it is freed too.
  assert.throws(() => lib.symbols.apply_i32((x) => x, 'x'), { name: 'TypeError', message: /^apply_i32: args\[1\] must be i32/ });
  assert.equal(JSCallback.liveCount(), before);
});

test('plain functions are refused where no CallbackType is declared, and by nonblocking calls', async () => {
  const plain = dlopen(fixturePath, { apply_i32: { args: [T.callback, T.i32], returns: T.i32 } });
  assert.throws(() => plain.symbols.apply_i32((x) => x, 1), { name: 'TypeError', message: /^apply_i32: args\[0\] must be callback/ });
  const later = dlopen(fixturePath, { apply_i32: { args: [IntFn, T.i32], returns: T.i32, nonblocking: true } });
  await assert.rejects(later.symbols.apply_i32((x) => x, 1), { name: 'TypeError', message: /^apply_i32: args\[0\] is a function: a plain function is a callback for one synchronous call/ });
  assert.throws(() => dlopen(fixturePath, { apply_i32: { args: [new CallbackType({ args: [99] })] } }),
    { name: 'TypeError', message: /args\[0\] \(CallbackType\): args\[0\] is not an FFIType/ });
  plain.close();
  later.close();
});
