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
  const r = child(`
    const lib = dlopen(FIXTURE, { call_add: { args: [T.callback, T.i32, T.i32], returns: T.i32 } });
    const cb = new JSCallback((a, b) => { lib.close(); return a + b; }, { args: [T.i32, T.i32], returns: T.i32 });
    const before = mapped();
    const sum = lib.symbols.call_add(cb, 2, 3);
    const after = mapped();
    const again = caught(() => lib.symbols.call_add(cb, 1, 1));
    cb.close();
    out({ before, sum, after, again });
  `);
  assert.equal(r.before, true);
  assert.equal(r.sum, 5, 'the call returned through the library it was in');
  assert.equal(r.after, false, 'the library is dlclosed once the call has returned');
  assert.equal(r.again.name, 'Error');
  assert.match(r.again.message, /^call_add: library ".*" is closed$/);
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
