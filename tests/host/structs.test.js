// Structs through the public API: StructSchema layouts, create/write/fromPtr/fromBuffer,
// structs by value in and out of C (tests/fixtures/structs.c), the releasePtr contract.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { arkffi, fixturePath } = require('./helpers');
const { dlopen, FFIType: T, StructSchema, StructArray, releasePtr, heldPtrCount, CFunction, getSymbolPtr, ptr, CString, read } = arkffi;

const ComplexT = new StructSchema({ real: T.f64, imag: T.f64 });
const SmallT = new StructSchema({ a: T.i8, b: T.i16 });
const Vec3T = new StructSchema({ x: T.f32, y: T.f32, z: T.f32 });
const MixedT = new StructSchema({ i: T.i32, f: T.f32, d: T.f64 });
const BigT = new StructSchema({ v: StructSchema.array(T.i64, 8) });
const TaggedT = new StructSchema({ tag: T.u8, c: ComplexT, arr: StructSchema.array(T.i16, 3), name: T.CString });
const NamedT = new StructSchema({ name: StructSchema.array(T.char, 16), id: T.u32 });

function open() {
  return dlopen(fixturePath, {
    complex_add: { args: [ComplexT, ComplexT], returns: ComplexT },
    complex_abs2: { args: [ComplexT], returns: T.f64 },
    complex_fill: { args: [T.ptr, T.f64, T.f64] },
    complex_ptr_abs2: { args: [T.ptr], returns: T.f64 },
    small_make: { args: [T.i8, T.i16], returns: SmallT },
    small_sum: { args: [SmallT], returns: T.i32 },
    vec3_scale: { args: [Vec3T, T.f32], returns: Vec3T },
    mixed_make: { args: [T.i32, T.f32, T.f64], returns: MixedT },
    mixed_sum: { args: [MixedT], returns: T.f64 },
    big_make: { args: [T.i64], returns: BigT },
    big_sum: { args: [BigT], returns: T.i64 },
    tagged_make: { args: [T.u8, T.CString], returns: TaggedT },
    tagged_sum: { args: [TaggedT], returns: T.f64 },
    named_make: { args: [T.CString, T.u32], returns: NamedT },
  });
}

test('layouts follow the C rules', () => {
  assert.deepEqual([ComplexT.size, ComplexT.alignment], [16, 8]);
  assert.deepEqual([SmallT.size, SmallT.alignment, SmallT.offsetOf('b')], [4, 2, 2]);
  assert.deepEqual([Vec3T.size, Vec3T.alignment], [12, 4]);
  assert.deepEqual([MixedT.size, MixedT.offsetOf('d')], [16, 8]);
  assert.deepEqual([BigT.size, BigT.alignment], [64, 8]);
  // uint8 tag; Complex c @8; int16 arr[3] @24; const char* name @32; size 40
  assert.deepEqual(['tag', 'c', 'arr', 'name'].map((f) => TaggedT.offsetOf(f)), [0, 8, 24, 32]);
  assert.deepEqual([TaggedT.size, TaggedT.alignment], [40, 8]);
  assert.equal(TaggedT.offsetOf('c.imag'), 16);
  assert.equal(TaggedT.offsetOf('arr[2]'), 28);
  assert.deepEqual([NamedT.size, NamedT.offsetOf('id')], [20, 16]);
  const Padded = new StructSchema({ a: T.char, d: T.double, s: T.i16 });
  assert.deepEqual([Padded.size, Padded.offsetOf('d'), Padded.offsetOf('s')], [24, 8, 16]);
  assert.ok(StructSchema.array(T.u8, 2) instanceof StructArray);
});

test('create, fromBuffer, write, fromPtr', () => {
  const buf = ComplexT.create({ real: 1, imag: 2 });
  assert.ok(buf instanceof ArrayBuffer);
  assert.equal(buf.byteLength, 16);
  assert.deepEqual([...new Float64Array(buf)], [1, 2]);
  assert.deepEqual(ComplexT.fromBuffer(buf), { real: 1, imag: 2 });
  assert.deepEqual(ComplexT.fromPtr(ptr(buf)), { real: 1, imag: 2 });
  assert.deepEqual(ComplexT.create({ real: 5 }).byteLength, 16);
  assert.deepEqual(ComplexT.fromBuffer(ComplexT.create({ real: 5 })), { real: 5, imag: 0 }, 'missing fields are zero');
  const two = new ArrayBuffer(40);
  ComplexT.write({ real: -1, imag: -2 }, two, 16);
  assert.deepEqual(ComplexT.fromBuffer(two, 16), { real: -1, imag: -2 });
  assert.deepEqual([...new Float64Array(two)], [0, 0, -1, -2, 0]);
  ComplexT.write({ real: 7, imag: 8 }, ptr(two), 0);
  assert.deepEqual(ComplexT.fromPtr(ptr(two)), { real: 7, imag: 8 });
  const t = TaggedT.create({ tag: 3, c: { real: 0.5, imag: -0.5 }, arr: [1, -2], name: null });
  assert.deepEqual(TaggedT.fromBuffer(t), { tag: 3, c: { real: 0.5, imag: -0.5 }, arr: [1, -2, 0], name: null });
  const bigs = BigT.create({ v: [1n, -2n, 3, 2n ** 63n - 1n] });
  assert.deepEqual(BigT.fromBuffer(bigs).v, [1n, -2n, 3n, 2n ** 63n - 1n, 0n, 0n, 0n, 0n]);
  const named = NamedT.create({ name: Array.from(Buffer.from('hi\0')), id: 9 });
  assert.equal(new CString(ptr(named)).toString(), 'hi');
  assert.deepEqual(NamedT.fromBuffer(new Uint8Array(named)).id, 9);
});

