// The .ets examples of the README (examples/) compiled for Node and run against the host
// build: what the docs show is what runs.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('path');
const { fixturePath, root } = require('./helpers');
const { buildEts } = require('../../scripts/build-ets');

const built = buildEts(['quickstart', 'types', 'demo', 'structs', 'callbacks', 'definitions'].map((n) => path.join(root, 'examples', `${n}.ets`)));

test('examples/quickstart.ets', async () => {
  const [quickstart] = await built;
  assert.equal(require(quickstart).quickstart('libm.so.6'), 25);
});

test('examples/definitions.ets', async () => {
  const [, , , , , definitions] = await built;
  assert.equal(require(definitions).withDefinitions('libm.so.6'), 25);
});

test('the examples use the typed form: no casts', () => {
  const fs = require('fs');
  for (const n of ['quickstart', 'types', 'demo', 'structs', 'callbacks']) {
    const text = fs.readFileSync(path.join(root, 'examples', `${n}.ets`), 'utf8');
    assert.doesNotMatch(text, /\bas (number|bigint|string|boolean|Pointer|Promise|FFIValue)\b/, `examples/${n}.ets`);
  }
});

test('examples/types.ets', async () => {
  const [, types] = await built;
  const tour = require(types).typeTour(fixturePath);
  assert.equal(tour.sum, 42);
  assert.equal(tour.big, 2n ** 64n - 1n);
  assert.equal(tour.fast, 2 ** 53);
  assert.equal(tour.half, 0.5);
  assert.equal(tour.flag, true);
  assert.equal(tour.length, 6);
  assert.equal(tour.greeting, 'hello from C');
  assert.equal(tour.missing, null);
  assert.equal(tour.bytes, 4);
  assert.equal(tour.total, 10n);
  assert.equal(tour.first, 1);
  assert.equal(tour.copied, 'hi');
});

test('examples/demo.ets', async () => {
  const [, , demo] = await built;
  const lines = require(demo).runDemo({ libc: 'libc.so.6', libm: 'libm.so.6', fixture: fixturePath });
  assert.ok(lines.includes("libc strlen('ArkFFI ✓') = 10 bytes of UTF-8"), lines.join('\n'));
  assert.ok(lines.includes('CFunction(atoi)(\'12345\') = 12345'));
  assert.ok(lines.includes("fixture str_static() = 'hello from C', str_null() = null"));
  assert.equal(lines.length, 18);
});

test('examples/structs.ets', async () => {
  const [, , , structs] = await built;
  const { divide, complexSum } = require(structs);
  const { heldPtrCount } = require('./helpers').arkffi;
  const held = heldPtrCount();
  assert.deepEqual(divide('libc.so.6', 7, 2), { quot: 3, rem: 1 });
  assert.deepEqual(divide('libc.so.6', -7, 2), { quot: -3, rem: -1 });
  assert.deepEqual(complexSum(fixturePath), { real: 11, imag: 22 });
  assert.equal(heldPtrCount(), held, 'the example releases its struct results');
});

test('examples/callbacks.ets', async () => {
  const [, , , , callbacks] = await built;
  const { sortInts, fromCThreads, slowAdd } = require(callbacks);
  const { JSCallback } = require('./helpers').arkffi;
  const live = JSCallback.liveCount();
  const values = new Int32Array([5, -1, 3, 0, 2]);
  sortInts('libc.so.6', values);
  assert.deepEqual([...values], [-1, 0, 2, 3, 5]);
  let expected = 0n;
  for (let t = 0; t < 4; t++) for (let k = 0; k < 10; k++) expected += BigInt((t * 1000 + k) * 2);
  assert.equal(await fromCThreads(fixturePath), expected);
  assert.equal(await slowAdd(fixturePath), 42);
  assert.equal(JSCallback.liveCount(), live, 'the example closes its callbacks');
});

test('the README shows the example files exactly as they are', () => {
  const fs = require('fs');
  const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
  const blocks = [...readme.matchAll(/```ets\n\/\/ (examples\/[\w-]+\.ets)\n([\s\S]*?)```/g)];
  assert.ok(blocks.length >= 1, 'the README quotes at least one example file');
  for (const [, file, body] of blocks) {
    assert.equal(body, fs.readFileSync(path.join(root, file), 'utf8'), `${file} in README.md`);
  }
});
