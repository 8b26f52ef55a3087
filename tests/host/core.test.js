// The core call path through the public API of the host build, against real C code
// (tests/fixtures/core.c): every scalar type at its limits, strings, buffers, pointers,
// function pointers, and every error of the core.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { arkffi, fixturePath } = require('./helpers');
const { dlopen, FFIType: T, CFunction, getSymbolPtr, ptr, read, toArrayBuffer, CString, Library, MemoryReader } = arkffi;

function open(defs) {
  return dlopen(fixturePath, defs);
}

test('the package exports exactly its public names', () => {
  assert.deepEqual(Object.keys(arkffi).sort(), [
    'C', 'CFunction', 'CString', 'CType', 'CallbackType', 'FFIType', 'JSCallback', 'Library', 'MemoryReader', 'MemoryWriter', 'StructArray', 'StructSchema',
    'StructValue', 'UnionSchema', 'cfunc', 'dlopen', 'errno', 'getSymbolPtr', 'heldPtrCount', 'ptr', 'read', 'releasePtr', 'toArrayBuffer', 'view', 'write',
  ]);
});

test('FFIType codes and aliases', () => {
  const aliases = {
    int8_t: 'i8', uint8_t: 'u8', int16_t: 'i16', uint16_t: 'u16', int32_t: 'i32', int: 'i32', uint32_t: 'u32',
    int64_t: 'i64', uint64_t: 'u64', ssize_t: 'isize', size_t: 'usize', float: 'f32', double: 'f64', pointer: 'ptr',
  };
  for (const [alias, canonical] of Object.entries(aliases)) {
    assert.equal(T[alias], T[canonical], alias);
  }
  const canonical = ['void', 'bool', 'char', 'i8', 'u8', 'i16', 'u16', 'i32', 'u32', 'i64', 'u64', 'i64_fast', 'u64_fast',
    'isize', 'usize', 'f32', 'f64', 'ptr', 'CString', 'buffer', 'callback'];
  for (const name of canonical) assert.equal(typeof T[name], 'number', name);
  assert.equal(new Set(canonical.map((n) => T[n])).size, canonical.length, 'canonical codes are distinct');
});

test('the ArkTS enum and the native type table agree', () => {
  // The native side names the type it expected in argument errors.
  for (const name of ['bool', 'char', 'i8', 'u8', 'i16', 'u16', 'i32', 'u32', 'i64', 'u64', 'i64_fast', 'u64_fast',
    'isize', 'usize', 'f32', 'f64', 'ptr', 'CString', 'buffer', 'callback']) {
    const lib = dlopen('libc.so.6', { abs: { args: [T[name]], returns: T.void } });
    assert.throws(() => lib.symbols.abs({}), (e) => e.message.startsWith(`abs: args[0] must be ${name} (`), name);
    lib.close();
  }
});

test('integers of every width round-trip at their limits', () => {
  const lib = open({
    id_i8: { args: [T.i8], returns: T.i8 }, id_u8: { args: [T.u8], returns: T.u8 },
    id_i16: { args: [T.i16], returns: T.i16 }, id_u16: { args: [T.u16], returns: T.u16 },
    id_i32: { args: [T.i32], returns: T.i32 }, id_u32: { args: [T.u32], returns: T.u32 },
    is_i8_min: { args: [T.int8_t], returns: T.int },
  });
  const s = lib.symbols;
  const cases = [
    [s.id_i8, [-128, -1, 0, 1, 127]], [s.id_u8, [0, 1, 128, 255]],
    [s.id_i16, [-32768, -1, 0, 32767]], [s.id_u16, [0, 65535]],
    [s.id_i32, [-2147483648, -1, 0, 2147483647]], [s.id_u32, [0, 2147483648, 4294967295]],
  ];
  for (const [fn, values] of cases) {
    for (const v of values) assert.equal(fn(v), v, `${fn.name}(${v})`);
  }
  assert.equal(s.is_i8_min(-128), 1);
  assert.equal(s.is_i8_min(127), 0);
  assert.ok(Object.is(s.id_i32(-0), 0), '-0 is the integer 0');
  assert.equal(s.id_i32(5n), 5, 'bigint accepted for small integers');
  lib.close();
});

