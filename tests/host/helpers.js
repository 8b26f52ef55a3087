// Shared setup of the host tests: the host build of the package and the fixture library.
'use strict';
const path = require('path');
const fs = require('fs');

const root = path.resolve(__dirname, '..', '..');
const hostBuild = path.join(root, 'target', 'host', 'index.js');
const fixturePath = path.join(root, 'target', 'fixtures', 'libfixture.so');
for (const f of [hostBuild, fixturePath]) {
  if (!fs.existsSync(f)) throw new Error(`${f} is missing: run bash scripts/test.sh`);
}

module.exports = { arkffi: require(hostBuild), fixturePath, root };
