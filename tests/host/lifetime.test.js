// Lifetimes of native resources: a library that is garbage-collected without close() is
// dlclosed; close() unloads at once. Observed through /proc/self/maps in a child process
// (a private copy of the fixture, so no other test holds it open).
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { fixturePath, root } = require('./helpers');

function runChild(script) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arkffi-life-'));
  const copy = path.join(dir, 'libfixture-copy.so');
  fs.copyFileSync(fixturePath, copy);
  try {
    return execFileSync(process.execPath, [...process.execArgv, '--expose-gc', '-e', script], {
      env: { ...process.env, HOST_BUILD: path.join(root, 'target', 'host', 'index.js'), LIB: copy },
      encoding: 'utf8',
    }).trim();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const prelude = `
const fs = require('fs');
const { dlopen, FFIType } = require(process.env.HOST_BUILD);
const mapped = () => fs.readFileSync('/proc/self/maps', 'utf8').includes(process.env.LIB);
async function collect() {
  for (let i = 0; i < 20; i++) { global.gc(); await new Promise((r) => setImmediate(r)); }
}
`;

test('close() unloads the library at once', () => {
  const out = runChild(`${prelude}
    const lib = dlopen(process.env.LIB, { add_i32: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 } });
    const before = mapped();
    lib.close();
    console.log(JSON.stringify({ before, after: mapped() }));`);
  assert.deepEqual(JSON.parse(out), { before: true, after: false });
});

test('a library dropped without close() is dlclosed by its finalizers', () => {
  const out = runChild(`${prelude}
    (async () => {
      let lib = dlopen(process.env.LIB, { add_i32: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 } });
      let add = lib.symbols.add_i32;
      const sum = add(2, 3);
      lib = null;
      await collect();
      const heldByFunction = mapped() && add(1, 1) === 2;
      add = null;
      await collect();
      console.log(JSON.stringify({ sum, heldByFunction, after: mapped() }));
    })();`);
  assert.deepEqual(JSON.parse(out), { sum: 5, heldByFunction: true, after: false });
});