test('structs by value in and out of C, all ABI classes', () => {
  const lib = open();
  const s = lib.symbols;
  const held = heldPtrCount();
  const sum = s.complex_add(ComplexT.create({ real: 1, imag: 2 }), ComplexT.create({ real: 10, imag: 20 }));
  assert.equal(typeof sum, 'number', 'a struct result is an address');
  assert.deepEqual(ComplexT.fromPtr(sum), { real: 11, imag: 22 });
  assert.equal(heldPtrCount(), held + 1);
  releasePtr(sum);
  assert.equal(heldPtrCount(), held);
  assert.equal(s.complex_abs2(ComplexT.create({ real: 3, imag: 4 })), 25);

  const small = s.small_make(-3, 1000);
  assert.deepEqual(SmallT.fromPtr(small), { a: -3, b: 1000 });
  assert.equal(s.small_sum(SmallT.create({ a: -3, b: 1000 })), 997);
  const v = s.vec3_scale(Vec3T.create({ x: 1, y: 2, z: 3.5 }), 2);
  assert.deepEqual(Vec3T.fromPtr(v), { x: 2, y: 4, z: 7 });
  const m = s.mixed_make(-7, 0.5, 1e100);
  assert.deepEqual(MixedT.fromPtr(m), { i: -7, f: 0.5, d: 1e100 });
  assert.equal(s.mixed_sum(MixedT.create({ i: 1, f: 0.25, d: 2 })), 3.25);
  const big = s.big_make(3n);
  assert.deepEqual(BigT.fromPtr(big).v, [3n, 6n, 9n, 12n, 15n, 18n, 21n, 24n]);
  assert.equal(s.big_sum(BigT.create({ v: [1n, 1n, 1n, 1n, 1n, 1n, 1n, 1n] })), 36n);
  for (const p of [small, v, m, big]) releasePtr(p);
  assert.equal(heldPtrCount(), held);
  lib.close();
});

test('nested structs, arrays and string fields', () => {
  const lib = open();
  const name = 'tagged ✓';
  // The C function keeps the string pointer: pass memory that outlives the call.
  const bytes = Buffer.from(`${name}\0`);
  const lib2 = dlopen(fixturePath, { tagged_make: { args: [T.u8, T.ptr], returns: TaggedT } });
  const t = lib2.symbols.tagged_make(4, bytes);
  const value = TaggedT.fromPtr(t);
  assert.deepEqual({ ...value, name: undefined }, { tag: 4, c: { real: 6, imag: -4 }, arr: [-1, 4, 300], name: undefined });
  assert.equal(typeof value.name, 'number', 'a const char* field reads as an address');
  assert.equal(value.name, ptr(bytes));
  assert.equal(new CString(value.name).toString(), name);
  releasePtr(t);
  const back = TaggedT.create({ tag: 1, c: { real: 1, imag: 1 }, arr: [1, 1, 1], name: ptr(bytes) });
  assert.equal(lib.symbols.tagged_sum(back), 1 + 1 + 1 + 3 + Buffer.byteLength(name));
  assert.equal(lib.symbols.tagged_sum(TaggedT.create({ tag: 0 })), -1000, 'a missing pointer field is NULL');
  const n = lib.symbols.named_make('a-name', 77);
  assert.equal(new CString(n).toString(), 'a-name');
  assert.equal(NamedT.fromPtr(n).id, 77);
  assert.deepEqual(NamedT.fromPtr(n).name.slice(0, 7), [97, 45, 110, 97, 109, 101, 0]);
  releasePtr(n);
  lib.close();
  lib2.close();
});

test('struct pointers: C fills user-owned buffers', () => {
  const lib = open();
  const buf = ComplexT.create({});
  lib.symbols.complex_fill(ptr(buf), 1.5, -2.5);
  assert.deepEqual(ComplexT.fromBuffer(buf), { real: 1.5, imag: -2.5 });
  lib.symbols.complex_fill(buf, 3, 4);
  assert.equal(lib.symbols.complex_ptr_abs2(buf), 25);
  lib.close();
});

test('struct types in CFunction definitions', () => {
  const lib = open();
  const add = CFunction({ ptr: getSymbolPtr(lib, 'complex_add'), args: [ComplexT, ComplexT], returns: ComplexT });
  const r = add(ComplexT.create({ real: 1, imag: 1 }), ComplexT.create({ real: 2, imag: 3 }));
  assert.deepEqual(ComplexT.fromPtr(r), { real: 3, imag: 4 });
  releasePtr(r);
  lib.close();
});

