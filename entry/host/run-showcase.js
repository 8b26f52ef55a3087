#!/usr/bin/env node
// Runs the sample app's showcase (entry/src/main/ets/showcase/Showcase.ets) on this desktop
// host, through the host build of ArkFFI (target/host/, built by scripts/test.sh or demo.sh):
// compiles libsample.so from entry/src/main/cpp/sample.c, compiles Showcase.ets for Node,
// calls runShowcase() with this host's libc, zlib and libsample.so, and prints the lines the
// app's page shows on a device. Exits 1 if any line failed.
// Usage: node entry/host/run-showcase.js
'use strict';
const path = require('path');
const { buildEts } = require('../../scripts/build-ets');
const { checkHostBuild, hostLibraries, root } = require('./libraries');

// Builds and runs the showcase; resolves to its lines ({ title, value, failed }).
async function runHostShowcase() {
  checkHostBuild();
  const libs = hostLibraries();
  const [built] = await buildEts([path.join(root, 'entry', 'src', 'main', 'ets', 'showcase', 'Showcase.ets')]);
  const { runShowcase } = require(built);
  return { libs, lines: await runShowcase(libs) };
}

module.exports = { runHostShowcase };

if (require.main === module) {
  runHostShowcase()
    .then(({ libs, lines }) => {
      console.log('ArkFFI sample app showcase (host build, target/host/index.js):');
      console.log(`  libc = ${libs.libc}, libz = ${libs.libz}, sample = ${path.relative(root, libs.sample)}`);
      const width = Math.max(...lines.map((l) => l.title.length));
      for (const l of lines) console.log(`  ${l.failed ? 'FAILED ' : ''}${l.title.padEnd(width)}  ${l.value}`);
      const failed = lines.filter((l) => l.failed).length;
      if (failed > 0) {
        console.error(`run-showcase: ${failed} of ${lines.length} lines failed`);
        process.exitCode = 1;
      }
    })
    .catch((e) => {
      console.error(e);
      process.exitCode = 1;
    });
}
