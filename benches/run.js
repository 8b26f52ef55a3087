#!/usr/bin/env node
// The ArkFFI speed benchmark (a benchmark, not a test): ns per call of the same C functions
// through ArkFFI and through a hand-written Node-API binding (benches/baseline), measured in
// the same process with interleaved samples, and the ratio ArkFFI / baseline.
//
// Run it with `bash benches/run.sh [options]`, which builds the C library and the baseline
// first; `node benches/run.js [options]` alone uses what is already built.
//
// Options:
//   --filter a,b    only the cases whose name contains one of the comma-separated words
//   --quick         fewer and shorter samples (5 x ~20 ms): a smoke run, not a measurement
//   --samples N     samples per implementation and case (default 15)
//   --target-ms N   length of one sample in ms (default 75)
//   --jitless       run under `node --jitless` (re-executes itself): no JIT, as for FFI
//                   calls on HarmonyOS
//   --both          the JIT run, then the --jitless run, then both ratios side by side
//   --json          stdout gets one JSON line per mode (the tables go to stderr)
//   --list          list the cases and exit
//
// Environment: ARKFFI_BENCHLIB (the C library; default target/bench/libbenchlib.so),
// ARKFFI_HOST (the ArkFFI host build; default target/host/index.js),
// ARKFFI_BASELINE (the baseline addon; default target/bench/baseline.node).
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
};

// ---------------------------------------------------------------------------------------
// The implementations. The first is the reference: every other one gets a ratio against it.
// `load()` returns the context handed to that implementation's entry of each case, or
// throws (the implementation is then left out of the run, with a warning).
// A new implementation (koffi, say) is one entry here plus one key per case below.
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
      return {
        T: ffi.FFIType,
        ffi,
        // dlopen `file` with `symbols` and return its functions (closed at the end of the run).
        open(file, symbols) {
          const lib = ffi.dlopen(file, symbols);
          opened.push(lib);
          return lib.symbols;
        },
        close() {
          for (const lib of opened) lib.close();
        },
      };
    },
  },
];

// ---------------------------------------------------------------------------------------
// The cases: one entry each. For every implementation key, a function that gets that
// implementation's context and returns a thunk making exactly one call. `expected` is what
// one call returns (compared with ===); a case runs only where its first call returns it.
// ---------------------------------------------------------------------------------------
const INTS = Int32Array.from({ length: 1000 }, (_, i) => (i * 7919) % 20011 - 10000);
const INTS_SUM = INTS.reduce((s, x) => s + BigInt(x), 0n);
const TEXT = 'The quick brown fox jumps over the lazy dog';

