#!/usr/bin/env node
// The ArkFFI speed benchmark (a benchmark, not a test): ns per call of the same C functions
// through ArkFFI, through koffi (the peer: another run-time FFI for Node) and through a
// hand-written Node-API binding (benches/baseline, the floor), measured in the same process
// with interleaved samples, and the ratios ArkFFI / baseline and ArkFFI / koffi.
//
// Run it with `bash benches/run.sh [options]`, which builds the C library and the baseline
// first; `node benches/run.js [options]` alone uses what is already built.
//
// Options:
//   --filter a,b    only the cases whose name contains one of the comma-separated words
//                   (the opt-in cases, qsort_100k, run only when a word matches them)
//   --quick         fewer and shorter samples (5 x ~20 ms): a smoke run, not a measurement
//   --samples N     samples per implementation and case (default 15)
//   --target-ms N   length of one sample in ms (default 75)
//   --jitless       run under `node --jitless` (re-executes itself): no JIT, as for FFI
//                   calls on HarmonyOS
//   --both          the JIT run, then the --jitless run, then both ratios side by side
//   --json          stdout gets one JSON line per mode (the tables go to stderr)
//   --instructions  instructions per call instead of ns, counted by valgrind's callgrind
//                   under node --jitless (the device's mode): for each case and
//                   implementation, two runs of different lengths, the difference divided by
//                   the extra calls (start-up and the set-up of the case cancel out). V8 runs
//                   with --predictable (one thread, fixed seeds: callgrind counts every
//                   thread, and GC helper threads otherwise move the figure by 10-20 %), so
//                   the same build gives the same figure on a shared machine. Needs valgrind
//                   (apt-get install valgrind)
//   --list          list the cases and exit
//
// Environment: ARKFFI_BENCHLIB (the C library; default target/bench/libbenchlib.so),
// ARKFFI_HOST (the ArkFFI host build; default target/host/index.js),
// ARKFFI_BASELINE (the baseline addon; default target/bench/baseline.node),
// ARKFFI_KOFFI (the koffi package to require; default: koffi from the repo's node_modules;
// `none` leaves koffi out).
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');

const root = path.resolve(__dirname, '..');
const paths = {
  benchlib: process.env.ARKFFI_BENCHLIB || path.join(root, 'target', 'bench', 'libbenchlib.so'),
  host: process.env.ARKFFI_HOST || path.join(root, 'target', 'host', 'index.js'),
  baseline: process.env.ARKFFI_BASELINE || path.join(root, 'target', 'bench', 'baseline.node'),
  libc: 'libc.so.6',
  koffi: process.env.ARKFFI_KOFFI || 'koffi',
};

// ---------------------------------------------------------------------------------------
// The implementations. `load()` returns the context handed to that implementation's entry
// of each case, or throws (the implementation is then left out of the run, with a warning).
// A new implementation is one entry here plus one key per case below; RATIOS says which
// ratios the tables show.
// ---------------------------------------------------------------------------------------
const IMPLS = [
  {
    key: 'baseline',
    title: 'hand-written NAPI',
    load() {
      process.env.ARKFFI_BENCHLIB = paths.benchlib; // read by the addon's init
      if (!fs.existsSync(paths.baseline)) {
        throw new Error(`${rel(paths.baseline)} is missing: run bash benches/run.sh`);
      }
      return require(paths.baseline);
    },
  },
  {
    key: 'arkffi',
    title: 'ArkFFI',
    load() {
      if (!fs.existsSync(paths.host)) {
        throw new Error(`${rel(paths.host)} is missing: run bash scripts/test.sh (or bash benches/run.sh)`);
      }
      warnIfStale();
      const ffi = require(paths.host);
      const opened = [];
      const callbacks = [];
      return {
        T: ffi.FFIType,
        ffi,
        // dlopen `file` with `symbols` and return its functions (closed at the end of the run).
        open(file, symbols) {
          const lib = ffi.dlopen(file, symbols);
          opened.push(lib);
          return lib.symbols;
        },
        // dlopen `file` without definitions, for typed lib.func calls (closed at the end).
        lib(file) {
          const lib = ffi.dlopen(file);
          opened.push(lib);
          return lib;
        },
        // new JSCallback(fn, options) (closed at the end of the run).
        callback(fn, options) {
          const cb = new ffi.JSCallback(fn, options);
          callbacks.push(cb);
          return cb;
        },
        close() {
          for (const cb of callbacks) cb.close();
          for (const lib of opened) lib.close();
        },
      };
    },
  },
  {
    key: 'koffi',
    title: 'koffi',
    load() {
      if (paths.koffi === 'none') throw new Error('ARKFFI_KOFFI=none');
      let file;
      try {
        file = require.resolve(paths.koffi, { paths: [root] });
      } catch {
        throw new Error(`cannot find the package ${paths.koffi} (npm ci installs it: a devDependency)`);
      }
      const koffi = require(file);
      const libs = new Map();
      const registered = [];
      return {
        koffi,
        version: koffi.version,
        // koffi.load(file), once per file (unloaded at the end of the run).
        lib(f) {
          if (!libs.has(f)) libs.set(f, koffi.load(f));
          return libs.get(f);
        },
        // koffi.register(fn, type): a callback that stays valid across calls (unregistered
        // at the end of the run).
        register(fn, type) {
          const cb = koffi.register(fn, type);
          registered.push(cb);
          return cb;
        },
        close() {
          for (const cb of registered) koffi.unregister(cb);
          for (const lib of libs.values()) lib.unload();
        },
      };
    },
  },
];

