// Crashes, hangs and silent misbehaviour found by fuzzing and by other FFIs' test suites
// (issue 14): each case runs in a child process of its own, so that a crash fails one test
// with its signal instead of taking the suite down.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { runNode } = require('./helpers');

const prelude = `
const A = require(process.env.HOST_BUILD);
const { dlopen, FFIType: T, StructSchema, JSCallback, ptr, read } = A;
const FIXTURE = process.env.FIXTURE;
const out = (v) => process.stdout.write(JSON.stringify(v));
const caught = (f) => { try { f(); return null; } catch (e) { return { name: e.constructor.name, message: e.message }; } };
const mapped = () => require('fs').readFileSync('/proc/self/maps', 'utf8').includes('libfixture.so');
`;

// Run `body` in a child process; it prints one JSON value, which is returned.
function child(body, options) {
  const r = runNode(prelude + body, options);
  assert.equal(r.signal, null, `the child crashed with ${r.signal}: ${r.stderr.slice(-600)}`);
  assert.equal(r.status, 0, r.stderr.slice(-600));
  return JSON.parse(r.stdout);
}

test('lib.close() in a callback during a synchronous call into the library: dlclose waits for the call (item 2)', () => {
  // sum_over calls the callback n times in a loop: after the first call closes the library,
  // the loop goes on in the library's code.
  const r = child(`
    const lib = dlopen(FIXTURE, { sum_over: { args: [T.callback, T.i32], returns: T.i64 } });
    const cb = new JSCallback((i) => { if (i === 0) lib.close(); return i; }, { args: [T.i32], returns: T.i32 });
    const before = mapped();
    const sum = lib.symbols.sum_over(cb, 100);
    const after = mapped();
    const again = caught(() => lib.symbols.sum_over(cb, 1));
    cb.close();
    out({ before, sum: String(sum), after, again });
  `);
  assert.equal(r.before, true);
  assert.equal(r.sum, '4950', 'the call ran to its end in the library it was in');
  assert.equal(r.after, false, 'the library is dlclosed once the call has returned');
  assert.equal(r.again.name, 'Error');
  assert.match(r.again.message, /^sum_over: library ".*" is closed$/);
});

test('lib.close() in a nested callback: dlclose waits for the outermost call (item 2)', () => {
  const r = child(`
    const lib = dlopen(FIXTURE, { apply_i32: { args: [T.callback, T.i32], returns: T.i32 },
      call_add: { args: [T.callback, T.i32, T.i32], returns: T.i32 } });
    const inner = new JSCallback((x) => { lib.close(); return x + 1; }, { args: [T.i32], returns: T.i32 });
    let seen;
    const outer = new JSCallback((a, b) => { const v = lib.symbols.apply_i32(inner, a); seen = mapped(); return v + b; },
      { args: [T.i32, T.i32], returns: T.i32 });
    const v = lib.symbols.call_add(outer, 10, 5);
    out({ v, seen, after: mapped() });
  `);
  assert.deepEqual(r, { v: 16, seen: true, after: false });
});

test('a getter that closes the library while the arguments are converted: the call fails, nothing runs (item 2)', () => {
  const r = child(`
    const lib = dlopen(FIXTURE, { apply_i32: { args: [T.callback, T.i32], returns: T.i32 } });
    const twice = A.getSymbolPtr(lib, 'twice');
    const sneaky = { get ptr() { lib.close(); return twice; } };
    out({ e: caught(() => lib.symbols.apply_i32(sneaky, 4)), after: mapped() });
  `);
  assert.equal(r.e.name, 'Error');
  assert.match(r.e.message, /^apply_i32: library ".*" is closed$/);
  assert.equal(r.after, false);
});

test('a closed JSCallback as a callback argument is an Error, not a NULL call (item 3)', () => {
  const r = child(`
    const lib = dlopen(FIXTURE, { call_add: { args: [T.callback, T.i32, T.i32], returns: T.i32 } });
    const cb = new JSCallback((a, b) => a + b, { args: [T.i32, T.i32], returns: T.i32 });
    const ok = lib.symbols.call_add(cb, 1, 2);
    cb.close();
    out({ ok, e: caught(() => lib.symbols.call_add(cb, 1, 2)) });
  `);
  assert.equal(r.ok, 3);
  assert.equal(r.e.name, 'Error');
  assert.match(r.e.message, /^call_add: args\[0\] is a closed JSCallback/);
});

