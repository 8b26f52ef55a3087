// Seeded, bounded fuzzing (issue 14), in two parts, each batch in a child process of its
// own so that a crash fails the test with its seed and batch:
//  - random signatures (0–12 arguments of every scalar width, f32/f64, bool, pointers; every
//    result type) compiled as C functions that record the arguments they receive and return
//    one of them; random values (edges included) are passed and checked against what C got
//    and gave back;
//  - random bad inputs on every public entry point (junk of every kind: NaN, -0, huge and
//    negative numbers, bigints out of range, symbols, proxies, revoked proxies, throwing
//    getters, detached, resizable and shared buffers, arrays of length 2^32 - 1, …): each
//    call must return or throw an Error naming its function, never crash.
// Defaults: a few thousand cases in well under a minute. ARKFFI_FUZZ_TRACE=1 prints every bad
// input call before it is made (to find the one that crashed), ARKFFI_FUZZ_DUMP=<dir> keeps
// each child's script there to be run alone. Longer runs:
//   ARKFFI_FUZZ_SEED=<n> ARKFFI_FUZZ_COUNT=<calls per batch> ARKFFI_FUZZ_BATCHES=<n> \
//     node --jitless --expose-gc --test tests/host/fuzz.test.js
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync, spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { hostBuild, fixturePath, prng } = require('./helpers');

const SEED = Number(process.env.ARKFFI_FUZZ_SEED || 20261201);
const COUNT = Number(process.env.ARKFFI_FUZZ_COUNT || 400);
const BATCHES = Number(process.env.ARKFFI_FUZZ_BATCHES || 4);
const SIGNATURES = 60;

// The child's code: the same PRNG (helpers.js), seeded per batch.
const common = `${prng}\n`;

// FFIType name, C type, bytes, signed, kind.
const SCALARS = [
  ['bool', 'bool', 1, false, 'bool'], ['i8', 'int8_t', 1, true, 'int'], ['u8', 'uint8_t', 1, false, 'int'],
  ['i16', 'int16_t', 2, true, 'int'], ['u16', 'uint16_t', 2, false, 'int'], ['i32', 'int32_t', 4, true, 'int'],
  ['u32', 'uint32_t', 4, false, 'int'], ['i64', 'int64_t', 8, true, 'big'], ['u64', 'uint64_t', 8, false, 'big'],
  ['isize', 'ssize_t', 8, true, 'fast'], ['usize', 'size_t', 8, false, 'fast'], ['i64_fast', 'int64_t', 8, true, 'fast'],
  ['u64_fast', 'uint64_t', 8, false, 'fast'], ['f32', 'float', 4, true, 'f32'], ['f64', 'double', 8, true, 'f64'],
  ['ptr', 'void *', 8, false, 'ptr'],
];

// Random signatures; C functions that store each argument at rec + 8 * i and return one.
function signatures(seed) {
  const rand = prng(seed);
  const sigs = [];
  for (let k = 0; k < SIGNATURES; k++) {
    const n = Math.floor(rand() * 13);
    const args = Array.from({ length: n }, () => Math.floor(rand() * SCALARS.length));
    const back = n > 0 && rand() < 0.85 ? Math.floor(rand() * n) : -1;
    const ret = back >= 0 ? args[back] : (rand() < 0.5 ? -1 : Math.floor(rand() * SCALARS.length));
    sigs.push({ name: `fz${k}`, args, back, ret });
  }
  return sigs;
}

function cSource(sigs) {
  const lines = ['#include <stdbool.h>', '#include <stdint.h>', '#include <string.h>', '#include <sys/types.h>',
    'unsigned char fz_rec[8 * 12];', 'void *fz_record(void) { return fz_rec; }'];
  for (const s of sigs) {
    const params = s.args.map((t, i) => `${SCALARS[t][1]} a${i}`).join(', ') || 'void';
    const rt = s.ret < 0 ? 'void' : SCALARS[s.ret][1];
    const body = s.args.map((t, i) => `memcpy(fz_rec + ${8 * i}, &a${i}, sizeof a${i});`);
    if (s.back >= 0) body.push(`return a${s.back};`);
    else if (s.ret >= 0) body.push(`return (${rt})${SCALARS[s.ret][4] === 'ptr' ? '(uintptr_t)' : ''}42;`);
    lines.push(`${rt} ${s.name}(${params}) { memset(fz_rec, 0, sizeof fz_rec); ${body.join(' ')} }`);
  }
  return `${lines.join('\n')}\n`;
}