// The ratios of the tables, [numerator, denominator]: the baseline is the floor (1.00x would
// be as fast as hand-written Node-API), koffi the peer. A ratio is shown for a case when both
// of its implementations ran it.
const RATIOS = [
  ['arkffi', 'baseline'],
  ['arkffi', 'koffi'],
];
const ratioName = ([a, b]) => `${a}/${b}`;
// Column order of the ns numbers.
const ORDER = ['arkffi', 'koffi', 'baseline'];

// ---------------------------------------------------------------------------------------
// The cases: one entry each. For every implementation key, a function that gets that
// implementation's context and returns a thunk making exactly one call. `expected` is what
// one call returns (compared with ===), `expectedBy.<impl>` overrides it where an
// implementation's documented result type differs (koffi gives int64 results as numbers
// while they fit); a case runs only where its first call returns it. All implementations get
// the same JS argument values. `optIn: true`: only run when --filter names the case; `minN`:
// calls per sample at least (default 100), and the smallest step of warm-up and calibration.
// ---------------------------------------------------------------------------------------
const INTS = Int32Array.from({ length: 1000 }, (_, i) => (i * 7919) % 20011 - 10000);
const INTS_SUM = INTS.reduce((s, x) => s + BigInt(x), 0n);
const TEXT = 'The quick brown fox jumps over the lazy dog';
const COMPLEX_A = { real: 1.5, imag: 2 };
const COMPLEX_B = { real: 10, imag: 20.25 };
// qsort_100k: pseudo-random int32 (a fixed LCG), and a digest of the sorted result that
// fails unless it is sorted and a permutation of the input (sum, min, median, max).
const SORT_N = 100000;
const SORT_DATA = (() => {
  const a = new Int32Array(SORT_N);
  let x = 12345;
  for (let i = 0; i < SORT_N; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    a[i] = (x >>> 8) - (1 << 23);
  }
  return a;
})();
function sortDigest(a) {
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    if (i > 0 && a[i - 1] > a[i]) return `unsorted at ${i}`;
    sum += a[i];
  }
  return `sum ${sum} min ${a[0]} median ${a[a.length >> 1]} max ${a[a.length - 1]}`;
}
const SORT_DIGEST = sortDigest(Int32Array.from(SORT_DATA).sort());