test('releasePtr: unknown, foreign and repeated addresses are ignored; results stay valid until released', () => {
  const lib = open();
  const before = heldPtrCount();
  const r = lib.symbols.complex_add(ComplexT.create({ real: 1, imag: 0 }), ComplexT.create({ real: 1, imag: 0 }));
  if (global.gc) global.gc();
  assert.deepEqual(ComplexT.fromPtr(r), { real: 2, imag: 0 }, 'still readable: the buffer is held');
  releasePtr(r);
  releasePtr(r);
  releasePtr(12345);
  releasePtr(null);
  releasePtr(2n ** 60n);
  releasePtr(ptr(new ArrayBuffer(8)));
  assert.equal(heldPtrCount(), before);
  assert.throws(() => releasePtr('x'), { name: 'TypeError', message: /^releasePtr: argument 0 must be ptr/ });
  // Forgetting releasePtr grows the map by one entry per call.
  const results = [];
  for (let i = 0; i < 100; i++) results.push(lib.symbols.small_make(1, i));
  assert.equal(heldPtrCount(), before + 100);
  assert.equal(new Set(results).size, 100);
  results.forEach((p) => releasePtr(p));
  assert.equal(heldPtrCount(), before);
  lib.close();
});

test('struct errors name the field, the argument and the expected type', () => {
  const lib = open();
  assert.throws(() => ComplexT.create({ real: 'x' }), { name: 'TypeError', message: /^StructSchema\.create: field "real" must be f64 \(a number\), got string "x"$/ });
  assert.throws(() => TaggedT.create({ c: { imag: 'y' } }), { name: 'TypeError', message: /field "c\.imag" must be f64/ });
  assert.throws(() => TaggedT.create({ arr: [1, 2, 3, 4] }), { name: 'RangeError', message: /field "arr" holds 3 elements, got an array of 4/ });
  assert.throws(() => TaggedT.create({ arr: [1, 70000] }), { name: 'RangeError', message: /field "arr\[1\]" must be i16/ });
  assert.throws(() => TaggedT.create({ arr: 5 }), { name: 'TypeError', message: /field "arr" must be an array/ });
  assert.throws(() => TaggedT.create({ c: 5 }), { name: 'TypeError', message: /field "c" must be an object/ });
  assert.throws(() => ComplexT.create(null), { name: 'TypeError', message: /the value must be an object/ });
  assert.throws(() => TaggedT.create({ name: 'a string' }), { name: 'TypeError', message: /field "name" must be ptr/ },
    'string fields take addresses: a JS string would not outlive create()');
  assert.throws(() => lib.symbols.complex_abs2(new ArrayBuffer(8)),
    { name: 'TypeError', message: /^complex_abs2: args\[0\] must be a struct of 16 bytes .*got a buffer of 8 bytes$/ });
  assert.throws(() => lib.symbols.complex_abs2([1, 2]), { name: 'TypeError', message: /must be a struct of 16 bytes \(an object with its fields, or the ArrayBuffer of StructSchema.create\(\)\), got array$/ });
  assert.throws(() => lib.symbols.complex_abs2(null), TypeError);
  assert.throws(() => ComplexT.fromBuffer(new ArrayBuffer(8)), { name: 'RangeError', message: /does not fit in a buffer of 8 bytes/ });
  assert.throws(() => ComplexT.fromBuffer(new ArrayBuffer(16), 8), RangeError);
  assert.throws(() => ComplexT.fromPtr(null), /NULL/);
  assert.throws(() => ComplexT.write({ real: 1 }, new ArrayBuffer(16), 1), RangeError);
  assert.throws(() => ComplexT.offsetOf('nope'), { name: 'TypeError', message: /no field "nope"/ });
  assert.throws(() => new StructSchema({}), { name: 'TypeError', message: /at least one field/ });
  assert.throws(() => new StructSchema({ a: T.void }), { name: 'TypeError', message: /field "a": void is not a field type/ });
  assert.throws(() => new StructSchema({ a: 99 }), { name: 'TypeError', message: /field "a" is not an FFIType/ });
  assert.throws(() => new StructSchema({ a: 'f64' }), { name: 'TypeError', message: /field "a" must be an FFIType, a StructSchema or StructSchema\.array/ });
  assert.throws(() => new StructSchema({ a: StructSchema.array(T.u8, 0) }), { name: 'RangeError', message: /array length must be a whole number >= 1/ });
  assert.throws(() => new StructSchema({ a: { nativeLayout: {} } }), TypeError, 'a fake schema is not a struct');
  assert.throws(() => new StructSchema(null), { name: 'TypeError', message: /fields must be an object/ });
  assert.throws(() => dlopen(fixturePath, { complex_abs2: { args: [{ size: 16 }], returns: T.f64 } }), { name: 'TypeError', message: /is not an FFIType or a StructSchema/ });
  lib.close();
});
