// The shaped direct calls (src/shaped.rs): one entry point per shape of up to four int32 /
// double arguments, and of up to two with C strings among them. Every shape against its C
// function (tests/fixtures/shapes.c), random values with a seed; and every refusal and
// accepted edge value compared, message for message, with the same calls through libffi
// (ARKFFI_NO_DIRECT=1, in a child process).
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { arkffi, directAndLibffi, fixturePath, prng } = require('./helpers');

const { dlopen, FFIType: T, ptr } = arkffi;
const WEIGHTS = [1, 3, 7, 13];
const STRING_SHAPES = ['s', 'si', 'is', 'sd', 'ds', 'ss'];

function shapes() {
  const all = [''];
  for (let n = 1; n <= 4; n++) {
    for (const s of all.filter((x) => x.length === n - 1)) all.push(s + 'i', s + 'd');
  }
  return all;
}

function definitions() {
  const defs = {};
  for (const s of shapes()) {
    defs[`shape_${s}`] = { args: [...s].map((c) => (c === 'i' ? T.i32 : T.f64)), returns: T.f64 };
  }
  defs.shapei_ii = { args: [T.i32, T.i32], returns: T.i32 };
  defs.shapei_di = { args: [T.f64, T.i32], returns: T.i32 };
  defs.shapei_dd = { args: [T.f64, T.f64], returns: T.u32 };
  defs.shape_narrow = { args: [T.u8, T.i16, T.u32, T.i8], returns: T.f64 };
  defs.shape_sum = { args: [T.ptr, T.usize], returns: T.i64 };
  defs.generic_mix = { args: [T.i32, T.i64, T.f32, T.u16, T.i32, T.f64], returns: T.f64 };
  for (const s of STRING_SHAPES) {
    defs[`shape_${s}`] = { args: [...s].map((c) => ({ i: T.i32, d: T.f64, s: T.CString })[c]), returns: T.f64 };
  }
  return defs;
}

test('every shape of up to four int32/double arguments gets each argument in its register', () => {
  const lib = dlopen(fixturePath, definitions());
  const rnd = prng(0x5a9ed);
  const int = () => {
    const edges = [0, -1, 1, 2147483647, -2147483648];
    return rnd() < 0.3 ? edges[Math.floor(rnd() * edges.length)] : Math.floor(rnd() * 2 ** 32) - 2 ** 31;
  };
  const dbl = () => (rnd() < 0.1 ? -0 : (rnd() - 0.5) * 10 ** Math.floor(rnd() * 12));
  for (const s of shapes()) {
    for (let round = 0; round < 20; round++) {
      const args = [...s].map((c) => (c === 'i' ? int() : dbl()));
      const want = s === '' ? 0.5 : args.reduce((sum, a, k) => sum + WEIGHTS[k] * a, 0) - 0;
      const got = lib.symbols[`shape_${s}`](...args);
      // The C sum starts from its first term, the JS one from 0: equal except for -0.
      assert.ok(Object.is(got, want) || (got === 0 && want === 0), `shape_${s}(${args}) = ${got}, want ${want}`);
    }
  }
  assert.equal(lib.symbols.shapei_ii(10, 3), 1);
  assert.equal(lib.symbols.shapei_ii(-2147483648, 0), -2147483648);
  assert.equal(lib.symbols.shapei_di(7.9, -2), 13);
  assert.equal(lib.symbols.shapei_dd(5, 1), 4);
  assert.equal(lib.symbols.shape_narrow(255, -32768, 4294967295, -128), 255 + 3 * -32768 + 7 * 4294967295 + 13 * -128);
  // The shapes with C strings: each string's UTF-8 byte count (null: -1) in its place,
  // strings of every length around the NUL scan's steps and the arena's end.
  const strs = [null, '', 'a', 'héllo', '✓'.repeat(7), 'x'.repeat(15), 'y'.repeat(16), 'z'.repeat(17), 'w'.repeat(4095), 'v'.repeat(5000)];
  const len = (t) => (t === null ? -1 : Buffer.byteLength(t));
  for (const s of STRING_SHAPES) {
    for (let round = 0; round < 30; round++) {
      const args = [...s].map((c) => (c === 'i' ? int() : c === 'd' ? dbl() : strs[Math.floor(rnd() * strs.length)]));
      const want = args.reduce((sum, a, k) => sum + WEIGHTS[k] * (s[k] === 's' ? len(a) : a), 0);
      const got = lib.symbols[`shape_${s}`](...args);
      assert.ok(Object.is(got, want) || (got === 0 && want === 0), `shape_${s}(${args.map((a) => (typeof a === 'string' ? a.length + ' chars' : a))}) = ${got}, want ${want}`);
    }
  }
  // The generic entry (no shape): its int32 arguments at both ends of the range, and -0.
  const g = lib.symbols.generic_mix;
  assert.equal(g(-2147483648, -(2n ** 40n), 0.5, 65535, 2147483647, 0.25),
    -2147483648 + 3 * -(2 ** 40) + 3.5 + 13 * 65535 + 17 * 2147483647 + 4.75);
  assert.equal(g(-0, 0n, 0, 0, -0, 0), 0);
  lib.close();
});

