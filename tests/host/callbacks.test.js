// JSCallback through the public API against C that calls back (tests/fixtures/callbacks.c):
// every type, many calls, structs, qsort, exceptions, close and GC, C threads.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { arkffi, charIsSigned, fixturePath, runNode } = require('./helpers');
const { dlopen, FFIType: T, JSCallback, StructSchema, ptr, read, heldPtrCount } = arkffi;

const lib = dlopen(fixturePath, {
  call_bool: { args: [T.callback, T.bool], returns: T.bool }, call_char: { args: [T.callback, T.char], returns: T.char },
  call_i8: { args: [T.callback, T.i8], returns: T.i8 }, call_u8: { args: [T.callback, T.u8], returns: T.u8 },
  call_i16: { args: [T.callback, T.i16], returns: T.i16 }, call_u16: { args: [T.callback, T.u16], returns: T.u16 },
  call_i32: { args: [T.callback, T.i32], returns: T.i32 }, call_u32: { args: [T.callback, T.u32], returns: T.u32 },
  call_i64: { args: [T.callback, T.i64], returns: T.i64 }, call_u64: { args: [T.callback, T.u64], returns: T.u64 },
  call_isize: { args: [T.callback, T.isize], returns: T.isize }, call_usize: { args: [T.callback, T.usize], returns: T.usize },
  call_f32: { args: [T.callback, T.f32], returns: T.f32 }, call_f64: { args: [T.callback, T.f64], returns: T.f64 },
  call_ptr: { args: [T.callback, T.ptr], returns: T.ptr }, call_str: { args: [T.callback, T.CString], returns: T.CString },
  cb_returns_i8_min: { args: [T.callback], returns: T.i32 }, cb_returns_u64_max: { args: [T.callback], returns: T.i32 },
  cb_returns_strlen: { args: [T.callback], returns: T.usize },
  call_add: { args: [T.callback, T.i32, T.i32], returns: T.i32 }, call_mix: { args: [T.callback], returns: T.f64 },
  call_n_times: { args: [T.callback, T.i32] }, sum_over: { args: [T.callback, T.i32], returns: T.i64 },
  call_both: { args: [T.callback, T.callback, T.i32], returns: T.i32 },
  call_with_complex: { args: [T.callback, T.f64, T.f64], returns: T.f64 },
  call_returning_complex: { args: [T.callback, T.f64, T.f64], returns: T.f64 },
  store_callback: { args: [T.callback] }, call_stored: { args: [T.i32], returns: T.i32 },
  run_threads: { args: [T.callback, T.i32, T.i32], returns: T.i64 },
  run_threads_void: { args: [T.callback, T.i32, T.i32] },
});
const s = lib.symbols;
// The same C function as a nonblocking call: the JS thread stays free while C threads call back.
const asyncLib = dlopen(fixturePath, {
  run_threads: { args: [T.callback, T.i32, T.i32], returns: T.i64, nonblocking: true },
  run_threads_void: { args: [T.callback, T.i32, T.i32], nonblocking: true },
});
const identity = (t) => new JSCallback((v) => v, { args: [t], returns: t });

test('every scalar type through a callback and back, at its limits', () => {
  const cases = [
    ['bool', T.bool, [true, false]], ['i8', T.i8, [-128, 127]], ['u8', T.u8, [0, 255]], ['i16', T.i16, [-32768, 32767]],
    ['u16', T.u16, [65535]], ['i32', T.i32, [-(2 ** 31), 2 ** 31 - 1]], ['u32', T.u32, [2 ** 32 - 1]],
    ['i64', T.i64, [-(2n ** 63n), 2n ** 63n - 1n]], ['u64', T.u64, [2n ** 64n - 1n]], ['isize', T.isize, [-5, 2n ** 62n]],
    ['usize', T.usize, [2 ** 40, 2n ** 63n]], ['f32', T.f32, [1.5, -0, Infinity]], ['f64', T.f64, [Math.PI, -0, -Infinity]],
    ['ptr', T.ptr, [null, 0x1000, 2n ** 60n + 8n]], ['str', T.CString, ['', 'héllo ✓', null, 'x'.repeat(5000)]],
  ];
  for (const [name, type, values] of cases) {
    const cb = identity(type);
    for (const v of values) assert.ok(Object.is(s[`call_${name}`](cb, v), v), `${name} ${String(v).slice(0, 20)}`);
    cb.close();
  }
  const nan = identity(T.f64);
  assert.ok(Number.isNaN(s.call_f64(nan, NaN)));
  nan.close();
  const ch = identity(T.char);
  assert.equal(s.call_char(ch, -1), charIsSigned() ? -1 : 255, 'char keeps the target ABI signedness');
  ch.close();
  const seen = [];
  const typed = new JSCallback((v) => { seen.push(typeof v); return v; }, { args: [T.i64], returns: T.i64 });
  s.call_i64(typed, 5n);
  assert.deepEqual(seen, ['bigint'], 'i64 arguments arrive as bigint');
  typed.close();
});

