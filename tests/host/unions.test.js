// Unions through the public API: UnionSchema layouts, create/fromPtr/fromBuffer, unions by
// value in and out of C (tests/fixtures/structs.c) classified as the C ABI does, unions in
// structs and structs in unions, typed tokens.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { arkffi, fixturePath } = require('./helpers');
const { dlopen, FFIType: T, StructSchema, UnionSchema, JSCallback, releasePtr, heldPtrCount, C } = arkffi;

const IntFloatT = new UnionSchema({ i: T.i32, f: T.f32 });
const TwoDoublesT = new UnionSchema({ d: T.f64, pair: StructSchema.array(T.f64, 2) });
const FloatPairT = new UnionSchema({ d: T.f64, f: StructSchema.array(T.f32, 2) });
const WideT = new UnionSchema({ v: StructSchema.array(T.i64, 3), d: T.f64 });
const VariantT = new StructSchema({ tag: T.u8, u: IntFloatT, weight: T.f64 });

function open() {
  return dlopen(fixturePath, {
    intfloat_bits: { args: [IntFloatT], returns: T.i32 },
    intfloat_float: { args: [IntFloatT], returns: T.f32 },
    intfloat_from_float: { args: [T.f32], returns: IntFloatT },
    intfloat_from_int: { args: [T.i32], returns: IntFloatT.value },
    twodoubles_sum: { args: [TwoDoublesT], returns: T.f64 },
    twodoubles_make: { args: [T.f64, T.f64], returns: TwoDoublesT.value },
    floatpair_sum: { args: [FloatPairT], returns: T.f64 },
    floatpair_make: { args: [T.f32, T.f32], returns: FloatPairT.value },
    wideunion_sum: { args: [WideT], returns: T.i64 },
    wideunion_make: { args: [T.i64], returns: WideT.value },
    variant_value: { args: [VariantT], returns: T.f64 },
    variant_make: { args: [T.u8, T.f64], returns: VariantT.value },
    union_mix: { args: [IntFloatT, T.f64, TwoDoublesT, T.i32, FloatPairT], returns: T.f64 },
  });
}

function bitsOf(f) {
  const b = new DataView(new ArrayBuffer(4));
  b.setFloat32(0, f, true);
  return b.getInt32(0, true);
}

test('union layouts: every member at offset 0, size the largest rounded up to the alignment', () => {
  assert.deepEqual([IntFloatT.size, IntFloatT.alignment, IntFloatT.offsetOf('f')], [4, 4, 0]);
  assert.deepEqual([TwoDoublesT.size, TwoDoublesT.alignment, TwoDoublesT.offsetOf('pair[1]')], [16, 8, 8]);
  assert.deepEqual([WideT.size, WideT.alignment], [24, 8]);
  const Odd = new UnionSchema({ c: StructSchema.array(T.u8, 5), s: T.u16 });
  assert.deepEqual([Odd.size, Odd.alignment], [6, 2]);
  assert.deepEqual([VariantT.size, VariantT.offsetOf('u'), VariantT.offsetOf('u.f'), VariantT.offsetOf('weight')], [16, 4, 4, 8]);
  // A struct as a union member, and an array of unions.
  const Pt = new StructSchema({ x: T.i16, y: T.i16, z: T.i16 });
  const U = new UnionSchema({ p: Pt, q: T.u32 });
  assert.deepEqual([U.size, U.alignment, U.offsetOf('p.z')], [8, 4, 4]);
  const Arr = new StructSchema({ n: T.u8, items: StructSchema.array(U, 3) });
  assert.deepEqual([Arr.size, Arr.offsetOf('items[2]'), Arr.offsetOf('items[2].p.y')], [28, 20, 22]);
  assert.ok(U instanceof StructSchema);
});

