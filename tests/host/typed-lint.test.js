// The type-level test of typed calls: the fixtures of tests/lint/typed/ go through
// TypeScript's type checker and the real ArkTS linter (as tests/lint/arkts-lint.js runs
// them). ok.ets must get no diagnostic at all; every file in must-fail/ must get exactly the
// diagnostics its `// expect: <text>` comments announce, each on the line after the comment.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const path = require('path');
const { checkEts, errorsOf } = require('../lint/ets-check');

const root = path.resolve(__dirname, '..', '..');
const dir = path.join(root, 'tests', 'lint', 'typed');
const failDir = path.join(dir, 'must-fail');
const okFile = path.join(dir, 'ok.ets');
const failFiles = fs.readdirSync(failDir).filter((f) => f.endsWith('.ets')).map((f) => path.join(failDir, f));

// The errors of `files`, by file: [{ line, text }].
function diagnose(files) {
  const byFile = new Map();
  for (const { file, line, text } of errorsOf(checkEts(files))) {
    if (!file) continue;
    if (!byFile.has(file)) byFile.set(file, []);
    byFile.get(file).push({ line, text });
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
