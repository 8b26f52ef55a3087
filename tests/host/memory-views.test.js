// view(): ArrayBuffers over C memory itself (no copy), and write.<type>(): typed writes into
// C memory, against memory from libc's malloc and the fixture (tests/fixtures/core.c).
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { arkffi, fixturePath } = require('./helpers');
const { dlopen, FFIType: T, C, ptr, read, write, view, toArrayBuffer } = arkffi;

const libc = dlopen('libc.so.6');
const malloc = libc.func('malloc', C.ptr, C.usize);
const free = libc.func('free', C.void, C.ptr);
const memset = libc.func('memset', C.ptr, C.ptr, C.i32, C.usize);
const lib = dlopen(fixturePath, {
  sum_i32: { args: [T.buffer, T.usize], returns: T.i64 },
  static_ints: { returns: T.ptr },
});

test('a view is the C memory itself: JS writes reach C, C writes show in the view', () => {
  const a = malloc(64);
  memset(a, 0, 64);
  const v = view(a, 0, 64);
  assert.ok(v instanceof ArrayBuffer);
  assert.equal(v.byteLength, 64);
  assert.equal(ptr(v), a);
  assert.equal(ptr(view(a, 8, 16)), a + 8);
  const ints = new Int32Array(v);
  ints.set([5, -7, 1000]);
  assert.equal(read.i32(a, 4), -7);
  assert.equal(lib.symbols.sum_i32(v, 3), 998n); // an external ArrayBuffer as a buffer argument
  memset(a, 1, 4);
  assert.equal(ints[0], 0x01010101);
  // No copy was made: toArrayBuffer copies, view does not.
  const copy = new Int32Array(toArrayBuffer(a, 0, 4));
  memset(a, 2, 4);
  assert.equal(copy[0], 0x01010101);
  assert.equal(ints[0], 0x02020202);
  free(a);
});

test('ArkFFI never frees the memory of a view (collected views leave it alone)', () => {
  const ints = lib.symbols.static_ints();
  for (let i = 0; i < 1000; i++) view(ints, 0, 20);
  global.gc();
  assert.deepEqual([...new Int32Array(view(ints, 0, 20))], [1, -2, 3, -4, 2147483647]);
  const a = malloc(16);
  (() => { new Uint8Array(view(a, 0, 16)).fill(9); })();
  global.gc();
  assert.equal(read.u8(a, 15), 9);
  free(a);
});

test('view refuses NULL, the first page, lengths over 2^31 - 1 and bad arguments', () => {
  const ints = lib.symbols.static_ints();
  assert.throws(() => view(null, 0, 4), { name: 'Error', message: 'view: cannot read through a NULL pointer' });
  assert.throws(() => view(16, 0, 4), { name: 'Error', message: 'view: address 0x10 is not readable memory' });
  assert.throws(() => view(ints, 0, 2 ** 31), { name: 'RangeError', message: /^view: byteLength 2147483648 is over the limit of 2147483647 bytes/ });
  assert.throws(() => view(ints, 0), { name: 'TypeError', message: /^view: byteLength must be a whole number >= 0, got undefined$/ });
  assert.throws(() => view(ints, -1, 4), { name: 'RangeError', message: /^view: byteOffset must be a whole number >= 0/ });
  assert.throws(() => view(new ArrayBuffer(4), 0, 4), { name: 'TypeError', message: /^view: argument 0 must be ptr .*ptr\(view\) gives the address/ });
  assert.throws(() => view(2n ** 64n - 1n, 8, 4), { name: 'RangeError', message: /overflows/ });
});

test('write.<type> round-trips with read.<type> at every limit, unaligned too', () => {
  const a = malloc(32);
  const cases = {
    i8: [-128, -1, 0, 127], u8: [0, 255], i16: [-32768, 32767], u16: [0, 65535],
    i32: [-2147483648, -1, 2147483647], u32: [0, 4294967295],
    i64: [-(2n ** 63n), -1n, 2n ** 63n - 1n], u64: [0n, 2n ** 64n - 1n],
    f32: [1.5, -0.25, Infinity], f64: [Math.PI, -0, NaN, 2 ** 1000],
    ptr: [null, 0x1234, 2 ** 53, 0xb400007700001234n],
  };
  for (const [type, values] of Object.entries(cases)) {
    for (const v of values) {
      write[type](a, 3, v);
      assert.deepEqual(read[type](a, 3), v, `${type} ${v}`);
    }
  }
  write.i64(a, 0, 5); // an integral number for a 64-bit type, as arguments take
  assert.equal(read.i64(a), 5n);
  write.f32(a, 0, 0.1);
  assert.equal(read.f32(a), Math.fround(0.1));
  const buf = new ArrayBuffer(8);
  write.ptr(a, 0, buf); // a buffer's address, as a ptr argument
  assert.equal(read.ptr(a), ptr(buf));
  write.u8(a, undefined, 7); // byteOffset undefined: 0
  assert.equal(read.u8(a), 7);
  free(a);
});

test('writes reach C: the fixture sums what write.i32 wrote', () => {
  const a = malloc(12);
  write.i32(a, 0, 10);
  write.i32(a, 4, 20);
  write.i32(a, 8, -5);
  assert.equal(lib.symbols.sum_i32(view(a, 0, 12), 3), 25n);
  free(a);
});

test('write refuses what read refuses, and values arguments refuse', () => {
  const a = malloc(8);
  assert.throws(() => write.i32(null, 0, 1), { name: 'Error', message: 'write.i32: cannot write through a NULL pointer' });
  assert.throws(() => write.u8(16, 0, 1), { name: 'Error', message: 'write.u8: address 0x10 is not writable memory' });
  assert.throws(() => write.u8(a, 0, 256), { name: 'RangeError', message: /^write.u8: value must be u8 .*got number 256$/ });
  assert.throws(() => write.i32(a, 0, 1.5), { name: 'TypeError', message: /^write.i32: value must be i32 .*got number 1.5$/ });
  assert.throws(() => write.f64(a, 0, '1'), { name: 'TypeError', message: /^write.f64: value must be f64 \(a number\), got string "1"$/ });
  assert.throws(() => write.i64(a, 0, 2n ** 63n), { name: 'RangeError', message: /^write.i64: value must be i64/ });
  assert.throws(() => write.ptr(a, 0, 2 ** 60), { name: 'RangeError', message: /addresses above 2\^53 must be passed as bigint$/ });
  assert.throws(() => write.i32(a, -4, 1), { name: 'RangeError', message: /^write.i32: byteOffset must be a whole number >= 0/ });
  assert.throws(() => write.i32(a, 0), { name: 'TypeError', message: /^write.i32: value must be i32 .*got undefined$/ });
  assert.throws(() => write.i32(new Int32Array(2), 0, 1), { name: 'TypeError', message: /ptr\(view\) gives the address of a buffer's bytes$/ });
  free(a);
});
