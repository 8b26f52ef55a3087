// The DevEco project files: the repository root opens in DevEco Studio as a project whose
// modules are `arkffi` (./ets, the HAR) and `entry` (./entry, the sample app). These checks
// need no SDK: every JSON5 file parses, the modules the root build-profile names exist and
// agree with their own files, every resource reference resolves, the package's version is the
// crate's, and the obfuscation keep lists cover every name that crosses into libarkffi.so.
//
// ARKFFI_PROJECT_ROOT=<dir> runs the same checks on a copy of the repository.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const path = require('path');
const JSON5 = require('json5');

const root = process.env.ARKFFI_PROJECT_ROOT
  ? path.resolve(process.env.ARKFFI_PROJECT_ROOT)
  : path.resolve(__dirname, '..', '..');

const rel = (p) => path.relative(root, p) || '.';
const read = (p) => fs.readFileSync(path.join(root, p), 'utf8');
const exists = (p) => fs.existsSync(path.join(root, p));

function json5(p) {
  const text = read(p);
  try {
    return JSON5.parse(text);
  } catch (e) {
    assert.fail(`${p} does not parse as JSON5: ${e.message}`);
  }
}

// Every *.json5 under `dir` (recursively unless `shallow`), build outputs and dependencies
// excluded.
const SKIP_DIRS = new Set(['node_modules', 'oh_modules', 'target', 'build', '.hvigor', '.preview', '.cxx', '.git', 'libs']);
function json5Files(dir, shallow) {
  const out = [];
  const abs = path.join(root, dir);
  if (!fs.existsSync(abs)) return out;
  for (const ent of fs.readdirSync(abs, { withFileTypes: true })) {
    const p = path.join(dir, ent.name);
    if (ent.isDirectory()) {
      if (!shallow && !SKIP_DIRS.has(ent.name)) out.push(...json5Files(p, false));
    } else if (ent.name.endsWith('.json5')) {
      out.push(p);
    }
  }
  return out;
}

// The names of `-keep-property-name` / `-keep-global-name` in an ArkGuard rules file: each
// option is followed by one name per line, until the next option.
function keepLists(file) {
  const lists = { '-keep-property-name': new Set(), '-keep-global-name': new Set() };
  let current = null;
  for (const raw of read(file).split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') continue;
    if (line.startsWith('-')) {
      current = lists[line] || null;
      continue;
    }
    if (current) current.add(line);
  }
  return lists;
}

const DTS = 'ets/src/main/cpp/types/libarkffi/index.d.ts';

// What index.d.ts declares: the module's exports, and the members of the objects it returns.
function nativeNames() {
  const dts = read(DTS);
  const exports = [...dts.matchAll(/^export\s+(?:declare\s+)?(?:const|function|let|var)\s+(\w+)/gm)].map((m) => m[1]);
  const members = [];
  for (const m of dts.matchAll(/^export\s+interface\s+\w+\s*\{([^}]*)\}/gm)) {
    for (const f of m[1].matchAll(/^\s*(?:readonly\s+)?(\w+)\s*[?]?\s*[:(]/gm)) members.push(f[1]);
  }
  return { exports, members };
}

