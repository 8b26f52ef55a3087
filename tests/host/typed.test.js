// Typed calls (ets/src/main/ets/ctype.ets): every C token through lib.func, funcAsync, funcN,
// cfunc and JSCallback.of; struct tokens (the held address and `.value`); dlopen without
// definitions; the functions lib.func returns are the bound native functions themselves.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { arkffi, fixturePath } = require('./helpers');
const { C, CType, dlopen, cfunc, FFIType: T, JSCallback, StructSchema, releasePtr, heldPtrCount, ptr } = arkffi;

// One row per token (every FFIType name and alias but void): the fixture function of that
// type (id_* returns its argument), values in and what comes back.
const big = 2n ** 60n + 3n;
const buf = new Uint8Array([1, 2, 3]);
const CASES = [
  ['bool', 'id_bool', [[true, true], [false, false]]],
  ['char', 'id_char', [[65, 65], [0, 0]]],
  ['i8', 'id_i8', [[-128, -128], [127, 127]]],
  ['int8_t', 'id_i8', [[-5, -5]]],
  ['u8', 'id_u8', [[255, 255]]],
  ['uint8_t', 'id_u8', [[7, 7]]],
  ['i16', 'id_i16', [[-32768, -32768]]],
  ['int16_t', 'id_i16', [[300, 300]]],
  ['u16', 'id_u16', [[65535, 65535]]],
  ['uint16_t', 'id_u16', [[1, 1]]],
  ['i32', 'id_i32', [[-2147483648, -2147483648], [5n, 5]]],
  ['int32_t', 'id_i32', [[42, 42]]],
  ['int', 'id_i32', [[-42, -42]]],
  ['u32', 'id_u32', [[4294967295, 4294967295]]],
  ['uint32_t', 'id_u32', [[9, 9]]],
  ['i64', 'id_i64', [[-3, -3n], [-big, -big]]],
  ['int64_t', 'id_i64', [[big, big]]],
  ['u64', 'id_u64', [[3, 3n], [2n ** 64n - 1n, 2n ** 64n - 1n]]],
  ['uint64_t', 'id_u64', [[big, big]]],
  ['i64_fast', 'id_i64', [[-3, -3], [big, big]]],
  ['u64_fast', 'id_u64', [[3n, 3], [big, big]]],
  ['isize', 'id_isize', [[-7, -7], [-big, -big]]],
  ['ssize_t', 'id_isize', [[8, 8]]],
  ['usize', 'id_usize', [[9, 9], [big, big]]],
  ['size_t', 'id_usize', [[10, 10]]],
  ['f32', 'id_f32', [[1.5, 1.5], [0.1, Math.fround(0.1)]]],
  ['float', 'id_f32', [[-2.25, -2.25]]],
  ['f64', 'id_f64', [[0.1, 0.1], [-0, -0]]],
  ['double', 'id_f64', [[1e300, 1e300]]],
  ['ptr', 'id_ptr', [[0x1234, 0x1234], [null, null], [big, big]]],
  ['pointer', 'id_ptr', [[0x10, 0x10]]],
  ['CString', 'str_echo', [['héllo', 'héllo'], [null, null]]],
  ['callback', 'id_ptr', [[0x12340, 0x12340], [null, null]]],
];

test('C has one token per FFIType name and alias, carrying its code', () => {
  const names = Object.keys(T).filter((k) => Number.isNaN(Number(k)));
  assert.ok(names.length >= 35);
  for (const name of names) {
    assert.ok(C[name] instanceof CType, `C.${name}`);
    assert.equal(C[name].ffiType, T[name], `C.${name}.ffiType`);
  }
  assert.equal(C.int, C.i32);
  assert.equal(C.size_t, C.usize);
});