const CASES = [
  {
    name: 'add_i32',
    about: 'int32_t add_i32(int32_t, int32_t): two int arguments, an int result',
    arkffi: (c) => {
      const f = c.open(paths.benchlib, { add_i32: { args: [c.T.i32, c.T.i32], returns: c.T.i32 } }).add_i32;
      return () => f(2, 3);
    },
    baseline: (b) => { const f = b.add_i32; return () => f(2, 3); },
    koffi: (k) => {
      const f = k.lib(paths.benchlib).func('int32_t add_i32(int32_t a, int32_t b)');
      return () => f(2, 3);
    },
    expected: 5,
  },
  {
    name: 'add_i32_func',
    about: 'add_i32 bound by lib.func(name, C.i32, C.i32, C.i32): the same native function as lib.symbols (compare with add_i32)',
    arkffi: (c) => {
      const { C } = c.ffi;
      const f = c.lib(paths.benchlib).func('add_i32', C.i32, C.i32, C.i32);
      return () => f(2, 3);
    },
    baseline: (b) => { const f = b.add_i32; return () => f(2, 3); },
    koffi: (k) => {
      const f = k.lib(paths.benchlib).func('int32_t add_i32(int32_t a, int32_t b)');
      return () => f(2, 3);
    },
    expected: 5,
  },
  {
    name: 'add_f64',
    about: 'double add_f64(double, double): two double arguments, a double result',
    arkffi: (c) => {
      const f = c.open(paths.benchlib, { add_f64: { args: [c.T.f64, c.T.f64], returns: c.T.f64 } }).add_f64;
      return () => f(1.5, 2.25);
    },
    baseline: (b) => { const f = b.add_f64; return () => f(1.5, 2.25); },
    koffi: (k) => {
      const f = k.lib(paths.benchlib).func('double add_f64(double a, double b)');
      return () => f(1.5, 2.25);
    },
    expected: 3.75,
  },
  {
    name: 'noop',
    about: 'void noop(void): the fixed cost of a call, nothing to convert',
    arkffi: (c) => {
      const f = c.open(paths.benchlib, { noop: { args: [], returns: c.T.void } }).noop;
      return () => f();
    },
    baseline: (b) => { const f = b.noop; return () => f(); },
    koffi: (k) => {
      const f = k.lib(paths.benchlib).func('void noop(void)');
      return () => f();
    },
    expected: undefined,
  },
  {
    name: 'strlen',
    about: `size_t strlen(const char *) of libc on a ${TEXT.length}-character JS string (UTF-8 copy each call)`,
    arkffi: (c) => {
      const f = c.open(paths.libc, { strlen: { args: [c.T.CString], returns: c.T.usize } }).strlen;
      return () => f(TEXT);
    },
    baseline: (b) => { const f = b.strlen; return () => f(TEXT); },
    koffi: (k) => {
      const f = k.lib(paths.libc).func('size_t strlen(const char *s)');
      return () => f(TEXT);
    },
    expected: TEXT.length,
  },
  {
    name: 'sum_i32',
    about: 'int64_t sum_i32(const int32_t *, size_t) over a 1000-element Int32Array passed as a buffer',
    arkffi: (c) => {
      const f = c.open(paths.benchlib, { sum_i32: { args: [c.T.buffer, c.T.usize], returns: c.T.i64 } }).sum_i32;
      return () => f(INTS, INTS.length);
    },
    baseline: (b) => { const f = b.sum_i32; return () => f(INTS, INTS.length); },
    expected: INTS_SUM,
    // koffi passes a typed array for a pointer parameter as the address of its bytes.
    koffi: (k) => {
      const f = k.lib(paths.benchlib).func('int64_t sum_i32(const int32_t *p, size_t n)');
      return () => f(INTS, INTS.length);
    },
    expectedBy: { koffi: Number(INTS_SUM) },
  },
  {
    name: 'add_i64',
    about: 'int64_t add_i64(int64_t, int64_t): bigint arguments, a bigint result',
    arkffi: (c) => {
      const f = c.open(paths.benchlib, { add_i64: { args: [c.T.i64, c.T.i64], returns: c.T.i64 } }).add_i64;
      return () => f(1099511627776n, 5n);
    },
    baseline: (b) => { const f = b.add_i64; return () => f(1099511627776n, 5n); },
    expected: 1099511627781n,
    koffi: (k) => {
      const f = k.lib(paths.benchlib).func('int64_t add_i64(int64_t a, int64_t b)');
      return () => f(1099511627776n, 5n);
    },
    expectedBy: { koffi: 1099511627781 },
  },
  {
    name: 'mix6',
    about: 'double mix6(int32_t, double, int32_t, double, int64_t, float): six mixed arguments',
    arkffi: (c) => {
      const T = c.T;
      const f = c.open(paths.benchlib, {
        mix6: { args: [T.i32, T.f64, T.i32, T.f64, T.i64, T.f32], returns: T.f64 },
      }).mix6;
      return () => f(1, 2.5, 3, 4.5, 5n, 0.5);
    },
    baseline: (b) => { const f = b.mix6; return () => f(1, 2.5, 3, 4.5, 5n, 0.5); },
    koffi: (k) => {
      const f = k.lib(paths.benchlib).func('double mix6(int32_t a, double b, int32_t c, double d, int64_t e, float f)');
      return () => f(1, 2.5, 3, 4.5, 5n, 0.5);
    },
    expected: 16.5,
  },
  {
    name: 'hello',
    about: 'const char *hello(void): a C string result turned into a JS string',
    arkffi: (c) => {
      const f = c.open(paths.benchlib, { hello: { args: [], returns: c.T.CString } }).hello;
      return () => f();
    },
    baseline: (b) => { const f = b.hello; return () => f(); },
    koffi: (k) => {
      const f = k.lib(paths.benchlib).func('const char *hello(void)');
      return () => f();
    },
    expected: 'hello from benchlib',
  },
  {
    name: 'complex_add',
    about: 'complex_t complex_add(complex_t, complex_t), complex_t = struct { double real, imag; } by value, in and out',
    // As users write it: the schema and the argument buffers made once; each call returns
    // the address of the held result, read with fromPtr and released.
    arkffi: (c) => {
      const { StructSchema, releasePtr } = c.ffi;
      const ComplexT = new StructSchema({ 'real': c.T.f64, 'imag': c.T.f64 });
      const f = c.open(paths.benchlib, { complex_add: { args: [ComplexT, ComplexT], returns: ComplexT } }).complex_add;
      const a = ComplexT.create(COMPLEX_A);
      const b = ComplexT.create(COMPLEX_B);
      return () => {
        const p = f(a, b);
        const r = ComplexT.fromPtr(p);
        releasePtr(p);
        return r.real + r.imag;
      };
    },
    // koffi's way: koffi.struct, plain objects in, a plain object out.
    koffi: (k) => {
      k.koffi.struct('complex_t', { real: 'double', imag: 'double' });
      const f = k.lib(paths.benchlib).func('complex_t complex_add(complex_t a, complex_t b)');
      const a = { ...COMPLEX_A };
      const b = { ...COMPLEX_B };
      return () => {
        const r = f(a, b);
        return r.real + r.imag;
      };
    },
    // Objects in, an object out, one napi_get/set_named_property per field.
    baseline: (b) => {
      const f = b.complex_add;
      const x = { ...COMPLEX_A };
      const y = { ...COMPLEX_B };
      return () => {
        const r = f(x, y);
        return r.real + r.imag;
      };
    },
    expected: COMPLEX_A.real + COMPLEX_B.real + COMPLEX_A.imag + COMPLEX_B.imag,
  },
  {
    name: 'complex_add_value',
    about: 'complex_add through lib.func with ComplexT.value: the result as an object, read and freed in the same call (one crossing)',
    arkffi: (c) => {
      const { C, StructSchema } = c.ffi;
      const ComplexT = new StructSchema({ 'real': c.T.f64, 'imag': c.T.f64 });
      const f = c.lib(paths.benchlib).func('complex_add', ComplexT.value, ComplexT, ComplexT);
      const a = ComplexT.create(COMPLEX_A);
      const b = ComplexT.create(COMPLEX_B);
      return () => {
        const r = f(a, b);
        return r.real + r.imag;
      };
    },
    koffi: (k) => {
      // The same struct as an anonymous koffi type (complex_t is declared by complex_add).
      const T = k.koffi.struct({ real: 'double', imag: 'double' });
      const f = k.lib(paths.benchlib).func('complex_add', T, [T, T]);
      const a = { ...COMPLEX_A };
      const b = { ...COMPLEX_B };
      return () => {
        const r = f(a, b);
        return r.real + r.imag;
      };
    },
    baseline: (b) => {
      const f = b.complex_add;
      const x = { ...COMPLEX_A };
      const y = { ...COMPLEX_B };
      return () => {
        const r = f(x, y);
        return r.real + r.imag;
      };
    },
    expected: COMPLEX_A.real + COMPLEX_B.real + COMPLEX_A.imag + COMPLEX_B.imag,
  },
  {
    name: 'callback_i32',
    about: 'int32_t call_cb(int32_t (*cb)(int32_t), int32_t x): C calls a JS callback once (x + 1)',
    // The callback made once, its C pointer passed each call.
    arkffi: (c) => {
      const T = c.T;
      const f = c.open(paths.benchlib, { call_cb: { args: [T.callback, T.i32], returns: T.i32 } }).call_cb;
      const cb = c.callback((x) => x + 1, { args: [T.i32], returns: T.i32 });
      const p = cb.ptr;
      return () => f(p, 41);
    },
    // A registered callback (valid across calls), passed each call.
    koffi: (k) => {
      const proto = k.koffi.proto('int32_t bench_cb_i32(int32_t x)');
      const f = k.lib(paths.benchlib).func('int32_t call_cb(bench_cb_i32 *cb, int32_t x)');
      const cb = k.register((x) => x + 1, k.koffi.pointer(proto));
      return () => f(cb, 41);
    },
    // The JS function itself; the addon's C trampoline calls it with napi_call_function.
    baseline: (b) => {
      const f = b.call_cb;
      const fn = (x) => x + 1;
      return () => f(fn, 41);
    },
    expected: 42,
  },
  {
    name: 'read_i32',
    about: 'one int32_t read through a pointer C returned (ArkFFI read.i32, koffi decode.int32)',
    arkffi: (c) => {
      const p = c.open(paths.benchlib, { bench_ints: { args: [], returns: c.T.ptr } }).bench_ints();
      // The reader taken out of \`read\` once, as koffi's decode.int32 is below (a property
      // load per call is the interpreter's cost, not the read's).
      const i32 = c.ffi.read.i32;
      return () => i32(p);
    },
    // The address as a number, an unchecked read, napi_create_int32.
    baseline: (b) => {
      const f = b.read_i32;
      const p = b.bench_ints();
      return () => f(p);
    },
    // koffi hands out C pointers as its pointer objects and reads them with decode.
    koffi: (k) => {
      const p = k.lib(paths.benchlib).func('const int32_t *bench_ints(void)')();
      const int32 = k.koffi.decode.int32;
      return () => int32(p);
    },
    expected: 7,
  },
  {
    name: 'qsort_100k',
    about: `libc qsort of a ${SORT_N}-element Int32Array with a JS comparator (opt-in: about 0.2 s per call)`,
    optIn: true,
    minN: 1,
    // Each call first restores the unsorted data (a memcpy of 400 kB, tiny next to the sort).
    arkffi: (c) => {
      const { T, ffi } = c;
      const read = ffi.read;
      const f = c.open(paths.libc, { qsort: { args: [T.buffer, T.usize, T.usize, T.callback], returns: T.void } }).qsort;
      const cmp = c.callback((a, b) => read.i32(a) - read.i32(b), { args: [T.ptr, T.ptr], returns: T.i32 });
      const p = cmp.ptr;
      const work = new Int32Array(SORT_N);
      return () => {
        work.set(SORT_DATA);
        f(work, SORT_N, 4, p);
        return sortDigest(work);
      };
    },
    koffi: (k) => {
      const { koffi } = k;
      const proto = koffi.proto('int bench_sort_cb(const void *a, const void *b)');
      const f = k.lib(paths.libc).func('void qsort(void *base, size_t n, size_t size, bench_sort_cb *cmp)');
      const int = koffi.decode.int;
      const cmp = k.register((a, b) => int(a) - int(b), koffi.pointer(proto));
      const work = new Int32Array(SORT_N);
      return () => {
        work.set(SORT_DATA);
        f(work, SORT_N, 4, cmp);
        return sortDigest(work);
      };
    },
    expected: SORT_DIGEST,
  },
];

