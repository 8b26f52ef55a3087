// Zero heap allocations per call: the crate built with the cargo feature `alloc-stats`
// (target/host-alloc, made by scripts/test.sh) counts every allocation of its Rust global
// allocator and exports the count as __debugAllocations(). Each case warms up, then makes
// many calls and asserts the count did not move. A long string (beyond the per-env string
// arena) must allocate: the control that shows the counter counts.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('path');
const fs = require('fs');
const { fixturePath, root, runNode } = require('./helpers');

const allocBuild = path.join(root, 'target', 'host-alloc', 'index.js');
if (!fs.existsSync(allocBuild)) throw new Error(`${allocBuild} is missing: run bash scripts/test.sh`);

// The measurement, as source so that a child process (other environment variables) can run
// it too. Prints one JSON object: case name -> allocations per 10000 calls.
const MEASURE = `
const path = require('path');
const { dlopen, FFIType: T, JSCallback, ptr, read, write, StructSchema } = require(process.env.HOST_BUILD);
const Complex = new StructSchema({ real: T.f64, imag: T.f64 });
const native = require(path.join(path.dirname(process.env.HOST_BUILD), 'arkffi.node'));
const lib = dlopen(process.env.FIXTURE, {
  noop: { args: [], returns: T.void },
  add_i32: { args: [T.i32, T.i32], returns: T.i32 },
  add_u32: { args: [T.u32, T.u32], returns: T.u32 },
  add_f64: { args: [T.f64, T.f64], returns: T.f64 },
  add_f32: { args: [T.f32, T.f32], returns: T.f32 },
  add_i64: { args: [T.i64, T.i64], returns: T.i64 },
  add_u64: { args: [T.u64, T.u64], returns: T.u64 },
  bool_to_int: { args: [T.bool], returns: T.i32 },
  mix6: { args: [T.i8, T.i16, T.i32, T.i64, T.f32, T.f64], returns: T.f64 },
  fsum10: { args: Array(10).fill(T.f64), returns: T.f64 },
  str_len: { args: [T.CString], returns: T.usize },
  str_cmp: { args: [T.CString, T.CString], returns: T.i32 },
  str_static: { args: [], returns: T.CString },
  sum_i32: { args: [T.buffer, T.usize], returns: T.i64 },
  ptr_to_int: { args: [T.ptr], returns: T.usize },
  int_to_ptr: { args: [T.usize], returns: T.ptr },
  apply_i32: { args: [T.callback, T.i32], returns: T.i32 },
  complex_abs2: { args: [Complex], returns: T.f64 },
  sum_doubles: { args: [T.i32], returns: T.f64, variadic: true },
});
const s = lib.symbols;
const ints = new Int32Array([1, 2, 3, 4]);
const bytes = new ArrayBuffer(16);
const short = 'hello, world: a short string';
const long = 'x'.repeat(10000);
const cb = new JSCallback((x) => x + 1, { args: [T.i32], returns: T.i32 });
const intsAddress = ptr(ints);
const cases = {
  noop: () => s.noop(),
  add_i32: () => s.add_i32(2, 3),
  add_u32: () => s.add_u32(4000000000, 1),
  add_f64: () => s.add_f64(1.5, 2.25),
  add_f32: () => s.add_f32(1.5, 2.25),
  add_i64_bigint: () => s.add_i64(-(2n ** 40n), 5n),
  add_u64_bigint: () => s.add_u64(2n ** 63n, 1n),
  bool_to_int: () => s.bool_to_int(true),
  mix6: () => s.mix6(-1, 2, 3, 4n, 0.5, 0.25),
  fsum10_libffi: () => s.fsum10(1, 2, 3, 4, 5, 6, 7, 8, 9, 10),
  str_len_short: () => s.str_len(short),
  str_cmp_two_short: () => s.str_cmp(short, short),
  str_static_result: () => s.str_static(),
  sum_i32_typed_array: () => s.sum_i32(ints, 4),
  ptr_to_int_array_buffer: () => s.ptr_to_int(bytes),
  int_to_ptr: () => s.int_to_ptr(4096),
  callback_round_trip: () => s.apply_i32(cb, 20),
  read_i32: () => read.i32(intsAddress),
  read_f64_at_offset: () => read.f64(intsAddress, 8),
  read_i64_bigint: () => read.i64(intsAddress, 4),
  struct_from_object: () => s.complex_abs2({ real: 3, imag: 4 }),
  write_i32: () => write.i32(intsAddress, 4, 7),
  variadic_cached: () => s.sum_doubles(2, T.f64, 1.5, T.f32, 2),
  control_long_string: () => s.str_len(long),
};
const out = {};
for (const [name, f] of Object.entries(cases)) {
  for (let i = 0; i < 1000; i++) f();
  const before = native.__debugAllocations();
  for (let i = 0; i < 10000; i++) f();
  out[name] = native.__debugAllocations() - before;
}
cb.close();
lib.close();
console.log(JSON.stringify(out));
`;

function measure(env = {}) {
  const r = runNode(MEASURE, { env: { HOST_BUILD: allocBuild, FIXTURE: fixturePath, ...env } });
  assert.equal(r.status, 0, `measurement failed: ${r.stderr}`);
  return JSON.parse(r.stdout.split('\n').pop());
}

function check(counts) {
  const { control_long_string: control, ...rest } = counts;
  assert.ok(control >= 10000, `a 10000-byte string is copied to the heap each call (got ${control} allocations in 10000 calls)`);
  for (const [name, n] of Object.entries(rest)) {
    assert.equal(n, 0, `${name}: ${n} allocations in 10000 calls`);
  }
}

test('scalar, short-string, buffer and callback calls allocate nothing (direct register calls)', () => {
  check(measure());
});

test('... and nothing through libffi either (ARKFFI_NO_DIRECT=1)', () => {
  check(measure({ ARKFFI_NO_DIRECT: '1' }));
});
