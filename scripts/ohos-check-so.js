#!/usr/bin/env node
// Checks an OpenHarmony build of libarkffi.so before it is shipped (scripts/build-ohos.sh runs
// it on the stripped library; docs/ohos-build.md says why each rule is there):
// - it is an ELF shared library for the ABI's CPU, SONAME libarkffi.so;
// - NEEDED is exactly libace_napi.z.so and libc.so (libffi, the unwinder and compiler-rt's
//   builtins are linked in);
// - every undefined symbol that is not weak is defined by one of those NEEDED libraries, as
//   the NDK's sysroot has them: OpenHarmony loads native modules with every symbol bound at
//   once, so one missing symbol is a failed `import` on the device;
// - BIND_NOW, no text relocations, no segment both writable and executable, a non-executable
//   stack (PT_GNU_STACK without X), no PT_TLS segment (OpenHarmony's toolchain and Rust's ohos
//   targets use emulated TLS);
// - PT_LOAD segments aligned to at least 64 KiB on aarch64 (4 KiB on x86_64), file offset and
//   address congruent modulo the alignment;
// - the dynamic symbol table defines exactly one symbol: napi_register_module_v1 (the module
//   registers itself from a constructor, which is not a symbol; everything else is hidden).
//
// Usage: node scripts/ohos-check-so.js --abi arm64-v8a|x86_64 --ndk <OHOS_NDK_HOME> <file.so>
//   --readelf <tool> --nm <tool>: default the NDK's llvm-readelf and llvm-nm
// Exit 0 with a one-line summary; 1 listing every rule broken; 2 on bad usage.
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const ABIS = {
  'arm64-v8a': { triple: 'aarch64-linux-ohos', machine: /AArch64/, minAlign: 0x10000 },
  x86_64: { triple: 'x86_64-linux-ohos', machine: /X86-64/, minAlign: 0x1000 },
};
const NEEDED = ['libace_napi.z.so', 'libc.so'];
const SONAME = 'libarkffi.so';
const EXPORTS = ['napi_register_module_v1'];

function usage(message) {
  console.error(`ohos-check-so: ${message}`);
  console.error('usage: node scripts/ohos-check-so.js --abi arm64-v8a|x86_64 --ndk <OHOS_NDK_HOME> [--readelf <tool>] [--nm <tool>] <file.so>');
  process.exit(2);
}

const opts = {};
const files = [];
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (['--abi', '--ndk', '--readelf', '--nm'].includes(a)) {
    if (i + 1 >= argv.length) usage(`${a} needs a value`);
    opts[a.slice(2)] = argv[++i];
  } else if (a.startsWith('--')) usage(`unknown option ${a}`);
  else files.push(a);
}
const abi = ABIS[opts.abi];
if (!abi) usage(`--abi takes ${Object.keys(ABIS).join(' or ')}, not '${opts.abi ?? ''}'`);
if (!opts.ndk) usage('--ndk is required');
if (files.length !== 1) usage('name one library');
const so = files[0];
const llvm = path.join(opts.ndk, 'native', 'llvm', 'bin');
const readelf = opts.readelf || path.join(llvm, 'llvm-readelf');
const nm = opts.nm || path.join(llvm, 'llvm-nm');
const libDirs = [path.join(opts.ndk, 'native', 'sysroot', 'usr', 'lib', abi.triple), path.join(opts.ndk, 'native', 'llvm', 'lib', abi.triple)];

function tool(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error) throw new Error(`cannot run ${cmd}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr.trim()}`);
  return r.stdout;
}

// `nm -D` lines: "<value> <type> <name>" for defined symbols, "<spaces> <type> <name>" for
// undefined ones; the name may carry a version (name@VER), which musl does not use.
function dynamicSymbols(file, which) {
  return tool(nm, ['-D', which, file])
    .split('\n')
    .map((l) => /^\s*[0-9a-fA-F]*\s+([A-Za-z])\s+(\S+)$/.exec(l))
    .filter(Boolean)
    .map(([, type, name]) => ({ type, name: name.replace(/@.*$/, '') }));
}

const problems = [];
const header = tool(readelf, ['-h', so]);
if (!/Type:\s+DYN/.test(header)) problems.push('it is not a shared library (ELF type DYN)');
if (!abi.machine.test(header)) problems.push(`it is not built for ${opts.abi} (${(/Machine:\s+(.*)/.exec(header) || [])[1]})`);

// ---- The dynamic section.
const dynamic = tool(readelf, ['-d', so]);
const tags = dynamic
  .split('\n')
  .map((l) => /^\s*0x[0-9a-fA-F]+\s+\((\w+)\)\s+(.*)$/.exec(l))
  .filter(Boolean)
  .map(([, tag, value]) => ({ tag, value: value.trim() }));
