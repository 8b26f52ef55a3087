// A library's close() frees at once what it can (issue 14, "Memory in tight loops"): the
// prepared call interfaces of its functions go with the dlclose, and its three methods share
// one finalizer, so that in a loop that never yields to the event loop (where Node and
// OpenHarmony run finalizers) a dlopen + call + close cycle keeps only the small shells its
// finalizers free later (before: about 1,950 bytes per cycle; now about 1,400). Calls after
// close() still throw the same Error on every call path, and a close() during a call still
// works.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { arkffi, fixturePath, mallocInUse, runNode } = require('./helpers');
const { dlopen, FFIType: T, C, JSCallback } = arkffi;

const closedMessage = (name) => new RegExp(`^${name}: library ".*libfixture\\.so" is closed$`);

test('a dlopen + call + close cycle in a loop that never yields keeps less than 1600 bytes of malloc', (t) => {
  const cycle = () => {
    const lib = dlopen(fixturePath, { add_i32: { args: [T.i32, T.i32], returns: T.i32 } });
    assert.equal(lib.symbols.add_i32(1, 2), 3);
    lib.close();
  };
  const cycles = 10000;
  for (let i = 0; i < 200; i++) cycle();
  const before = mallocInUse();
  for (let i = 0; i < cycles; i++) cycle();
  const perCycle = (mallocInUse() - before) / cycles;
  t.diagnostic(`${perCycle.toFixed(0)} bytes per cycle`);
  assert.ok(perCycle < 1600, `${perCycle.toFixed(0)} bytes of malloc kept per dlopen + call + close cycle`);
});

test('calls after close() throw the same Error on every call path (direct, libffi, variadic, nonblocking, typed lib.func and funcAsync)', async () => {
  const lib = dlopen(fixturePath, {
    add_i32: { args: [T.i32, T.i32], returns: T.i32 },
    apply_i32: { args: [T.callback, T.i32], returns: T.i32 },
    sum_doubles: { args: [T.i32], returns: T.f64, variadic: true },
    slow_add: { args: [T.i32, T.i32, T.i32], returns: T.i32, nonblocking: true },
  });
  const typed = lib.func('add_i32', C.i32, C.i32, C.i32);
  const typedAsync = lib.funcAsync('add_i32', C.i32, C.i32, C.i32);
  const cb = new JSCallback((x) => x * 2, { args: [T.i32], returns: T.i32 });
  assert.equal(lib.symbols.apply_i32(cb, 4), 8);
  assert.equal(lib.symbols.sum_doubles(2, T.f64, 1.5, T.f64, 2), 3.5);
  assert.equal(await lib.symbols.slow_add(1, 2, 0), 3);
  lib.close();
  const s = lib.symbols;
  for (const [name, call] of [
    ['add_i32', () => s.add_i32(1, 2)],
    ['add_i32', () => s.add_i32(1)], // the wrong count too: closed is said first
    ['apply_i32', () => s.apply_i32(cb, 4)],
    ['sum_doubles', () => s.sum_doubles(2, T.f64, 1.5, T.f64, 2)],
    ['sum_doubles', () => s.sum_doubles()],
    ['add_i32', () => typed(1, 2)],
  ]) {
    assert.throws(call, (e) => e.constructor === Error && closedMessage(name).test(e.message), name);
  }
  for (const [name, call] of [
    ['slow_add', () => s.slow_add(1, 2, 0)],
    ['slow_add', () => s.slow_add(1)],
    ['add_i32', () => typedAsync(1, 2)],
  ]) {
    await assert.rejects(call(), (e) => e.constructor === Error && closedMessage(name).test(e.message), name);
  }
  assert.throws(() => lib.func('add_i32', C.i32, C.i32, C.i32), /is closed/);
  cb.close();
});