// Property names the Rust side reads from or sets on JS objects (js::get_named / set_named,
// signature::flag / extra, the StructSchema handle property).
function rustPropertyNames() {
  const names = new Set();
  const dir = path.join(root, 'src');
  for (const f of fs.readdirSync(dir)) {
    if (!f.endsWith('.rs') || f === 'proptests.rs') continue;
    const src = fs.readFileSync(path.join(dir, f), 'utf8');
    for (const m of src.matchAll(/\b(?:get_named|set_named|flag|extra)\(\s*env\s*,\s*[\w.]+\s*,\s*c"(\w+)"/g)) names.add(m[1]);
    for (const m of src.matchAll(/HANDLE_PROPERTY\s*:\s*&[\w:]*CStr\s*=\s*c"(\w+)"/g)) names.add(m[1]);
  }
  return names;
}

const rootProfile = () => json5('build-profile.json5');

test('every JSON5 file of the project parses', () => {
  const files = [
    ...json5Files('.', true),
    ...json5Files('hvigor', false),
    ...json5Files('AppScope', false),
    ...json5Files('ets', false),
    ...json5Files('entry', false)
  ];
  for (const must of ['oh-package.json5', 'build-profile.json5', 'hvigor/hvigor-config.json5', 'AppScope/app.json5',
    'ets/oh-package.json5', 'ets/build-profile.json5', 'ets/src/main/module.json5',
    'entry/oh-package.json5', 'entry/build-profile.json5', 'entry/src/main/module.json5']) {
    assert.ok(files.includes(must), `${must} is missing`);
  }
  for (const f of files) {
    const v = json5(f);
    assert.equal(typeof v, 'object', `${f}: not an object`);
    assert.ok(v !== null && !Array.isArray(v), `${f}: not an object`);
  }
  // The JSON resource files (string.json, color.json, main_pages.json, …) are plain JSON.
  const jsonFiles = [];
  const walk = (dir) => {
    const abs = path.join(root, dir);
    if (!fs.existsSync(abs)) return;
    for (const ent of fs.readdirSync(abs, { withFileTypes: true })) {
      const p = path.join(dir, ent.name);
      if (ent.isDirectory()) {
        if (!SKIP_DIRS.has(ent.name)) walk(p);
      } else if (ent.name.endsWith('.json') && p.split(path.sep).includes('resources')) {
        jsonFiles.push(p);
      }
    }
  };
  ['AppScope', 'entry', 'ets'].forEach(walk);
  assert.ok(jsonFiles.length >= 3, 'resource JSON files found');
  for (const f of jsonFiles) assert.doesNotThrow(() => JSON.parse(read(f)), `${f} is not valid JSON`);
});

test('root project files: hvigor model, app, products', () => {
  const pkg = json5('oh-package.json5');
  const cfg = json5('hvigor/hvigor-config.json5');
  assert.match(pkg.modelVersion, /^\d+\.\d+\.\d+$/);
  assert.equal(cfg.modelVersion, pkg.modelVersion, 'hvigor-config and oh-package modelVersion differ');
  assert.equal(typeof cfg.dependencies, 'object');
  assert.notEqual(pkg.name, 'arkffi', 'the root project must not be named like the package it depends on');
  const entryPkg = json5('entry/oh-package.json5');
  assert.equal(pkg.devDependencies['@ohos/hypium'], entryPkg.devDependencies['@ohos/hypium'], 'one hypium version');

  const hvigorfile = read('hvigorfile.ts');
  assert.match(hvigorfile, /import\s*\{\s*appTasks\s*\}\s*from\s*'@ohos\/hvigor-ohos-plugin'/);
  assert.match(hvigorfile, /system:\s*appTasks/);

  const profile = rootProfile();
  assert.ok(Array.isArray(profile.app.products) && profile.app.products.length > 0);
  const names = new Set(profile.app.products.map((p) => p.name));
  assert.ok(names.has('default'));
  const signing = new Set((profile.app.signingConfigs || []).map((s) => s.name));
  for (const p of profile.app.products) {
    const m = /^(\d+)\.(\d+)\.(\d+)\((\d+)\)$/.exec(p.compatibleSdkVersion);
    assert.ok(m, `product ${p.name}: compatibleSdkVersion like "5.0.0(12)", got ${p.compatibleSdkVersion}`);
    assert.ok(Number(m[4]) >= 12, `product ${p.name}: API 12 or later`);
    assert.equal(p.runtimeOS, 'HarmonyOS');
    if (p.signingConfig !== undefined) assert.ok(signing.has(p.signingConfig), `product ${p.name}: signingConfig "${p.signingConfig}" is not in signingConfigs`);
  }
  assert.deepEqual(profile.app.buildModeSet.map((b) => b.name).sort(), ['debug', 'release']);

  const app = json5('AppScope/app.json5').app;
  assert.match(app.bundleName, /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*){2,}$/, 'bundleName: reverse domain, at least three parts');
  assert.ok(Number.isInteger(app.versionCode) && app.versionCode > 0);
  assert.match(app.versionName, /^\d+\.\d+\.\d+$/);
});