// ---------------------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------------------
function parseArgs(argv) {
  const o = { filter: null, quick: false, samples: null, targetMs: null, jitless: false, both: false, json: false, list: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      return argv[++i];
    };
    const num = (v) => {
      const n = Number(v);
      if (!Number.isFinite(n) || n <= 0) usage(`${a}: not a positive number: ${v}`);
      return n;
    };
    if (a === '--filter') o.filter = value().split(',').map((s) => s.trim()).filter(Boolean);
    else if (a.startsWith('--filter=')) o.filter = a.slice(9).split(',').map((s) => s.trim()).filter(Boolean);
    else if (a === '--quick') o.quick = true;
    else if (a === '--samples') o.samples = Math.round(num(value()));
    else if (a === '--target-ms') o.targetMs = num(value());
    else if (a === '--jitless') o.jitless = true;
    else if (a === '--both') o.both = true;
    else if (a === '--json') o.json = true;
    else if (a === '--list') o.list = true;
    else if (a === '--instructions') o.instructions = true;
    else if (a === '--count') o.count = [value(), value(), Math.round(num(value()))]; // internal
    else if (a === '--emit-json') o.emitJson = true; // internal: the --both child
    else if (a === '-h' || a === '--help') usage(null);
    else usage(`unknown option ${a}`);
  }
  o.samples = o.samples ?? (o.quick ? 5 : 15);
  o.targetMs = o.targetMs ?? (o.quick ? 20 : 75);
  o.warmupMs = o.quick ? 30 : 200;
  return o;
}

