// arkffi-bindgen (bindgen/): ArkTS modules generated at test time from real headers (zlib.h,
// sqlite3.h, libc's string.h and math.h, the fixture headers), each linted with the real ArkTS
// linter and type-checked, then run on the host through the package's host build. Plus the
// golden module of tests/bindgen/golden.h and the sample app's committed zlib module, both
// compared with a fresh generation.
// The generator is a native binary of this machine: ARKFFI_BINDGEN names it (default
// target/release/arkffi-bindgen, built by scripts/test.sh); it runs as a child process, so an
// emulated (aarch64) Node runs the host's binary unchanged.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');
const ts = require('ohos-typescript');
const { arkffi, fixturePath, root } = require('./helpers');
const { buildEts } = require('../../scripts/build-ets');

const bin = process.env.ARKFFI_BINDGEN
  ? path.resolve(process.env.ARKFFI_BINDGEN)
  : path.join(root, 'target', 'release', 'arkffi-bindgen');
const outDir = path.join(root, 'target', 'bindgen-test');

function bindgen(args) {
  if (!fs.existsSync(bin)) {
    throw new Error(`${bin} is missing: build it with cargo build --release --locked -p arkffi-bindgen ` +
      '(scripts/test.sh does), or set ARKFFI_BINDGEN to its path');
  }
  const r = spawnSync(bin, args, { cwd: root, encoding: 'utf8', timeout: 120000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, error: r.error };
}

// name -> { args, file, summary }
const modules = {
  zlib: ['--library', 'libz.so', 'zlib.h'],
  sqlite3: ['--library', 'libsqlite3.so', 'sqlite3.h'],
  string: ['--library', 'libc.so', 'string.h'],
  math: ['--library', 'libm.so', 'math.h'],
  fixture: ['--library', 'libfixture.so', 'tests/fixtures/structs.h', 'tests/fixtures/core.h'],
};
let generated = null;
function generateAll() {
  if (generated) return generated;
  fs.mkdirSync(outDir, { recursive: true });
  const out = {};
  for (const [name, args] of Object.entries(modules)) {
    const file = path.join(outDir, `${name}.ets`);
    const r = bindgen([...args, '-o', file]);
    assert.equal(r.status, 0, `arkffi-bindgen ${args.join(' ')}: ${r.error || r.stderr}`);
    out[name] = { file, stderr: r.stderr, text: fs.readFileSync(file, 'utf8') };
  }
  generated = out;
  return out;
}

let built = null;
function load(name) {
  const g = generateAll();
  if (!built) {
    const names = Object.keys(modules);
    built = buildEts(names.map((n) => g[n].file)).then((outs) => Object.fromEntries(names.map((n, i) => [n, outs[i]])));
  }
  return built.then((outs) => require(outs[name]));
}

// The ArkTS linter and TypeScript's checker, as tests/lint/arkts-lint.js runs them.
function diagnose(files) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'arkffi-bindgen-lint-'));
  const options = {
    target: ts.ScriptTarget.ES2021,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.NodeJs,
    strict: true,
    noEmit: true,
    incremental: true,
    tsBuildInfoFile: path.join(tmp, 'buildinfo'),
    skipLibCheck: true,
    lib: ['lib.es2021.d.ts'],
    baseUrl: root,
    paths: { 'libarkffi.so': ['ets/src/main/cpp/types/libarkffi/index.d.ts'], arkffi: ['ets/Index.ets'] },
    ets: require('../lint/ets-components.json'),
  };
  const host = ts.createIncrementalCompilerHost(options);
  const builder = ts.createIncrementalProgram({ rootNames: [...files, path.join(root, 'tests', 'lint', 'shims.d.ts')], options, host });
  const program = builder.getProgram();
  const all = [];
  for (const sf of program.getSourceFiles()) {
    if (!sf.fileName.endsWith('.ets')) continue;
    all.push(...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf));
  }
  all.push(...ts.ArkTSLinter_1_1.runArkTSLinter(builder, undefined, undefined, '1.1'));
  fs.rmSync(tmp, { recursive: true, force: true });
  return all
    .filter((d) => d.category === ts.DiagnosticCategory.Error)
    .map((d) => `${d.file ? `${path.relative(root, d.file.fileName)}:${d.file.getLineAndCharacterOfPosition(d.start).line + 1}` : ''} ` +
      ts.flattenDiagnosticMessageText(d.messageText, '\n'));
}

