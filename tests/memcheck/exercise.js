// A run through every native code path of ArkFFI, small enough for valgrind: calls of each
// kind (direct and libffi), strings in and out, buffers, memory helpers, structs by value
// and held results, callbacks (same thread, threadsafe from C threads, exceptions), nonblocking
// calls, errors, close and dlclose. Prints "exercise ok" at the end.
'use strict';
const path = require('path');
const root = path.resolve(__dirname, '..', '..');
const { dlopen, FFIType: T, StructSchema, JSCallback, CFunction, getSymbolPtr, ptr, read, toArrayBuffer, CString, releasePtr, heldPtrCount } =
  require(path.join(root, 'target', 'host', 'index.js'));
const fixture = path.join(root, 'target', 'fixtures', 'libfixture.so');
const assert = require('assert');

async function work() {
  const Complex = new StructSchema({ real: T.f64, imag: T.f64 });
  const Tagged = new StructSchema({ tag: T.u8, c: Complex, arr: StructSchema.array(T.i16, 3), name: T.CString });
  const lib = dlopen(fixture, {
    add_i32: { args: [T.i32, T.i32], returns: T.i32 }, add_u64: { args: [T.u64, T.u64], returns: T.u64 },
    mix6: { args: [T.i8, T.i16, T.i32, T.i64, T.f32, T.f64], returns: T.f64 },
    sum16: { args: Array(16).fill(T.i64), returns: T.i64 },
    str_len: { args: [T.CString], returns: T.usize }, str_echo: { args: [T.CString], returns: T.CString },
    str_invalid_utf8: { returns: T.CString }, fill_bytes: { args: [T.buffer, T.usize, T.u8] },
    static_ints: { returns: T.ptr }, complex_add: { args: [Complex, Complex], returns: Complex },
    tagged_make: { args: [T.u8, T.ptr], returns: Tagged }, big_make: { args: [T.i64], returns: new StructSchema({ v: StructSchema.array(T.i64, 8) }) },
    call_add: { args: [T.callback, T.i32, T.i32], returns: T.i32 }, call_str: { args: [T.callback, T.CString], returns: T.CString },
    call_with_complex: { args: [T.callback, T.f64, T.f64], returns: T.f64 },
    run_threads: { args: [T.callback, T.i32, T.i32], returns: T.i64, nonblocking: true },
    slow_echo: { args: [T.CString, T.i32], returns: T.CString, nonblocking: true },
    slow_complex: { args: [T.f64, T.f64, T.i32], returns: Complex, nonblocking: true },
  });
  const s = lib.symbols;
  for (let i = 0; i < 200; i++) {
    assert.equal(s.add_i32(i, 1), i + 1);
    assert.equal(s.add_u64(2n ** 63n, BigInt(i)), 2n ** 63n + BigInt(i));
    assert.equal(s.mix6(1, 2, 3, 4n, 0.5, 0.25), 10.75);
    assert.equal(s.str_len('x'.repeat(i * 30)), i * 30);
    assert.equal(s.str_echo(`s${i}é`), `s${i}é`);
  }
  assert.equal(s.sum16(...Array.from({ length: 16 }, () => 1n)), 136n);
  assert.equal(s.str_len('y'.repeat(100000)), 100000);
  assert.ok(s.str_invalid_utf8().includes('\ufffd'));
  const buf = new Uint8Array(64);
  s.fill_bytes(buf.subarray(4), 8, 7);
  const ints = s.static_ints();
  assert.equal(read.i32(ints, 4), -2);
  assert.equal(new Int32Array(toArrayBuffer(ints, 0, 8))[1], -2);
  assert.equal(new CString(ptr(Buffer.from('hi\0'))).toString(), 'hi');
  for (let i = 0; i < 100; i++) {
    const r = s.complex_add(Complex.create({ real: i, imag: 1 }), Complex.create({ real: 1, imag: 1 }));
    assert.equal(Complex.fromPtr(r).real, i + 1);
    releasePtr(r);
  }
  const name = Buffer.from('name\0');
  const t = s.tagged_make(3, name);
  assert.equal(Tagged.fromPtr(t).tag, 3);
  releasePtr(t);
  releasePtr(s.big_make(2n));
  assert.equal(heldPtrCount(), 0);
  for (let i = 0; i < 50; i++) {
    const cb = new JSCallback((a, b) => a + b, { args: [T.i32, T.i32], returns: T.i32, threadsafe: i % 2 === 0 });
    assert.equal(s.call_add(cb, i, 1), i + 1);
    cb.close();
  }
  const strCb = new JSCallback((x) => `${x}!`, { args: [T.CString], returns: T.CString });
  assert.equal(s.call_str(strCb, 'hey'), 'hey!');
  strCb.close();
  const cplx = new JSCallback((p) => Complex.fromPtr(p).real, { args: [Complex], returns: T.f64 });
  assert.equal(s.call_with_complex(cplx, 2, 3), 2);
  cplx.close();
  const thrower = new JSCallback(() => { throw new Error('x'); }, { args: [T.i32, T.i32], returns: T.i32 });
  assert.throws(() => s.call_add(thrower, 1, 1));
  thrower.close();
  const ts = new JSCallback((v) => v, { args: [T.i32], returns: T.i32, threadsafe: true });
  assert.equal(await s.run_threads(ts, 2, 5), 5020n); // (0..4) + (1000..1004)
  ts.close();
  assert.equal(await s.slow_echo('async é', 1), 'async é');
  const c = await s.slow_complex(1, 2, 1);
  releasePtr(c);
  const f = CFunction({ ptr: getSymbolPtr(lib, 'add_i32'), args: [T.i32, T.i32], returns: T.i32 });
  assert.equal(f(2, 2), 4);
  assert.throws(() => s.add_i32('x', 1), TypeError);
  assert.throws(() => dlopen('/nonexistent.so', {}));
  assert.throws(() => new StructSchema({}), TypeError);
  await restOfC(Complex);
  lib.close();
  assert.throws(() => s.add_i32(1, 1), /closed/);
}