function usage(problem) {
  const lines = fs.readFileSync(__filename, 'utf8').split('\n');
  const text = lines.slice(1, lines.indexOf("'use strict';"))
    .filter((l) => l.startsWith('//')).map((l) => l.replace(/^\/\/ ?/, '')).join('\n');
  (problem ? console.error : console.log)(`${problem ? `run.js: ${problem}\n\n` : ''}${text}`);
  process.exit(problem ? 2 : 0);
}

const isJitless = () => process.execArgv.includes('--jitless');

// ---------------------------------------------------------------------------------------
// Measurement
// ---------------------------------------------------------------------------------------

// A fresh loop function per (case, implementation), so that each loop's call site sees one
// thunk only (V8 keeps type feedback per function): neither side pays for the other's.
function makeLoop() {
  // eslint-disable-next-line no-new-func
  return new Function('f', 'n', 'let r; for (let i = 0; i < n; i++) r = f(); return r;');
}

const now = () => process.hrtime.bigint();

function timeLoop(loop, f, n) {
  const t0 = now();
  const r = loop(f, n);
  const t1 = now();
  return { ns: Number(t1 - t0), r };
}

const quantile = (sorted, q) => {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
};
function stats(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return { median: quantile(s, 0.5), p25: quantile(s, 0.25), p75: quantile(s, 0.75), min: s[0], max: s[s.length - 1] };
}

const expectedOf = (c, k) => (c.expectedBy && k in c.expectedBy ? c.expectedBy[k] : c.expected);
const same = (a, b) => a === b || (typeof a === 'number' && Number.isNaN(a) && Number.isNaN(b));
const show = (v) => (typeof v === 'bigint' ? `${v}n` : typeof v === 'string' ? JSON.stringify(v) : String(v));

// Every checked result counts here; the total is printed, so no result is dead.
let checked = 0;

function checkResult(r, expected) {
  if (!same(r, expected)) {
    throw new Error(`got ${show(r)}, expected ${show(expected)}`);
  }
  checked++;
}

// Calibrate: double n until one run takes >= minMs; returns ns per call.
function calibrate(loop, f, minMs, start = 64) {
  let n = start;
  for (;;) {
    const { ns } = timeLoop(loop, f, n);
    if (ns >= minMs * 1e6 || n >= 1 << 30) return ns / n;
    n *= ns < minMs * 1e5 ? 8 : 2;
  }
}

function warmUp(loop, f, ms, step = 1000) {
  const until = now() + BigInt(Math.round(ms * 1e6));
  while (now() < until) loop(f, step);
}

// Measures one case over the implementations that passed its correctness check.
// Samples are interleaved: round k runs every implementation once, in an order rotated
// each round (A B, B A, A B, ...), so drift and noise land on all of them alike.
function measureCase(c, thunks, opt, log) {
  const keys = Object.keys(thunks);
  const loops = Object.fromEntries(keys.map((k) => [k, makeLoop()]));
  const minN = c.minN ?? 100;
  const perCall = {};
  for (const k of keys) {
    warmUp(loops[k], thunks[k], opt.warmupMs / 2, Math.min(1000, minN));
    perCall[k] = calibrate(loops[k], thunks[k], Math.max(5, opt.targetMs / 5), Math.min(64, minN));
    warmUp(loops[k], thunks[k], opt.warmupMs / 2, Math.min(1000, minN));
  }
  // One n for all implementations, sized on the slowest, so samples are alike in length.
  const slowest = Math.max(...Object.values(perCall));
  const n = Math.max(minN, Math.round((opt.targetMs * 1e6) / slowest));
  const samples = Object.fromEntries(keys.map((k) => [k, []]));
  for (let round = 0; round < opt.samples; round++) {
    for (let j = 0; j < keys.length; j++) {
      const k = keys[(round + j) % keys.length];
      const { ns, r } = timeLoop(loops[k], thunks[k], n);
      try {
        checkResult(r, expectedOf(c, k));
      } catch (e) {
        throw new Error(`${c.name}/${k} changed its result while timed: ${e.message}`);
      }
      samples[k].push(ns / n);
    }
  }
  log(`  ${c.name}: n=${n} per sample`);
  return { n, samples };
}

// The loop and thunk cost of the harness itself (an empty JS thunk); it is inside every
// number of every implementation alike.
function loopOverhead(opt) {
  const loop = makeLoop();
  const f = () => 0;
  warmUp(loop, f, opt.warmupMs / 2);
  const per = calibrate(loop, f, 5);
  const n = Math.max(1000, Math.round((opt.targetMs * 1e6) / per / 4));
  const xs = [];
  for (let i = 0; i < Math.min(opt.samples, 7); i++) xs.push(timeLoop(loop, f, n).ns / n);
  return stats(xs).median;
}