const CASES = [
  {
    name: 'add_i32',
    about: 'int32_t add_i32(int32_t, int32_t): two int arguments, an int result',
    arkffi: (c) => {
      const f = c.open(paths.benchlib, { add_i32: { args: [c.T.i32, c.T.i32], returns: c.T.i32 } }).add_i32;
      return () => f(2, 3);
    },
    baseline: (b) => { const f = b.add_i32; return () => f(2, 3); },
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
    expected: 'hello from benchlib',
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
  const text = fs.readFileSync(__filename, 'utf8').split('\n').slice(1, 25)
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
function calibrate(loop, f, minMs) {
  let n = 64;
  for (;;) {
    const { ns } = timeLoop(loop, f, n);
    if (ns >= minMs * 1e6 || n >= 1 << 30) return ns / n;
    n *= ns < minMs * 1e5 ? 8 : 2;
  }
}

function warmUp(loop, f, ms) {
  const until = now() + BigInt(Math.round(ms * 1e6));
  while (now() < until) loop(f, 1000);
}

// Measures one case over the implementations that passed its correctness check.
// Samples are interleaved: round k runs every implementation once, in an order rotated
// each round (A B, B A, A B, ...), so drift and noise land on all of them alike.
function measureCase(c, thunks, opt, log) {
  const keys = Object.keys(thunks);
  const loops = Object.fromEntries(keys.map((k) => [k, makeLoop()]));
  const perCall = {};
  for (const k of keys) {
    warmUp(loops[k], thunks[k], opt.warmupMs / 2);
    perCall[k] = calibrate(loops[k], thunks[k], Math.max(5, opt.targetMs / 5));
    warmUp(loops[k], thunks[k], opt.warmupMs / 2);
  }
  // One n for all implementations, sized on the slowest, so samples are alike in length.
  const slowest = Math.max(...Object.values(perCall));
  const n = Math.max(100, Math.round((opt.targetMs * 1e6) / slowest));
  const samples = Object.fromEntries(keys.map((k) => [k, []]));
  for (let round = 0; round < opt.samples; round++) {
    for (let j = 0; j < keys.length; j++) {
      const k = keys[(round + j) % keys.length];
      const { ns, r } = timeLoop(loops[k], thunks[k], n);
      try {
        checkResult(r, c.expected);
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

  const cases = CASES.filter((c) => !opt.filter || opt.filter.some((w) => c.name.includes(w)));
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
  const ref = impls[0].key === IMPLS[0].key ? impls[0].key : null;

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
        checkResult(t(), c.expected); // correctness first, once
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
      if (ref && samples[ref]) {
        for (const k of Object.keys(samples)) {
          if (k === ref) continue;
          res.ratio[k] = res.ns[k].median / res.ns[ref].median;
          // The same with the harness's own loop cost taken out of both sides.
          res.netRatio[k] = Math.max(0, res.ns[k].median - overhead) / Math.max(1e-9, res.ns[ref].median - overhead);
          // Round by round ratios: the samples of one round ran back to back.
          res.pairedRatio[k] = stats(samples[k].map((x, i) => x / samples[ref][i]));
        }
      }
    }
    results.push(res);
  }
  for (const impl of impls) if (impl.ctx && typeof impl.ctx.close === 'function') impl.ctx.close();

  const report = {
    bench: 'arkffi',
    mode,
    node: process.version,
    v8: process.versions.v8,
    cpu: (os.cpus()[0] || {}).model || 'unknown',
    samples: opt.samples,
    targetMs: opt.targetMs,
    reference: ref,
    implementations: impls.map((i) => i.key),
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
  out(`mode ${mode} | node ${process.version} (V8 ${process.versions.v8}) | ${report.cpu} | ${os.cpus().length} cpus`);
  out(table(results, impls.map((i) => i.key).filter((k) => k !== ref).concat(ref ? [ref] : []), ref));
  const others = impls.map((i) => i.key).filter((k) => k !== ref);
  out('spread: (p75-p25)/2 of the samples, as % of the median.');
  if (ref && others.length > 0) {
    out(`ratio: median ${others.join(' or ')} / median ${ref}. paired: p25..p75 of the round-by-round ratios.`);
    out('net: the ratio with the harness loop overhead taken out of both sides.');
  } else {
    out('No ratio: only one implementation could be loaded.');
  }
  out(`Harness loop overhead (an empty JS thunk): ~${overhead.toFixed(1)} ns/call, inside every ns number alike.`);
  out(`${checked} results checked, ${failures} failure(s).`);
  if (opt.json || opt.emitJson) console.log(JSON.stringify(report));
  return report;
}

function table(results, keys, ref) {
  const others = ref ? keys.filter((k) => k !== ref) : [];
  const head = ['case'];
  for (const k of keys) head.push(`${k} ns`, 'spread');
  for (const k of others) head.push(`${k}/${ref}`, 'paired', 'net');
  const rows = [head];
  for (const r of results) {
    const row = [r.name];
    for (const k of keys) {
      const s = r.ns[k];
      if (s) row.push(s.median.toFixed(1), `±${(((s.p75 - s.p25) / 2 / s.median) * 100).toFixed(1)}%`);
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

function main() {
  const argv = process.argv.slice(2);
  const opt = parseArgs(argv);
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
  const ratioKeys = jit.implementations.filter((k) => k !== jit.reference);
  const shown = jit.reference ? [...ratioKeys, jit.reference] : ratioKeys;
  const head = ['case'];
  for (const m of ['jit', 'jitless']) {
    for (const k of shown) head.push(`${k} ns (${m})`);
    for (const k of ratioKeys) head.push(`ratio (${m})`);
  }
  const rows = [head];
  for (const c of jit.cases) {
    const d = jitless.cases.find((x) => x.name === c.name) || { ns: {}, ratio: {} };
    const row = [c.name];
    for (const m of [c, d]) {
      for (const k of shown) row.push(m.ns[k] ? m.ns[k].median.toFixed(1) : '-');
      for (const k of ratioKeys) row.push(m.ratio[k] !== undefined ? `${m.ratio[k].toFixed(2)}x` : '-');
    }
    rows.push(row);
  }
  out('');
  out('Both modes (median ns per call; ratio = ' +
    `${ratioKeys.join('/') || '-'} / ${jit.reference ?? '-'}):`);
  out(formatRows(rows));
  return jit.failures > 0 || jitless.failures > 0 || child.status !== 0 ? 1 : 0;
}

process.exitCode = main();