// Issue 17: errno, view/write, struct objects, variadic calls (sync and nonblocking, cached
// and new type lists), per-call callbacks (plain functions, one that throws).
async function restOfC(Complex) {
  const { errno, view, write, CallbackType } = require(path.join(root, 'target', 'host', 'index.js'));
  const Cmp = new CallbackType({ args: [T.ptr, T.ptr], returns: T.i32 });
  const IntFn = new CallbackType({ args: [T.i32], returns: T.i32 });
  const libc = dlopen('libc.so.6', {
    snprintf: { args: [T.buffer, T.usize, T.CString], returns: T.i32, variadic: true },
    qsort: { args: [T.buffer, T.usize, T.usize, Cmp] }, malloc: { args: [T.usize], returns: T.ptr }, free: { args: [T.ptr] },
  });
  const lib = dlopen(fixture, {
    set_errno: { args: [T.i32], returns: T.i32 }, complex_abs2: { args: [Complex], returns: T.f64 },
    sum_doubles: { args: [T.i32], returns: T.f64, variadic: true }, apply_i32: { args: [IntFn, T.i32], returns: T.i32 },
  });
  const later = dlopen(fixture, { sum_doubles: { args: [T.i32], returns: T.f64, variadic: true, nonblocking: true } });
  lib.symbols.set_errno(3);
  assert.equal(errno(), 3);
  const a = libc.symbols.malloc(16);
  write.i64(a, 0, 5n);
  write.f32(a, 8, 1.5);
  assert.equal(new BigInt64Array(view(a, 0, 8))[0], 5n);
  assert.equal(read.f32(a, 8), 1.5);
  libc.symbols.free(a);
  assert.equal(lib.symbols.complex_abs2({ real: 3, imag: 4 }), 25);
  assert.throws(() => lib.symbols.complex_abs2({ real: 'x' }), TypeError);
  const buf = new Uint8Array(64);
  for (let k = 0; k < 20; k++) libc.symbols.snprintf(buf, 64, '%d %s %f', T.i32, k, T.CString, 'str', k % 2 ? T.f32 : T.f64, 0.5);
  assert.equal(new CString(ptr(buf)).toString(), '19 str 0.500000');
  for (let k = 0; k < 20; k++) lib.symbols.sum_doubles(k, ...Array.from({ length: k }, () => [T.f64, 1]).flat());
  assert.equal(await later.symbols.sum_doubles(2, T.f64, 1, T.f32, 2), 3);
  const ints = new Int32Array([3, 1, 2]);
  libc.symbols.qsort(ints, 3, 4, (x, y) => read.i32(x) - read.i32(y));
  assert.deepEqual([...ints], [1, 2, 3]);
  assert.equal(lib.symbols.apply_i32((x) => x + 1, 1), 2);
  assert.throws(() => lib.symbols.apply_i32(() => { throw new Error('cb'); }, 1), /cb/);
  later.close();
  lib.close();
  libc.close();
}

async function main() {
  await work();
  // Everything work() made is unreachable now: let the engine collect it, so that the
  // finalizers of ArkFFI's objects (bound functions, struct layouts, callback handles) run
  // before exit and valgrind sees their memory returned.
  if (global.gc) {
    for (let i = 0; i < 10; i++) { global.gc(); await new Promise((r) => setImmediate(r)); }
  }
  console.log('exercise ok');
}
main().catch((e) => { console.error(e); process.exit(1); });
