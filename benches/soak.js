#!/usr/bin/env node
// Soak: 10 million mixed calls (scalars, strings in and out, buffers, struct results created
// and released, callbacks invoked), 100k JSCallback create/call/close cycles and 10k
// dlopen/close cycles, through the host build against the test fixture. Reports RSS after
// warm-up and at the end of each phase; fails (exit 1) if RSS grew by 10 MB or more after
// warm-up, or if struct results or callbacks are left over. A benchmark-style script, not a
// timed test. Needs the host build: `bash scripts/test.sh` first.
// Usage: node --expose-gc benches/soak.js [--calls N] [--callbacks N] [--dlopens N]
'use strict';
const path = require('path');
const root = path.resolve(__dirname, '..');
const { dlopen, FFIType: T, StructSchema, JSCallback, releasePtr, heldPtrCount, ptr, read } = require(path.join(root, 'target', 'host', 'index.js'));
const fixture = path.join(root, 'target', 'fixtures', 'libfixture.so');

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const CALLS = arg('--calls', 10_000_000);
const CALLBACKS = arg('--callbacks', 100_000);
const DLOPENS = arg('--dlopens', 10_000);
const LIMIT_MB = 10;

const mb = (b) => (b / 1024 / 1024).toFixed(1);
const settle = async () => {
  for (let i = 0; i < 5; i++) {
    if (global.gc) global.gc();
    await new Promise((r) => setImmediate(r));
  }
  return process.memoryUsage.rss();
};

const Complex = new StructSchema({ real: T.f64, imag: T.f64 });
const defs = {
  add_i32: { args: [T.i32, T.i32], returns: T.i32 },
  mix6: { args: [T.i8, T.i16, T.i32, T.i64, T.f32, T.f64], returns: T.f64 },
  str_len: { args: [T.CString], returns: T.usize },
  str_echo: { args: [T.CString], returns: T.CString },
  sum_i32: { args: [T.buffer, T.usize], returns: T.i64 },
  complex_add: { args: [Complex, Complex], returns: Complex },
  call_add: { args: [T.callback, T.i32, T.i32], returns: T.i32 },
};

async function main() {
  if (!global.gc) console.log('(run with node --expose-gc for steadier RSS figures)');
  // The library and callback of the mixed calls: opened for the warm-up, closed, and opened
  // again for the measured run, so that both see the same sequence (the dlopen phase runs
  // after close(), when each cycle really loads and unloads the fixture).
  let lib = dlopen(fixture, defs);
  let s = lib.symbols;
  const ints = new Int32Array(64).fill(3);
  const intsAddress = ptr(ints);
  const a = Complex.create({ real: 1, imag: 2 });
  const b = Complex.create({ real: 3, imag: 4 });
  let cb = new JSCallback((x, y) => x + y, { args: [T.i32, T.i32], returns: T.i32 });
  const strings = Array.from({ length: 16 }, (_, i) => `string ${i} ✓ `.repeat(i + 1));
  let check = 0;
  const round = (i) => {
    switch (i % 8) {
      case 0: check += s.add_i32(i & 0xffff, 1); break;
      case 1: check += s.mix6(1, 2, 3, 4n, 0.5, 0.25); break;
      case 2: check += s.str_len(strings[i & 15]); break;
      case 3: check += s.str_echo(strings[i & 15]).length; break;
      case 4: check += Number(s.sum_i32(ints, 64)); break;
      case 5: { const p = s.complex_add(a, b); check += Complex.fromPtr(p).real; releasePtr(p); break; }
      case 6: check += s.call_add(cb, i & 0xff, 1); break;
      default: check += read.i32(intsAddress, (i & 15) * 4) + Number(read.u64(intsAddress, 8));
    }
  };
  const mixed = async (from, to) => {
    for (let i = from; i < to; i++) {
      round(i);
      if ((i & 0xfffff) === 0) await new Promise((r) => setImmediate(r));
    }
  };
  const callbacks = async (n) => {
    for (let i = 0; i < n; i++) {
      const c = new JSCallback((x, y) => x * y + i, { args: [T.i32, T.i32], returns: T.i32, threadsafe: i % 10 === 0 });
      check += s.call_add(c, 2, 3);
      c.close();
      if ((i & 0xfff) === 0) await new Promise((r) => setImmediate(r));
    }
  };
  const dlopens = async (n) => {
    for (let i = 0; i < n; i++) {
      const l = dlopen(fixture, defs);
      check += l.symbols.add_i32(i, 1);
      l.close();
      if ((i & 0xff) === 0) await new Promise((r) => setImmediate(r));
    }
  };
  // Warm-up: the whole sequence on a smaller scale (a slice of the calls and callbacks, then
  // close and every dlopen cycle), so that the engine's heap (its young generation grows
  // with the allocation rate, up to its limit) and the allocator reach their working size
  // before the baseline is taken.
  const rssStart = await settle();
  await mixed(0, Math.min(1_000_000, CALLS));
  await callbacks(Math.min(20_000, CALLBACKS));
  cb.close();
  lib.close();
  await dlopens(DLOPENS);
  lib = dlopen(fixture, defs);
  s = lib.symbols;
  cb = new JSCallback((x, y) => x + y, { args: [T.i32, T.i32], returns: T.i32 });
  const rssWarm = await settle();
  console.log(`warm-up: RSS ${mb(rssStart)} -> ${mb(rssWarm)} MB`);

  const t0 = Date.now();
  await mixed(0, CALLS);
  const rssCalls = await settle();
  console.log(`${CALLS} mixed calls in ${((Date.now() - t0) / 1000).toFixed(1)} s: RSS ${mb(rssCalls)} MB, held struct results ${heldPtrCount()}`);
  const t1 = Date.now();
  await callbacks(CALLBACKS);
  const rssCallbacks = await settle();
  console.log(`${CALLBACKS} JSCallback create/call/close cycles in ${((Date.now() - t1) / 1000).toFixed(1)} s: RSS ${mb(rssCallbacks)} MB, open callbacks ${JSCallback.liveCount() - 1}`);
  cb.close();
  lib.close();
  const t2 = Date.now();
  await dlopens(DLOPENS);
  const rssEnd = await settle();
  console.log(`${DLOPENS} dlopen/call/close cycles in ${((Date.now() - t2) / 1000).toFixed(1)} s: RSS ${mb(rssEnd)} MB`);

  const grown = rssEnd - rssWarm;
  const problems = [];
  if (grown >= LIMIT_MB * 1024 * 1024) problems.push(`RSS grew by ${mb(grown)} MB after warm-up (limit ${LIMIT_MB} MB)`);
  if (heldPtrCount() !== 0) problems.push(`${heldPtrCount()} struct results still held`);
  if (JSCallback.liveCount() !== 0) problems.push(`${JSCallback.liveCount()} callbacks still open`);
  const heap = process.memoryUsage();
  console.log(`engine heap at the end: total ${mb(heap.heapTotal)} MB, used ${mb(heap.heapUsed)} MB, external ${mb(heap.external)} MB`);
  console.log(`soak: RSS growth after warm-up ${mb(grown)} MB (limit ${LIMIT_MB} MB); held struct results ${heldPtrCount()}; open callbacks ${JSCallback.liveCount()}; checksum ${check}`);
  if (problems.length) {
    console.log(`soak: FAILED: ${problems.join('; ')}`);
    process.exit(1);
  }
  console.log('soak: ok');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