test('what a callback returns is what C sees', () => {
  const min = new JSCallback(() => -128, { returns: T.i8 });
  const max = new JSCallback(() => 2n ** 64n - 1n, { returns: T.u64 });
  const str = new JSCallback(() => 'twelve chars', { returns: T.CString });
  assert.equal(s.cb_returns_i8_min(min), 1);
  assert.equal(s.cb_returns_u64_max(max), 1);
  assert.equal(s.cb_returns_strlen(str), 12);
  [min, max, str].forEach((c) => c.close());
});

test('an i32 result reaches C exactly, and out-of-range or fractional ones are refused', () => {
  let out;
  const cb = new JSCallback(() => out, { args: [T.i32, T.i32], returns: T.i32 });
  for (const v of [0, -0, 1, -1, 2147483647, -2147483648, -5]) {
    out = v;
    assert.equal(s.call_add(cb, 0, 0), v === 0 ? 0 : v, `returned ${v}`);
  }
  out = 2n ** 31n - 1n; // a bigint in range is fine too
  assert.equal(s.call_add(cb, 0, 0), 2147483647);
  for (const [v, name] of [[2147483648, 'RangeError'], [-2147483649, 'RangeError'], [1.5, 'TypeError'], [NaN, 'TypeError'], [Infinity, 'RangeError']]) {
    out = v;
    assert.throws(() => s.call_add(cb, 0, 0), { name, message: /returned a value that must be i32/ }, `returned ${v}`);
  }
  cb.close();
});

test('many arguments, many calls, two callbacks in one call', () => {
  const mix = new JSCallback((a, b, c, d, e, f) => a + b + c + Number(d) + e + f, {
    args: [T.i8, T.i16, T.i32, T.i64, T.f32, T.f64], returns: T.f64 });
  assert.equal(s.call_mix(mix), -1 + 300 + 70000 + 5000000000 + 0.75);
  const seen = [];
  const push = new JSCallback((i) => { seen.push(i); }, { args: [T.i32] });
  s.call_n_times(push, 1000);
  assert.equal(seen.length, 1000);
  assert.equal(seen[999], 999);
  const sq = new JSCallback((i) => i * i, { args: [T.i32], returns: T.i32 });
  assert.equal(s.sum_over(sq, 100), 328350n);
  const inc = new JSCallback((v) => v + 1, { args: [T.i32], returns: T.i32 });
  assert.equal(s.call_both(inc, sq, 4), 25);
  [mix, push, sq, inc].forEach((c) => c.close());
});

test('qsort from libc with a JS comparator', () => {
  const libc = dlopen('libc.so.6', { qsort: { args: [T.buffer, T.usize, T.usize, T.callback] } });
  const cmp = new JSCallback((a, b) => read.i32(a) - read.i32(b), { args: [T.ptr, T.ptr], returns: T.i32 });
  const values = Int32Array.from({ length: 1000 }, (_, i) => (i * 7919) % 1000 - 500);
  libc.symbols.qsort(values, values.length, 4, cmp.ptr);
  assert.deepEqual([...values], [...values].sort((x, y) => x - y));
  assert.equal(values[0], -500);
  cmp.close();
  libc.close();
});