test('close() during a call (a callback, a getter, a nonblocking call in flight): the call completes or fails cleanly and later calls throw', () => {
  const r = runNode(`
    const A = require(process.env.HOST_BUILD);
    const { dlopen, FFIType: T, JSCallback } = A;
    const caught = (f) => { try { f(); return null; } catch (e) { return e.message; } };
    const out = {};
    // A callback closes the library during a libffi-path call: the call's result is still
    // converted after the postponed dlclose.
    const lib = dlopen(process.env.FIXTURE, { sum_over: { args: [T.callback, T.i32], returns: T.i64 },
      add_i32: { args: [T.i32, T.i32], returns: T.i32 } });
    const cb = new JSCallback((i) => { if (i === 0) lib.close(); return i; }, { args: [T.i32], returns: T.i32 });
    out.sum = String(lib.symbols.sum_over(cb, 100));
    out.again = caught(() => lib.symbols.sum_over(cb, 1));
    out.add = caught(() => lib.symbols.add_i32(1, 2));
    cb.close();
    // A variadic argument's type token closes the library while the arguments are converted.
    const v = dlopen(process.env.FIXTURE, { sum_doubles: { args: [T.i32], returns: T.f64, variadic: true } });
    const token = { get ffiType() { v.close(); return T.f64; } };
    out.variadic = caught(() => v.symbols.sum_doubles(1, token, 2));
    out.variadicAgain = caught(() => v.symbols.sum_doubles(1, T.f64, 2));
    // close() while a nonblocking call runs: it completes, the next one is refused.
    const nb = dlopen(process.env.FIXTURE, { slow_add: { args: [T.i32, T.i32, T.i32], returns: T.i32, nonblocking: true },
      add_i32: { args: [T.i32, T.i32], returns: T.i32 } });
    const running = nb.symbols.slow_add(2, 3, 50);
    nb.close();
    out.syncAfter = caught(() => nb.symbols.add_i32(1, 2));
    running.then((x) => {
      out.inFlight = x;
      return nb.symbols.slow_add(1, 1, 0).then(() => 'resolved', (e) => e.message);
    }).then((m) => { out.nbAgain = m; process.stdout.write(JSON.stringify(out)); });
  `);
  assert.equal(r.signal, null, r.stderr.slice(-600));
  assert.equal(r.status, 0, r.stderr.slice(-600));
  const out = JSON.parse(r.stdout);
  assert.equal(out.sum, '4950');
  assert.match(out.again, closedMessage('sum_over'));
  assert.match(out.add, closedMessage('add_i32'));
  assert.match(out.variadic, closedMessage('sum_doubles'));
  assert.match(out.variadicAgain, closedMessage('sum_doubles'));
  assert.match(out.syncAfter, closedMessage('add_i32'));
  assert.equal(out.inFlight, 5);
  assert.match(out.nbAgain, closedMessage('slow_add'));
});

test("a library's methods share one finalizer: each keeps the others and the handle alive once the library object is gone", () => {
  const r = runNode(`
    const A = require(process.env.HOST_BUILD);
    const { dlopen, FFIType: T } = A;
    const native = (lib) => lib.handle || lib; // the package's Library wraps the native object
    let lib = dlopen(process.env.FIXTURE, { add_i32: { args: [T.i32, T.i32], returns: T.i32 } });
    const { symbolPtr } = native(lib);
    let { close } = native(lib);
    const add = lib.symbols.add_i32;
    lib = null;
    const out = {};
    const collect = () => new Promise((done) => { global.gc(); setTimeout(() => { global.gc(); setTimeout(done, 20); }, 20); });
    collect().then(() => {
      out.ptr = typeof symbolPtr('add_i32');
      out.sum = add(2, 3);
      close = null; // only symbolPtr is left: it still reaches the handle
      return collect();
    }).then(() => {
      out.ptr2 = typeof symbolPtr('add_i32');
      process.stdout.write(JSON.stringify(out));
    });
  `, { args: ['--expose-gc'] });
  assert.equal(r.signal, null, r.stderr.slice(-600));
  assert.equal(r.status, 0, r.stderr.slice(-600));
  assert.deepEqual(JSON.parse(r.stdout), { ptr: 'number', sum: 5, ptr2: 'number' });
});