// Part 1 in the child: call every signature COUNT / SIGNATURES times with random values.
const signatureChild = `
const A = require(process.env.HOST_BUILD);
const { dlopen, FFIType: T, read } = A;
const SCALARS = ${JSON.stringify(SCALARS)};
const sigs = ${'__SIGS__'};
const rand = prng(Number(process.env.SEED));
const defs = { fz_record: { returns: T.ptr } };
for (const s of sigs) defs[s.name] = { args: s.args.map((t) => T[SCALARS[t][0]]), returns: s.ret < 0 ? T.void : T[SCALARS[s.ret][0]] };
const lib = dlopen(process.env.LIB, defs);
const rec = lib.symbols.fz_record();
const pick = (xs) => xs[Math.floor(rand() * xs.length)];
function value(t) {
  const [name, , bytes, signed, kind] = SCALARS[t];
  if (kind === 'bool') return rand() < 0.5;
  if (kind === 'f64') return pick([0, -0, 1.5, -2.25, NaN, Infinity, -Infinity, 1e308, 5e-324, (rand() - 0.5) * 1e6]);
  if (kind === 'f32') return pick([0, -0, 1.5, NaN, Infinity, 3.4e38, 1e-45, (rand() - 0.5) * 1e3, 0.1]);
  if (kind === 'ptr') return pick([null, 4096, 2 ** 53, 0xdeadbeef, 2n ** 64n - 1n, 0xb400007700001234n, Math.floor(rand() * 2 ** 40)]);
  const bits = BigInt(bytes * 8);
  const lo = signed ? -(2n ** (bits - 1n)) : 0n;
  const hi = signed ? 2n ** (bits - 1n) - 1n : 2n ** bits - 1n;
  let v = pick([lo, hi, 0n, 1n, signed ? -1n : hi - 1n, lo + BigInt(Math.floor(rand() * 1000)), hi - BigInt(Math.floor(rand() * 1000))]);
  if (v < lo) v = lo;
  if (v > hi) v = hi;
  // Numbers where they are exact, bigints otherwise (and sometimes anyway for wide types).
  if (kind === 'int') return rand() < 0.2 ? v : Number(v);
  const exact = v >= -(2n ** 53n) && v <= 2n ** 53n;
  return exact && rand() < 0.5 ? Number(v) : v;
}
// What a value becomes as a result (the type's rule) and as read back by read.*.
function asResult(t, v) {
  const [name, , bytes, signed, kind] = SCALARS[t];
  if (kind === 'bool') return v;
  if (kind === 'f64') return v;
  if (kind === 'f32') return Math.fround(v);
  if (kind === 'ptr') {
    const b = v === null ? 0n : BigInt(v);
    return b === 0n ? null : b <= 2n ** 53n ? Number(b) : b;
  }
  const b = BigInt(v);
  if (kind === 'big') return b;
  if (kind === 'fast') return (b >= -(2n ** 53n) && b <= 2n ** 53n) ? Number(b) : b;
  return Number(b);
}
function readBack(t, i) {
  const [name, , bytes, signed, kind] = SCALARS[t];
  const at = 8 * i;
  if (kind === 'bool') return read.u8(rec, at) !== 0;
  if (kind === 'f64') return read.f64(rec, at);
  if (kind === 'f32') return read.f32(rec, at);
  if (kind === 'ptr') return read.ptr(rec, at);
  const r = read[(signed ? 'i' : 'u') + bytes * 8](rec, at);
  return kind === 'int' ? r : asResult(t, r);
}
const same = (a, b) => Object.is(a, b) || (typeof a === 'bigint' && a === b);
const bad = [];
let calls = 0;
for (let round = 0; round < Number(process.env.ROUNDS); round++) {
  for (const s of sigs) {
    const vals = s.args.map(value);
    let r;
    try { r = lib.symbols[s.name](...vals); } catch (e) { bad.push({ sig: s, vals: String(vals), error: e.message }); continue; }
    calls++;
    s.args.forEach((t, i) => {
      const got = readBack(t, i);
      const want = asResult(t, vals[i]);
      if (!same(got, want)) bad.push({ sig: s.name, arg: i, type: SCALARS[t][0], sent: String(vals[i]), cGot: String(got) });
    });
    if (s.back >= 0) {
      const want = asResult(s.ret, vals[s.back]);
      if (!same(r, want)) bad.push({ sig: s.name, result: SCALARS[s.ret][0], sent: String(vals[s.back]), got: String(r) });
    } else if (s.ret < 0 && r !== undefined) bad.push({ sig: s.name, voidResult: String(r) });
  }
}
process.stdout.write(JSON.stringify({ calls, bad: bad.slice(0, 10) }));
`;