test('structs by value in and out of callbacks', () => {
  const ComplexT = new StructSchema({ real: T.f64, imag: T.f64 });
  const held = heldPtrCount();
  const abs2 = new JSCallback((p) => { const c = ComplexT.fromPtr(p); return c.real * c.real + c.imag * c.imag; },
    { args: [ComplexT], returns: T.f64 });
  assert.equal(s.call_with_complex(abs2, 3, 4), 25);
  const make = new JSCallback((a, b) => ComplexT.create({ real: a, imag: b }), { args: [T.f64, T.f64], returns: ComplexT });
  assert.equal(s.call_returning_complex(make, 7, 9), 7009);
  assert.equal(heldPtrCount(), held, 'struct arguments of callbacks are not held');
  const wrong = new JSCallback(() => new ArrayBuffer(8), { args: [T.f64, T.f64], returns: ComplexT });
  assert.throws(() => s.call_returning_complex(wrong, 1, 1), { name: 'TypeError', message: /returned a value that must be a struct of 16 bytes/ });
  [abs2, make, wrong].forEach((c) => c.close());
});

test('an exception in a callback is rethrown to the JS caller; C gets a zero result', () => {
  const err = new Error('boom');
  let calls = 0;
  const thrower = new JSCallback(() => { calls++; throw err; }, { args: [T.i32, T.i32], returns: T.i32 });
  assert.throws(() => s.call_add(thrower, 1, 2), (e) => e === err, 'the very same exception object');
  assert.equal(calls, 1);
  const sumThrower = new JSCallback((i) => { if (i === 3) throw new RangeError('at 3'); return 1; }, { args: [T.i32], returns: T.i32 });
  assert.throws(() => s.sum_over(sumThrower, 10), { name: 'RangeError', message: 'at 3' });
  let zeroSeen;
  const zero = new JSCallback(() => { throw new Error('first'); }, { args: [T.i32], returns: T.i32 });
  const after = new JSCallback((v) => { zeroSeen = v; return v; }, { args: [T.i32], returns: T.i32 });
  assert.throws(() => s.call_both(zero, after, 5), { message: 'first' });
  assert.equal(zeroSeen, 0, 'C received the zero value and carried on');
  const wrongType = new JSCallback(() => 'not a number', { args: [T.i32, T.i32], returns: T.i32 });
  assert.throws(() => s.call_add(wrongType, 1, 2), { name: 'TypeError', message: /^JSCallback\(0x[0-9a-f]+\) returned a value that must be i32 .*got string "not a number"$/ });
  assert.equal(s.call_add(new JSCallback((a, b) => a + b, { args: [T.i32, T.i32], returns: T.i32 }), 2, 2), 4, 'later calls are clean');
  [thrower, sumThrower, zero, after, wrongType].forEach((c) => c.close());
});

test('close: idempotent, ptr becomes null, memory is returned', async () => {
  const before = JSCallback.liveCount();
  const cb = identity(T.i32);
  assert.equal(typeof cb.ptr, 'number');
  assert.equal(JSCallback.liveCount(), before + 1);
  cb.close();
  cb.close();
  assert.equal(cb.ptr, null);
  assert.equal(JSCallback.liveCount(), before);
  // Create, call and close many: the count returns and RSS stays flat.
  const settle = async () => { for (let i = 0; i < 5; i++) { if (global.gc) global.gc(); await new Promise((r) => setImmediate(r)); } };
  const cycle = async (n, threadsafe) => {
    for (let i = 0; i < n; i++) {
      const c = new JSCallback((v) => v + i, { args: [T.i32], returns: T.i32, threadsafe });
      assert.equal(s.call_i32(c, 1), 1 + i);
      c.close();
      if (i % 1000 === 0) await new Promise((r) => setImmediate(r));
    }
  };
  await cycle(5000, true);
  assert.equal(JSCallback.liveCount(), before, 'threadsafe callbacks are all released too');
  await cycle(5000, false);
  await settle();
  const rss0 = process.memoryUsage.rss();
  await cycle(30000, false);
  await settle();
  const grown = process.memoryUsage.rss() - rss0;
  assert.equal(JSCallback.liveCount(), before);
  assert.ok(grown < 4 * 1024 * 1024, `RSS grew by ${grown} bytes over 30000 create/call/close cycles`);
});

