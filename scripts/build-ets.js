#!/usr/bin/env node
// Compiles .ets modules for Node with esbuild (.ets loaded as TypeScript), the import
// 'arkffi' bound to the host build (target/host/index.js). Each entry becomes
// target/ets-host/<path relative to the repo>.js (CommonJS).
// Usage: node scripts/build-ets.js file.ets [...]   (or require() and call buildEts)
'use strict';
const path = require('path');
const esbuild = require('esbuild');

const root = path.resolve(__dirname, '..');
const outRoot = path.join(root, 'target', 'ets-host');
const hostBuild = path.join(root, 'target', 'host', 'index.js');

function outputOf(entry) {
  const rel = path.relative(root, path.resolve(entry)).replace(/\.ets$/, '.js');
  return path.join(outRoot, rel);
}

// extraAliases: { 'module-name': '/abs/path/to/replacement' } bundled in place of an import.
async function buildEts(entries, extraAliases = {}) {
  const arkffiHost = {
    name: 'arkffi-host',
    setup(build) {
      build.onResolve({ filter: /^arkffi$/ }, () => ({ path: hostBuild, external: true }));
      for (const [name, target] of Object.entries(extraAliases)) {
        const filter = new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`);
        build.onResolve({ filter }, () => ({ path: target }));
      }
    },
  };
  const outputs = [];
  for (const entry of entries) {
    const outfile = outputOf(entry);
    await esbuild.build({
      entryPoints: [path.resolve(entry)],
      outfile,
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node18',
      loader: { '.ets': 'ts' },
      resolveExtensions: ['.ets', '.ts', '.js'],
      plugins: [arkffiHost],
      logLevel: 'warning',
    });
    outputs.push(outfile);
  }
  return outputs;
}

module.exports = { buildEts, outputOf };

if (require.main === module) {
  buildEts(process.argv.slice(2))
    .then((outs) => outs.forEach((o) => console.log(`build-ets: wrote ${path.relative(root, o)}`)))
    .catch(() => process.exit(1));
}
