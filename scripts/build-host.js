#!/usr/bin/env node
// Builds the host package: target/host/index.js (CommonJS, the same exports as ets/Index.ets)
// next to target/host/arkffi.node (the crate built for this machine). The import
// 'libarkffi.so' of ets/src/main/ets/native.ets becomes require('./arkffi.node').
// Run after `cargo build --release`.
// Usage: node scripts/build-host.js [--profile release|debug] [--addon LIB.so --out DIR]
// (--addon/--out: another build of the crate into another directory, e.g. the alloc-stats
// build of the allocation tests in target/host-alloc.)
'use strict';
const fs = require('fs');
const path = require('path');
const esbuild = require('esbuild');

const root = path.resolve(__dirname, '..');
const option = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const profile = option('--profile', 'release');
const outDir = path.resolve(root, option('--out', path.join('target', 'host')));
const addon = path.resolve(root, option('--addon', path.join('target', profile, 'libarkffi.so')));

if (!fs.existsSync(addon)) {
  console.error(`build-host: ${addon} is missing; run cargo build --${profile} first`);
  process.exit(1);
}
fs.mkdirSync(outDir, { recursive: true });
// Replace the addon atomically: a process that has the old one loaded keeps its mapping
// (copying over it in place would truncate a mapped file under that process).
const tmpAddon = path.join(outDir, `.arkffi.node.${process.pid}`);
fs.copyFileSync(addon, tmpAddon);
fs.renameSync(tmpAddon, path.join(outDir, 'arkffi.node'));

const nativeModule = {
  name: 'libarkffi.so',
  setup(build) {
    build.onResolve({ filter: /^libarkffi\.so$/ }, () => ({ path: './arkffi.node', external: true }));
  },
};

esbuild
  .build({
    entryPoints: [path.join(root, 'ets', 'Index.ets')],
    outfile: path.join(outDir, 'index.js'),
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node18',
    loader: { '.ets': 'ts' },
    resolveExtensions: ['.ets', '.ts', '.js'],
    plugins: [nativeModule],
    banner: { js: '// ArkFFI host build (generated from ets/ by scripts/build-host.js). Do not edit.' },
    logLevel: 'warning',
  })
  .then(() => console.log(`build-host: wrote ${path.relative(root, outDir)}/index.js and arkffi.node`))
  .catch(() => process.exit(1));