test('root build-profile modules exist and agree with their own files', () => {
  const modules = rootProfile().modules;
  const byName = new Map(modules.map((m) => [m.name, m]));
  assert.equal(byName.size, modules.length, 'module names are unique');
  assert.equal(byName.get('arkffi')?.srcPath, './ets');
  assert.equal(byName.get('entry')?.srcPath, './entry');
  const productNames = new Set(rootProfile().app.products.map((p) => p.name));

  const expectedType = { arkffi: 'har', entry: 'entry' };
  const expectedTasks = { har: 'harTasks', entry: 'hapTasks', feature: 'hapTasks', shared: 'hspTasks' };
  for (const m of modules) {
    const dir = path.normalize(m.srcPath);
    assert.ok(fs.statSync(path.join(root, dir)).isDirectory(), `${m.name}: ${m.srcPath} is not a directory`);
    for (const f of ['hvigorfile.ts', 'oh-package.json5', 'build-profile.json5', 'src/main/module.json5']) {
      assert.ok(exists(path.join(dir, f)), `${m.name}: ${path.join(dir, f)} is missing`);
    }
    const mod = json5(path.join(dir, 'src/main/module.json5')).module;
    assert.equal(mod.name, m.name, `${m.name}: module.json5 names the module "${mod.name}"`);
    if (expectedType[m.name]) assert.equal(mod.type, expectedType[m.name], `${m.name}: module type`);
    const tasks = expectedTasks[mod.type];
    assert.ok(tasks, `${m.name}: unknown module type ${mod.type}`);
    assert.match(read(path.join(dir, 'hvigorfile.ts')), new RegExp(`system:\\s*${tasks}\\b`), `${m.name}: hvigorfile.ts uses ${tasks}`);

    const own = json5(path.join(dir, 'build-profile.json5'));
    assert.equal(own.apiType, 'stageMode', `${m.name}: stage model`);
    const ownTargets = new Set((own.targets || [{ name: 'default' }]).map((t) => t.name));
    for (const t of m.targets || []) {
      assert.ok(ownTargets.has(t.name), `${m.name}: root target "${t.name}" is not a target of ${dir}/build-profile.json5`);
      for (const p of t.applyToProducts || []) assert.ok(productNames.has(p), `${m.name}: target ${t.name} applies to unknown product ${p}`);
    }
    if (mod.type !== 'har') assert.ok((m.targets || []).length > 0, `${m.name}: a HAP module needs targets in the root build-profile`);
  }

  // The ohosTest target of entry has its own module.json5, as a feature module.
  const testModule = json5('entry/src/ohosTest/module.json5').module;
  assert.equal(testModule.name, 'entry_test');
  assert.equal(testModule.type, 'feature');

  // entry uses the package of this repository.
  assert.equal(json5('entry/oh-package.json5').dependencies.arkffi, 'file:../ets');
});

test('the arkffi package: main, version, native typings, build profile', () => {
  const pkg = json5('ets/oh-package.json5');
  assert.equal(pkg.name, 'arkffi');
  assert.ok(exists(path.join('ets', pkg.main)), `main ${pkg.main} does not exist`);
  assert.ok(fs.statSync(path.join(root, 'ets', pkg.main)).isFile());

  const cargo = read('Cargo.toml');
  const section = /^\[package\]([\s\S]*?)(?=^\[)/m.exec(cargo);
  assert.ok(section, 'Cargo.toml has a [package] section');
  const version = /^version\s*=\s*"([^"]+)"/m.exec(section[1]);
  assert.ok(version, 'Cargo.toml: package version');
  assert.equal(pkg.version, version[1], 'ets/oh-package.json5 version equals the crate version');
  assert.equal(pkg.license, 'MIT');

  const dep = pkg.dependencies['libarkffi.so'];
  assert.ok(dep && dep.startsWith('file:'), 'libarkffi.so is a file: dependency');
  const typesDir = path.join('ets', dep.slice('file:'.length));
  assert.equal(path.normalize(typesDir), path.normalize(path.dirname(DTS)));
  assert.ok(exists(path.join(typesDir, 'index.d.ts')), `${typesDir}/index.d.ts is missing`);
  assert.equal(json5(path.join(typesDir, 'oh-package.json5')).name, 'libarkffi.so');

  const profile = json5('ets/build-profile.json5');
  assert.equal(profile.buildOption.externalNativeOptions, undefined, 'libarkffi.so is built by cargo, not CMake');
  const release = profile.buildOptionSet.find((b) => b.name === 'release');
  assert.ok(release, 'a release build option');
  const ob = release.arkOptions.obfuscation;
  for (const f of [...ob.ruleOptions.files, ...ob.consumerFiles]) assert.ok(exists(path.join('ets', f)), `ets/${f} is missing`);
  assert.ok(ob.consumerFiles.map((f) => path.normalize(f)).includes('consumer-rules.txt'));
  assert.ok(ob.ruleOptions.files.map((f) => path.normalize(f)).includes('obfuscation-rules.txt'));
  assert.ok(profile.targets.some((t) => t.name === 'default'));

  for (const f of ['README.md', 'CHANGELOG.md', 'LICENSE']) assert.ok(exists(path.join('ets', f)), `ets/${f} is missing`);
  assert.match(read('ets/CHANGELOG.md'), new RegExp(`^## ${version[1].replace(/\./g, '\\.')}\\b`, 'm'), 'CHANGELOG has the version');
});

test('ets/LICENSE is the repository LICENSE', () => {
  assert.equal(read('ets/LICENSE'), read('LICENSE'));
});