// ---------------------------------------------------------------------------------------
// One mode (the current process: JIT or --jitless)
// ---------------------------------------------------------------------------------------
function runMode(opt) {
  const mode = isJitless() ? 'jitless' : 'jit';
  const out = opt.json && !opt.emitJson ? console.error : console.log;
  const log = (s) => console.error(s);

  const cases = selectCases(opt);
  if (cases.length === 0) {
    console.error(`run.js: no case matches --filter ${opt.filter.join(',')} (cases: ${CASES.map((c) => c.name).join(', ')})`);
    process.exit(2);
  }

  const impls = [];
  for (const impl of IMPLS) {
    try {
      impls.push({ ...impl, ctx: impl.load() });
    } catch (e) {
      console.error(`run.js: WARNING: ${impl.title} (${impl.key}) left out: ${e.message}`);
    }
  }
  if (impls.length === 0) {
    console.error('run.js: no implementation could be loaded');
    process.exit(1);
  }
  const loaded = impls.map((i) => i.key);
  const ratios = RATIOS.filter(([a, b]) => loaded.includes(a) && loaded.includes(b));

  log(`mode ${mode}: ${cases.length} case(s), ${opt.samples} samples x ~${opt.targetMs} ms per implementation`);
  const overhead = loopOverhead(opt);
  const results = [];
  let failures = 0;
  for (const c of cases) {
    const thunks = {};
    const errors = {};
    for (const impl of impls) {
      if (typeof c[impl.key] !== 'function') continue; // no entry for this implementation
      try {
        const t = c[impl.key](impl.ctx);
        checkResult(t(), expectedOf(c, impl.key)); // correctness first, once
        thunks[impl.key] = t;
      } catch (e) {
        errors[impl.key] = e.message;
        failures++;
        console.error(`run.js: FAIL ${c.name}/${impl.key}: ${e.message}`);
      }
    }
    const res = { name: c.name, errors, n: 0, ns: {}, ratio: {}, netRatio: {}, pairedRatio: {} };
    if (Object.keys(thunks).length > 0) {
      const { n, samples } = measureCase(c, thunks, opt, log);
      res.n = n;
      for (const k of Object.keys(samples)) res.ns[k] = stats(samples[k]);
      for (const pair of ratios) {
        const [a, b] = pair;
        if (!samples[a] || !samples[b]) continue;
        const name = ratioName(pair);
        res.ratio[name] = res.ns[a].median / res.ns[b].median;
        // The same with the harness's own loop cost taken out of both sides.
        res.netRatio[name] = Math.max(0, res.ns[a].median - overhead) / Math.max(1e-9, res.ns[b].median - overhead);
        // Round by round ratios: the samples of one round ran back to back.
        res.pairedRatio[name] = stats(samples[a].map((x, i) => x / samples[b][i]));
      }
    }
    results.push(res);
  }
  for (const impl of impls) if (impl.ctx && typeof impl.ctx.close === 'function') impl.ctx.close();
  const koffiImpl = impls.find((i) => i.key === 'koffi');

  const report = {
    bench: 'arkffi',
    mode,
    node: process.version,
    v8: process.versions.v8,
    cpu: (os.cpus()[0] || {}).model || 'unknown',
    samples: opt.samples,
    targetMs: opt.targetMs,
    implementations: loaded,
    ratios: ratios.map(ratioName),
    koffi: koffiImpl ? koffiImpl.ctx.version : null,
    loopOverheadNs: round(overhead, 2),
    checked,
    failures,
    cases: results.map((r) => ({
      name: r.name,
      n: r.n,
      ns: mapObj(r.ns, (s) => mapObj(s, (v) => round(v, 3))),
      ratio: mapObj(r.ratio, (v) => round(v, 4)),
      netRatio: mapObj(r.netRatio, (v) => round(v, 4)),
      pairedRatio: mapObj(r.pairedRatio, (s) => mapObj(s, (v) => round(v, 3))),
      errors: r.errors,
    })),
  };

  out('');
  out(`ArkFFI benchmark: ns per call, median of ${opt.samples} interleaved samples of ~${opt.targetMs} ms`);
  out(`mode ${mode} | node ${process.version} (V8 ${process.versions.v8}) | ${report.cpu} | ${os.cpus().length} cpus` +
    (koffiImpl ? ` | koffi ${koffiImpl.ctx.version}` : ''));
  out(table(results, orderKeys(loaded), ratios));
  out('spread: (p75-p25)/2 of the samples, as % of the median. -: the implementation has no such case.');
  if (ratios.length > 0) {
    out(`ratio a/b: median a / median b (${ratios.map(ratioName).join(', ')}). paired: p25..p75 of the round-by-round ratios.`);
    out('net: the ratio with the harness loop overhead taken out of both sides.');
  } else {
    out('No ratio: only one implementation could be loaded.');
  }
  for (const [a, b] of RATIOS) {
    for (const k of [a, b]) {
      if (!loaded.includes(k)) out(`No ${a}/${b} ratio: ${k} was left out (see the warning above).`);
    }
  }
  out(`Harness loop overhead (an empty JS thunk): ~${overhead.toFixed(1)} ns/call, inside every ns number alike.`);
  out(`${checked} results checked, ${failures} failure(s).`);
  if (opt.json || opt.emitJson) console.log(JSON.stringify(report));
  return report;
}