test('StructSchema nesting is limited when the schema is built, and the limit runs on a 512 KiB Worker stack (item 4)', () => {
  const r = child(`
    let s = new StructSchema({ a: T.i32 });
    let levels = 1;
    let refused = null;
    for (let i = 0; i < 100000 && !refused; i++) {
      refused = caught(() => { s = new StructSchema({ a: s, b: T.u8 }); });
      if (!refused) levels++;
    }
    const selfArray = { length: 1 }; selfArray.element = selfArray;
    const arrays = caught(() => new StructSchema({ x: selfArray }));
    // The deepest schema accepted, used every way on a Worker with a 512 KiB stack.
    const { Worker } = require('worker_threads');
    const w = new Worker(\`
      const { parentPort } = require('worker_threads');
      const A = require(process.env.HOST_BUILD);
      const T = A.FFIType;
      let s = new A.StructSchema({ a: T.i32 });
      for (let i = 1; i < \${levels}; i++) s = new A.StructSchema({ a: s, b: T.u8 });
      let a = T.u8;
      for (let i = 1; i < \${levels}; i++) a = A.StructSchema.array(a, 1);
      const arr = new A.StructSchema({ a });
      const lib = A.dlopen(process.env.FIXTURE, { noop: { args: [s] } });
      const buf = s.create({});
      lib.symbols.noop(buf);
      const back = s.fromBuffer(buf);
      let depth = 0; for (let v = back; typeof v === 'object'; v = v.a) depth++;
      s.fromPtr(A.ptr(buf));
      arr.fromBuffer(arr.create({}));
      lib.close();
      parentPort.postMessage(depth);
    \`, { eval: true, env: process.env, resourceLimits: { stackSizeMb: 0.5 } });
    w.on('message', (depth) => out({ levels, refused, arrays, depth }));
    w.on('error', (e) => out({ levels, refused, arrays, worker: String(e) }));
  `);
  assert.equal(r.levels, 32);
  assert.equal(r.refused.name, 'RangeError');
  assert.match(r.refused.message, /^StructSchema: field "a": structs and arrays nest 33 levels deep here; at most 32 levels are supported$/);
  assert.equal(r.arrays.name, 'RangeError');
  assert.match(r.arrays.message, /at most 32 levels/);
  assert.equal(r.worker, undefined);
  assert.equal(r.depth, 32);
});

test('a struct too large for the stack is refused by value with a RangeError that says to pass a pointer (item 6)', () => {
  const r = child(`
    const Big = new StructSchema({ a: StructSchema.array(T.u8, 8 << 20) });
    const Ok = new StructSchema({ a: StructSchema.array(T.u8, 65536) });
    const Half = new StructSchema({ a: StructSchema.array(T.u8, 40000) });
    const big = caught(() => dlopen(FIXTURE, { noop: { args: [Big] } }));
    const two = caught(() => dlopen(FIXTURE, { noop: { args: [Half, Half] } }));
    const result = caught(() => A.CFunction({ ptr: 4096, returns: Big }));
    const cb = caught(() => new JSCallback(() => {}, { args: [Big] }));
    // At the limit: a call works (64 KiB copied by value).
    const lib = dlopen(FIXTURE, { noop: { args: [Ok] } });
    lib.symbols.noop(Ok.create({}));
    out({ big, two, result, cb });
  `);
  for (const k of ['big', 'two', 'result', 'cb']) assert.equal(r[k].name, 'RangeError', `${k}: ${r[k].message}`);
  assert.match(r.big.message, /^dlopen\(".*"\): symbol "noop": args\[0\] is a struct of 8388608 bytes passed by value.*limited to 65536 bytes per call: pass a pointer instead/);
  assert.match(r.two.message, /args\[1\] is a struct of 40000 bytes passed by value, which makes 80000 bytes/);
  assert.match(r.result.message, /^CFunction: returns is a struct of 8388608 bytes by value.*pointer/);
  assert.match(r.cb.message, /^JSCallback: args\[0\] is a struct/);
});

test('a resizable ArrayBuffer is refused by nonblocking calls (item 9)', () => {
  const r = child(`
    const lib = dlopen(FIXTURE, { slow_fill: { args: [T.buffer, T.usize, T.u8, T.i32], returns: T.void, nonblocking: true } });
    const ab = new ArrayBuffer(1 << 20, { maxByteLength: 1 << 20 });
    const p = lib.symbols.slow_fill(new Uint8Array(ab), 1 << 20, 7, 100);
    ab.resize(0);
    p.then(() => out({ resolved: true }), (e) => out({ name: e.constructor.name, message: e.message }));
  `);
  assert.equal(r.name, 'TypeError');
  assert.match(r.message, /^slow_fill: args\[0\] is a resizable ArrayBuffer \(or a view of one\): nonblocking calls do not take resizable buffers/);
});