// Part 2 in the child: random junk into every public entry point.
const badInputChild = `
const A = require(process.env.HOST_BUILD);
const { dlopen, FFIType: T, StructSchema, JSCallback, CFunction, getSymbolPtr, ptr, read, toArrayBuffer, CString, releasePtr, heldPtrCount } = A;
const FIXTURE = process.env.FIXTURE;
const rand = prng(Number(process.env.SEED));
const pick = (xs) => xs[Math.floor(rand() * xs.length)];
const lib = dlopen(FIXTURE, {
  add_i32: { args: [T.i32, T.i32], returns: T.i32 }, id_ptr: { args: [T.ptr], returns: T.ptr },
  is_null_buffer: { args: [T.buffer], returns: T.i32 }, str_len: { args: [T.CString], returns: T.usize },
  apply_i32: { args: [T.callback, T.i32], returns: T.i32 }, complex_abs2: { args: [new StructSchema({ r: T.f64, i: T.f64 })], returns: T.f64 },
  add_u64: { args: [T.u64, T.u64], returns: T.u64 }, id_bool: { args: [T.bool], returns: T.bool }, add_f32: { args: [T.f32, T.f32], returns: T.f32 },
  slow_add: { args: [T.i32, T.i32, T.i32], returns: T.i32, nonblocking: true },
});
const S = new StructSchema({ a: T.i32, b: StructSchema.array(T.u8, 3), p: T.ptr, s: new StructSchema({ x: T.f64 }) });
const cb = new JSCallback((x) => x, { args: [T.i32], returns: T.i32 });
const detached = new ArrayBuffer(8);
const detachedView = new Uint8Array(detached);
structuredClone(detached, { transfer: [detached] });
const longArray = []; longArray.length = 2 ** 32 - 1;
const revoked = Proxy.revocable({}, {}); revoked.revoke();
const closedCb = new JSCallback(() => 0, {}); closedCb.close();
// Junk: none of it is a readable address above the first page (those are trusted, as in C).
const pool = [
  undefined, null, true, 0, -0, 1, -1, 8, 4095, 1.5, NaN, Infinity, -Infinity, 2 ** 53 + 2, 2 ** 64, -(2 ** 31) - 1,
  0n, -1n, 2n ** 64n, -(2n ** 63n) - 1n, 2n ** 200n, '', 'x', 'a\\0b', 'é'.repeat(3000), Symbol('j'), {}, [], [1, 2], longArray,
  new Proxy([], {}), revoked.proxy, { get ptr() { throw new Error('getter'); } }, { ptr: null }, { nativeLayout: {} },
  { element: T.u8, length: -1 }, { element: T.u8, length: 2 ** 40 }, () => 0, new ArrayBuffer(0), new ArrayBuffer(4),
  detached, detachedView, new ArrayBuffer(8, { maxByteLength: 16 }), new SharedArrayBuffer(8), new DataView(new ArrayBuffer(2)),
  new Float64Array(1), closedCb, cb, S, T.void, T.i32, 99, { args: longArray }, { args: [99] }, { returns: 'x' }, { ptr: 0 },
  { a: { b: {} } }, new Date(), /re/, new Map(),
];
const junk = () => pick(pool);
const args = () => Array.from({ length: Math.floor(rand() * 5) }, junk);
// [name, call, what its errors may name]
const entries = [
  ['dlopen', (a) => dlopen(...a), /dlopen|symbol "/],
  ['dlopen definitions', (a) => dlopen(FIXTURE, { add_i32: a[0], noop: { args: a[1], returns: a[2] } }), /dlopen|symbol "/],
  ['bound function', (a) => lib.symbols[pick(Object.keys(lib.symbols).filter((k) => k !== 'slow_add'))](...a), /^(add_i32|id_ptr|is_null_buffer|str_len|apply_i32|complex_abs2|add_u64|id_bool|add_f32)\\b|^getter$/],
  ['nonblocking function', (a) => lib.symbols.slow_add(...a), /./],
  ['CFunction', (a) => CFunction(a[0]), /CFunction|^getter$/],
  ['getSymbolPtr', (a) => getSymbolPtr(lib, a[0]), /getSymbolPtr/],
  ['symbolPtr', (a) => lib.symbolPtr(...a), /getSymbolPtr/],
  ['ptr', (a) => ptr(...a), /^ptr/],
  ['read.*', (a) => read[pick(['i8', 'u8', 'i16', 'u16', 'i32', 'u32', 'i64', 'u64', 'f32', 'f64', 'ptr'])](...a), /^read\\./],
  ['toArrayBuffer', (a) => toArrayBuffer(...a), /^toArrayBuffer/],
  ['CString', (a) => new CString(...a), /^CString/],
  ['StructSchema', (a) => new StructSchema(a[0]), /^StructSchema|^getter$/],
  ['StructSchema fields', (a) => new StructSchema({ f: a[0], g: StructSchema.array(a[1], a[2]) }), /^StructSchema|^getter$/],
  ['StructSchema.create', (a) => S.create(a[0]), /^StructSchema\\.create|^getter$/],
  ['StructSchema.write', (a) => S.write(a[0], a[1], a[2]), /^StructSchema\\.write|^getter$/],
  ['StructSchema.fromPtr', (a) => S.fromPtr(a[0], a[1]), /^StructSchema\\.fromPtr/],
  ['StructSchema.fromBuffer', (a) => S.fromBuffer(a[0], a[1]), /^StructSchema\\.fromBuffer/],
  ['StructSchema.offsetOf', (a) => S.offsetOf(a[0]), /^StructSchema\\.offsetOf/],
  ['releasePtr', (a) => releasePtr(a[0]), /^releasePtr/],
  ['JSCallback', (a) => new JSCallback(a[0], a[1]).close(), /^JSCallback|^getter$/],
  ['JSCallback call', (a) => { const c = new JSCallback(() => a[0], { args: [T.i32], returns: pick([T.i32, T.f64, T.ptr, T.CString, T.bool, T.u64]) }); try { return lib.symbols.apply_i32(c, 1); } finally { c.close(); } }, /^JSCallback|returned/],
];
const show = (v) => { try { return typeof v === 'symbol' ? v.toString() : Array.isArray(v) ? '[array ' + v.length + ']' : typeof v === 'object' && v !== null ? Object.prototype.toString.call(v) : String(v); } catch (e) { return '(unprintable)'; } };
const trace = process.env.ARKFFI_FUZZ_TRACE ? (m) => require('fs').writeSync(2, m + '\\n') : () => {};
const bad = [];
const pending = [];
let calls = 0;
for (let i = 0; i < Number(process.env.COUNT); i++) {
  const [name, call, names] = pick(entries);
  const a = args();
  const check = (e) => {
    // The exceptions the user's own objects raise while they are read (a throwing getter, a
    // revoked Proxy) go through unchanged, as in every JS API.
    if (e instanceof Error && /^getter$|on a proxy that has been revoked/.test(e.message)) return;
    if (!(e instanceof Error)) bad.push({ name, thrown: String(e) });
    else if (!e.message || !names.test(e.message)) bad.push({ name, args: a.map(show), error: e.constructor.name + ': ' + e.message });
  };
  calls++;
  trace(name + ' ' + a.map(show).join(', '));
  try {
    const r = call(a);
    if (r instanceof Promise) pending.push(r.catch(check));
  } catch (e) { check(e); }
}
trace('(all calls made; waiting for the nonblocking ones)');
Promise.all(pending).then(() => {
  trace('(closing)');
  lib.close();
  process.stdout.write(JSON.stringify({ calls, held: heldPtrCount(), bad: bad.slice(0, 10) }));
});
`;