const orderKeys = (keys) => [...ORDER.filter((k) => keys.includes(k)), ...keys.filter((k) => !ORDER.includes(k))];

// The cases of this run: --filter's, or all but the opt-in ones.
function selectCases(opt) {
  if (!opt.filter) return CASES.filter((c) => !c.optIn);
  return CASES.filter((c) => opt.filter.some((w) => c.name.includes(w)));
}

function table(results, keys, ratios) {
  const others = ratios.map(ratioName);
  const head = ['case'];
  for (const k of keys) head.push(`${k} ns`, 'spread');
  for (const k of others) head.push(k, 'paired', 'net');
  const rows = [head];
  for (const r of results) {
    const row = [r.name];
    for (const k of keys) {
      const s = r.ns[k];
      if (s) row.push(fmtNs(s.median), `±${(((s.p75 - s.p25) / 2 / s.median) * 100).toFixed(1)}%`);
      else row.push(r.errors[k] ? 'FAIL' : '-', '');
    }
    for (const k of others) {
      const q = r.ratio[k];
      const p = r.pairedRatio[k];
      const net = r.netRatio[k];
      row.push(q === undefined ? '-' : `${q.toFixed(2)}x`, p ? `${p.p25.toFixed(2)}..${p.p75.toFixed(2)}` : '',
        net === undefined ? '' : `${net.toFixed(2)}x`);
    }
    rows.push(row);
  }
  return formatRows(rows);
}

function formatRows(rows, leftAligned = false) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  return rows
    .map((r) => r.map((c, i) => (i === 0 || leftAligned ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i])))
      .join('  ').trimEnd())
    .join('\n');
}

// ns with one decimal, without decimals from 10 us up (the opt-in cases take ms per call).
const fmtNs = (v) => v.toFixed(v >= 1e4 ? 0 : 1);
const round = (v, d) => Math.round(v * 10 ** d) / 10 ** d;
const mapObj = (o, f) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, f(v)]));
const rel = (p) => (path.resolve(p).startsWith(root + path.sep) ? path.relative(root, path.resolve(p)) : p);

// The ArkFFI host build older than its sources measures old code: say so (not an error).
function warnIfStale() {
  if (process.env.ARKFFI_HOST) return;
  const built = path.join(root, 'target', 'host', 'arkffi.node');
  if (!fs.existsSync(built)) return;
  const builtAt = Math.min(fs.statSync(built).mtimeMs, fs.statSync(paths.host).mtimeMs);
  let newest = null;
  const walk = (p) => {
    let st;
    try { st = fs.statSync(p); } catch { return; }
    if (st.isDirectory()) for (const e of fs.readdirSync(p)) walk(path.join(p, e));
    else if (/\.(rs|ets|ts)$|^Cargo\.(toml|lock)$/.test(path.basename(p)) && st.mtimeMs > builtAt) newest = p;
  };
  for (const p of ['src', 'ets', 'Cargo.toml', 'Cargo.lock']) walk(path.join(root, p));
  if (newest) {
    console.error(`run.js: WARNING: the ArkFFI host build is older than ${path.relative(root, newest)}; ` +
      'it measures the old code (bash benches/run.sh rebuilds it)');
  }
}

