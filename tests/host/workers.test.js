// Many JS threads: ArkTS Workers and TaskPool threads each get their own napi_env and load the
// module again. Node's worker_threads are the stand-in: several workers at once open
// libraries, call, make callbacks and struct results; each callback runs on its own worker;
// a worker that ends without closing anything frees its callbacks and libraries.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { Worker } = require('worker_threads');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { arkffi, fixturePath, root } = require('./helpers');
const { JSCallback, heldPtrCount } = arkffi;

const workerScript = `
const { parentPort, workerData, threadId } = require('worker_threads');
const { dlopen, FFIType: T, JSCallback, StructSchema, heldPtrCount, releasePtr } = require(workerData.host);
const Small = new StructSchema({ a: T.i8, b: T.i16 });
const lib = dlopen(workerData.lib, {
  add_i32: { args: [T.i32, T.i32], returns: T.i32 },
  str_len: { args: [T.CString], returns: T.usize },
  call_add: { args: [T.callback, T.i32, T.i32], returns: T.i32 },
  small_make: { args: [T.i8, T.i16], returns: Small },
  run_threads: { args: [T.callback, T.i32, T.i32], returns: T.i64, nonblocking: true },
});
const ranOn = new Set();
const local = new JSCallback((a, b) => { ranOn.add(threadId); return a * b; }, { args: [T.i32, T.i32], returns: T.i32 });
const fromC = new JSCallback((v) => { ranOn.add(threadId); return v + workerData.id; }, { args: [T.i32], returns: T.i32, threadsafe: true });
(async () => {
  let sum = 0;
  for (let i = 0; i < 2000; i++) sum += lib.symbols.add_i32(i, workerData.id);
  const kept = lib.symbols.small_make(workerData.id, 7); // never released: the env's teardown frees it
  const released = lib.symbols.small_make(1, 1);
  releasePtr(released);
  const total = await lib.symbols.run_threads(fromC, 3, 10);
  parentPort.postMessage({
    sum, len: lib.symbols.str_len('worker ✓'), product: lib.symbols.call_add(local, 6, 7), total: total.toString(),
    small: Small.fromPtr(kept), held: heldPtrCount(), ranOn: [...ranOn], threadId, live: JSCallback.liveCount(),
  });
})();
`;

function runWorker(id, lib) {
  return new Promise((resolve, reject) => {
    const w = new Worker(workerScript, { eval: true, workerData: { id, lib, host: path.join(root, 'target', 'host', 'index.js') } });
    let message;
    w.on('message', (m) => { message = m; });
    w.on('error', reject);
    w.on('exit', (code) => (code === 0 ? resolve(message) : reject(new Error(`worker exit ${code}`))));
  });
}

test('workers use the module at once, each in its own env, and clean up when they end', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arkffi-workers-'));
  const lib = path.join(dir, 'libfixture-workers.so');
  fs.copyFileSync(fixturePath, lib);
  const liveBefore = JSCallback.liveCount();
  const heldBefore = heldPtrCount();
  const results = await Promise.all([1, 2, 3, 4, 5, 6].map((id) => runWorker(id, lib)));
  results.forEach((r, i) => {
    const id = i + 1;
    assert.equal(r.sum, 1999 * 1000 + 2000 * id);
    assert.equal(r.len, 10);
    assert.equal(r.product, 42);
    let expected = 0;
    for (let t = 0; t < 3; t++) for (let k = 0; k < 10; k++) expected += t * 1000 + k + id;
    assert.equal(r.total, String(expected));
    assert.deepEqual(r.small, { a: id, b: 7 });
    assert.equal(r.held, 1, 'struct results are counted per env');
    assert.deepEqual(r.ranOn, [r.threadId], 'every callback ran on the worker that created it');
  });
  assert.equal(heldPtrCount(), heldBefore, "the workers' results are not in the main env");
  assert.equal(JSCallback.liveCount(), liveBefore, 'ended workers closed their callbacks');
  // The libraries the workers opened (and never closed) were dlclosed by their env teardown.
  for (let i = 0; i < 50 && fs.readFileSync('/proc/self/maps', 'utf8').includes(lib); i++) {
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.ok(!fs.readFileSync('/proc/self/maps', 'utf8').includes(lib), 'no worker left the library loaded');
  fs.rmSync(dir, { recursive: true, force: true });
});
