// The type-level test of typed calls: the fixtures of tests/lint/typed/ go through
// TypeScript's type checker and the real ArkTS linter (as tests/lint/arkts-lint.js runs
// them). ok.ets must get no diagnostic at all; every file in must-fail/ must get exactly the
// diagnostics its `// expect: <text>` comments announce, each on the line after the comment.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const os = require('os');
const path = require('path');
const ts = require('ohos-typescript');

const root = path.resolve(__dirname, '..', '..');
const dir = path.join(root, 'tests', 'lint', 'typed');
const failDir = path.join(dir, 'must-fail');
const okFile = path.join(dir, 'ok.ets');
const failFiles = fs.readdirSync(failDir).filter((f) => f.endsWith('.ets')).map((f) => path.join(failDir, f));

function diagnose(files) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'arkffi-typed-lint-'));
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
    paths: {
      'libarkffi.so': ['ets/src/main/cpp/types/libarkffi/index.d.ts'],
      'arkffi': ['ets/Index.ets'],
    },
    ets: require('../lint/ets-components.json'),
  };
  const host = ts.createIncrementalCompilerHost(options);
  const builder = ts.createIncrementalProgram({
    rootNames: [...files, path.join(root, 'tests', 'lint', 'shims.d.ts')],
    options,
    host,
  });
  const program = builder.getProgram();
  const all = [];
  for (const sf of program.getSourceFiles()) {
    if (!sf.fileName.endsWith('.ets')) continue;
    all.push(...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf));
  }
  all.push(...ts.ArkTSLinter_1_1.runArkTSLinter(builder, undefined, undefined, '1.1'));
  fs.rmSync(tmp, { recursive: true, force: true });
  const byFile = new Map();
  for (const d of all) {
    if (!d.file || d.category !== ts.DiagnosticCategory.Error) continue;
    const file = path.resolve(d.file.fileName);
    const line = d.file.getLineAndCharacterOfPosition(d.start).line + 1;
    if (!byFile.has(file)) byFile.set(file, []);
    byFile.get(file).push({ line, text: ts.flattenDiagnosticMessageText(d.messageText, '\n') });
  }
  return byFile;
}

const diagnostics = diagnose([okFile, ...failFiles]);

test('correct typed calls: zero type errors and zero ArkTS lint errors', () => {
  assert.deepEqual(diagnostics.get(okFile) || [], []);
  // Nothing else in the package was reported either (the fixtures import it).
  const others = [...diagnostics.keys()].filter((f) => f !== okFile && !failFiles.includes(f));
  assert.deepEqual(others, []);
});

for (const file of failFiles) {
  test(`wrong uses fail with the expected diagnostics: ${path.relative(root, file)}`, () => {
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    const expected = [];
    lines.forEach((l, i) => {
      const m = /^\s*\/\/ expect: (.+)$/.exec(l);
      if (m) expected.push({ line: i + 2, text: m[1] });
    });
    assert.ok(expected.length > 0, 'the fixture announces its diagnostics');
    const got = diagnostics.get(file) || [];
    for (const e of expected) {
      const here = got.filter((d) => d.line === e.line);
      assert.ok(here.some((d) => d.text.includes(e.text)),
        `line ${e.line}: expected "${e.text}", got ${JSON.stringify(here.map((d) => d.text))}`);
    }
    const unexpected = got.filter((d) => !expected.some((e) => e.line === d.line));
    assert.deepEqual(unexpected, [], 'no diagnostic on a line that announces none');
  });
}