// ---------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------
function reexec(args, extraNodeArgs, capture) {
  const r = spawnSync(process.execPath, [...extraNodeArgs, __filename, ...args], {
    stdio: ['inherit', capture ? 'pipe' : 'inherit', 'inherit'],
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  if (r.error) throw r.error;
  return r;
}

// ---------------------------------------------------------------------------------------
// Instructions per call (--instructions)
// ---------------------------------------------------------------------------------------

// Calls of one case per counted run: the short run and the long one.
const COUNT_SHORT = 2000;
const COUNT_LONG = 12000;

// --count CASE IMPL N (internal): load one implementation, make N calls of one case, exit.
function countRun([caseName, implKey, n]) {
  const c = CASES.find((x) => x.name === caseName);
  const impl = IMPLS.find((i) => i.key === implKey);
  if (!c || !impl) usage(`--count: no case ${caseName} or implementation ${implKey}`);
  const ctx = impl.load();
  const t = c[impl.key](ctx);
  checkResult(t(), expectedOf(c, impl.key));
  const r = makeLoop()(t, n);
  checkResult(r, expectedOf(c, impl.key));
  if (typeof ctx.close === 'function') ctx.close();
  return 0;
}

// The instructions callgrind counted in one run of `--count caseName implKey n`.
function countedInstructions(caseName, implKey, n) {
  const out = path.join(os.tmpdir(), `arkffi-callgrind-${process.pid}-${caseName}-${implKey}-${n}.out`);
  const r = spawnSync('valgrind', ['--tool=callgrind', `--callgrind-out-file=${out}`,
    process.execPath, '--jitless', '--predictable', __filename, '--count', caseName, implKey, String(n)], {
    encoding: 'utf8', maxBuffer: 64 << 20,
  });
  if (r.error) throw new Error(r.error.code === 'ENOENT' ? 'valgrind is not installed (apt-get install valgrind)' : r.error.message);
  if (r.status !== 0) throw new Error(`callgrind run of ${caseName}/${implKey} failed:\n${r.stderr.slice(-2000)}`);
  const text = fs.readFileSync(out, 'utf8');
  fs.unlinkSync(out);
  const m = text.match(/^(?:summary|totals): (\d+)/m);
  if (!m) throw new Error(`no instruction total in callgrind's output for ${caseName}/${implKey}`);
  return Number(m[1]);
}

function instructionsMode(opt) {
  const cases = selectCases(opt).filter((c) => !c.optIn || opt.filter);
  const loaded = [];
  for (const impl of IMPLS) {
    try {
      impl.load();
      loaded.push(impl.key);
    } catch (e) {
      console.error(`run.js: WARNING: ${impl.title} (${impl.key}) left out: ${e.message}`);
    }
  }
  const ratios = RATIOS.filter(([a, b]) => loaded.includes(a) && loaded.includes(b));
  const keys = orderKeys(loaded);
  const rows = [['case', ...keys, ...ratios.map(ratioName)]];
  const report = { bench: 'arkffi', mode: 'instructions', node: process.version, cases: [] };
  for (const c of cases) {
    const per = {};
    for (const k of keys) {
      if (typeof c[k] !== 'function') continue;
      const short = countedInstructions(c.name, k, COUNT_SHORT);
      const long = countedInstructions(c.name, k, COUNT_LONG);
      per[k] = (long - short) / (COUNT_LONG - COUNT_SHORT);
      console.error(`${c.name}/${k}: ${per[k].toFixed(0)} instructions per call`);
    }
    const ratio = {};
    for (const pair of ratios) if (per[pair[0]] && per[pair[1]]) ratio[ratioName(pair)] = per[pair[0]] / per[pair[1]];
    rows.push([c.name, ...keys.map((k) => (k in per ? per[k].toFixed(0) : '-')),
      ...ratios.map((p) => (ratioName(p) in ratio ? ratio[ratioName(p)].toFixed(2) : '-'))]);
    report.cases.push({ name: c.name, instructions: mapObj(per, (v) => round(v, 1)), ratio: mapObj(ratio, (v) => round(v, 4)) });
  }
  const out = opt.json ? console.error : console.log;
  out('');
  out(`ArkFFI benchmark: instructions per call (callgrind, node ${process.version} --jitless --predictable; ` +
    `(I(${COUNT_LONG} calls) - I(${COUNT_SHORT} calls)) / ${COUNT_LONG - COUNT_SHORT})`);
  out(formatRows(rows));
  if (opt.json) console.log(JSON.stringify(report));
  return 0;
}

function main() {
  const argv = process.argv.slice(2);
  const opt = parseArgs(argv);
  if (opt.count) return countRun(opt.count);
  if (opt.instructions) return instructionsMode(opt);
  if (opt.list) {
    console.log(formatRows([['case', 'what it calls'], ...CASES.map((c) => [c.name, c.about])], true));
    return 0;
  }
  const withoutModeFlags = argv.filter((a) => a !== '--jitless' && a !== '--both');

  if (opt.jitless && !opt.both && !isJitless()) {
    return reexec(withoutModeFlags, [...process.execArgv, '--jitless'], false).status ?? 1;
  }
  if (!opt.both) {
    return runMode(opt).failures > 0 ? 1 : 0;
  }

  // --both: this process is the JIT run (re-executed without --jitless if it had it), then
  // a --jitless child; its JSON line comes back through a pipe for the side-by-side table.
  if (isJitless()) {
    const nodeArgs = process.execArgv.filter((a) => a !== '--jitless');
    return reexec(argv, nodeArgs, false).status ?? 1;
  }
  const jit = runMode(opt);
  const child = reexec([...withoutModeFlags.filter((a) => a !== '--json'), '--emit-json'], [...process.execArgv, '--jitless'], true);
  const lines = child.stdout.split('\n');
  while (lines.length && lines[lines.length - 1] === '') lines.pop();
  let jitless = null;
  try {
    jitless = JSON.parse(lines.pop());
  } catch {
    console.error('run.js: the --jitless run gave no result');
    return 1;
  }
  const out = opt.json ? console.error : console.log;
  for (const l of lines) out(l); // the jitless run's own table
  if (opt.json) console.log(JSON.stringify(jitless));
  // The side-by-side table: per mode, the ns of every implementation, then the ratios.
  const shown = orderKeys(jit.implementations);
  const ratioNames = jit.ratios;
  const width = shown.length + ratioNames.length;
  const groups = [''];
  const head = ['case'];
  for (const m of ['jit', 'jitless']) {
    groups.push(`${m}:`, ...Array(width - 1).fill(''));
    for (const k of shown) head.push(`${k} ns`);
    for (const k of ratioNames) head.push(k);
  }
  const rows = [groups.map((g, i) => (i > 0 && g === '' ? '' : g)), head];
  for (const c of jit.cases) {
    const d = jitless.cases.find((x) => x.name === c.name) || { ns: {}, ratio: {} };
    const row = [c.name];
    for (const m of [c, d]) {
      for (const k of shown) row.push(m.ns[k] ? fmtNs(m.ns[k].median) : '-');
      for (const k of ratioNames) row.push(m.ratio[k] !== undefined ? `${m.ratio[k].toFixed(2)}x` : '-');
    }
    rows.push(row);
  }
  out('');
  out(`Both modes (median ns per call; ratio a/b = median a / median b):`);
  out(formatRows(rows));
  return jit.failures > 0 || jitless.failures > 0 || child.status !== 0 ? 1 : 0;
}

process.exitCode = main();