test('every token through lib.func, funcN and cfunc (same values as the definition form)', () => {
  const lib = dlopen(fixturePath);
  for (const [name, sym, values] of CASES) {
    const t = C[name];
    const viaFunc = lib.func(sym, t, t);
    const viaN = lib.funcN(sym, t, [t]);
    const viaPtr = cfunc(lib.symbolPtr(sym), t, t);
    const viaDef = dlopen(fixturePath, { [sym]: { args: [T[name]], returns: T[name] } }).symbols[sym];
    for (const [input, expected] of values) {
      for (const [how, f] of [['func', viaFunc], ['funcN', viaN], ['cfunc', viaPtr], ['definition', viaDef]]) {
        assert.deepEqual(f(input), expected, `${how} C.${name}(${typeof input} ${input})`);
      }
    }
  }
  lib.close();
});

test('C.buffer and C.void through lib.func', () => {
  const lib = dlopen(fixturePath);
  const sumI32 = lib.func('sum_i32', C.i64, C.buffer, C.size_t);
  assert.equal(sumI32(new Int32Array([1, 2, 3, -10]), 4), -4n);
  const isNull = lib.func('is_null_buffer', C.int, C.buffer);
  assert.equal(isNull(null), 1);
  assert.equal(isNull(buf), 0);
  const asInt = lib.func('ptr_to_int', C.usize, C.buffer);
  assert.equal(asInt(buf), ptr(buf));
  const bump = lib.func('bump', C.void);
  const bumps = lib.func('get_bumps', C.i32);
  const before = bumps();
  assert.equal(bump(), undefined);
  assert.equal(bumps(), before + 1);
  lib.close();
});

test('lib.func functions are the bound native functions, as lib.symbols ones', () => {
  const lib = dlopen(fixturePath, { add_i32: { args: [T.i32, T.i32], returns: T.i32 } });
  const add = lib.func('add_i32', C.i32, C.i32, C.i32);
  const sym = lib.symbols.add_i32;
  assert.equal(add.name, sym.name);
  assert.equal(add.length, sym.length);
  assert.match(Function.prototype.toString.call(add), /\[native code\]/);
  assert.equal(Object.getPrototypeOf(add), Object.getPrototypeOf(sym));
  assert.equal(add(2, 3), 5);
  // The same checks as any bound function.
  assert.throws(() => add(1), { name: 'TypeError', message: 'add_i32 expects 2 arguments, got 1' });
  assert.throws(() => add('x', 2), { name: 'TypeError', message: /^add_i32: args\[0\] must be i32/ });
  lib.close();
  assert.throws(() => add(1, 2), { name: 'Error', message: /add_i32: library ".*" is closed/ });
  assert.throws(() => lib.func('add_i32', C.i32), { name: 'Error', message: /Library\.func\("add_i32"\): library ".*" is closed/ });
});

test('dlopen without definitions; bad lib.func / cfunc uses are clear errors', () => {
  const lib = dlopen(fixturePath);
  assert.deepEqual(Object.keys(lib.symbols), []);
  assert.throws(() => lib.func('no_such_fn', C.void), { name: 'Error', message: /^Library\.func\("no_such_fn"\): symbol "no_such_fn" not found/ });
  assert.throws(() => lib.funcAsync('no_such_fn', C.void), { name: 'Error', message: /^Library\.funcAsync\("no_such_fn"\)/ });
  assert.throws(() => lib.func('noop', C.void, C.void), { name: 'TypeError', message: /args\[0\] is void/ });
  assert.throws(() => lib.func('noop', C.void, 99), { name: 'TypeError', message: /Library\.func\("noop"\): args\[0\] is not an FFIType or a StructSchema, got number 99/ });
  assert.throws(() => lib.func('noop', { ffiType: 99 }), { name: 'TypeError', message: /returns is not an FFIType/ });
  assert.throws(() => lib.func(5, C.void), { name: 'TypeError', message: /^Library\.func: name must be a string, got number 5/ });
  assert.throws(() => cfunc(0, C.void), { name: 'TypeError', message: /ptr must be a function address/ });
  // Definitions accept the tokens too.
  const viaDef = dlopen(fixturePath, { add_f64: { args: [C.f64, C.double], returns: C.f64 } });
  assert.equal(viaDef.symbols.add_f64(0.5, 0.25), 0.75);
  viaDef.close();
  lib.close();
});