test('ets/README.md: the example is examples/quickstart.ets verbatim, imports are exports', () => {
  const readme = read('ets/README.md');
  const quickstart = read('examples/quickstart.ets').trimEnd();
  assert.ok(readme.includes('```ets\n' + quickstart + '\n```'), 'ets/README.md shows examples/quickstart.ets verbatim');
  const index = read('ets/Index.ets');
  const exported = new Set();
  for (const m of index.matchAll(/export\s*\{([^}]*)\}/g)) {
    for (const n of m[1].split(',')) exported.add(n.trim().split(/\s+as\s+/).pop());
  }
  const imports = [...readme.matchAll(/import\s*\{([^}]*)\}\s*from\s*'arkffi'/g)];
  assert.ok(imports.length >= 2, 'README imports from arkffi');
  for (const m of imports) {
    for (const n of m[1].split(',').map((s) => s.trim()).filter(Boolean)) {
      assert.ok(exported.has(n), `README imports ${n}, which ets/Index.ets does not export`);
    }
  }
});

test('resource references ($media:, $string:, $color:, $profile:) resolve', () => {
  const refs = [
    { file: 'AppScope/app.json5', resources: 'AppScope/resources', srcRoot: null },
    { file: 'entry/src/main/module.json5', resources: 'entry/src/main/resources', srcRoot: 'entry/src/main' },
    { file: 'entry/src/ohosTest/module.json5', resources: 'entry/src/ohosTest/resources', srcRoot: 'entry/src/ohosTest' },
    { file: 'ets/src/main/module.json5', resources: 'ets/src/main/resources', srcRoot: 'ets/src/main' }
  ];
  let checked = 0;
  for (const { file, resources, srcRoot } of refs) {
    const text = read(file);
    json5(file);
    for (const m of text.matchAll(/"\$(media|string|color|profile|float):(\w+)"/g)) {
      const [, kind, name] = m;
      checked++;
      if (kind === 'media') {
        const dir = path.join(root, resources, 'base', 'media');
        const found = fs.existsSync(dir) && fs.readdirSync(dir).some((f) => path.parse(f).name === name && /\.(png|jpe?g|webp|svg|json)$/.test(f));
        assert.ok(found, `${file}: $media:${name} has no file in ${resources}/base/media/`);
        if (found) {
          const f = fs.readdirSync(dir).find((x) => path.parse(x).name === name);
          if (f.endsWith('.png')) {
            const bytes = fs.readFileSync(path.join(dir, f));
            assert.deepEqual([...bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], `${f}: PNG signature`);
            assert.ok(bytes.readUInt32BE(16) > 0 && bytes.readUInt32BE(20) > 0, `${f}: PNG size`);
          }
        }
      } else if (kind === 'profile') {
        const p = path.join(resources, 'base', 'profile', `${name}.json`);
        assert.ok(exists(p), `${file}: $profile:${name} — ${p} is missing`);
      } else {
        const p = path.join(resources, 'base', 'element', `${kind}.json`);
        assert.ok(exists(p), `${file}: $${kind}:${name} — ${p} is missing`);
        const entries = JSON.parse(read(p))[kind];
        assert.ok(Array.isArray(entries) && entries.some((e) => e.name === name), `${file}: $${kind}:${name} is not in ${p}`);
      }
    }
    if (srcRoot) {
      const mod = json5(file).module;
      for (const ability of mod.abilities || []) {
        assert.ok(exists(path.join(srcRoot, ability.srcEntry)), `${file}: ability ${ability.name}: ${ability.srcEntry} is missing`);
      }
      if (mod.mainElement) assert.ok((mod.abilities || []).some((a) => a.name === mod.mainElement), `${file}: mainElement ${mod.mainElement} is not an ability`);
    }
  }
  assert.ok(checked >= 10, `only ${checked} references checked`);
});

test('every page of main_pages.json / test_pages.json exists as .ets', () => {
  const pageFiles = [
    ['entry/src/main/resources/base/profile/main_pages.json', 'entry/src/main/ets'],
    ['entry/src/ohosTest/resources/base/profile/test_pages.json', 'entry/src/ohosTest/ets']
  ];
  for (const [file, ets] of pageFiles) {
    const pages = JSON.parse(read(file)).src;
    assert.ok(Array.isArray(pages) && pages.length > 0, `${file}: src lists pages`);
    for (const page of pages) assert.ok(exists(path.join(ets, `${page}.ets`)), `${file}: page ${page} — ${ets}/${page}.ets is missing`);
  }
});

