#!/usr/bin/env node
// Runs examples/demo.ets on this machine through the host build and prints what it did.
'use strict';
const path = require('path');
const { buildEts } = require('./build-ets');

const root = path.resolve(__dirname, '..');

async function main() {
  const [demo] = await buildEts([path.join(root, 'examples', 'demo.ets')]);
  const { runDemo } = require(demo);
  const lines = runDemo({
    libc: 'libc.so.6',
    libm: 'libm.so.6',
    fixture: path.join(root, 'target', 'fixtures', 'libfixture.so'),
  });
  console.log('ArkFFI demo (host build, target/host/index.js):');
  for (const line of lines) console.log(`  ${line}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