test('create writes the one member given, zero for the rest; fromPtr/fromBuffer read every view', () => {
  const buf = IntFloatT.create({ f: 1.5 });
  assert.equal(buf.byteLength, 4);
  assert.deepEqual(IntFloatT.fromBuffer(buf), { i: bitsOf(1.5), f: 1.5 });
  assert.deepEqual(IntFloatT.fromBuffer(IntFloatT.create({})), { i: 0, f: 0 });
  const wide = WideT.create({ d: 2 });
  assert.deepEqual(WideT.fromBuffer(wide).v, [0x4000000000000000n, 0n, 0n]);
  // write() over old bytes: the member written, the rest zeroed.
  const w = new ArrayBuffer(24);
  new Uint8Array(w).fill(0xff);
  WideT.write({ d: 2 }, w);
  assert.deepEqual(WideT.fromBuffer(w).v, [0x4000000000000000n, 0n, 0n]);
  // Inside a struct (the union zeroed when absent).
  const v = VariantT.fromBuffer(VariantT.create({ tag: 1, u: { i: -7 }, weight: 2 }));
  assert.deepEqual(v, { tag: 1, u: { i: -7, f: v.u.f }, weight: 2 });
  assert.deepEqual(VariantT.fromBuffer(VariantT.create({ tag: 1 })).u, { i: 0, f: 0 });
});

