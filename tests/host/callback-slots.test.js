// JSCallback's C function pointers are slots of a table of code compiled into libarkffi.so:
// a fixed number of them (JSCallback.slotCount(), set at build time), given out and taken back
// by new JSCallback / close(), and no code mapped at run time for any of them.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const { Worker } = require('worker_threads');
const { arkffi, fixturePath, hostBuild, mallocInUse, runNode } = require('./helpers');
const { dlopen, FFIType: T, JSCallback } = arkffi;

const lib = dlopen(fixturePath, {
  call_add: { args: [T.callback, T.i32, T.i32], returns: T.i32 },
  call_mix: { args: [T.callback], returns: T.f64 },
});
const add = { args: [T.i32, T.i32], returns: T.i32 };

test('the table holds JSCallback.slotCount() slots: 4096 unless ARKFFI_CALLBACK_SLOTS was set at build time', () => {
  assert.equal(JSCallback.slotCount(), Number(process.env.ARKFFI_CALLBACK_SLOTS || 4096));
});

test('every open callback has a slot of its own, 16 bytes apart in one table', () => {
  const cbs = [];
  for (let i = 0; i < 64; i++) cbs.push(new JSCallback((a, b) => a + b + i, add));
  const ptrs = cbs.map((cb) => BigInt(cb.ptr));
  assert.equal(new Set(ptrs).size, 64);
  const lowest = ptrs.reduce((a, b) => (a < b ? a : b));
  for (const p of ptrs) assert.equal((p - lowest) % 16n, 0n);
  cbs.forEach((cb, i) => assert.equal(lib.symbols.call_add(cb, 1, 2), 3 + i));
  for (const cb of cbs) cb.close();
});

test('when every slot is in use, new JSCallback throws an Error with the limit; close() gives a slot back for reuse', () => {
  const n = JSCallback.slotCount();
  const live = JSCallback.liveCount();
  assert.equal(live, 0);
  const cbs = [];
  for (let i = 0; i < n; i++) cbs.push(new JSCallback((a, b) => a * b + i, add));
  assert.equal(JSCallback.liveCount(), n);
  assert.throws(() => new JSCallback((a, b) => a + b, add), {
    name: 'Error',
    message: `JSCallback: all ${n} callback slots are in use (${n} callbacks open); close() the callbacks you no longer need`,
  });
  assert.equal(JSCallback.liveCount(), n, 'the failed constructor leaves nothing open');
  // The one slot given back is the one the next callback gets, and it calls the new function.
  const freed = cbs[1234 % n].ptr;
  cbs[1234 % n].close();
  const again = new JSCallback((a, b) => a - b, add);
  assert.equal(again.ptr, freed);
  assert.equal(lib.symbols.call_add(again, 10, 3), 7);
  assert.equal(lib.symbols.call_add(cbs[0], 6, 7), 42, 'the others still call their own functions');
  again.close();
  for (const cb of cbs) cb.close();
  assert.equal(JSCallback.liveCount(), 0);
});

test('a freed slot is reused only after the slots freed before it (first in, first out)', () => {
  const a = new JSCallback((x, y) => x + y, add);
  const first = a.ptr;
  a.close();
  const b = new JSCallback((x, y) => x + y, add);
  assert.notEqual(b.ptr, first, 'not the slot just freed');
  b.close();
});

test('callbacks with float and struct arguments go through slots (the entry that saves vector registers)', () => {
  const mix = new JSCallback((a, b, c, d, e, f) => a + b + c + Number(d) + e + f,
    { args: [T.i8, T.i16, T.i32, T.i64, T.f32, T.f64], returns: T.f64 });
  assert.equal(lib.symbols.call_mix(mix), -1 + 300 + 70000 + 5000000000 + 0.5 + 0.25);
  mix.close();
});

test('C calling a closed callback\'s pointer aborts with a clear message, not a jump into freed memory', () => {
  const r = runNode(`
    const { dlopen, FFIType: T, JSCallback } = require(process.env.HOST_BUILD);
    const lib = dlopen(process.env.FIXTURE, {
      store_callback: { args: [T.callback], returns: T.void },
      call_stored: { args: [T.i32], returns: T.i32 },
    });
    const cb = new JSCallback((v) => v + 1, { args: [T.i32], returns: T.i32 });
    lib.symbols.store_callback(cb);
    console.log('before', lib.symbols.call_stored(1));
    cb.close();
    lib.symbols.call_stored(2);
    console.log('not reached');
  `);
  assert.equal(r.signal, 'SIGABRT', r.stderr);
  assert.equal(r.stdout, 'before 2');
  assert.match(r.stderr, /arkffi: fatal: a closed JSCallback was called from C: the C library kept its pointer after close\(\)/);
});

