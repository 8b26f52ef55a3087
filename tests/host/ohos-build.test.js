// The OpenHarmony cross build (scripts/build-ohos.sh, docs/ohos-build.md), as far as this
// machine can check it without the OpenHarmony SDK and the Rust ohos targets:
// - the trap it works around is real (libffi-sys's bundled config.sub rejects *-linux-ohos);
// - Cargo selects libffi's `system` feature for the two ohos targets and only for them;
// - the same link path on this machine (libffi built by scripts/ohos-libffi.sh for
//   <cpu>-linux-musl, the crate's `libffi-system` feature; built by scripts/test.sh into
//   target/host-libffi-system) links libffi statically with static trampolines, and the
//   core, callback and struct suites pass on it under the exec guard;
// - build-ohos.sh stops at once, building nothing, when the NDK or a target is missing, and
//   says what to install.
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
function fakeToolchain(installedTargets) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arkffi-ohos-'));
  const ndk = path.join(dir, 'openharmony');
  const bin = path.join(ndk, 'native', 'llvm', 'bin');
  fs.mkdirSync(bin, { recursive: true });
  fs.mkdirSync(path.join(ndk, 'native', 'sysroot', 'usr', 'include'), { recursive: true });
  for (const tool of ['clang', 'llvm-ar', 'llvm-ranlib', 'llvm-nm', 'llvm-strip', 'llvm-readelf']) {
    fs.writeFileSync(path.join(bin, tool), '#!/bin/sh\nexit 1\n', { mode: 0o755 });
  }
  const rustlib = path.join(dir, 'rustlib');
  for (const t of installedTargets) {
    fs.mkdirSync(path.join(rustlib, t, 'lib'), { recursive: true });
    fs.writeFileSync(path.join(rustlib, t, 'lib', 'libcore-0000.rlib'), '');
  }
  const rustc = path.join(dir, 'rustc');
  fs.writeFileSync(
    rustc,
    `#!/bin/sh\n# --print target-libdir --target T\n[ "$1" = --print ] && [ "$2" = target-libdir ] && echo "${rustlib}/$4/lib" && exit 0\nexit 1\n`,
    { mode: 0o755 },
  );
  return { dir, ndk, rustc };
}

function buildOhos(args, env, cwd = root) {
  const clean = { ...process.env };
  delete clean.OHOS_NDK_HOME;
  delete clean.RUSTC;
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
    assert.match(r.stderr, /The Rust standard library for x86_64-unknown-linux-ohos is not installed: rustup target add x86_64-unknown-linux-ohos/);
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