test('obfuscation keep lists cover every name that crosses into libarkffi.so', () => {
  const { exports, members } = nativeNames();
  assert.ok(exports.length >= 17, `index.d.ts exports found: ${exports.join(', ')}`);
  for (const expected of ['dlopen', 'cfunction', 'structLayout', 'callbackCreate', 'callbackLiveCount']) {
    assert.ok(exports.includes(expected), `index.d.ts parse: ${expected}`);
  }
  for (const expected of ['path', 'symbols', 'close', 'symbolPtr', 'handle', 'offsets']) {
    assert.ok(members.includes(expected), `index.d.ts parse: member ${expected}`);
  }
  // Every export is really imported by native.ets (so the keep list is about real names).
  const nativeEts = read('ets/src/main/ets/native.ets');
  for (const n of exports) assert.match(nativeEts, new RegExp(`\\b${n}\\s+as\\s+native\\w+`), `native.ets imports ${n}`);

  const rust = rustPropertyNames();
  for (const expected of ['args', 'returns', 'nonblocking', 'threadsafe', 'element', 'length', 'nativeLayout', 'ptr', 'size']) {
    assert.ok(rust.has(expected), `src/*.rs parse: ${expected}`);
  }
  for (const file of ['ets/obfuscation-rules.txt', 'ets/consumer-rules.txt']) {
    const lists = keepLists(file);
    const props = lists['-keep-property-name'];
    const globals = lists['-keep-global-name'];
    for (const n of exports) {
      assert.ok(props.has(n), `${file}: -keep-property-name lacks the export ${n}`);
      assert.ok(globals.has(n), `${file}: -keep-global-name lacks the export ${n}`);
    }
    for (const n of members) assert.ok(props.has(n), `${file}: -keep-property-name lacks ${n} (index.d.ts interface member)`);
    for (const n of rust) assert.ok(props.has(n), `${file}: -keep-property-name lacks ${n} (read or set by src/*.rs)`);
  }
  // The consumer file holds keep options only: it is applied to the apps using the package.
  for (const line of read('ets/consumer-rules.txt').split('\n').map((l) => l.replace(/#.*/, '').trim())) {
    if (line.startsWith('-')) assert.match(line, /^-keep-/, `consumer-rules.txt: ${line} is not a keep option`);
  }
});

// ets/hvigorfile.ts warns when hvigor configures the HAR and libs/<abi>/libarkffi.so (the
// output of scripts/build-ohos.sh) is missing. Run here with stand-ins for hvigor's modules.
test('the HAR hvigorfile warns about a native module that was not built', () => {
  const esbuild = require('esbuild');
  const source = path.join(root, 'ets', 'hvigorfile.ts');
  const { code } = esbuild.transformSync(fs.readFileSync(source, 'utf8'), { loader: 'ts', format: 'cjs' });
  const load = (dir) => {
    const mod = { exports: {} };
    const stubs = { '@ohos/hvigor-ohos-plugin': { harTasks: { tasks: 'har' } }, '@ohos/hvigor': {} };
    const req = (name) => (name in stubs ? stubs[name] : require(name));
    new Function('require', 'module', 'exports', '__dirname', '__filename', code)(req, mod, mod.exports, dir, path.join(dir, 'hvigorfile.ts'));
    return mod.exports;
  };
  const dir = fs.mkdtempSync(path.join(require('os').tmpdir(), 'arkffi-har-'));
  const warnings = [];
  const warn = console.warn;
  console.warn = (m) => warnings.push(String(m));
  try {
    const config = load(dir).default;
    assert.deepEqual(config.system, { tasks: 'har' });
    assert.equal(config.plugins.length, 1);
    const plugin = config.plugins[0];
    assert.equal(plugin.pluginId, 'arkffiNativeLibCheck');

    plugin.apply({});
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /^arkffi: libs\/arm64-v8a\/libarkffi\.so and libs\/x86_64\/libarkffi\.so are missing/);
    assert.match(warnings[0], /bash scripts\/build-ohos\.sh/);

    fs.mkdirSync(path.join(dir, 'libs', 'arm64-v8a'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'libs', 'arm64-v8a', 'libarkffi.so'), '');
    load(dir).default.plugins[0].apply({});
    assert.equal(warnings.length, 2);
    assert.match(warnings[1], /^arkffi: libs\/x86_64\/libarkffi\.so is missing, so the package cannot load its native module on that ABI/);

    fs.mkdirSync(path.join(dir, 'libs', 'x86_64'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'libs', 'x86_64', 'libarkffi.so'), '');
    load(dir).default.plugins[0].apply({});
    assert.equal(warnings.length, 2, 'no warning once both are built');
  } finally {
    console.warn = warn;
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