function runChild(script, env) {
  // ARKFFI_FUZZ_DUMP=<dir>: keep each child's script (and its environment) to rerun it alone.
  if (process.env.ARKFFI_FUZZ_DUMP) {
    fs.writeFileSync(path.join(process.env.ARKFFI_FUZZ_DUMP, `child-${env.SEED}.js`),
      `Object.assign(process.env, ${JSON.stringify({ HOST_BUILD: hostBuild, FIXTURE: fixturePath, ...env })});\n${common}${script}`);
  }
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...process.execArgv.filter((a) => !a.startsWith('--test')), '-e', common + script], {
      env: { ...process.env, HOST_BUILD: hostBuild, FIXTURE: fixturePath, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 120000);
    child.on('close', (status, signal) => { clearTimeout(timer); resolve({ status, signal, stdout, stderr }); });
  });
}

function outcome(r, what) {
  assert.equal(r.signal, null, `${what}: the child crashed with ${r.signal}: ${r.stderr.slice(-600)}`);
  assert.equal(r.status, 0, `${what}: ${r.stderr.slice(-600)}`);
  return JSON.parse(r.stdout);
}

test(`random signatures and values against C (seed ${SEED}, ${BATCHES} batches)`, { concurrency: 2 }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arkffi-fuzz-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  await Promise.all(Array.from({ length: BATCHES }, (_, b) => t.test(`batch ${b} (ARKFFI_FUZZ_SEED=${SEED})`, async () => {
    const seed = SEED + 7919 * b;
    const sigs = signatures(seed);
    const lib = path.join(dir, `libfuzz${b}.so`);
    fs.writeFileSync(`${lib}.c`, cSource(sigs));
    execFileSync(process.env.CC || 'cc', ['-O1', '-shared', '-fPIC', '-o', lib, `${lib}.c`]);
    const rounds = Math.max(1, Math.round(COUNT / SIGNATURES));
    const r = outcome(await runChild(signatureChild.replace('__SIGS__', JSON.stringify(sigs)),
      { SEED: String(seed), LIB: lib, ROUNDS: String(rounds) }), `signatures, seed ${seed}`);
    assert.deepEqual(r.bad, [], `seed ${seed}: mismatches`);
    assert.equal(r.calls, rounds * SIGNATURES);
  })));
});

test(`random bad inputs on every public entry point (seed ${SEED}, ${BATCHES} batches)`, { concurrency: 2 }, async (t) => {
  await Promise.all(Array.from({ length: BATCHES }, (_, b) => t.test(`batch ${b} (ARKFFI_FUZZ_SEED=${SEED})`, async () => {
    const seed = SEED + 104729 * (b + 1);
    const r = outcome(await runChild(badInputChild, { SEED: String(seed), COUNT: String(COUNT) }), `bad inputs, seed ${seed}`);
    assert.deepEqual(r.bad, [], `seed ${seed}: errors that are not Errors naming their function`);
    assert.equal(r.calls, COUNT);
    assert.equal(r.held, 0);
  })));
});
