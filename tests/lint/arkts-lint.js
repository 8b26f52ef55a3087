#!/usr/bin/env node
// ArkTS lint of every .ets file in the repository, with the real ArkTS linter (ArkTSLinter_1_1
// from the npm package ohos-typescript), plus the TypeScript syntax diagnostics, plus type
// checking of the files that need no SDK declarations (everything but ArkUI pages).
// Exits 1 on any error. Usage: node tests/lint/arkts-lint.js [files...]
'use strict';
const fs = require('fs');
const path = require('path');
const { checkEts, placeOf, ts, root } = require('./ets-check');

// must-fail/: wrong typed calls that tests/host/typed-lint.test.js checks are rejected.
const SKIP_DIRS = new Set(['must-fail', 'node_modules', 'oh_modules', 'target', '.git', 'build', '.hvigor', '.preview']);

function findEts(dir, out) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) {
      if (!SKIP_DIRS.has(entry.name)) findEts(path.join(dir, entry.name), out);
    } else if (entry.name.endsWith('.ets')) {
      out.push(path.join(dir, entry.name));
    }
  }
  return out;
}

// ArkUI pages, and files that import the SDK (@kit.* / @ohos.* modules: abilities, test
// runners), can be type-checked only with the SDK's declarations, which are not available
// here: they get the ArkTS rules and the syntax check. Everything else is type-checked too.
function needsSdk(text) {
  return /@(Entry|Component|ComponentV2)\b/.test(text) || /\bfrom\s+['"]@(kit|ohos)\./.test(text);
}

const files = process.argv.length > 2 ? process.argv.slice(2).map((f) => path.resolve(f)) : findEts(root, []);
fs.mkdirSync(path.join(root, 'target'), { recursive: true });
const diagnostics = checkEts(files, {
  buildInfo: path.join(root, 'target', 'arkts-lint.tsbuildinfo'),
  typeCheck: (text) => !needsSdk(text),
});

let errors = 0;
let warnings = 0;
const seen = new Set();
for (const d of diagnostics) {
  const at = placeOf(d);
  const where = at.file ? `${path.relative(root, at.file)}:${at.line}:${at.column}` : '(global)';
  const text = `${where} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
  if (seen.has(text)) continue;
  seen.add(text);
  if (d.category === ts.DiagnosticCategory.Error) {
    errors++;
    console.log(`error ${text}`);
  } else if (d.category === ts.DiagnosticCategory.Warning) {
    warnings++;
    console.log(`warning ${text}`);
  }
}
console.log(`ArkTS lint: ${files.length} .ets files, ${errors} errors, ${warnings} warnings`);
process.exit(errors > 0 ? 1 : 0);
