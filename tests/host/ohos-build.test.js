// The OpenHarmony cross build (scripts/build-ohos.sh, docs/ohos-build.md), as far as the host
// suite checks it (the builds themselves, against the stand-in NDK, and their load test under
// musl run in the CI stage scripts/ci-ohos.sh):
// - the trap it works around is real (libffi-sys's bundled config.sub rejects *-linux-ohos);
// - Cargo selects libffi's `system` feature for the two ohos targets and only for them;
// - the same link path on this machine (libffi built by scripts/ohos-libffi.sh for
//   <cpu>-linux-musl, the crate's `libffi-system` feature; built by scripts/test.sh into
//   target/host-libffi-system) links libffi statically with static trampolines, and the
//   core, callback and struct suites pass on it under the exec guard;
// - build-ohos.sh stops at once, building nothing, when the NDK, its compiler-rt, a target or
//   (with ARKFFI_OHOS_BUILD_STD=1) the standard library's source is missing, and says what to
//   install;
// - scripts/ohos-check-so.js, which decides whether a built library ships, accepts a library
//   that keeps its rules and names each rule a library breaks (libraries made here with cc).
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('path');
const fs = require('fs');
const os = require('os');
const { spawnSync } = require('child_process');
const { root } = require('./helpers');

const OHOS_TARGETS = ['aarch64-unknown-linux-ohos', 'x86_64-unknown-linux-ohos'];
const systemBuild = path.join(root, 'target', 'host-libffi-system', 'index.js');
const systemLib = path.join(root, 'target', 'libffi-system', 'release', 'libarkffi.so');
const libffiPrefix = path.join(root, 'target', 'libffi-musl');
for (const f of [systemBuild, systemLib, path.join(libffiPrefix, 'lib', 'libffi.a')]) {
  if (!fs.existsSync(f)) throw new Error(`${f} is missing: run bash scripts/test.sh`);
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: root, encoding: 'utf8', timeout: 120000, ...opts });
  if (r.error) throw r.error;
  return r;
}

function libffiSource() {
  const r = run('cargo', ['metadata', '--format-version', '1', '--locked']);
  assert.equal(r.status, 0, r.stderr);
  const pkg = JSON.parse(r.stdout).packages.find((p) => p.name === 'libffi-sys');
  return path.join(path.dirname(pkg.manifest_path), 'libffi');
}

