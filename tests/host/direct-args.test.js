// The inline argument paths of the direct entry (src/direct_call.rs) against real C: C strings
// copied into the env's arena (every length around the word and 16-byte steps of the NUL scan,
// the arena's end, the heap beyond it), and typed arrays passed by their data pointer (views
// with an offset, every element kind). The same calls through libffi (ARKFFI_NO_DIRECT=1, in
// a child process) give the same answers.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { arkffi, directAndLibffi, fixturePath } = require('./helpers');

const { dlopen, FFIType: T } = arkffi;
const DEFS = {
  str_len: { args: [T.CString], returns: T.usize },
  str_byte_sum: { args: [T.CString], returns: T.u32 },
  str_cmp: { args: [T.CString, T.CString], returns: T.i32 },
  str_echo: { args: [T.CString], returns: T.CString },
  str_join: { args: [T.CString, T.CString], returns: T.CString },
  sum_i32: { args: [T.buffer, T.usize], returns: T.i64 },
  fill_bytes: { args: [T.buffer, T.usize, T.u8], returns: T.void },
};

// Lengths around every step of the NUL scan (4, 8, 16 bytes), the arena (4096 bytes) and
// beyond (the heap).
const LENGTHS = [...Array(80).keys(), 100, 255, 256, 1000, 4080, 4087, 4088, 4095, 4096, 5000, 10000];
const text = (n) => Array.from({ length: n }, (_, i) => String.fromCharCode(33 + ((i * 7) % 90))).join('');
const byteSum = (s) => [...Buffer.from(s, 'utf8')].reduce((a, b) => a + b, 0);

// Every call of the probe, as a row: the value or the error.
function rows(s) {
  const out = [];
  const row = (what, f) => {
    try {
      const v = f();
      out.push([what, typeof v === 'bigint' ? `${v}n` : v]);
    } catch (e) {
      out.push([what, e.constructor.name, e.message]);
    }
  };
  for (const n of LENGTHS) {
    const t = text(n);
    row(`len ${n}`, () => s.str_len(t));
    row(`sum ${n}`, () => s.str_byte_sum(t));
    row(`echo ${n}`, () => s.str_echo(t) === t);
    for (const k of n <= 40 ? [...Array(n).keys()] : [0, n >> 1, n - 1]) {
      row(`nul ${n}@${k}`, () => s.str_len(t.slice(0, k) + '\0' + t.slice(k + 1)));
    }
  }
  for (let k = 0; k < 24; k++) {
    for (const ch of ['é', '✓', '😀']) {
      const t = 'a'.repeat(k % 5) + ch.repeat(k);
      row(`utf8 ${ch} ${k}`, () => [s.str_len(t), s.str_byte_sum(t)]);
    }
  }
  row('cmp equal', () => s.str_cmp(text(50), text(50)));
  row('cmp last byte', () => Math.sign(s.str_cmp(text(49) + 'a', text(49) + 'b')));
  row('join', () => s.str_join(text(20), text(30)));
  row('join long', () => s.str_join('x'.repeat(5000), 'y'));
  row('not a string', () => s.str_len(42));
  const buf = new ArrayBuffer(64);
  const all = new Int32Array(buf);
  all.forEach((_, i) => (all[i] = i * 3 - 7));
  row('i32 view at 8', () => s.sum_i32(new Int32Array(buf, 8, 4), 4));
  row('i32 view at 60', () => s.sum_i32(new Int32Array(buf, 60, 1), 1));
  row('u8 view at 12', () => s.sum_i32(new Uint8Array(buf, 12, 8), 2));
  row('f64 view at 16', () => s.sum_i32(new Float64Array(buf, 16, 2), 4));
  row('dataview at 20', () => s.sum_i32(new DataView(buf, 20, 8), 2));
  row('array buffer', () => s.sum_i32(buf, 3));
  row('empty view', () => s.sum_i32(new Int32Array(0), 0));
  row('detached', () => {
    const b = new ArrayBuffer(8);
    structuredClone(b, { transfer: [b] });
    return s.sum_i32(new Int32Array(b), 0);
  });
  const bytes = new Uint8Array(32);
  row('fill view', () => {
    s.fill_bytes(bytes.subarray(5, 9), 4, 7);
    return [...bytes.slice(3, 11)];
  });
  return out;
}

test('C strings and typed arrays reach C as the bytes JS holds, on the direct path', () => {
  const lib = dlopen(fixturePath, DEFS);
  const s = lib.symbols;
  for (const n of LENGTHS) {
    const t = text(n);
    assert.equal(s.str_len(t), n, `str_len of ${n} characters`);
    assert.equal(s.str_byte_sum(t), byteSum(t), `bytes of ${n} characters`);
    // The result is read before the call gives back its copy of the argument.
    assert.equal(s.str_echo(t), t, `echo of ${n} characters`);
    for (const k of n <= 40 ? [...Array(n).keys()] : [0, n >> 1, n - 1]) {
      const bad = t.slice(0, k) + '\0' + t.slice(k + 1);
      assert.throws(() => s.str_len(bad), { name: 'TypeError', message: /^str_len: args\[0\].*NUL character inside$/ }, `NUL at ${k} of ${n}`);
    }
  }
  for (let k = 0; k < 24; k++) {
    for (const ch of ['é', '✓', '😀']) {
      const t = 'a'.repeat(k % 5) + ch.repeat(k);
      assert.equal(s.str_len(t), Buffer.byteLength(t), `UTF-8 length of ${JSON.stringify(t)}`);
      assert.equal(s.str_byte_sum(t), byteSum(t));
    }
  }
  assert.equal(s.str_cmp(text(50), text(50)), 0);
  assert.equal(s.str_join('ab', 'cd'), 'abcd');
  const buf = new ArrayBuffer(64);
  const all = new Int32Array(buf);
  all.forEach((_, i) => (all[i] = i * 3 - 7));
  // A view passes its first element, not its buffer's.
  assert.equal(s.sum_i32(new Int32Array(buf, 8, 4), 4), BigInt(all[2] + all[3] + all[4] + all[5]));
  assert.equal(s.sum_i32(new Int32Array(buf, 60, 1), 1), BigInt(all[15]));
  assert.equal(s.sum_i32(new DataView(buf, 20, 8), 2), BigInt(all[5] + all[6]));
  const bytes = new Uint8Array(32);
  s.fill_bytes(bytes.subarray(5, 9), 4, 7);
  assert.deepEqual([...bytes.slice(3, 11)], [0, 0, 7, 7, 7, 7, 0, 0]);
  lib.close();
});

test('the direct path answers every call as libffi does, message for message', () => {
  const probe = `
const A = require(process.env.HOST_BUILD);
const lib = A.dlopen(process.env.FIXTURE, ${JSON.stringify(DEFS)});
const LENGTHS = ${JSON.stringify(LENGTHS)};
const text = ${text.toString()};
${rows.toString()}
process.stdout.write(JSON.stringify(rows(lib.symbols)));
`;
  const { direct, libffi } = directAndLibffi(probe);
  assert.ok(direct.length > 1000, `${direct.length} rows`);
  assert.deepEqual(direct, libffi);
  const row = (what) => direct.find((r) => r[0] === what);
  assert.deepEqual(row('len 4096'), ['len 4096', 4096]);
  assert.equal(row('nul 17@16')[1], 'TypeError');
  assert.equal(row('detached')[1], 'TypeError');
});
