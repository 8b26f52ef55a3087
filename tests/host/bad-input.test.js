// Runs the bad-input catalogue (bad-input.cases.js): every row in a child process of its
// own, so a crash fails one row, not the suite; and docs/bad-input.md must be its table.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const path = require('path');
const { spawn } = require('child_process');
const { root, fixturePath } = require('./helpers');
const { entries, markdown } = require('./bad-input.cases');

const prelude = `
const A = require(process.env.HOST_BUILD);
const { dlopen, FFIType, StructSchema, UnionSchema, JSCallback, CFunction, getSymbolPtr, ptr, read, toArrayBuffer, CString, releasePtr } = A;
const { C, cfunc, view, write, errno, CallbackType } = A;
const FIXTURE = process.env.FIXTURE;
const Complex = new StructSchema({ real: FFIType.f64, imag: FFIType.f64 });
const Arr = new StructSchema({ a: StructSchema.array(FFIType.i16, 3) });
const Named = new StructSchema({ name: FFIType.CString });
const defs = {
  add_i32: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 }, id_u8: { args: [FFIType.u8], returns: FFIType.u8 },
  id_u64: { args: [FFIType.u64], returns: FFIType.u64 }, id_bool: { args: [FFIType.bool], returns: FFIType.bool },
  add_f64: { args: [FFIType.f64, FFIType.f64], returns: FFIType.f64 }, str_len: { args: [FFIType.CString], returns: FFIType.usize },
  id_ptr: { args: [FFIType.ptr], returns: FFIType.ptr }, sum_i32: { args: [FFIType.buffer, FFIType.usize], returns: FFIType.i64 },
  apply_i32: { args: [FFIType.callback, FFIType.i32], returns: FFIType.i32 }, complex_abs2: { args: [Complex], returns: FFIType.f64 },
  slow_add: { args: [FFIType.i32, FFIType.i32, FFIType.i32], returns: FFIType.i32, nonblocking: true },
  static_ints: { returns: FFIType.ptr }, noop: {}, sum_doubles: { args: [FFIType.i32], returns: FFIType.f64, variadic: true },
};
const lib = dlopen(FIXTURE, defs);
const closed = dlopen(FIXTURE, defs);
closed.close();
const buf16 = new ArrayBuffer(16);
const ints = lib.symbols.static_ints();
(async () => {
  let out;
  try {
    const r = (() => { __CODE__ })();
    if (r instanceof Promise) await r;
    out = { threw: false };
  } catch (e) {
    out = { threw: true, name: e && e.constructor && e.constructor.name, message: e && e.message, rejected: __ASYNC__ };
  }
  process.stdout.write(JSON.stringify(out));
})();
`;

function runRow(row) {
  const isAsync = (row.error || '').startsWith('rejects ');
  let code = row.code;
  // The last statement's value is returned (so a Promise can be awaited).
  const parts = code.split('; ');
  parts[parts.length - 1] = `return ${parts[parts.length - 1]}`;
  code = parts.join('; ');
  const script = prelude.replace('__CODE__', code).replace('__ASYNC__', String(isAsync));
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...process.execArgv.filter((a) => !a.startsWith('--test')), '-e', script], {
      env: { ...process.env, HOST_BUILD: path.join(root, 'target', 'host', 'index.js'), FIXTURE: fixturePath },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('close', (status, signal) => resolve({ status, signal, stdout, stderr }));
  });
}

test('docs/bad-input.md is the catalogue', () => {
  assert.equal(fs.readFileSync(path.join(root, 'docs', 'bad-input.md'), 'utf8'), markdown(),
    'regenerate it: node tests/host/bad-input.cases.js > docs/bad-input.md');
});

test('every row of the bad-input catalogue', { concurrency: 2 }, async (t) => {
  await Promise.all(entries.map((row) => t.test(`${row.entry}: ${row.input}`, async () => {
    const r = await runRow(row);
    assert.equal(r.signal, null, `crashed with ${r.signal}: ${r.stderr.slice(-400)}`);
    assert.equal(r.status, 0, r.stderr.slice(-400));
    const out = JSON.parse(r.stdout);
    if (row.error === null) {
      assert.equal(out.threw, false, `unexpected ${out.name}: ${out.message}`);
      return;
    }
    const name = row.error.replace(/^rejects /, '');
    assert.equal(out.threw, true, 'no error was raised');
    assert.equal(out.name, name, out.message);
    assert.match(out.message, row.message);
  })));
});