test('out-of-range and non-integral integers are refused, naming function, argument and type', () => {
  const lib = open({ id_u8: { args: [T.u8], returns: T.u8 }, id_i32: { args: [T.i32], returns: T.i32 },
    add_i32: { args: [T.i32, T.i32], returns: T.i32 }, id_u64: { args: [T.u64], returns: T.u64 } });
  const s = lib.symbols;
  assert.throws(() => s.id_u8(256), { name: 'RangeError', message: /^id_u8: args\[0\] must be u8 \(an integer in 0\.\.255.*got number 256$/ });
  assert.throws(() => s.id_u8(-1), RangeError);
  assert.throws(() => s.id_i32(2 ** 31), RangeError);
  assert.throws(() => s.id_i32(-(2 ** 31) - 1), RangeError);
  assert.throws(() => s.add_i32(1, 2.5), { name: 'TypeError', message: /^add_i32: args\[1\] must be i32 .*got number 2\.5$/ });
  assert.throws(() => s.id_i32(NaN), { name: 'TypeError', message: /got number NaN$/ });
  assert.throws(() => s.id_i32(Infinity), { name: 'RangeError', message: /got number Infinity$/ });
  assert.throws(() => s.id_i32('1'), { name: 'TypeError', message: /got string "1"$/ });
  assert.throws(() => s.id_i32(null), { name: 'TypeError', message: /got null$/ });
  assert.throws(() => s.id_i32(undefined), { name: 'TypeError', message: /got undefined$/ });
  assert.throws(() => s.id_i32(true), TypeError);
  assert.throws(() => s.id_u8(300n), { name: 'RangeError', message: /got bigint 300n$/ });
  assert.throws(() => s.id_u64(-1n), RangeError);
  assert.throws(() => s.id_u64(2n ** 64n), RangeError);
  assert.throws(() => s.id_u64(2 ** 64), RangeError);
  lib.close();
});

test('bool', () => {
  const lib = open({ id_bool: { args: [T.bool], returns: T.bool }, bool_to_int: { args: [T.bool], returns: T.i32 } });
  const s = lib.symbols;
  assert.equal(s.id_bool(true), true);
  assert.equal(s.id_bool(false), false);
  assert.equal(s.bool_to_int(true), 1);
  assert.throws(() => s.id_bool(1), { name: 'TypeError', message: /must be bool \(a boolean\), got number 1/ });
  lib.close();
});

// ABI-specific: plain char is signed in the x86_64 System V ABI and unsigned in AAPCS64.
const CHAR_SIGNED_IN_ABI = { x64: true, arm64: false };
test(`char follows the target ABI's signedness (ABI-specific, ${process.arch}: ${CHAR_SIGNED_IN_ABI[process.arch] ? 'signed' : 'unsigned'})`, () => {
  const lib = open({ id_char: { args: [T.char], returns: T.char }, char_is_signed: { returns: T.int } });
  const s = lib.symbols;
  const signed = s.char_is_signed() === 1;
  assert.ok(process.arch in CHAR_SIGNED_IN_ABI, `no expectation for ${process.arch}`);
  assert.equal(signed, CHAR_SIGNED_IN_ABI[process.arch], 'char is signed on x86_64, unsigned on aarch64');
  assert.equal(s.id_char(65), 65);
  assert.equal(s.id_char(-1), signed ? -1 : 255, 'char results follow the ABI signedness');
  assert.equal(s.id_char(255), signed ? -1 : 255, 'char accepts 0..255 and -128..127');
  assert.throws(() => s.id_char(256), RangeError);
  assert.throws(() => s.id_char(-129), RangeError);
  lib.close();
});

test('64-bit integers: bigint out, bigint or integral number in', () => {
  const lib = open({
    id_i64: { args: [T.i64], returns: T.i64 }, id_u64: { args: [T.u64], returns: T.u64 },
    is_u64_max: { args: [T.u64], returns: T.i32 }, is_i64_min: { args: [T.i64], returns: T.i32 },
    add_i64: { args: [T.int64_t, T.int64_t], returns: T.int64_t }, add_u64: { args: [T.uint64_t, T.uint64_t], returns: T.uint64_t },
  });
  const s = lib.symbols;
  assert.equal(s.id_i64(-(2n ** 63n)), -(2n ** 63n));
  assert.equal(s.id_i64(2n ** 63n - 1n), 2n ** 63n - 1n);
  assert.equal(s.id_u64(2n ** 64n - 1n), 2n ** 64n - 1n);
  assert.equal(s.is_u64_max(2n ** 64n - 1n), 1);
  assert.equal(s.is_i64_min(-(2n ** 63n)), 1);
  assert.equal(s.is_i64_min(-(2 ** 63)), 1, 'the number -2^63 is exact');
  assert.equal(s.id_i64(5), 5n, 'numbers in, bigint out');
  assert.equal(s.id_u64(0), 0n);
  assert.equal(s.add_i64(2n ** 62n, 2n ** 62n - 1n), 2n ** 63n - 1n);
  assert.equal(s.add_u64(2n ** 64n - 1n, 1n), 0n, 'C wraps around');
  assert.throws(() => s.id_i64(2n ** 63n), RangeError);
  assert.throws(() => s.id_i64(2 ** 63), RangeError);
  assert.throws(() => s.id_i64(1.5), TypeError);
  lib.close();
});

test('*_fast, isize and usize give numbers within 2^53 and bigints beyond', () => {
  const ids = open({ id_i64: { args: [T.i64], returns: T.i64_fast }, id_u64: { args: [T.u64], returns: T.u64_fast },
    id_isize: { args: [T.ssize_t], returns: T.ssize_t }, id_usize: { args: [T.size_t], returns: T.size_t } });
  const s = ids.symbols;
  assert.equal(s.id_i64(2 ** 53), 2 ** 53);
  assert.equal(s.id_i64(-(2 ** 53)), -(2 ** 53));
  assert.equal(s.id_i64(2n ** 53n + 1n), 2n ** 53n + 1n);
  assert.equal(s.id_i64(-(2n ** 63n)), -(2n ** 63n));
  assert.equal(s.id_u64(7n), 7);
  assert.equal(s.id_u64(2n ** 64n - 1n), 2n ** 64n - 1n);
  assert.equal(s.id_isize(-5), -5);
  assert.equal(s.id_usize(2 ** 40), 2 ** 40);
  assert.equal(s.id_usize(2n ** 60n), 2n ** 60n);
  assert.throws(() => s.id_usize(-1), RangeError);
  ids.close();
});

test('floating point: limits, NaN, infinities, -0, f32 rounding', () => {
  const lib = open({ id_f64: { args: [T.f64], returns: T.f64 }, id_f32: { args: [T.f32], returns: T.f32 },
    f32_widen: { args: [T.float], returns: T.double }, add_f32: { args: [T.f32, T.f32], returns: T.f32 } });
  const s = lib.symbols;
  for (const v of [0, 1.5, -2.25, Number.MAX_VALUE, Number.MIN_VALUE, -Number.MAX_VALUE, Infinity, -Infinity]) {
    assert.equal(s.id_f64(v), v);
  }
  assert.ok(Number.isNaN(s.id_f64(NaN)));
  assert.ok(Object.is(s.id_f64(-0), -0));
  assert.ok(Object.is(s.id_f32(-0), -0));
  assert.ok(Number.isNaN(s.id_f32(NaN)));
  assert.equal(s.id_f32(Infinity), Infinity);
  assert.equal(s.id_f32(0.1), Math.fround(0.1));
  assert.equal(s.f32_widen(3.4028234663852886e38), 3.4028234663852886e38, 'FLT_MAX');
  assert.equal(s.id_f32(1e39), Infinity, 'beyond FLT_MAX rounds to Infinity as in C');
  assert.equal(s.add_f32(1.5, 2.25), 3.75);
  assert.throws(() => s.id_f64('1'), { name: 'TypeError', message: /must be f64 \(a number\), got string "1"/ });
  assert.throws(() => s.id_f64(1n), TypeError);
  lib.close();
});

test('void results, noop and side effects', () => {
  const lib = open({ noop: {}, bump: { returns: T.void }, get_bumps: { returns: T.i32 } });
  assert.equal(lib.symbols.noop(), undefined);
  const before = lib.symbols.get_bumps();
  for (let i = 0; i < 10; i++) lib.symbols.bump();
  assert.equal(lib.symbols.get_bumps(), before + 10);
  lib.close();
});

test('many and mixed arguments', () => {
  const lib = open({
    mix6: { args: [T.i8, T.i16, T.i32, T.i64, T.f32, T.f64], returns: T.f64 },
    sum16: { args: Array(16).fill(T.i64), returns: T.i64 },
    fsum10: { args: Array(10).fill(T.f64), returns: T.f64 },
  });
  assert.equal(lib.symbols.mix6(-1, 300, 70000, 2n ** 40n, 0.5, 0.25), -1 + 300 + 70000 + 2 ** 40 + 0.75);
  const args = Array.from({ length: 16 }, (_, i) => BigInt(i + 1));
  const expected = args.reduce((acc, v, i) => acc + v * BigInt(i + 1), 0n);
  assert.equal(lib.symbols.sum16(...args), expected);
  assert.equal(lib.symbols.fsum10(1, 2, 3, 4, 5, 6, 7, 8, 9, 10.5), 55.5);
  assert.throws(() => lib.symbols.sum16(...args.slice(0, 15)), { name: 'TypeError', message: 'sum16 expects 16 arguments, got 15' });
  assert.throws(() => lib.symbols.sum16(...args, 1n), { name: 'TypeError', message: 'sum16 expects 16 arguments, got 17' });
  lib.close();
});

test('strings in: UTF-8 copies for the call, empty, long, multi-byte, null, NUL', () => {
  const lib = open({
    str_len: { args: [T.CString], returns: T.usize }, str_is_null: { args: [T.CString], returns: T.i32 },
    str_echo: { args: [T.CString], returns: T.CString }, str_cmp: { args: [T.CString, T.CString], returns: T.i32 },
    str_byte_sum: { args: [T.CString], returns: T.u32 }, str_join: { args: [T.CString, T.CString], returns: T.CString },
  });
  const s = lib.symbols;
  assert.equal(s.str_len(''), 0);
  assert.equal(s.str_len('abc'), 3);
  const multi = 'héllo ✓ 𝄞';
  assert.equal(s.str_len(multi), Buffer.byteLength(multi, 'utf8'));
  assert.equal(s.str_byte_sum(multi), [...Buffer.from(multi, 'utf8')].reduce((a, b) => a + b, 0));
  assert.equal(s.str_echo(multi), multi);
  const long = 'x'.repeat(100 * 1024);
  assert.equal(s.str_len(long), long.length);
  assert.equal(s.str_echo(long), long, 'a returned argument string is read before the copy is freed');
  const longMulti = '✓'.repeat(40000);
  assert.equal(s.str_len(longMulti), 120000);
  // Strings around the stack arena's size (1024 bytes) and several in one call.
  for (const n of [1000, 1014, 1015, 1016, 1019, 1020, 1023, 1024, 1025, 2048]) {
    const a = 'a'.repeat(n);
    assert.equal(s.str_len(a), n, `length ${n}`);
    assert.equal(s.str_cmp(a, a), 0);
    assert.equal(s.str_len('é'.repeat(n)), 2 * n);
  }
  assert.equal(s.str_join('left-', 'right'), 'left-right');
  assert.equal(s.str_is_null(null), 1);
  assert.equal(s.str_is_null(''), 0);
  assert.equal(s.str_echo(null), null);
  const lone = '\ud800';
  assert.equal(s.str_echo(lone), '\ufffd', 'a lone surrogate is sent as U+FFFD');
  assert.throws(() => s.str_len('a\0b'), { name: 'TypeError', message: /^str_len: args\[0\] must be CString .*NUL/ });
  assert.throws(() => s.str_len('x'.repeat(5000) + '\0'), TypeError);
  assert.throws(() => s.str_len(undefined), { name: 'TypeError', message: /got undefined$/ });
  assert.throws(() => s.str_len(42), TypeError);
  lib.close();
});

test('strings out: read, never freed; NULL is null; invalid UTF-8 replaced', () => {
  const lib = open({ str_static: { returns: T.CString }, str_null: { returns: T.CString },
    str_invalid_utf8: { returns: T.CString }, str_multibyte: { returns: T.CString } });
  const s = lib.symbols;
  for (let i = 0; i < 3; i++) assert.equal(s.str_static(), 'hello from C', 'a static string can be read again: not freed');
  assert.equal(s.str_null(), null);
  assert.equal(s.str_invalid_utf8(), 'ok \ufffd\ufffd end');
  assert.equal(s.str_multibyte(), 'héllo ✓ 𝄞');
  lib.close();
});

test('buffers: ArrayBuffer, typed arrays with offsets, DataView; C writes into them', () => {
  const lib = open({
    fill_bytes: { args: [T.buffer, T.usize, T.u8] }, sum_i32: { args: [T.buffer, T.usize], returns: T.i64 },
    sum_f64: { args: [T.buffer, T.usize], returns: T.f64 }, write_greeting: { args: [T.buffer, T.usize], returns: T.usize },
    is_null_buffer: { args: [T.buffer], returns: T.i32 },
  });
  const s = lib.symbols;
  const ab = new ArrayBuffer(16);
  s.fill_bytes(ab, 16, 7);
  assert.deepEqual([...new Uint8Array(ab)], Array(16).fill(7));
  const whole = new Uint8Array(32);
  s.fill_bytes(whole.subarray(8, 12), 4, 9);
  assert.deepEqual([...whole.subarray(6, 14)], [0, 0, 9, 9, 9, 9, 0, 0], 'the view offset is respected');
  const dv = new DataView(new ArrayBuffer(16), 4, 8);
  s.fill_bytes(dv, 8, 1);
  assert.deepEqual([...new Uint8Array(dv.buffer)], [0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0]);
  const ints = Int32Array.from({ length: 1000 }, (_, i) => i - 300);
  assert.equal(s.sum_i32(ints, ints.length), BigInt(ints.reduce((a, b) => a + b, 0)));
  assert.equal(s.sum_i32(ints.subarray(500), 500), BigInt(ints.subarray(500).reduce((a, b) => a + b, 0)));
  assert.equal(s.sum_f64(new Float64Array([0.5, 1.5, 2]), 3), 4);
  const out = new Uint8Array(32);
  const n = s.write_greeting(out, out.length);
  assert.equal(Buffer.from(out.subarray(0, n)).toString(), 'greetings');
  assert.equal(s.is_null_buffer(null), 1);
  assert.equal(s.is_null_buffer(new Uint8Array(4)), 0);
  assert.equal(s.sum_i32(Buffer.from([1, 0, 0, 0, 2, 0, 0, 0]), 2), 3n, 'a Node Buffer is a Uint8Array');
  assert.throws(() => s.sum_i32([1, 2, 3], 3), { name: 'TypeError', message: /^sum_i32: args\[0\] must be buffer .*got array$/ });
  assert.throws(() => s.sum_i32('abc', 3), TypeError);
  assert.throws(() => s.sum_i32(undefined, 0), TypeError);
  lib.close();
});

test('pointers: numbers, NULL as null, bigint for high and tagged addresses', () => {
  const lib = open({
    id_ptr: { args: [T.ptr], returns: T.ptr }, ptr_to_int: { args: [T.pointer], returns: T.u64 },
    int_to_ptr: { args: [T.u64], returns: T.ptr }, tag_ptr: { args: [T.ptr, T.u8], returns: T.ptr },
    untag_ptr: { args: [T.ptr], returns: T.ptr }, static_ints: { returns: T.ptr },
    read_tagged_i32: { args: [T.ptr], returns: T.i32 },
  });
  const s = lib.symbols;
  assert.equal(s.id_ptr(null), null);
  assert.equal(s.id_ptr(0), null, 'NULL comes back as null');
  assert.equal(s.id_ptr(0x1000), 0x1000);
  assert.equal(s.id_ptr(2 ** 53), 2 ** 53, '2^53 is still a number');
  assert.equal(s.int_to_ptr(2n ** 53n + 1n), 2n ** 53n + 1n, 'above 2^53: bigint, never rounded');
  assert.equal(s.id_ptr(2n ** 64n - 1n), 2n ** 64n - 1n);
  assert.equal(s.ptr_to_int(2n ** 64n - 16n), 2n ** 64n - 16n);
  const p = s.static_ints();
  assert.equal(typeof p, 'number');
  const tagged = s.tag_ptr(p, 0xb4);
  assert.equal(typeof tagged, 'bigint');
  assert.equal(tagged, (0xb4n << 56n) | BigInt(p), 'a top-byte-tagged pointer survives unchanged');
  assert.equal(s.id_ptr(tagged), tagged, 'and round-trips through C unchanged');
  assert.equal(s.untag_ptr(tagged), p);
  assert.equal(s.read_tagged_i32(tagged), 1);
  const buf = new Int32Array([5, 6]);
  assert.equal(s.ptr_to_int(ptr(buf)), BigInt(ptr(buf)), 'buffers are accepted as pointers');
  assert.equal(s.ptr_to_int(buf), BigInt(ptr(buf)));
  assert.throws(() => s.id_ptr(2 ** 60), { name: 'RangeError', message: /addresses above 2\^53 must be passed as bigint/ });
  assert.throws(() => s.id_ptr(-1), RangeError);
  assert.throws(() => s.id_ptr(1.5), TypeError);
  assert.throws(() => s.id_ptr(-1n), RangeError);
  assert.throws(() => s.id_ptr(2n ** 64n), RangeError);
  assert.throws(() => s.id_ptr(undefined), { name: 'TypeError', message: /^id_ptr: args\[0\] must be ptr .*got undefined$/ });
  assert.throws(() => s.id_ptr('0x10'), TypeError);
  lib.close();
});

test('memory helpers: ptr, read.*, toArrayBuffer, CString', () => {
  const lib = open({ static_ints: { returns: T.ptr }, static_strings: { returns: T.ptr }, static_mixed: { returns: T.ptr },
    str_static: { returns: T.ptr } });
  const ints = lib.symbols.static_ints();
  assert.deepEqual([0, 4, 8, 12, 16].map((o) => read.i32(ints, o)), [1, -2, 3, -4, 2147483647]);
  assert.equal(read.u32(ints, 4), 2 ** 32 - 2);
  assert.equal(read.i8(ints, 4), -2);
  assert.equal(read.u8(ints, 4), 254);
  assert.equal(read.i16(ints, 4), -2);
  assert.equal(read.u16(ints, 4), 65534);
  const m = lib.symbols.static_mixed();
  // struct mixed { int8 a; uint16 b; int32 c; int64 d; float e; double f; void *g; } (x86_64/aarch64 layout)
  assert.equal(read.i8(m, 0), -5);
  assert.equal(read.u16(m, 2), 65535);
  assert.equal(read.i32(m, 4), -100000);
  assert.equal(read.i64(m, 8), -9000000000n);
  assert.equal(read.f32(m, 16), 1.5);
  assert.equal(read.f64(m, 24), -2.25);
  assert.equal(read.ptr(m, 32), 0x1234);
  assert.equal(read.u64(m, 8), 2n ** 64n - 9000000000n);
  // Each reader is a function of its own, usable detached from `read`, and a new
  // MemoryReader reads the same.
  const { i32, f64, ptr: readPtr } = read;
  assert.equal(i32(m, 4), -100000);
  assert.equal(f64(m, 24), -2.25);
  assert.equal(readPtr(m, 32), 0x1234);
  assert.equal(new MemoryReader().i64(m, 8), -9000000000n);
  assert.throws(() => i32(null), { name: 'Error', message: /^read\.i32: cannot read through a NULL pointer$/ });
  const strs = lib.symbols.static_strings();
  assert.equal(new CString(read.ptr(strs, 0)).toString(), 'zero');
  assert.equal(new CString(read.ptr(strs, 8)).toString(), 'one');
  assert.equal(read.ptr(strs, 16), null);
  assert.equal(new CString(null).toString(), '', 'NULL reads as an empty string');
  const hello = lib.symbols.str_static();
  assert.equal(new CString(hello).toString(), 'hello from C');
  assert.equal(new CString(hello, 6).toString(), 'from C');
  assert.equal(new CString(hello, 6, 4).toString(), 'from');
  assert.equal(`${new CString(hello)}`, 'hello from C');
  assert.equal(new CString(hello).length, 12);
  const copy = toArrayBuffer(ints, 4, 8);
  assert.ok(copy instanceof ArrayBuffer);
  assert.deepEqual([...new Int32Array(copy)], [-2, 3]);
  assert.equal(toArrayBuffer(ints, 0, 0).byteLength, 0);
  // ptr() of JS memory, read back natively.
  const f = new Float64Array([1.25, -8]);
  assert.equal(read.f64(ptr(f), 8), -8);
  assert.equal(read.f64(ptr(f, 8)), -8);
  assert.equal(read.i32(ptr(new Int32Array([1, 2, 3]).subarray(1))), 2, 'ptr respects the view offset');
  assert.equal(ptr(new ArrayBuffer(8), 8) !== null, true, 'offset == length is allowed (one past the end)');
  assert.throws(() => ptr(new ArrayBuffer(8), 9), { name: 'RangeError', message: /past the end/ });
  assert.throws(() => ptr([1, 2]), { name: 'TypeError', message: /^ptr: argument 0 must be an ArrayBuffer/ });
  assert.throws(() => ptr(new ArrayBuffer(8), -1), RangeError);
  assert.throws(() => ptr(new ArrayBuffer(8), 1.5), TypeError);
  // Never a crash on NULL or the first page.
  assert.throws(() => read.i32(null), { name: 'Error', message: /NULL/ });
  assert.throws(() => read.i32(0, 16), /NULL/);
  assert.throws(() => read.i32(16), /not readable memory/);
  assert.throws(() => toArrayBuffer(null, 0, 4), /NULL/);
  assert.throws(() => toArrayBuffer(ints, 0, -1), RangeError);
  assert.throws(() => toArrayBuffer(ints, 0), TypeError, 'byteLength is required');
  assert.throws(() => read.i32('x'), TypeError);
  assert.throws(() => new CString(8), /not readable memory/);
  lib.close();
});

test('function pointers: getSymbolPtr, CFunction, callback arguments', () => {
  const lib = open({ apply_i32: { args: [T.callback, T.i32], returns: T.i32 }, get_twice: { returns: T.ptr },
    get_bumps: { returns: T.i32 } });
  const twice = getSymbolPtr(lib, 'twice');
  assert.equal(twice, lib.symbols.get_twice());
  assert.equal(lib.symbols.apply_i32(twice, 21), 42);
  assert.equal(lib.symbols.apply_i32(null, 21), -1);
  const fn = CFunction({ ptr: twice, args: [T.i32], returns: T.i32 });
  assert.equal(fn(8), 16);
  assert.throws(() => fn(), { name: 'TypeError', message: /^CFunction\(0x[0-9a-f]+\) expects 1 argument, got 0$/ });
  // A variable's address, read through the memory helpers.
  assert.equal(read.i32(getSymbolPtr(lib, 'fixture_counter')), 42);
  assert.throws(() => getSymbolPtr(lib, 'no_such_symbol'), { name: 'Error', message: /symbol "no_such_symbol" not found in library/ });
  assert.throws(() => CFunction({ ptr: 0, args: [], returns: T.void }), /function address/);
  assert.throws(() => CFunction({ ptr: twice, args: [99], returns: T.void }), { name: 'TypeError', message: /args\[0\] is not an FFIType or a StructSchema/ });
  assert.throws(() => lib.symbols.apply_i32(new Uint8Array(4), 1), { name: 'TypeError', message: /must be callback/ });
  lib.close();
});

test('close: dlclose once, calls afterwards throw, close is idempotent', () => {
  const lib = open({ add_i32: { args: [T.i32, T.i32], returns: T.i32 } });
  assert.ok(lib instanceof Library);
  assert.equal(lib.path, fixturePath);
  const add = lib.symbols.add_i32;
  assert.equal(add(2, 3), 5);
  lib.close();
  lib.close();
  assert.throws(() => add(2, 3), { name: 'Error', message: `add_i32: library "${fixturePath}" is closed` });
  assert.throws(() => lib.symbols.add_i32(1, 1), /is closed/);
  assert.throws(() => getSymbolPtr(lib, 'add_i32'), /is closed/);
});

test('libc and libm work by name', () => {
  const libc = dlopen('libc.so.6', { strlen: { args: [T.CString], returns: T.size_t }, abs: { args: [T.int], returns: T.int } });
  const libm = dlopen('libm.so.6', { cos: { args: [T.double], returns: T.double }, cosf: { args: [T.float], returns: T.float } });
  assert.equal(libc.symbols.strlen('hello'), 5);
  assert.equal(libc.symbols.abs(-7), 7);
  assert.equal(libm.symbols.cos(0), 1);
  assert.equal(libm.symbols.cosf(0), 1);
  libc.close();
  libm.close();
});

test('dlopen errors: path, symbols, definitions, types', () => {
  assert.throws(() => dlopen('/nonexistent/libnope.so', {}),
    { name: 'Error', message: /^dlopen\("\/nonexistent\/libnope.so"\) failed: .*No such file or directory/ });
  assert.throws(() => dlopen(fixturePath, { no_such_fn: {} }),
    { name: 'Error', message: new RegExp(`^symbol "no_such_fn" not found in library "${fixturePath.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}"`) });
  assert.throws(() => dlopen(fixturePath, { add_i32: { args: [T.i32, 99], returns: T.i32 } }),
    { name: 'TypeError', message: /symbol "add_i32": args\[1\] is not an FFIType or a StructSchema, got number 99$/ });
  assert.throws(() => dlopen('/nonexistent/libnope.so', { f: { returns: -1 } }), { name: 'TypeError', message: /returns is not an FFIType or a StructSchema/ },
    'definitions are checked before the file is opened');
  assert.throws(() => dlopen(fixturePath, { f: { args: [T.void] } }), { name: 'TypeError', message: /void is only valid in returns/ });
  assert.throws(() => dlopen(fixturePath, { f: { args: ['i32'] } }), { name: 'TypeError', message: /got string "i32"/ });
  assert.throws(() => dlopen(fixturePath, { f: { args: T.i32 } }), { name: 'TypeError', message: /args must be an array/ });
  assert.throws(() => dlopen(fixturePath, { f: { return: T.i32 } }), { name: 'TypeError', message: /unknown key "return"/ });
  assert.throws(() => dlopen(fixturePath, { f: 5 }), { name: 'TypeError', message: /definition must be an object/ });
  assert.throws(() => dlopen(fixturePath, { f: null }), TypeError);
  assert.throws(() => dlopen(fixturePath, null), { name: 'TypeError', message: /symbols must be an object/ });
  assert.throws(() => dlopen(fixturePath, [1]), TypeError);
  assert.throws(() => dlopen(42, {}), { name: 'TypeError', message: /path must be a string, got number 42/ });
  assert.throws(() => dlopen('', {}), { name: 'TypeError', message: /non-empty/ });
  assert.throws(() => dlopen(undefined), TypeError);
});