test('every token through lib.funcAsync', async () => {
  const lib = dlopen(fixturePath);
  for (const [name, sym, values] of CASES) {
    const f = lib.funcAsync(sym, C[name], C[name]);
    for (const [input, expected] of values) {
      const p = f(input);
      assert.ok(p instanceof Promise, `C.${name}`);
      assert.deepEqual(await p, expected, `funcAsync C.${name}(${input})`);
    }
  }
  const slow = lib.funcAsync('slow_add', C.i32, C.i32, C.i32, C.i32);
  assert.equal(await slow(2, 3, 5), 5);
  await assert.rejects(slow(1, 2), { name: 'TypeError', message: 'slow_add expects 3 arguments, got 2' });
  lib.close();
});

test('every token through JSCallback.of, called through a cfunc of its pointer', () => {
  for (const [name, , values] of CASES) {
    const t = C[name];
    const seen = [];
    const cb = JSCallback.of(t, t, (v) => {
      seen.push(v);
      return v;
    });
    const call = cfunc(cb.ptr, t, t);
    for (const [input, expected] of values) {
      seen.length = 0;
      // A callback argument converts like a call result, its result like a call argument.
      assert.deepEqual(call(input), expected, `JSCallback.of C.${name}(${input})`);
      assert.deepEqual(seen, [expected], `the callback saw C.${name}`);
    }
    cb.close();
  }
  const lib = dlopen(fixturePath);
  const callAdd = lib.func('call_add', C.i32, C.callback, C.i32, C.i32);
  const sub = JSCallback.of(C.i32, C.i32, C.i32, (a, b) => a - b);
  assert.equal(callAdd(sub, 10, 4), 6);
  assert.equal(callAdd(sub.ptr, 1, 4), -3);
  sub.close();
  const calls = [];
  const each = JSCallback.of(C.void, C.i32, (i) => {
    calls.push(i);
  });
  lib.func('call_n_times', C.void, C.callback, C.i32)(each, 3);
  assert.deepEqual(calls, [0, 1, 2]);
  each.close();
  const mix = JSCallback.of(C.f64, C.i8, C.i16, C.i32, C.i64, C.f32, C.f64, (a, b, c, d, e, f) => {
    assert.equal(typeof d, 'bigint');
    return a + b + c + Number(d) + e + f;
  });
  assert.equal(typeof lib.func('call_mix', C.f64, C.callback)(mix), 'number');
  mix.close();
  lib.close();
});

test('JSCallback.ofThreadsafe: called from C threads while a funcAsync call runs', async () => {
  const lib = dlopen(fixturePath);
  const ts = JSCallback.ofThreadsafe(C.i32, C.i32, (v) => v + 1);
  assert.equal(ts.threadsafe, true);
  const runThreads = lib.funcAsync('run_threads', C.i64, C.callback, C.i32, C.i32);
  const total = await runThreads(ts, 4, 5);
  assert.equal(total, 30060n);
  assert.equal(await lib.funcAsync('call_from_thread', C.i32, C.callback, C.i32)(ts, 41), 42);
  ts.close();
  lib.close();
});

test('JSCallback.of refuses what is not (tokens..., fn)', () => {
  assert.throws(() => JSCallback.of(C.i32, C.i32), { name: 'TypeError', message: /^JSCallback\.of: the last argument must be the function/ });
  assert.throws(() => JSCallback.ofThreadsafe(C.i32), { name: 'TypeError', message: /^JSCallback\.ofThreadsafe: the last argument/ });
  assert.throws(() => JSCallback.of(C.i32, 7, () => 0), { name: 'TypeError', message: /^JSCallback\.of: args\[0\] must be a C type token/ });
  const S = new StructSchema({ a: T.i32 });
  assert.throws(() => JSCallback.of(C.i32, S.value, () => 0), { name: 'TypeError', message: /args\[0\]/ });
  assert.throws(() => JSCallback.of(C.void, C.void, () => 0), { name: 'TypeError', message: /args\[0\] is void/ });
});

