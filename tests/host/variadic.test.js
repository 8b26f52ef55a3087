// Variadic functions (`variadic: true`): fixed arguments, then (type, value) pairs, with C's
// default promotions, against libc (snprintf, open, fcntl) and tests/fixtures/core.c.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { arkffi, fixturePath } = require('./helpers');
const { dlopen, FFIType: T, C, CFunction, CString, StructSchema, ptr, errno } = arkffi;

const libc = dlopen('libc.so.6', {
  snprintf: { args: [T.buffer, T.usize, T.CString], returns: T.i32, variadic: true },
  open: { args: [T.CString, T.i32], returns: T.i32, variadic: true },
  fcntl: { args: [T.i32, T.i32], returns: T.i32, variadic: true },
  close: { args: [T.i32], returns: T.i32 },
});
const lib = dlopen(fixturePath, {
  sum_doubles: { args: [T.i32], returns: T.f64, variadic: true },
});
const asyncLib = dlopen(fixturePath, { sum_doubles: { args: [T.i32], returns: T.f64, variadic: true, nonblocking: true } });

function format(fmt, ...rest) {
  const buf = new Uint8Array(512);
  const n = libc.symbols.snprintf(buf, buf.length, fmt, ...rest);
  const s = new CString(ptr(buf)).toString();
  assert.equal(n, Buffer.byteLength(s));
  return s;
}

test('snprintf with every type, promoted as C does', () => {
  assert.equal(format('%d %s %.2f', T.i32, 42, T.CString, 'x', T.f64, 2.5), '42 x 2.50');
  assert.equal(format('%d %u', T.i32, -2147483648, T.u32, 4294967295), '-2147483648 4294967295');
  assert.equal(format('%hhd %hhu %hd %hu', T.i8, -128, T.u8, 255, T.i16, -32768, T.u16, 65535), '-128 255 -32768 65535');
  assert.equal(format('%lld %llu', T.i64, -(2n ** 63n), T.u64, 2n ** 64n - 1n), '-9223372036854775808 18446744073709551615');
  assert.equal(format('%zd %zu', T.isize, -5, T.usize, 2n ** 63n), `-5 ${2n ** 63n}`);
  assert.equal(format('%.3f %.3f', T.f32, 1.25, T.f64, -0.125), '1.250 -0.125'); // f32 -> double
  assert.equal(format('%c%c %d', T.char, 65, T.u8, 66, T.bool, true), 'AB 1'); // char, u8, bool -> int
  assert.equal(format('%p %p', T.ptr, 0x1234, T.ptr, 0xb400007700001234n), '0x1234 0xb400007700001234');
  assert.equal(format('%s|%s', T.CString, 'héllo', T.CString, null), 'héllo|(null)');
  assert.equal(format('%x', C.u32, 255), 'ff'); // typed tokens as the types
  assert.equal(format('no extras'), 'no extras');
  const bytes = new Uint8Array([104, 105, 0]);
  assert.equal(format('%s', T.ptr, bytes), 'hi'); // a buffer as a pointer, as arguments take
});

test('open(path, O_CREAT | O_WRONLY, mode) with the mode, and fcntl', () => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'arkffi-variadic-')), 'f');
  const O_WRONLY = 1;
  const O_CREAT = 0o100;
  const umask = process.umask();
  const fd = libc.symbols.open(file, O_CREAT | O_WRONLY, T.u32, 0o640);
  assert.ok(fd >= 0, `open failed: errno ${errno()}`);
  assert.equal(fs.statSync(file).mode & 0o777, 0o640 & ~umask);
  const F_GETFD = 1;
  const F_SETFD = 2;
  const FD_CLOEXEC = 1;
  assert.equal(libc.symbols.fcntl(fd, F_SETFD, T.i32, FD_CLOEXEC), 0);
  assert.equal(libc.symbols.fcntl(fd, F_GETFD), FD_CLOEXEC);
  assert.equal(libc.symbols.fcntl(fd, F_SETFD, T.i32, 0), 0);
  assert.equal(libc.symbols.fcntl(fd, F_GETFD), 0);
  assert.equal(libc.symbols.close(fd), 0);
  assert.equal(libc.symbols.open('/nonexistent/arkffi', 0), -1);
  assert.equal(errno(), 2);
});