test('a callback closed from inside itself finishes its call', () => {
  let self;
  self = new JSCallback((v) => { self.close(); return v * 3; }, { args: [T.i32], returns: T.i32 });
  assert.equal(s.call_i32(self, 5), 15);
  assert.equal(self.ptr, null);
});

test('GC never frees an open callback: C may still hold its pointer', () => {
  const out = runNode(`
    const { dlopen, FFIType: T, JSCallback } = require(process.env.HOST_BUILD);
    const lib = dlopen(process.env.FIXTURE, { store_callback: { args: [T.callback] }, call_stored: { args: [T.i32], returns: T.i32 } });
    (() => { lib.symbols.store_callback(new JSCallback((v) => v + 100, { args: [T.i32], returns: T.i32 })); })();
    (async () => {
      for (let i = 0; i < 10; i++) { global.gc(); await new Promise((r) => setImmediate(r)); }
      console.log(lib.symbols.call_stored(1), JSCallback.liveCount());
    })();`, { args: ['--expose-gc'] });
  assert.equal(out.stdout, '101 1', out.stderr);
});

test('callback errors: not a function, bad definitions', () => {
  assert.throws(() => new JSCallback(5, { args: [] }), { name: 'TypeError', message: /^JSCallback: argument 0 must be a function, got number 5$/ });
  assert.throws(() => new JSCallback(() => 0, { args: [99] }), { name: 'TypeError', message: /JSCallback: args\[0\] is not an FFIType/ });
  assert.throws(() => new JSCallback(() => 0, { args: [T.void] }), TypeError);
  assert.throws(() => new JSCallback(() => 0, { threadsafe: 'yes' }), { name: 'TypeError', message: /threadsafe must be a boolean/ });
  assert.throws(() => new JSCallback(() => 0, { thread_safe: true }), { name: 'TypeError', message: /unknown key "thread_safe"/ });
  assert.throws(() => s.call_i32({ ptr: 'x' }, 1), { name: 'TypeError', message: /must be callback/ });
});