test('more than one member is a TypeError naming them', () => {
  assert.throws(() => IntFloatT.create({ i: 1, f: 2 }), { name: 'TypeError', message: /^UnionSchema\.create: the value is a union: give one member, got "i" and "f"$/ });
  assert.throws(() => VariantT.create({ u: { i: 1, f: 2 } }), { name: 'TypeError', message: /field "u" is a union: give one member, got "i" and "f"/ });
  assert.throws(() => IntFloatT.create(5), { name: 'TypeError', message: /must be an object with the union's fields, got number 5/ });
  assert.throws(() => new UnionSchema({}), { name: 'TypeError', message: /^UnionSchema: a union needs at least one field$/ });
  assert.throws(() => new UnionSchema({ v: T.void }), { name: 'TypeError', message: /^UnionSchema: field "v": void is not a field type/ });
});

test('a union of an int and a float goes in integer registers, both ways', () => {
  const lib = open();
  const s = lib.symbols;
  assert.equal(s.intfloat_bits(IntFloatT.create({ i: 123456789 })), 123456789);
  assert.equal(s.intfloat_bits(IntFloatT.create({ f: 1.5 })), bitsOf(1.5));
  assert.equal(s.intfloat_float(IntFloatT.create({ f: -2.25 })), -2.25);
  assert.equal(s.intfloat_bits({ f: 3.5 }), bitsOf(3.5), 'a plain object argument');
  const held = heldPtrCount();
  const r = s.intfloat_from_float(0.75);
  assert.deepEqual(IntFloatT.fromPtr(r), { i: bitsOf(0.75), f: 0.75 });
  releasePtr(r);
  assert.equal(heldPtrCount(), held);
  assert.deepEqual(s.intfloat_from_int(-5), { i: -5, f: IntFloatT.fromBuffer(IntFloatT.create({ i: -5 })).f });
  lib.close();
});

test('a union of doubles (an HFA on aarch64) and one of two float types', () => {
  const lib = open();
  const s = lib.symbols;
  assert.equal(s.twodoubles_sum(TwoDoublesT.create({ pair: [1.5, 2.25] })), 17.25);
  assert.deepEqual(s.twodoubles_make(3, 4).pair, [3, 4]);
  assert.equal(s.floatpair_sum(FloatPairT.create({ f: [1.5, 0.25] })), 15.25);
  assert.deepEqual(s.floatpair_make(2.5, -1).f, [2.5, -1]);
  assert.equal(s.wideunion_sum(WideT.create({ v: [1n, 2n, 3n] })), 14n);
  assert.deepEqual(s.wideunion_make(7n).v, [7n, -7n, 7000n]);
  assert.equal(s.union_mix(IntFloatT.create({ i: 1 }), 2, { pair: [3, 4] }, 5, { f: [6, 7] }), 1 + 4 + 12 + 32 + 80 + 192 + 448);
  lib.close();
});

test('a struct holding a union, by value both ways', () => {
  const lib = open();
  const s = lib.symbols;
  assert.equal(s.variant_value(VariantT.create({ tag: 0, u: { i: 40 }, weight: 2 })), 42);
  assert.equal(s.variant_value({ tag: 1, u: { f: 1.5 }, weight: 0.25 }), 1.75);
  const made = s.variant_make(1, 2.5);
  assert.equal(made.u.f, 2.5);
  assert.equal(made.weight, 0.5);
  assert.equal(s.variant_make(0, 9).u.i, 9);
  lib.close();
});

test('typed tokens: a UnionSchema and its .value in lib.func', () => {
  const lib = dlopen(fixturePath, {});
  const bits = lib.func('intfloat_bits', C.i32, IntFloatT);
  assert.equal(bits({ i: 77 }), 77);
  const make = lib.func('twodoubles_make', TwoDoublesT.value, C.f64, C.f64);
  assert.deepEqual(make(1, 2).pair, [1, 2]);
  lib.close();
});

test('unions by value into and out of callbacks', () => {
  const lib = dlopen(fixturePath, {
    call_with_floatpair: { args: [T.callback, T.f32, T.f32], returns: T.f64 },
    call_returning_twodoubles: { args: [T.callback, T.f64], returns: T.f64 },
    call_returning_intfloat: { args: [T.callback, T.f32], returns: T.i32 },
  });
  const held = heldPtrCount();
  const sum = new JSCallback((p) => { const u = FloatPairT.fromPtr(p); return u.f[0] * 10 + u.f[1]; }, { args: [FloatPairT], returns: T.f64 });
  assert.equal(lib.symbols.call_with_floatpair(sum, 1.5, 0.25), 15.25);
  const pair = new JSCallback((x) => TwoDoublesT.create({ pair: [x, x + 1] }), { args: [T.f64], returns: TwoDoublesT });
  assert.equal(lib.symbols.call_returning_twodoubles(pair, 3), 3004);
  const asFloat = new JSCallback((x) => IntFloatT.create({ f: x }), { args: [T.f32], returns: IntFloatT });
  assert.equal(lib.symbols.call_returning_intfloat(asFloat, 1.5), bitsOf(1.5));
  assert.equal(heldPtrCount(), held);
  [sum, pair, asFloat].forEach((c) => c.close());
  lib.close();
});

test('a union inside a struct at an offset that splits it across eightbytes', () => {
  const HalfFloatT = new UnionSchema({ f: StructSchema.array(T.f32, 2), s: new StructSchema({ i: T.i32, g: T.f32 }) });
  const Offset4T = new StructSchema({ a: T.f32, u: HalfFloatT });
  assert.deepEqual([Offset4T.size, Offset4T.offsetOf('u.s.g')], [12, 8]);
  const lib = dlopen(fixturePath, {
    offset4_sum: { args: [Offset4T], returns: T.f64 },
    offset4_make: { args: [T.f32, T.i32, T.f32], returns: Offset4T.value },
  });
  assert.equal(lib.symbols.offset4_sum({ a: 0.5, u: { s: { i: 3, g: 0.25 } } }), 55.5);
  const made = lib.symbols.offset4_make(1.5, -4, 2.5);
  assert.deepEqual([made.a, made.u.s, made.u.f[1]], [1.5, { i: -4, g: 2.5 }, 2.5]);
  lib.close();
});

test('nonblocking calls take and return unions by value', async () => {
  const lib = dlopen(fixturePath, {
    floatpair_sum: { args: [FloatPairT], returns: T.f64, nonblocking: true },
    twodoubles_make: { args: [T.f64, T.f64], returns: TwoDoublesT.value, nonblocking: true },
  });
  assert.equal(await lib.symbols.floatpair_sum({ f: [2, 0.5] }), 20.5);
  assert.deepEqual((await lib.symbols.twodoubles_make(5, 6)).pair, [5, 6]);
  lib.close();
});
