// Shared setup of the host tests: the host build of the package and the fixture library.
'use strict';
const path = require('path');
const fs = require('fs');

const root = path.resolve(__dirname, '..', '..');
// ARKFFI_HOST_BUILD runs the suites against another host build of the package
// (ohos-build.test.js: the one linked with the prebuilt static libffi).
const hostBuild = process.env.ARKFFI_HOST_BUILD
  ? path.resolve(process.env.ARKFFI_HOST_BUILD)
  : path.join(root, 'target', 'host', 'index.js');
const fixturePath = path.join(root, 'target', 'fixtures', 'libfixture.so');
for (const f of [hostBuild, fixturePath]) {
  if (!fs.existsSync(f)) throw new Error(`${f} is missing: run bash scripts/test.sh`);
}

const guardPath = path.join(root, 'target', 'fixtures', 'libnoexec.so');

// Run a script in a child Node process with the same flags as this one (--jitless under the
// exec guard), the host build at HOST_BUILD and the fixture at FIXTURE.
function runNode(script, { env = {}, args = [] } = {}) {
  const { spawnSync } = require('child_process');
  const r = spawnSync(process.execPath, [...process.execArgv.filter((a) => !a.startsWith('--test')), ...args, '-e', script], {
    env: { ...process.env, HOST_BUILD: hostBuild, FIXTURE: fixturePath, ...env },
    encoding: 'utf8',
    timeout: 60000,
  });
  return { status: r.status, signal: r.signal, stdout: r.stdout.trim(), stderr: r.stderr };
}

module.exports = { arkffi: require(hostBuild), fixturePath, guardPath, hostBuild, root, runNode };
