// Memory of tight loops that never yield to the event loop (issue 14): per cycle, how much
// malloc stays in use (glibc's mallinfo2().uordblks, read through ArkFFI itself) and how
// much RSS grows, for dlopen/close, CFunction, StructSchema and JSCallback create/close,
// against koffi's load/unload. OpenHarmony runs main-thread finalizers from the event loop,
// as Node does: whatever only a finalizer frees piles up until the loop yields.
//
//   node --expose-gc benches/tight-loop.js [cycles]      (after bash scripts/test.sh)
//
// A benchmark, not a test: it prints figures and asserts nothing.
'use strict';
const path = require('path');
const fs = require('fs');

const root = path.resolve(__dirname, '..');
const A = require(path.join(root, 'target', 'host', 'index.js'));
const { dlopen, FFIType: T, StructSchema, CFunction, JSCallback, getSymbolPtr } = A;
const fixture = path.join(root, 'target', 'fixtures', 'libfixture.so');
const cycles = Number(process.argv[2] || 20000);

// struct mallinfo2 { size_t arena, ordblks, smblks, hblks, hblkhd, usmblks, fsmblks, uordblks, fordblks, keepcost; }
const fields = {};
for (const f of ['arena', 'ordblks', 'smblks', 'hblks', 'hblkhd', 'usmblks', 'fsmblks', 'uordblks', 'fordblks', 'keepcost']) fields[f] = T.usize;
const Mallinfo2 = new StructSchema(fields);
const libc = dlopen('libc.so.6', { mallinfo2: { returns: Mallinfo2 } });
function mallocInUse() {
  const p = libc.symbols.mallinfo2();
  const m = Mallinfo2.fromPtr(p);
  A.releasePtr(p);
  return Number(m.uordblks) + Number(m.hblkhd);
}
function rss() {
  const m = /VmRSS:\s+(\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
  return Number(m[1]) * 1024;
}

// Run `body` `cycles` times without yielding; bytes per cycle, before and after collection.
function measure(name, body) {
  for (let i = 0; i < 200; i++) body(); // warm-up: caches, code, first allocations
  if (global.gc) global.gc();
  const m0 = mallocInUse();
  const r0 = rss();
  for (let i = 0; i < cycles; i++) body();
  const m1 = mallocInUse();
  const r1 = rss();
  return new Promise((resolve) => {
    // Yield to the event loop so that finalizers run, then collect again.
    setTimeout(() => {
      if (global.gc) global.gc();
      setTimeout(() => {
        const m2 = mallocInUse();
        resolve({ name, malloc: (m1 - m0) / cycles, rss: (r1 - r0) / cycles, afterYield: (m2 - m0) / cycles });
      }, 50);
    }, 0);
  });
}

async function main() {
  const results = [];
  results.push(await measure('ArkFFI dlopen + call + close (1 symbol)', () => {
    const l = dlopen(fixture, { add_i32: { args: [T.i32, T.i32], returns: T.i32 } });
    l.symbols.add_i32(1, 2);
    l.close();
  }));
  const lib = dlopen(fixture, { noop: {} });
  const twice = getSymbolPtr(lib, 'twice');
  results.push(await measure('ArkFFI CFunction (i32) -> i32', () => {
    CFunction({ ptr: twice, args: [T.i32], returns: T.i32 })(1);
  }));
  results.push(await measure('ArkFFI StructSchema { f64, f64 }', () => {
    new StructSchema({ real: T.f64, imag: T.f64 });
  }));
  results.push(await measure('ArkFFI JSCallback create + close', () => {
    new JSCallback((x) => x, { args: [T.i32], returns: T.i32 }).close();
  }));
  results.push(await measure('ArkFFI JSCallback threadsafe create + close', () => {
    new JSCallback((x) => x, { args: [T.i32], returns: T.i32, threadsafe: true }).close();
  }));
  let koffi = null;
  try {
    koffi = require('koffi');
  } catch {
    // koffi is a dev dependency (npm ci); without it only ArkFFI's figures are printed.
  }
  if (koffi) {
    results.push(await measure('koffi load + func + call + unload', () => {
      const l = koffi.load(fixture);
      l.func('int32_t add_i32(int32_t, int32_t)')(1, 2);
      l.unload();
    }));
  }
  console.log(`tight loops of ${cycles} cycles, bytes per cycle (malloc in use: mallinfo2 uordblks + hblkhd)`);
  console.log('| loop | malloc kept per cycle, no yield | RSS growth per cycle | malloc kept after the loop yields |');
  console.log('|---|---|---|---|');
  for (const r of results) console.log(`| ${r.name} | ${r.malloc.toFixed(0)} | ${r.rss.toFixed(0)} | ${r.afterYield.toFixed(0)} |`);
}

main();