test('a fixture function summing a count of doubles; CFunction and many type lists', () => {
  const s = lib.symbols;
  assert.equal(s.sum_doubles(0), 0);
  assert.equal(s.sum_doubles(3, T.f64, 1.5, T.f64, 2.5, T.f32, 0.25), 4.25);
  const sum = CFunction({ ptr: lib.symbolPtr('sum_doubles'), args: [T.i32], returns: T.f64, variadic: true });
  // More distinct type lists than the cache keeps (16): every one still right.
  for (let k = 0; k < 40; k++) {
    const extras = [];
    for (let i = 0; i < k; i++) extras.push(i % 2 ? T.f32 : T.f64, i + 0.5);
    assert.equal(sum(k, ...extras), k * k / 2, `${k} doubles`);
  }
  // 20 doubles: past the registers, on the stack.
  assert.equal(s.sum_doubles(20, ...Array.from({ length: 20 }, (_, i) => [T.f64, i]).flat()), 190);
});

test('typed: lib.funcVariadic', () => {
  const l = dlopen('libc.so.6');
  const snprintf = l.funcVariadic('snprintf', C.i32, [C.buffer, C.size_t, C.CString]);
  const buf = new Uint8Array(32);
  assert.equal(snprintf(buf, 32, '%d/%.1f', C.i32, 5, C.f32, 0.5), 5);
  assert.equal(new CString(ptr(buf)).toString(), '5/0.5');
  l.close();
});

test('nonblocking variadic calls', async () => {
  assert.equal(await asyncLib.symbols.sum_doubles(2, T.f64, 1, T.f32, 0.5), 1.5);
  await assert.rejects(asyncLib.symbols.sum_doubles(1, T.f64), { name: 'TypeError', message: /args\[1\], a type, has no value after it$/ });
  const fmt = dlopen('libc.so.6', { snprintf: { args: [T.buffer, T.usize, T.CString], returns: T.i32, variadic: true, nonblocking: true } });
  const buf = new Uint8Array(32);
  assert.equal(await fmt.symbols.snprintf(buf, 32, '%d-%s', T.i32, 7, T.CString, 'ok'), 4);
  assert.equal(new CString(ptr(buf)).toString(), '7-ok');
  await assert.rejects(fmt.symbols.snprintf(buf, 32, '%s', T.ptr, new Uint8Array([65, 0])),
    { name: 'TypeError', message: /^snprintf: args\[4\] is a buffer: the variadic arguments of a nonblocking call take addresses/ });
  fmt.close();
});

test('variadic errors: counts, types, structs, values', () => {
  const s = lib.symbols;
  const Complex = new StructSchema({ real: T.f64, imag: T.f64 });
  assert.throws(() => s.sum_doubles(), { name: 'TypeError', message: 'sum_doubles expects at least 1 argument (then a type and a value per variadic argument), got 0' });
  assert.throws(() => s.sum_doubles(1, T.f64), { name: 'TypeError', message: 'sum_doubles: variadic arguments come in (type, value) pairs after the 1 fixed argument: args[1], a type, has no value after it' });
  assert.throws(() => s.sum_doubles(1, 'f64', 1), { name: 'TypeError', message: 'sum_doubles: args[1] must be the FFIType of a variadic argument (then its value), got string "f64"' });
  assert.throws(() => s.sum_doubles(1, 99, 1), { name: 'TypeError', message: /^sum_doubles: args\[1\] must be the FFIType of a variadic argument/ });
  assert.throws(() => s.sum_doubles(1, Complex, Complex.create({ real: 1, imag: 2 })), { name: 'TypeError', message: /^sum_doubles: args\[1\] is a StructSchema: structs are not variadic arguments/ });
  assert.throws(() => s.sum_doubles(1, T.void, 1), { name: 'TypeError', message: /^sum_doubles: args\[1\] is void/ });
  assert.throws(() => s.sum_doubles(1, T.u8, 256), { name: 'RangeError', message: /^sum_doubles: args\[2\] must be u8 .*got number 256$/ });
  assert.throws(() => s.sum_doubles(1, T.f64, 'x'), { name: 'TypeError', message: /^sum_doubles: args\[2\] must be f64/ });
  assert.throws(() => s.sum_doubles('1', T.f64, 1), { name: 'TypeError', message: /^sum_doubles: args\[0\] must be i32/ });
  assert.throws(() => dlopen(fixturePath, { sum_doubles: { args: [T.i32], returns: Complex, variadic: true } }),
    { name: 'TypeError', message: /variadic function returns a scalar here/ });
  assert.throws(() => dlopen(fixturePath, { sum_doubles: { args: [T.i32], variadic: 1 } }), { name: 'TypeError', message: /variadic must be a boolean, got number 1/ });
});