const workerScript = `
const { parentPort, workerData } = require('worker_threads');
const { dlopen, FFIType: T, JSCallback } = require(workerData.host);
const lib = dlopen(workerData.lib, {
  call_add: { args: [T.callback, T.i32, T.i32], returns: T.i32 },
  run_threads: { args: [T.callback, T.i32, T.i32], returns: T.i64, nonblocking: true },
});
(async () => {
  let right = 0;
  for (let i = 0; i < workerData.cycles; i++) {
    const cb = new JSCallback((a, b) => a * b + i, { args: [T.i32, T.i32], returns: T.i32, threadsafe: i % 3 === 0 });
    if (lib.symbols.call_add(cb, 6, 7) === 42 + i) right++;
    cb.close();
    if (i % 250 === 0) {
      const fromC = new JSCallback((v) => v + workerData.id, { args: [T.i32], returns: T.i32, threadsafe: true });
      const total = await lib.symbols.run_threads(fromC, 2, 5);
      fromC.close();
      // run(): each of 2 threads calls f(base + k) for k < 5, base = thread index * 1000.
      if (total !== BigInt(2 * 5 * workerData.id + (0 + 1 + 2 + 3 + 4) * 2 + 1000 * 5)) right = -1e9;
    }
  }
  lib.close();
  parentPort.postMessage(right);
})();
`;

test('threads: several JS threads create, call and close callbacks at once, with C threads calling some', async () => {
  const cycles = 2000;
  const workers = [1, 2, 3, 4].map((id) => new Promise((resolve, reject) => {
    const w = new Worker(workerScript, { eval: true, workerData: { id, cycles, lib: fixturePath, host: hostBuild } });
    let result;
    w.on('message', (m) => { result = m; });
    w.on('error', reject);
    w.on('exit', (code) => (code === 0 ? resolve(result) : reject(new Error(`worker exit ${code}`))));
  }));
  // The main thread takes and gives back slots meanwhile too.
  let mine = 0;
  for (let i = 0; i < cycles; i++) {
    const cb = new JSCallback((a, b) => a + b + i, add);
    if (lib.symbols.call_add(cb, 1, 1) === 2 + i) mine++;
    cb.close();
  }
  assert.deepEqual(await Promise.all(workers), [cycles, cycles, cycles, cycles]);
  assert.equal(mine, cycles);
  assert.equal(JSCallback.liveCount(), 0);
});

// The executable mappings of this process, as the kernel lists them.
function executableMappings() {
  return fs.readFileSync('/proc/self/maps', 'utf8').split('\n').filter((l) => /^\S+ ..x/.test(l));
}

test('no code is mapped at run time: thousands of callbacks add no executable mapping, and the native module stays as the loader mapped it', () => {
  const warm = new JSCallback((a, b) => a + b, add);
  lib.symbols.call_add(warm, 1, 1);
  warm.close();
  const before = executableMappings();
  for (let i = 0; i < 5000; i++) {
    const cb = new JSCallback((a, b) => a + b, { ...add, threadsafe: i % 2 === 0 });
    lib.symbols.call_add(cb, i, 1);
    cb.close();
  }
  const after = executableMappings();
  assert.deepEqual(after, before);
  const addon = hostBuild.replace(/index\.js$/, 'arkffi.node');
  const ofAddon = fs.readFileSync('/proc/self/maps', 'utf8').split('\n').filter((l) => l.endsWith(fs.realpathSync(addon)));
  assert.ok(ofAddon.length > 0 && ofAddon.length <= 5, `the loader's segments only:\n${ofAddon.join('\n')}`);
  assert.equal(ofAddon.filter((l) => /^\S+ ..x/.test(l)).length, 1, 'one executable segment, the loader\'s');
});

test('making and closing callbacks in a loop that never yields keeps no memory (threadsafe ones too): nothing is left for a finalizer or the event loop to free', () => {
  const cycles = 20000;
  for (const threadsafe of [false, true]) {
    const definition = { args: [T.i32], returns: T.i32, threadsafe };
    for (let i = 0; i < 500; i++) new JSCallback((v) => v, definition).close();
    const before = mallocInUse();
    for (let i = 0; i < cycles; i++) new JSCallback((v) => v, definition).close();
    const perCycle = (mallocInUse() - before) / cycles;
    assert.ok(perCycle < 16, `threadsafe: ${threadsafe}: ${perCycle.toFixed(1)} bytes of malloc kept per create/close cycle`);
  }
});
