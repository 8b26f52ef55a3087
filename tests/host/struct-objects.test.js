// Structs from plain objects: where a StructSchema is an argument, an object with its fields
// is accepted besides create()'s buffer, written for the call with create()'s checks
// (tests/fixtures/structs.c).
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { arkffi, fixturePath } = require('./helpers');
const { dlopen, FFIType: T, StructSchema, CFunction, releasePtr } = arkffi;

const ComplexT = new StructSchema({ real: T.f64, imag: T.f64 });
const SmallT = new StructSchema({ a: T.i8, b: T.i16 });
const Vec3T = new StructSchema({ x: T.f32, y: T.f32, z: T.f32 });
const MixedT = new StructSchema({ i: T.i32, f: T.f32, d: T.f64 });
const BigT = new StructSchema({ v: StructSchema.array(T.i64, 8) });
const TaggedT = new StructSchema({ tag: T.u8, c: ComplexT, arr: StructSchema.array(T.i16, 3), name: T.CString });

const lib = dlopen(fixturePath, {
  complex_add: { args: [ComplexT, ComplexT], returns: ComplexT.value },
  complex_abs2: { args: [ComplexT], returns: T.f64 },
  small_sum: { args: [SmallT], returns: T.i32 },
  vec3_scale: { args: [Vec3T, T.f32], returns: Vec3T.value },
  mixed_sum: { args: [MixedT], returns: T.f64 },
  big_sum: { args: [BigT], returns: T.i64 },
  tagged_sum: { args: [TaggedT], returns: T.f64 },
});

test('every struct shape by value from a plain object', () => {
  const s = lib.symbols;
  assert.equal(s.complex_abs2({ real: 3, imag: 4 }), 25);
  assert.deepEqual(s.complex_add({ real: 1, imag: 2 }, ComplexT.create({ real: 10, imag: 20 })), { real: 11, imag: 22 });
  assert.equal(s.small_sum({ a: -5, b: 300 }), 295);
  assert.deepEqual(s.vec3_scale({ x: 1, y: 2, z: 3 }, 2), { x: 2, y: 4, z: 6 });
  assert.equal(s.mixed_sum({ i: 1, f: 0.5, d: 0.25 }), 1.75);
  assert.equal(s.big_sum({ v: [1, 1, 1, 1, 1, 1, 1, 1n] }), 36n);
  // Missing fields are zero, as in create(); nested structs and arrays as objects and lists.
  assert.equal(s.tagged_sum({ tag: 2, c: { real: 0.5 }, arr: [1, 2] }), 2 + 0.5 + 3 - 1000);
  assert.equal(s.complex_abs2({}), 0);
});

test('struct objects through CFunction and lib.func (typed tokens)', () => {
  const abs2 = CFunction({ ptr: lib.symbolPtr('complex_abs2'), args: [ComplexT], returns: T.f64 });
  assert.equal(abs2({ real: 1, imag: 1 }), 2);
  const { C } = arkffi;
  const add = lib.func('complex_add', ComplexT.value, ComplexT, ComplexT.value);
  assert.deepEqual(add({ real: 1, imag: 1 }, { real: 2, imag: 3 }), { real: 3, imag: 4 });
  const held = lib.func('complex_add', ComplexT, ComplexT, ComplexT)({ real: 1, imag: 0 }, { real: 0, imag: 1 });
  assert.deepEqual(ComplexT.fromPtr(held), { real: 1, imag: 1 });
  releasePtr(held);
  assert.equal(typeof C.f64, 'object');
});

test('struct objects in nonblocking calls', async () => {
  assert.equal(await lib.funcAsync('complex_abs2', arkffi.C.f64, ComplexT)({ real: 6, imag: 8 }), 100);
});

test('create()\'s value checks and errors, naming the call and argument', () => {
  const s = lib.symbols;
  assert.throws(() => s.complex_abs2({ real: 'x' }), { name: 'TypeError', message: 'complex_abs2: args[0] field "real" must be f64 (a number), got string "x"' });
  assert.throws(() => s.tagged_sum({ arr: [1, 2, 3, 4] }), { name: 'RangeError', message: /^tagged_sum: args\[0\] field "arr" holds 3 elements, got an array of 4$/ });
  assert.throws(() => s.tagged_sum({ c: 5 }), { name: 'TypeError', message: /^tagged_sum: args\[0\] field "c" must be an object/ });
  assert.throws(() => s.tagged_sum({ name: 'str' }), { name: 'TypeError', message: /field "name" must be ptr/ });
  assert.throws(() => s.complex_add({ real: 1 }, { imag: 1n }), { name: 'TypeError', message: /^complex_add: args\[1\] field "imag" must be f64/ });
  assert.throws(() => s.complex_abs2(null), { name: 'TypeError', message: /^complex_abs2: args\[0\] must be a struct of 16 bytes .*got null$/ });
});

test('struct objects take no heap and give back their bytes: many calls, nested calls from getters', () => {
  let sum = 0;
  for (let i = 0; i < 10000; i++) sum += lib.symbols.complex_abs2({ real: i % 3, imag: 0 });
  assert.equal(sum, 3333 * 1 + 3333 * 4);
  // A getter that makes another struct-object call while the outer struct is being written.
  const outer = { imag: 0 };
  Object.defineProperty(outer, 'real', { get: () => lib.symbols.complex_abs2({ real: 2, imag: 0 }), enumerable: true });
  assert.equal(lib.symbols.complex_abs2(outer), 16);
});
