// Prints the NAPI functions that napi-ohos declares for an OpenHarmony target, one per line:
// the extern "C" functions of napi-sys-ohos's src/functions.rs in the modules that the
// crate's resolved features turn on (napi1..napiN) plus its `ohos` module, without the ones
// marked #[cfg(not(any(target_env = "ohos", ...)))] (which OpenHarmony does not have).
// The stand-in NDK builds its link-only libace_napi.z.so from this list.
//   node napi-functions.js <rust target>     (run in the checkout; uses cargo metadata --locked)
'use strict';
const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const target = process.argv[2];
if (!target) {
  console.error('usage: node napi-functions.js <rust target>');
  process.exit(2);
}
const meta = JSON.parse(
  execFileSync(process.env.CARGO || 'cargo', ['metadata', '--format-version', '1', '--locked', '--filter-platform', target], {
    cwd: path.join(__dirname, '..', '..'),
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  }),
);
const pkg = meta.packages.find((p) => p.name === 'napi-sys-ohos');
if (!pkg) throw new Error('napi-sys-ohos is not a dependency of this checkout');
const features = new Set(meta.resolve.nodes.find((n) => n.id === pkg.id).features);
const source = fs.readFileSync(path.join(path.dirname(pkg.manifest_path), 'src', 'functions.rs'), 'utf8');

const names = new Set();
let current = null; // the top-level `mod NAME {` we are in, if it is one we take
let depth = 0;
let skipNext = false;
for (const raw of source.split('\n')) {
  const line = raw.trim();
  if (depth === 0) {
    const m = /^mod (\w+) \{$/.exec(line);
    if (m) {
      const name = m[1];
      current = name === 'ohos' || (/^napi\d+$/.test(name) && features.has(name)) ? name : null;
    }
  }
  if (current && depth > 0) {
    // An attribute applies to the next item (a fn, or a `use`), comments aside.
    const f = /^fn (\w+)\s*\(/.exec(line);
    if (line.startsWith('#[cfg(not(any(target_env = "ohos"')) skipNext = true;
    else if (f) {
      if (!skipNext) names.add(f[1]);
      skipNext = false;
    } else if (line !== '' && !line.startsWith('//') && !line.startsWith('#[')) skipNext = false;
  }
  for (const c of raw.replace(/\/\/.*$/, '')) {
    if (c === '{') depth++;
    else if (c === '}') depth--;
  }
  if (depth === 0) current = null;
}
if (!names.has('napi_module_register') || names.size < 100) {
  throw new Error(`only ${names.size} functions found in ${pkg.manifest_path}: has functions.rs changed its layout?`);
}
process.stdout.write([...names].sort().join('\n') + '\n');