const ComplexT = new StructSchema({ real: T.f64, imag: T.f64 });
const BigT = new StructSchema({ v: StructSchema.array(T.i64, 8) });
const TaggedT = new StructSchema({ tag: T.u8, c: ComplexT, arr: StructSchema.array(T.i16, 3), name: T.CString });

test('a StructSchema token: a buffer in, the held address out (fromPtr, then releasePtr)', () => {
  const lib = dlopen(fixturePath);
  const add = lib.func('complex_add', ComplexT, ComplexT, ComplexT);
  const held = heldPtrCount();
  const p = add(ComplexT.create({ real: 1, imag: 2 }), ComplexT.create({ real: 10, imag: 20 }));
  assert.equal(heldPtrCount(), held + 1);
  assert.deepEqual(ComplexT.fromPtr(p), { real: 11, imag: 22 });
  releasePtr(p);
  assert.equal(heldPtrCount(), held);
  const abs2 = lib.func('complex_abs2', C.f64, ComplexT);
  assert.equal(abs2(ComplexT.create({ real: 3, imag: 4 })), 25);
  assert.throws(() => abs2(new ArrayBuffer(8)), { name: 'TypeError', message: /must be a struct of 16 bytes/ });
  lib.close();
});

test('schema.value: the struct result as an object, nothing held, sync and async and cfunc', async () => {
  const lib = dlopen(fixturePath);
  assert.equal(ComplexT.value, ComplexT.value);
  const held = heldPtrCount();
  const add = lib.func('complex_add', ComplexT.value, ComplexT, ComplexT.value);
  assert.deepEqual(add(ComplexT.create({ real: 1, imag: 2 }), ComplexT.create({ real: 0.5, imag: -2 })), { real: 1.5, imag: 0 });
  const bigMake = lib.func('big_make', BigT.value, C.i64);
  assert.deepEqual(bigMake(2n), { v: [2n, 4n, 6n, 8n, 10n, 12n, 14n, 16n] });
  const tagged = lib.func('tagged_make', TaggedT.value, C.u8, C.CString)(4, 'abc');
  assert.deepEqual([tagged.tag, tagged.c, tagged.arr], [4, { real: 6, imag: -4 }, [-1, 4, 300]]);
  const viaPtr = cfunc(lib.symbolPtr('complex_add'), ComplexT.value, ComplexT, ComplexT);
  assert.deepEqual(viaPtr(ComplexT.create({ real: 1 }), ComplexT.create({ imag: 1 })), { real: 1, imag: 1 });
  const addAsync = lib.funcAsync('complex_add', ComplexT.value, ComplexT, ComplexT);
  assert.deepEqual(await addAsync(ComplexT.create({ real: 2 }), ComplexT.create({ real: 3 })), { real: 5, imag: 0 });
  const viaN = lib.funcN('big_make', BigT.value, [C.i64]);
  assert.equal(viaN(1n).v[7], 8n);
  assert.equal(heldPtrCount(), held, 'a .value result holds nothing');
  lib.close();
});

test('struct tokens in JSCallback.of: the address of a copy in, a create() buffer out', () => {
  const lib = dlopen(fixturePath);
  const withComplex = JSCallback.of(C.f64, ComplexT, (p) => {
    const c = ComplexT.fromPtr(p);
    return c.real * 10 + c.imag;
  });
  assert.equal(lib.func('call_with_complex', C.f64, C.callback, C.f64, C.f64)(withComplex, 3, 4), 34);
  withComplex.close();
  const making = JSCallback.of(ComplexT, C.f64, C.f64, (a, b) => ComplexT.create({ real: a * b, imag: a - b }));
  assert.equal(lib.func('call_returning_complex', C.f64, C.callback, C.f64, C.f64)(making, 3, 2), 6 * 1000 + 1);
  making.close();
  lib.close();
});