test("libffi-sys's bundled config.sub rejects the ohos triples and accepts the musl ones used instead", () => {
  const configSub = path.join(libffiSource(), 'config.sub');
  for (const t of OHOS_TARGETS) {
    const r = run('sh', [configSub, t]);
    assert.notEqual(r.status, 0, `${t} was accepted: the work-around may no longer be needed`);
    assert.match(r.stderr, /ohos' not recognized/);
  }
  for (const cpu of ['aarch64', 'x86_64']) {
    const r = run('sh', [configSub, `${cpu}-linux-musl`]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^${cpu}-\\w+-linux-musl$`, 'm'));
  }
});

test("cargo gives libffi its `system` feature for both ohos targets and not for the host", () => {
  const features = (target) => {
    const args = ['tree', '--locked', '-e', 'features', '-i', 'libffi-sys'];
    if (target) args.push('--target', target);
    const r = run('cargo', args);
    assert.equal(r.status, 0, r.stderr);
    return r.stdout;
  };
  for (const t of OHOS_TARGETS) assert.match(features(t), /libffi feature "system"/, t);
  assert.doesNotMatch(features(null), /feature "system"/);
});

test('the prebuilt libffi is linked statically into libarkffi.so, with static trampolines', () => {
  const dynamic = run('readelf', ['-d', systemLib]);
  assert.equal(dynamic.status, 0, dynamic.stderr);
  const needed = dynamic.stdout.split('\n').filter((l) => l.includes('(NEEDED)'));
  assert.ok(needed.length > 0, 'readelf listed no NEEDED entries');
  assert.deepEqual(needed.filter((l) => /libffi/.test(l)), [], 'libarkffi.so needs a shared libffi');
  // This machine has a shared libffi of its own (libffi-dev): the static archive must still win.
  const symbols = run('nm', [systemLib]);
  assert.match(symbols.stdout, / t ffi_call$/m, 'ffi_call is not defined inside libarkffi.so');
  assert.match(symbols.stdout, / t ffi_tramp_alloc$/m, 'the static trampoline code is not inside libarkffi.so');
  const configH = run('find', [path.join(libffiPrefix, 'build'), '-name', 'fficonfig.h', '-not', '-path', '*/msvc_build/*']);
  const header = fs.readFileSync(configH.stdout.trim().split('\n')[0], 'utf8');
  assert.match(header, /^#define FFI_EXEC_STATIC_TRAMP 1$/m);
});

test('the core, callback and struct suites pass on the build linked that way', () => {
  const env = { ...process.env, ARKFFI_HOST_BUILD: systemBuild };
  delete env.NODE_TEST_CONTEXT; // a run of its own, not a subtest stream of this one
  const flags = process.execArgv.filter((a) => !a.startsWith('--test'));
  // The override really takes effect: the helpers load the other build.
  const which = run(process.execPath, [...flags, '-p', `require(${JSON.stringify(path.join(__dirname, 'helpers.js'))}).hostBuild`], { env });
  assert.equal(which.stdout.trim(), systemBuild, which.stderr);
  const files = ['core', 'callbacks', 'structs'].map((n) => path.join(__dirname, `${n}.test.js`));
  const r = run(process.execPath, [...flags, '--test', ...files], { env, timeout: 240000 });
  const summary = r.stdout.split('\n').filter((l) => /^# (pass|fail) /.test(l)).join(', ');
  assert.equal(r.status, 0, `${summary}\n${r.stdout.split('\n').filter((l) => l.startsWith('not ok')).join('\n')}`);
  assert.match(summary, /# pass [1-9]\d*, # fail 0/);
});

// ---- scripts/build-ohos.sh without an OpenHarmony SDK

// A directory laid out like the SDK's native component, with stub tools (nothing runs them
// here: only the checks are exercised), and a stand-in for rustc that reports the Rust
// standard library of the given targets as installed.
// The NDK's clang answers only `-print-libgcc-file-name` (with an archive that exists). rustc
// reports its release (1.96.0), its sysroot (with the standard library's source when
// `withSource`) and, for `--print target-libdir`, a directory holding libcore for the given
// targets; `cargo` reports the release `cargoRelease`.
function fakeToolchain(installedTargets, { withSource = false, cargoRelease = '1.96.0' } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arkffi-ohos-'));
  const ndk = path.join(dir, 'openharmony');
  const bin = path.join(ndk, 'native', 'llvm', 'bin');
  fs.mkdirSync(bin, { recursive: true });
  fs.mkdirSync(path.join(ndk, 'native', 'sysroot', 'usr', 'include'), { recursive: true });
  for (const tool of ['llvm-ar', 'llvm-ranlib', 'llvm-nm', 'llvm-strip', 'llvm-readelf']) {
    fs.writeFileSync(path.join(bin, tool), '#!/bin/sh\nexit 1\n', { mode: 0o755 });
  }
  const builtins = path.join(ndk, 'native', 'llvm', 'lib', 'clang', '15.0.4', 'lib', 'libclang_rt.builtins.a');
  fs.mkdirSync(path.dirname(builtins), { recursive: true });
  fs.writeFileSync(builtins, '!<arch>\n');
  fs.writeFileSync(
    path.join(bin, 'clang'),
    `#!/bin/sh\ncase "$*" in *--rtlib=compiler-rt*-print-libgcc-file-name*) echo "${builtins}"; exit 0 ;; esac\nexit 1\n`,
    { mode: 0o755 },
  );
  const sysroot = path.join(dir, 'rust-sysroot');
  const rustlib = path.join(sysroot, 'lib', 'rustlib');
  for (const t of installedTargets) {
    fs.mkdirSync(path.join(rustlib, t, 'lib'), { recursive: true });
    fs.writeFileSync(path.join(rustlib, t, 'lib', 'libcore-0000.rlib'), '');
  }
  if (withSource) {
    fs.mkdirSync(path.join(rustlib, 'src', 'rust', 'library', 'std'), { recursive: true });
    fs.writeFileSync(path.join(rustlib, 'src', 'rust', 'library', 'std', 'Cargo.toml'), '');
  }
  const rustc = path.join(dir, 'rustc');
  fs.writeFileSync(
    rustc,
    '#!/bin/sh\n' +
      '[ "$1" = -V ] && echo "rustc 1.96.0 (ac68faa20 2026-05-25)" && exit 0\n' +
      `[ "$1" = --print ] && [ "$2" = sysroot ] && echo "${sysroot}" && exit 0\n` +
      `[ "$1" = --print ] && [ "$2" = target-libdir ] && echo "${rustlib}/$4/lib" && exit 0\nexit 1\n`,
    { mode: 0o755 },
  );
  const cargo = path.join(dir, 'cargo');
  fs.writeFileSync(cargo, `#!/bin/sh\n[ "$1" = -V ] && echo "cargo ${cargoRelease} (0000000 2026-05-25)" && exit 0\nexit 1\n`, { mode: 0o755 });
  return { dir, ndk, rustc, cargo, builtins };
}

function buildOhos(args, env, cwd = root) {
  const clean = { ...process.env };
  delete clean.OHOS_NDK_HOME;
  delete clean.RUSTC;
  delete clean.CARGO;
  delete clean.ARKFFI_OHOS_BUILD_STD;
  const started = Date.now();
  const script = path.join(root, 'scripts', 'build-ohos.sh');
  const r = run('bash', [script, ...args], { env: { ...clean, ...env }, timeout: 30000, cwd });
  return { ...r, ms: Date.now() - started };
}

test('build-ohos.sh without OHOS_NDK_HOME stops at once and says what to install', () => {
  const { dir, rustc } = fakeToolchain([]);
  try {
    const r = buildOhos(['--abi', 'arm64-v8a'], { RUSTC: rustc });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /OHOS_NDK_HOME is not set\. Install the OpenHarmony SDK/);
    assert.match(r.stderr, /rustup target add aarch64-unknown-linux-ohos/);
    assert.doesNotMatch(r.stderr, /x86_64-unknown-linux-ohos/, 'only the requested ABI is checked');
    assert.doesNotMatch(r.stdout + r.stderr, /== /, 'nothing was built');
    assert.ok(r.ms < 10000, `took ${r.ms} ms`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('build-ohos.sh names each missing piece of an incomplete SDK', () => {
  const { dir, ndk, rustc } = fakeToolchain(OHOS_TARGETS);
  try {
    let r = buildOhos([], { OHOS_NDK_HOME: path.join(dir, 'missing'), RUSTC: rustc });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /OHOS_NDK_HOME=.*missing does not exist/);

    r = buildOhos([], { OHOS_NDK_HOME: path.join(ndk, 'native'), RUSTC: rustc });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /is the native\/ directory itself; set it to its parent/);

    fs.rmSync(path.join(ndk, 'native', 'llvm', 'bin', 'clang'));
    fs.rmSync(path.join(ndk, 'native', 'sysroot'), { recursive: true });
    r = buildOhos([], { OHOS_NDK_HOME: ndk, RUSTC: rustc });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /native\/llvm\/bin\/clang is missing/);
    assert.match(r.stderr, /native\/sysroot is missing or incomplete/);
    assert.doesNotMatch(r.stderr, /rustup target add/, 'the targets were reported installed');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('build-ohos.sh reports a missing Rust target even when the SDK is complete', () => {
  const { dir, ndk, rustc } = fakeToolchain(['aarch64-unknown-linux-ohos']);
  try {
    const r = buildOhos([], { OHOS_NDK_HOME: ndk, RUSTC: rustc });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /The Rust standard library for x86_64-unknown-linux-ohos is not installed: rustup target add x86_64-unknown-linux-ohos \(or build it from source with ARKFFI_OHOS_BUILD_STD=1/);
    assert.doesNotMatch(r.stderr, /aarch64-unknown-linux-ohos is not installed/);
    assert.doesNotMatch(r.stderr, /OHOS_NDK_HOME/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('build-ohos.sh --check passes with a complete toolchain and builds nothing', () => {
  const { dir, ndk, rustc } = fakeToolchain(OHOS_TARGETS);
  try {
    const r = buildOhos(['--check'], { OHOS_NDK_HOME: ndk, RUSTC: rustc });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`OpenHarmony toolchain: ${ndk}/native/llvm/bin/clang`));
    assert.match(r.stdout, /aarch64-unknown-linux-ohos x86_64-unknown-linux-ohos/);
    assert.doesNotMatch(r.stdout, /== /);

    // OHOS_NDK_HOME relative to the directory the script is started in.
    const relative = buildOhos(['--check'], { OHOS_NDK_HOME: 'openharmony', RUSTC: rustc }, dir);
    assert.equal(relative.status, 0, relative.stderr);
    assert.match(relative.stdout, new RegExp(`OpenHarmony toolchain: ${ndk}/native/llvm/bin/clang`));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("build-ohos.sh names an NDK whose clang does not report compiler-rt's builtins", () => {
  const { dir, ndk, rustc, builtins } = fakeToolchain(OHOS_TARGETS);
  try {
    fs.rmSync(builtins);
    const r = buildOhos(['--check', '--abi', 'x86_64'], { OHOS_NDK_HOME: ndk, RUSTC: rustc });
    assert.equal(r.status, 2, r.stdout);
    assert.match(r.stderr, /clang does not report compiler-rt's builtins for x86_64-unknown-linux-ohos \(--rtlib=compiler-rt -print-libgcc-file-name gave '.*libclang_rt\.builtins\.a'\)/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("build-ohos.sh with ARKFFI_OHOS_BUILD_STD=1 needs the standard library's source and rustc's own cargo, not an installed target", () => {
  let t = fakeToolchain([]);
  try {
    const r = buildOhos(['--check'], { OHOS_NDK_HOME: t.ndk, RUSTC: t.rustc, CARGO: t.cargo, ARKFFI_OHOS_BUILD_STD: '1' });
    assert.equal(r.status, 2, r.stdout);
    assert.match(r.stderr, /ARKFFI_OHOS_BUILD_STD=1 needs the source of the Rust standard library of rustc 1\.96\.0 .*rustup component add rust-src \(or, for Debian's rustc-web, apt-get install rust-web-src\)/);
    assert.doesNotMatch(r.stderr, /rustup target add/, 'no installed standard library is needed');
  } finally {
    fs.rmSync(t.dir, { recursive: true, force: true });
  }
  t = fakeToolchain([], { withSource: true, cargoRelease: '1.95.0' });
  try {
    const r = buildOhos(['--check'], { OHOS_NDK_HOME: t.ndk, RUSTC: t.rustc, CARGO: t.cargo, ARKFFI_OHOS_BUILD_STD: '1' });
    assert.equal(r.status, 2, r.stdout);
    assert.match(r.stderr, /needs the cargo of the same release as rustc \(rustc 1\.96\.0 .*\), not cargo 1\.95\.0/);
  } finally {
    fs.rmSync(t.dir, { recursive: true, force: true });
  }
  t = fakeToolchain([], { withSource: true });
  try {
    let r = buildOhos(['--check'], { OHOS_NDK_HOME: t.ndk, RUSTC: t.rustc, CARGO: t.cargo, ARKFFI_OHOS_BUILD_STD: '1' });
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /== /);
    r = buildOhos(['--check'], { OHOS_NDK_HOME: t.ndk, RUSTC: t.rustc, CARGO: t.cargo, ARKFFI_OHOS_BUILD_STD: 'yes' });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /ARKFFI_OHOS_BUILD_STD is 'yes'; it takes 1/);
  } finally {
    fs.rmSync(t.dir, { recursive: true, force: true });
  }
});

test('build-ohos.sh refuses a checkout path with white space before building', () => {
  const { dir, ndk, rustc } = fakeToolchain(OHOS_TARGETS);
  try {
    const checkout = path.join(dir, 'my projects', 'arkffi');
    fs.mkdirSync(path.join(checkout, 'scripts'), { recursive: true });
    fs.copyFileSync(path.join(root, 'scripts', 'build-ohos.sh'), path.join(checkout, 'scripts', 'build-ohos.sh'));
    const r = run('bash', [path.join(checkout, 'scripts', 'build-ohos.sh'), '--check'], {
      env: { ...process.env, OHOS_NDK_HOME: ndk, RUSTC: rustc },
      timeout: 30000,
    });
    assert.equal(r.status, 2, r.stdout);
    assert.match(r.stderr, /The checkout path '.*my projects\/arkffi' contains white space/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('build-ohos.sh rejects unknown options and ABIs, and documents itself', () => {
  let r = buildOhos(['--abi', 'armeabi-v7a'], {});
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--abi takes arm64-v8a, x86_64 or all, not 'armeabi-v7a'/);
  r = buildOhos(['--frobnicate'], {});
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown argument '--frobnicate'/);
  r = buildOhos(['--help'], {});
  assert.equal(r.status, 0);
  assert.match(r.stdout, /Usage: bash scripts\/build-ohos\.sh/);
  assert.match(r.stdout, /OHOS_NDK_HOME/);
});

// ---- scripts/ohos-check-so.js, on libraries made here with the machine's own cc (x86_64,
// whatever architecture this Node runs on: the checker is a desktop tool that reads ELF
// files, and its x86_64 rules are the ones these libraries can break): one that keeps every
// rule, and one per broken rule. The "NDK" is a directory with a libc.so and a
// libace_napi.z.so of a few functions; the tools are binutils' readelf and nm.

const checkSource = `
extern void napi_module_register(void *);
extern void *malloc(unsigned long);
#ifdef UNDEFINED
extern void *__emutls_get_address(void *);
#endif
#ifdef TLS
static __thread int tls;
#endif
#ifdef TEXTREL
extern int elsewhere;
#endif
#ifdef EXTRA_EXPORT
__attribute__((visibility("default"))) int extra(void) { return 1; }
#endif
__attribute__((visibility("default"))) void *napi_register_module_v1(void *env, void *exports) {
  napi_module_register(malloc(8));
#ifdef UNDEFINED
  __emutls_get_address(env);
#endif
#ifdef TLS
  return &tls;
#endif
#ifdef TEXTREL
  return &elsewhere;
#endif
  return exports;
}
`;

function checkFixture() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arkffi-ohos-check-'));
  const lib = path.join(dir, 'ndk', 'native', 'sysroot', 'usr', 'lib', 'x86_64-linux-ohos');
  fs.mkdirSync(lib, { recursive: true });
  const cc = (args) => {
    const r = run('cc', args, { cwd: dir });
    assert.equal(r.status, 0, `cc ${args.join(' ')}: ${r.stderr}`);
  };
  fs.writeFileSync(path.join(dir, 'libc.c'), 'void *malloc(unsigned long n) { (void)n; return 0; }\n');
  fs.writeFileSync(path.join(dir, 'ace.c'), 'void napi_module_register(void *m) { (void)m; }\n');
  fs.writeFileSync(path.join(dir, 'extra.c'), 'int extra_function(void) { return 0; }\n');
  cc(['-shared', '-fPIC', '-nostdlib', '-Wl,-soname,libc.so', '-o', path.join(lib, 'libc.so'), 'libc.c']);
  cc(['-shared', '-fPIC', '-nostdlib', '-Wl,-soname,libace_napi.z.so', '-o', path.join(lib, 'libace_napi.z.so'), 'ace.c']);
  cc(['-shared', '-fPIC', '-nostdlib', '-Wl,-soname,libextra.so', '-o', path.join(dir, 'libextra.so'), 'extra.c']);
  fs.writeFileSync(path.join(dir, 'module.c'), checkSource);
  // Builds libarkffi.so from module.c, with extra cc flags (`add`; `last`: after the
  // libraries, where -N no longer stops them being linked) or without some (`drop`).
  const build = (name, { add = [], drop = [], last = [] } = {}) => {
    const args = ['-shared', '-fvisibility=hidden', '-nostdlib', '-O1', '-fPIC', '-Wl,-soname,libarkffi.so', '-Wl,-z,now', '-Wl,-z,noexecstack']
      .filter((a) => !drop.includes(a))
      .concat(add, ['-o', name, 'module.c', `-L${lib}`, '-lace_napi.z', '-lc'], last);
    cc(args);
    return path.join(dir, name);
  };
  // (With this process's flags: under the exec guard, Node runs only --jitless.)
  const flags = process.execArgv.filter((a) => !a.startsWith('--test'));
  const check = (file, abi = 'x86_64') =>
    run(process.execPath, [...flags, path.join(root, 'scripts', 'ohos-check-so.js'), '--abi', abi, '--ndk', path.join(dir, 'ndk'), '--readelf', 'readelf', '--nm', 'nm', file]);
  return { dir, build, check };
}

test('ohos-check-so.js passes a library that keeps its rules', () => {
  const { dir, build, check } = checkFixture();
  try {
    const r = check(build('good.so'));
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /NEEDED libace_napi\.z\.so libc\.so; SONAME libarkffi\.so; BIND_NOW;.*exports napi_register_module_v1; all 2 undefined symbols defined by its NEEDED libraries/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('ohos-check-so.js names each rule a library breaks', () => {
  const { dir, build, check } = checkFixture();
  const cases = [
    ['an undefined symbol no NEEDED library defines', { add: ['-DUNDEFINED'] },
      /undefined symbols that none of its NEEDED libraries \(libace_napi\.z\.so, libc\.so\) defines: __emutls_get_address\..*"Error relocating libarkffi\.so: __emutls_get_address: symbol not found"/],
    ['a second export', { add: ['-DEXTRA_EXPORT'] }, /it exports \[extra, napi_register_module_v1\], not exactly \[napi_register_module_v1\]/],
    ['another NEEDED library', { add: ['-Wl,--no-as-needed', path.join(dir, 'libextra.so')] }, /NEEDED is \[.*libextra\.so.*\], not exactly \[libace_napi\.z\.so, libc\.so\]/],
    ['no SONAME', { drop: ['-Wl,-soname,libarkffi.so'] }, /SONAME is \[\], not libarkffi\.so/],
    ['lazy binding', { drop: ['-Wl,-z,now'] }, /it is not linked BIND_NOW/],
    ['an executable stack', { add: ['-Wl,-z,execstack'] }, /its stack is executable/],
    ['text relocations', { add: ['-DTEXTREL', '-fno-pic', '-mcmodel=large', '-Wl,-z,notext'] }, /it has text relocations/],
    ['a writable and executable segment', { last: ['-Wl,-N'] }, /PT_LOAD at offset 0x[0-9a-f]+ is writable and executable/],
    ['segments aligned below the page size', { add: ['-Wl,-z,max-page-size=0x800', '-Wl,-z,common-page-size=0x800'] },
      /PT_LOAD at offset 0x0 is aligned to 0x800, not a power of two of at least 0x1000/],
    ['native TLS', { add: ['-DTLS'] }, /it has a PT_TLS segment/],
  ];
  try {
    for (const [what, change, message] of cases) {
      const r = check(build(`${what.replace(/\W+/g, '-')}.so`, change));
      assert.equal(r.status, 1, `${what}: ${r.stdout}`);
      assert.match(r.stderr, /is not fit to ship:/, what);
      assert.match(r.stderr, message, what);
    }
    // The right library for the wrong ABI: aarch64 wants 64 KiB segments, too.
    const r = check(build('good.so'), 'arm64-v8a');
    assert.equal(r.status, 1);
    assert.match(r.stderr, /it is not built for arm64-v8a \(Advanced Micro Devices X86-64\)/);
    assert.match(r.stderr, /not a power of two of at least 0x10000/);
    assert.match(r.stderr, /its NEEDED libc\.so is not in the NDK/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