test('a pointer and a size_t take the shaped entry as numbers, and the general conversion otherwise', () => {
  const lib = dlopen(fixturePath, definitions());
  const ints = new Int32Array([1, 2, 3, 4, 5]);
  const s = lib.symbols;
  assert.equal(s.shape_sum(ptr(ints), 5), 15n);
  assert.equal(s.shape_sum(ints, 4), 10n);
  assert.equal(s.shape_sum(null, 0), -1n);
  assert.equal(s.shape_sum(ptr(ints), 3n), 6n);
  assert.equal(s.shape_sum(BigInt(ptr(ints)), 2), 3n);
  lib.close();
});

// Each call, as the shaped entry answers it and as libffi does: the value or the error.
const probe = `
const A = require(process.env.HOST_BUILD);
const defs = ${JSON.stringify(definitions())};
const lib = A.dlopen(process.env.FIXTURE, defs);
const big = (v) => (typeof v === 'bigint' ? 'bigint:' + v : v);
const rows = [];
const values = [
  0, -0, 1.5, -1, 2 ** 31, -(2 ** 31) - 1, 2 ** 31 - 1, -(2 ** 31), 255, 256, -129, 4294967296, NaN, Infinity, 2 ** 53, 2 ** 53 + 2,
  '1', 'x', null, undefined, true, 1n, -5n, 2n ** 40n, {}, [], Symbol('s'),
  '', 'a\\0b', 'é'.repeat(20), 'q'.repeat(4100), new String('boxed'),
];
const names = ['shape_i', 'shape_d', 'shape_id', 'shape_didi', 'shape_narrow', 'shape_sum', 'shapei_dd', 'generic_mix',
  'shape_s', 'shape_si', 'shape_ds', 'shape_ss'];
for (const name of names) {
  const n = defs[name].args.length;
  for (let k = 0; k < n; k++) {
    for (const v of values) {
      // shape_sum reads n ints at p: with null or n = 0 it reads none, whatever the other is.
      const args = name === 'shape_sum' ? [null, 0] : defs[name].args.map((t) => (t === ${T.i64} ? 1n : t === ${T.CString} ? 'arg' : 1));
      args[k] = v;
      try {
        rows.push([name, k, String(v), 'ok', big(lib.symbols[name](...args))]);
      } catch (e) {
        rows.push([name, k, String(v), e.constructor.name, e.message]);
      }
    }
  }
  try { lib.symbols[name](); } catch (e) { rows.push([name, 'count', e.constructor.name, e.message]); }
}
process.stdout.write(JSON.stringify(rows));
`;

test('refusals and accepted edge values are those of the libffi path, message for message', () => {
  const { direct, libffi } = directAndLibffi(probe);
  assert.ok(direct.length > 300, `${direct.length} rows`);
  assert.deepEqual(direct, libffi);
  // And the shaped entries do refuse: a fraction, an out-of-range number and a string.
  const row = (name, k, v) => direct.find((r) => r[0] === name && r[1] === k && r[2] === v);
  assert.deepEqual(row('shape_i', 0, '1.5').slice(3, 4), ['TypeError']);
  assert.deepEqual(row('shape_i', 0, String(2 ** 31)).slice(3, 4), ['RangeError']);
  assert.deepEqual(row('shape_narrow', 0, '256').slice(3, 4), ['RangeError']);
  assert.deepEqual(row('shape_d', 0, 'x').slice(3, 4), ['TypeError']);
  assert.match(row('shape_id', 1, 'x')[4], /^shape_id: args\[1\]/);
  // The generic entry refuses the same way: a fraction and 2^31 for its int32 arguments.
  assert.deepEqual(row('generic_mix', 0, '1.5').slice(3, 4), ['TypeError']);
  assert.deepEqual(row('generic_mix', 4, String(2 ** 31)).slice(3, 4), ['RangeError']);
  assert.deepEqual(row('generic_mix', 4, String(-(2 ** 31))).slice(3, 4), ['ok']);
  // The string shapes: null is NULL, a NUL inside and a number are refused, a long string
  // (heap) is taken.
  assert.deepEqual(row('shape_s', 0, 'null').slice(3), ['ok', -1]);
  assert.deepEqual(row('shape_s', 0, 'a\0b').slice(3, 4), ['TypeError']);
  assert.deepEqual(row('shape_si', 0, '1').slice(3), ['ok', 1 + 3]);
  assert.deepEqual(row('shape_ss', 1, '1.5').slice(3, 4), ['TypeError']);
  assert.deepEqual(row('shape_ds', 1, 'q'.repeat(4100)).slice(3), ['ok', 1 + 3 * 4100]);
});