test('every generated module lints with zero ArkTS errors and type-checks', () => {
  const g = generateAll();
  const files = Object.values(g).map((m) => m.file);
  files.push(path.join(root, 'tests', 'bindgen', 'golden.ets'), path.join(root, 'entry', 'src', 'main', 'ets', 'generated', 'zlib.ets'));
  assert.deepEqual(diagnose(files), []);
  for (const m of Object.values(g)) {
    assert.doesNotMatch(m.text, /\bas (number|bigint|string|boolean|Pointer|Object|Function)\b/, `${m.file}: no casts`);
  }
});

test('the summary on stderr counts what was bound and skipped', () => {
  const g = generateAll();
  const counts = (s) => {
    const m = /bound (\d+) functions, (\d+) structs, (\d+) enums, (\d+) constants, (\d+) callback types, (\d+) opaque types; skipped (\d+) declarations/.exec(s);
    assert.ok(m, s);
    return m.slice(1).map(Number);
  };
  const [zf, zs, , zc, zcb, zo, zskip] = counts(g.zlib.stderr);
  assert.ok(zf >= 70 && zs >= 2 && zc >= 30 && zcb >= 2 && zo >= 1 && zskip >= 1, g.zlib.stderr);
  const [sf, , , sc, scb, so, sskip] = counts(g.sqlite3.stderr);
  assert.ok(sf >= 200 && sc >= 300 && scb >= 1 && so >= 5 && sskip >= 5, g.sqlite3.stderr);
  // Each skipped declaration is a comment at its place, with the reason.
  assert.equal((g.sqlite3.text.match(/\/\/ Not bound: /g) || []).length, sskip);
  assert.match(g.sqlite3.text, /\/\/ Not bound: int sqlite3_config\(int, \.\.\.\): variadic function/);
  assert.match(g.math.text, /\/\/ Not bound: long double cosl\(long double __x\): result: long double/);
  assert.match(g.zlib.text, /\/\/ Not bound: int gzvprintf\(.*va_list/);
});

test('the type mapping follows the target (aarch64-linux-ohos by default)', () => {
  const g = generateAll();
  assert.match(g.zlib.text, /^\/\/ Generated by arkffi-bindgen .* for aarch64-linux-ohos/);
  // uLong: unsigned long, 64 bits on LP64; uInt: u32; const char * results: CString.
  assert.match(g.zlib.text, /lib\.func\('crc32', C\.u64_fast, C\.u64_fast, C\.ptr, C\.u32\)/);
  assert.match(g.zlib.text, /lib\.func\('zlibVersion', C\.CString\)/);
  // size_t: usize; const char *: CString; char * (written by C): ptr.
  assert.match(g.string.text, /readonly strlen: \(s: string \| null\) => number \| bigint;/);
  assert.match(g.string.text, /lib\.func\('strcpy', C\.ptr, C\.ptr, C\.CString\)/);
  assert.match(g.fixture.text, /lib\.func\('add_i64', C\.i64, C\.i64, C\.i64\)/);
  assert.match(g.fixture.text, /lib\.func\('bool_to_int', C\.i32, C\.bool\)/);
  // Opaque structs: Pointer aliases, used in the signatures.
  assert.match(g.sqlite3.text, /export type sqlite3 = Pointer;/);
  assert.match(g.sqlite3.text, /readonly sqlite3_close: \(a1: sqlite3 \| null\) => number;/);
  // Parameter names and doc comments of the header.
  assert.match(g.fixture.text, /\/\*\*\n {3}\* strlen\(s\), or \(size_t\)-1 for NULL\.\n {3}\*\n {3}\* C: `size_t str_len\(const char \*s\)`\n {3}\*\/\n {2}readonly str_len: \(s: string \| null\) => number \| bigint;/);
  // long is 32 bits on a 32-bit target: the same header gives other tokens (a header with no
  // includes: this machine has no 32-bit system headers).
  const header = path.join(outDir, 'longs.h');
  fs.writeFileSync(header, 'struct longs { long a; unsigned long b; char c; };\nlong twice(long x, unsigned long y);\n');
  const file = path.join(outDir, 'longs-arm32.ets');
  for (const [target, a, b, ret, size] of [
    ['arm-linux-ohos', 'i32', 'u32', 'C.i32, C.i32, C.u32', 12],
    ['x86_64-linux-ohos', 'i64_fast', 'u64_fast', 'C.i64_fast, C.i64_fast, C.u64_fast', 24],
  ]) {
    const r = bindgen(['--target', target, header, '-o', file]);
    assert.equal(r.status, 0, r.stderr);
    const text = fs.readFileSync(file, 'utf8');
    assert.match(text, new RegExp(`'a': FFIType\\.${a},\\n  'b': FFIType\\.${b},`), target);
    assert.match(text, new RegExp(`lib\\.func\\('twice', ${ret.replace(/\./g, '\\.')}\\)`), target);
    assert.match(text, new RegExp(`sizeof ${size},`), target);
  }
  assert.match(fs.readFileSync(path.join(root, 'tests', 'bindgen', 'golden.ets'), 'utf8'), /'delta': FFIType\.i64_fast/);
});

test('zlib through the generated module: zlibVersion, crc32, compress / uncompress', async () => {
  const zlib = await load('zlib');
  const z = zlib.open('libz.so.1');
  assert.match(z.zlibVersion(), /^1\.\d+/);
  const text = Buffer.from('hello, ArkFFI');
  assert.equal(Number(z.crc32(0, text, text.length)), 0xeedb4ef9);
  const input = Buffer.from('ArkFFI '.repeat(100));
  const bound = Number(z.compressBound(input.length));
  const packed = new Uint8Array(bound);
  const packedLen = new BigUint64Array([BigInt(bound)]);
  assert.equal(z.compress(packed, packedLen, input, input.length), zlib.Z_OK);
  assert.ok(packedLen[0] < BigInt(input.length));
  const unpacked = new Uint8Array(input.length);
  const unpackedLen = new BigUint64Array([BigInt(input.length)]);
  assert.equal(z.uncompress(unpacked, unpackedLen, packed, packedLen[0]), zlib.Z_OK);
  assert.equal(Number(unpackedLen[0]), input.length);
  assert.deepEqual(Buffer.from(unpacked), input);
  // A struct of the header: z_stream's schema has the C layout (clang's sizeof on LP64).
  assert.equal(zlib.z_streamT.size, 112);
  z.close();
  assert.throws(() => z.zlibVersion(), Error);
});

test('sqlite through the generated module: open, exec with a row callback, errmsg, close', async () => {
  const sq = await load('sqlite3');
  const { read, CString, JSCallback } = arkffi;
  const lib = sq.open('libsqlite3.so.0');
  const out = new BigUint64Array(1);
  assert.equal(lib.sqlite3_open(':memory:', out), sq.SQLITE_OK);
  const db = out[0];
  assert.notEqual(db, 0n);
  const rows = [];
  // The row callback from the header's typedef sqlite3_callback.
  const onRow = sq.sqlite3_callback.of((ctx, n, values, names) => {
    const row = {};
    for (let i = 0; i < n; i++) {
      const name = new CString(read.ptr(names, i * 8)).toString();
      const v = read.ptr(values, i * 8);
      row[name] = v === null ? null : new CString(v).toString();
    }
    rows.push(row);
    return 0;
  });
  const sql = "CREATE TABLE t(a INTEGER, b TEXT); INSERT INTO t VALUES (1, 'one'), (2, NULL); SELECT a, b FROM t ORDER BY a;";
  assert.equal(lib.sqlite3_exec(db, sql, onRow, null, null), sq.SQLITE_OK);
  assert.deepEqual(rows, [{ a: '1', b: 'one' }, { a: '2', b: null }]);
  assert.equal(lib.sqlite3_exec(db, 'SELECT * FROM missing', onRow, null, null), sq.SQLITE_ERROR);
  assert.match(lib.sqlite3_errmsg(db), /no such table: missing/);
  assert.match(lib.sqlite3_libversion(), /^3\./);
  assert.equal(sq.SQLITE_VERSION_NUMBER >= 3000000, true);
  assert.equal(lib.sqlite3_close(db), sq.SQLITE_OK);
  onRow.close();
  lib.close();
  assert.equal(JSCallback.liveCount(), 0);
});

test('libc and libm through the generated modules: strlen, cos', async () => {
  const str = await load('string');
  const m = await load('math');
  const libc = str.open('libc.so.6');
  const libm = m.open('libm.so.6');
  assert.equal(libc.strlen('hello'), 5);
  assert.equal(libc.strlen('ArkFFI ✓'), 10);
  assert.equal(libm.cos(0), 1);
  assert.equal(libm.cos(Math.PI), -1);
  assert.ok(Math.abs(m.M_PI - Math.PI) < 1e-15);
  libm.close();
  libc.close();
});

test("the fixture's structs by value, strings, buffers, callbacks and a 16-argument call", async () => {
  const fx = await load('fixture');
  const { heldPtrCount, JSCallback } = arkffi;
  const held = heldPtrCount();
  const lib = fx.open(fixturePath);
  const a = fx.ComplexT.create({ real: 1, imag: 2 });
  const b = fx.ComplexT.create({ real: 10, imag: 20 });
  assert.deepEqual(lib.complex_add(a, b), { real: 11, imag: 22 });
  assert.equal(lib.complex_abs2(a), 5);
  const filled = fx.ComplexT.create({ real: 0, imag: 0 });
  lib.complex_fill(filled, 3, 4);
  assert.equal(lib.complex_ptr_abs2(filled), 25);
  assert.deepEqual(lib.small_make(-3, 300), { a: -3, b: 300 });
  assert.equal(lib.small_sum(fx.SmallT.create({ a: 5, b: -7 })), -2);
  assert.deepEqual(lib.vec3_scale(fx.Vec3T.create({ x: 1, y: 2, z: 3 }), 2), { x: 2, y: 4, z: 6 });
  assert.deepEqual(lib.mixed_make(7, 0.5, 0.25), { i: 7, f: 0.5, d: 0.25 });
  const big = lib.big_make(3n);
  assert.deepEqual(big.v, [3n, 6n, 9n, 12n, 15n, 18n, 21n, 24n]);
  assert.equal(lib.big_sum(fx.BigT.create(big)), 612n);
  const name = Buffer.from('tag\0');
  const t = lib.tagged_make(2, 'ab');
  assert.equal(t.tag, 2);
  assert.deepEqual(t.c, { real: 3, imag: -2 });
  assert.deepEqual(t.arr, [-1, 2, 300]);
  assert.equal(lib.tagged_sum(fx.TaggedT.create({ tag: 1, c: { real: 2, imag: 3 }, arr: [4, 5, 6], name: arkffi.ptr(name) })), 24);
  const n = lib.named_make('arkffi', 7);
  assert.equal(n.id, 7);
  assert.equal(String.fromCharCode(...n.name.slice(0, 6)), 'arkffi');
  assert.equal(heldPtrCount(), held, 'struct results come back as objects (.value): nothing held');
  // Scalars, strings, a buffer C writes, funcN past eight arguments, a typedef'd callback.
  assert.equal(lib.add_i32(2, 3), 5);
  assert.equal(lib.add_u64(2n ** 63n, 1n), 2n ** 63n + 1n);
  assert.equal(lib.bool_to_int(true), 1);
  assert.equal(lib.str_len('héllo'), 6);
  assert.equal(lib.str_echo('echo'), 'echo');
  const buf = new Uint8Array(32);
  assert.equal(lib.write_greeting(buf, buf.length), 9);
  assert.equal(Buffer.from(buf.subarray(0, 9)).toString(), 'greetings');
  assert.equal(lib.sum16(1n, 1n, 1n, 1n, 1n, 1n, 1n, 1n, 1n, 1n, 1n, 1n, 1n, 1n, 1n, 1n), 136n);
  const triple = fx.i32_fn.of((x) => 3 * x);
  assert.equal(lib.apply_i32(triple, 5), 15);
  triple.close();
  assert.equal(JSCallback.liveCount(), 0);
  // Declared by the header, not exported by the library: open() works, the call throws.
  assert.throws(() => lib.not_in_the_library(), /not_in_the_library: not exported by this library/);
  lib.close();
});

// The module's second line is the command that made it (without -o).
function regenerate(committed) {
  const command = fs.readFileSync(committed, 'utf8').split('\n')[1].replace(/^\/\/ /, '');
  const args = command.match(/'[^']*'|\S+/g).slice(1).map((a) => a.replace(/^'(.*)'$/, '$1'));
  const file = path.join(outDir, `fresh-${path.basename(path.dirname(committed))}-${path.basename(committed)}`);
  const r = bindgen([...args, '-o', file]);
  assert.equal(r.status, 0, r.stderr);
  return fs.readFileSync(file, 'utf8');
}

test('golden: tests/bindgen/golden.ets is what arkffi-bindgen generates for golden.h', () => {
  const committed = path.join(root, 'tests', 'bindgen', 'golden.ets');
  assert.equal(regenerate(committed), fs.readFileSync(committed, 'utf8'),
    'the output changed: review it, then regenerate with the command on its second line');
});

test("the sample app's zlib module is a fresh generation of zlib.h", () => {
  const committed = path.join(root, 'entry', 'src', 'main', 'ets', 'generated', 'zlib.ets');
  assert.equal(regenerate(committed), fs.readFileSync(committed, 'utf8'));
  const showcase = fs.readFileSync(path.join(root, 'entry', 'src', 'main', 'ets', 'showcase', 'Showcase.ets'), 'utf8');
  assert.match(showcase, /import \* as zlib from '\.\.\/generated\/zlib';/);
  assert.doesNotMatch(showcase, /func\('(crc32|compress|uncompress|zlibVersion)'/);
});

test('command line: --help, errors', () => {
  const help = bindgen(['--help']);
  assert.equal(help.status, 0);
  assert.match(help.stdout, /USAGE:\n {2}arkffi-bindgen \[OPTIONS\] HEADER\.\.\. -o OUT\.ets/);
  assert.match(help.stdout, /--target TRIPLE/);
  const bad = bindgen(['--bogus']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /unknown option --bogus/);
  const noOut = bindgen(['zlib.h']);
  assert.equal(noOut.status, 2);
  assert.match(noOut.stderr, /pass -o OUT\.ets/);
  const missing = bindgen(['no-such-header.h', '-o', path.join(outDir, 'x.ets')]);
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /do not compile for aarch64-linux-ohos[\s\S]*no-such-header\.h' file not found/);
  const badLib = bindgen(['--libclang', '/nonexistent/libclang.so', 'zlib.h', '-o', path.join(outDir, 'x.ets')]);
  assert.equal(badLib.status, 1);
  assert.match(badLib.stderr, /--libclang \/nonexistent\/libclang\.so: no such file/);
});