const valuesOf = (tag) => tags.filter((t) => t.tag === tag).map((t) => t.value);
const bracketed = (v) => (/\[(.*)\]/.exec(v) || [, v])[1];
const needed = valuesOf('NEEDED').map(bracketed);
if ([...needed].sort().join(' ') !== [...NEEDED].sort().join(' ')) {
  problems.push(`NEEDED is [${needed.join(', ')}], not exactly [${NEEDED.join(', ')}]`);
}
const soname = valuesOf('SONAME').map(bracketed);
if (soname.length !== 1 || soname[0] !== SONAME) problems.push(`SONAME is [${soname.join(', ')}], not ${SONAME}`);
const flags = valuesOf('FLAGS').join(' ');
const flags1 = valuesOf('FLAGS_1').join(' ');
if (valuesOf('TEXTREL').length > 0 || /\bTEXTREL\b/.test(flags)) problems.push('it has text relocations (TEXTREL)');
if (!/\bBIND_NOW\b/.test(flags) && !/\bNOW\b/.test(flags1)) problems.push('it is not linked BIND_NOW (-z now)');

// ---- Program headers.
const phdrs = tool(readelf, ['-lW', so])
  .split('\n')
  .map((l) => /^\s+([A-Z_a-z0-9]+)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+([RWE ]+?)\s+0x([0-9a-f]+)\s*$/.exec(l))
  .filter(Boolean)
  .map(([, type, offset, vaddr, , , , flg, align]) => ({
    type,
    offset: BigInt(`0x${offset}`),
    vaddr: BigInt(`0x${vaddr}`),
    flags: flg.replace(/\s/g, ''),
    align: BigInt(`0x${align}`),
  }));
const loads = phdrs.filter((p) => p.type === 'LOAD');
if (loads.length === 0) problems.push('readelf listed no PT_LOAD segment');
for (const p of loads) {
  const at = `PT_LOAD at offset 0x${p.offset.toString(16)}`;
  if (p.flags.includes('W') && p.flags.includes('E')) problems.push(`${at} is writable and executable`);
  if (p.align < BigInt(abi.minAlign) || (p.align & (p.align - 1n)) !== 0n) {
    problems.push(`${at} is aligned to 0x${p.align.toString(16)}, not a power of two of at least 0x${abi.minAlign.toString(16)}`);
  } else if (p.offset % p.align !== p.vaddr % p.align) {
    problems.push(`${at}: offset and address are not congruent modulo its alignment 0x${p.align.toString(16)}`);
  }
}
const stack = phdrs.filter((p) => p.type === 'GNU_STACK');
if (stack.length !== 1) problems.push('it has no PT_GNU_STACK header (the stack would be executable)');
else if (stack[0].flags.includes('E')) problems.push('its stack is executable (PT_GNU_STACK has X)');
if (phdrs.some((p) => p.type === 'TLS')) problems.push('it has a PT_TLS segment (native TLS; OpenHarmony builds use emulated TLS)');

// ---- Exported symbols.
const exported = dynamicSymbols(so, '--defined-only').map((s) => s.name);
if (exported.join(' ') !== EXPORTS.join(' ')) {
  problems.push(`it exports [${exported.join(', ')}], not exactly [${EXPORTS.join(', ')}]`);
}

// ---- Undefined symbols against the NEEDED libraries of the NDK's sysroot.
const defined = new Set();
for (const lib of needed) {
  const found = libDirs.map((d) => path.join(d, lib)).find((f) => fs.existsSync(f));
  if (!found) {
    problems.push(`its NEEDED ${lib} is not in the NDK (${libDirs.join(', ')})`);
    continue;
  }
  if (fs.readFileSync(found).subarray(0, 4).toString('latin1') !== '\x7fELF') {
    problems.push(`${found} is not an ELF shared library, so the symbols it defines cannot be checked`);
    continue;
  }
  for (const s of dynamicSymbols(found, '--defined-only')) defined.add(s.name);
}
const undefinedStrong = dynamicSymbols(so, '--undefined-only').filter((s) => s.type === 'U').map((s) => s.name);
const missing = undefinedStrong.filter((n) => !defined.has(n));
if (missing.length > 0) {
  problems.push(
    `it has undefined symbols that none of its NEEDED libraries (${needed.join(', ')}) defines: ${missing.join(', ')}. ` +
      `OpenHarmony binds every symbol when it loads the module, so on a device import would fail ` +
      `(musl: "Error relocating libarkffi.so: ${missing[0]}: symbol not found").`,
  );
}

if (problems.length > 0) {
  console.error(`ohos-check-so: ${so} is not fit to ship:`);
  for (const p of problems) console.error(`  - ${p}`);
  process.exit(1);
}
const align = loads.reduce((m, p) => (p.align < m ? p.align : m), loads[0].align);
console.log(
  `ohos-check-so: ${so}: NEEDED ${needed.join(' ')}; SONAME ${SONAME}; BIND_NOW; no TEXTREL, W+X or TLS segment; ` +
    `stack not executable; PT_LOAD aligned to >= 0x${align.toString(16)}; exports ${exported.join(' ')}; ` +
    `all ${undefinedStrong.length} undefined symbols defined by its NEEDED libraries`,
);