test('a resizable ArrayBuffer is refused by a synchronous call that takes a callback, which could shrink it (item 10)', () => {
  const r = child(`
    const lib = dlopen(FIXTURE, { fill_after_callback: { args: [T.buffer, T.usize, T.callback, T.u8], returns: T.void } });
    const ab = new ArrayBuffer(1 << 20, { maxByteLength: 1 << 20 });
    const shrink = new JSCallback(() => { ab.resize(0); }, { returns: T.void });
    const e = caught(() => lib.symbols.fill_after_callback(ab, 1 << 20, shrink, 7));
    // A fixed-length buffer works as before.
    const fixed = new Uint8Array(16);
    const noop = new JSCallback(() => {}, { returns: T.void });
    lib.symbols.fill_after_callback(fixed, 16, noop, 9);
    out({ e, fixed: [...fixed] });
  `);
  assert.equal(r.e.name, 'TypeError');
  assert.match(r.e.message, /^fill_after_callback: args\[0\] is a resizable ArrayBuffer .*a call that takes a callback does not take resizable buffers/);
  assert.deepEqual(r.fixed, new Array(16).fill(9));
});

test('a buffer detached while a nonblocking call writes into it: C writes into a copy, the Promise rejects (item 11)', () => {
  const r = child(`
    const lib = dlopen(FIXTURE, { slow_fill: { args: [T.buffer, T.usize, T.u8, T.i32], returns: T.void, nonblocking: true } });
    const n = 1 << 20;
    let ab = new ArrayBuffer(n);
    const p = lib.symbols.slow_fill(new Uint8Array(ab), n, 7, 200);
    // Transfer the buffer away and let the clone (the only owner of its memory) be collected.
    let clone = structuredClone(ab, { transfer: [ab] });
    clone = null;
    for (let i = 0; i < 5; i++) { globalThis.gc(); new ArrayBuffer(n); }
    p.then(() => out({ resolved: true, detached: ab.byteLength === 0 }),
      (e) => out({ name: e.constructor.name, message: e.message }));
  `, { args: ['--expose-gc'] });
  assert.equal(r.name, 'Error', JSON.stringify(r));
  assert.match(r.message, /^slow_fill: a buffer argument was detached or resized while the nonblocking call ran; what C wrote into it is lost/);
});

test('nonblocking calls still write into their buffers: a view of an ArrayBuffer (through the copy), a SharedArrayBuffer (directly) (item 11)', () => {
  const r = child(`
    const lib = dlopen(FIXTURE, { slow_fill: { args: [T.buffer, T.usize, T.u8, T.i32], returns: T.void, nonblocking: true } });
    const ab = new ArrayBuffer(32);
    const whole = new Uint8Array(ab);
    (async () => {
      await lib.symbols.slow_fill(new Uint8Array(ab, 8, 8), 8, 5, 10);
      const sab = new SharedArrayBuffer(8);
      await lib.symbols.slow_fill(sab, 8, 3, 10);
      out({ ab: [...whole], sab: [...new Uint8Array(sab)] });
    })();
  `);
  assert.deepEqual(r.ab, [...new Array(8).fill(0), ...new Array(8).fill(5), ...new Array(16).fill(0)]);
  assert.deepEqual(r.sab, new Array(8).fill(3));
});

test('a buffer detached by a callback during a synchronous call makes the call throw (item 11)', () => {
  const r = child(`
    const lib = dlopen(FIXTURE, { fill_after_callback: { args: [T.buffer, T.usize, T.callback, T.u8], returns: T.void } });
    const ab = new ArrayBuffer(64);
    // The clone is kept: C's writes land in memory that is still allocated (the clone's).
    let keep;
    const transfer = new JSCallback(() => { keep = structuredClone(ab, { transfer: [ab] }); }, { returns: T.void });
    const e = caught(() => lib.symbols.fill_after_callback(ab, 64, transfer, 1));
    out({ e, detached: ab.byteLength === 0 });
  `);
  assert.equal(r.detached, true);
  assert.equal(r.e.name, 'Error');
  assert.match(r.e.message, /^fill_after_callback: args\[0\], a buffer, was detached or resized during the call \(by a callback\)/);
});