test('threadsafe callbacks called from C threads: void and non-void, while the JS thread is free', async () => {
  const seen = new Set();
  const add = new JSCallback((v) => v * 2, { args: [T.i32], returns: T.i32, threadsafe: true });
  const note = new JSCallback((v) => { seen.add(v); }, { args: [T.i32], threadsafe: true });
  const total = await asyncLib.symbols.run_threads(add, 8, 25);
  let expected = 0n;
  for (let t = 0; t < 8; t++) for (let k = 0; k < 25; k++) expected += BigInt((t * 1000 + k) * 2);
  assert.equal(total, expected);
  await asyncLib.symbols.run_threads_void(note, 4, 10);
  for (let i = 0; i < 50 && seen.size < 40; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(seen.size, 40, 'every void call arrived');
  add.close();
  note.close();
});

test('a threadsafe callback called on its own thread runs at once', () => {
  const cb = new JSCallback((v) => v + 1, { args: [T.i32], returns: T.i32, threadsafe: true });
  assert.equal(s.call_i32(cb, 41), 42);
  cb.close();
});

test('no deadlock when the JS thread blocks in the call that waits for the C threads', async () => {
  // Void results: C does not wait; the calls run once the blocking call has returned.
  const seen = [];
  const note = new JSCallback((v) => { seen.push(v); }, { args: [T.i32], threadsafe: true });
  s.run_threads_void(note, 2, 3);
  assert.equal(seen.length, 0, 'queued, not run, while the JS thread was blocked');
  for (let i = 0; i < 50 && seen.length < 6; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(seen.length, 6);
  note.close();
  // Non-void results: the C threads give up after a grace period with a zero result, and
  // the blocking call throws an Error that says what happened and what to do.
  let ran = 0;
  const add = new JSCallback((v) => { ran++; return v; }, { args: [T.i32], returns: T.i32, threadsafe: true });
  const t0 = Date.now();
  assert.throws(() => s.run_threads(add, 2, 1), {
    name: 'Error', message: /called from another thread while its JS thread was blocked in a synchronous FFI call .*nonblocking: true/ });
  assert.ok(Date.now() - t0 < 10000);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(ran, 0, 'the cancelled calls never run later');
  add.close();
});

test('a non-threadsafe callback called from another thread aborts with a clear message', () => {
  const out = runNode(`
    const { dlopen, FFIType: T, JSCallback } = require(process.env.HOST_BUILD);
    const lib = dlopen(process.env.FIXTURE, { call_from_thread: { args: [T.callback, T.i32], returns: T.i32 } });
    const cb = new JSCallback((v) => v, { args: [T.i32], returns: T.i32 });
    console.log('before');
    lib.symbols.call_from_thread(cb, 1);
    console.log('after');`);
  assert.equal(out.signal, 'SIGABRT');
  assert.equal(out.stdout, 'before');
  assert.match(out.stderr, /arkffi: fatal: JSCallback\(0x[0-9a-f]+\) was called from a thread that is not the JS thread that created it; create it with \{ threadsafe: true \}/);
});

test('an exception with no JS caller on the stack is reported as uncaught', () => {
  const out = runNode(`
    const { dlopen, FFIType: T, JSCallback } = require(process.env.HOST_BUILD);
    const lib = dlopen(process.env.FIXTURE, { run_threads_void: { args: [T.callback, T.i32, T.i32], nonblocking: true } });
    process.on('uncaughtException', (e) => { console.log('uncaught:', e.message); process.exit(0); });
    const cb = new JSCallback(() => { throw new Error('from a C thread'); }, { args: [T.i32], threadsafe: true });
    lib.symbols.run_threads_void(cb, 1, 1);
    setTimeout(() => { console.log('no report'); process.exit(1); }, 5000);`);
  assert.equal(out.stdout, 'uncaught: from a C thread', out.stderr);
});

// A threadsafe callback that fails while its C thread waits for the result, in a nonblocking
// call whose C function joins that thread: C gets the zero result before the error is
// reported, so the error cannot end the process while the thread pool's worker still waits
// for the C thread (which used to hang the process for ever).
for (const [what, body] of [['throws', "throw new Error('boom')"], ['returns the wrong type', "return 'x'"]]) {
  test(`a threadsafe callback that ${what} while C waits for it: the process exits with the error, no hang`, () => {
    const out = runNode(`
      const { dlopen, FFIType: T, JSCallback } = require(process.env.HOST_BUILD);
      const lib = dlopen(process.env.FIXTURE, { run_threads: { args: [T.callback, T.i32, T.i32], returns: T.i64, nonblocking: true } });
      const cb = new JSCallback((v) => { ${body}; }, { args: [T.i32], returns: T.i32, threadsafe: true });
      lib.symbols.run_threads(cb, 1, 1);`);
    assert.equal(out.signal, null, `ended by ${out.signal} (a hang is killed by the time-out)`);
    assert.equal(out.status, 1, out.stderr);
    assert.match(out.stderr, what === 'throws' ? /boom/ : /JSCallback\(0x[0-9a-f]+\) returned a value that must be i32/);
  });

  test(`a threadsafe callback that ${what} while C waits for it, with an uncaughtException handler: the call resolves with C's result`, () => {
    const out = runNode(`
      const { dlopen, FFIType: T, JSCallback } = require(process.env.HOST_BUILD);
      const lib = dlopen(process.env.FIXTURE, { run_threads: { args: [T.callback, T.i32, T.i32], returns: T.i64, nonblocking: true } });
      let seen = 0;
      process.on('uncaughtException', () => { seen++; });
      const cb = new JSCallback((v) => { if (v === 1001) { ${body}; } return v; }, { args: [T.i32], returns: T.i32, threadsafe: true });
      lib.symbols.run_threads(cb, 2, 2).then((total) => { console.log(String(total), seen); cb.close(); lib.close(); });`);
    assert.equal(out.status, 0, out.stderr);
    // Threads 0 and 1 call f(0), f(1) and f(1000), f(1001); f(1001) failed, so C got 0 for it.
    assert.equal(out.stdout, '1001 1');
  });
}
