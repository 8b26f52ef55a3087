#!/usr/bin/env node
// ArkTS lint of every .ets file in the repository, with the real ArkTS linter (ArkTSLinter_1_1
// from the npm package ohos-typescript), plus the TypeScript syntax diagnostics, plus type
// checking of the files that need no SDK declarations (everything but ArkUI pages).
// Exits 1 on any error. Usage: node tests/lint/arkts-lint.js [files...]
'use strict';
const fs = require('fs');
const path = require('path');
const ts = require('ohos-typescript');

const root = path.resolve(__dirname, '..', '..');
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
const shims = path.join(__dirname, 'shims.d.ts');
const options = {
  target: ts.ScriptTarget.ES2021,
  module: ts.ModuleKind.ESNext,
  moduleResolution: ts.ModuleResolutionKind.NodeJs,
  strict: true,
  noEmit: true,
  incremental: true,
  tsBuildInfoFile: path.join(root, 'target', 'arkts-lint.tsbuildinfo'),
  skipLibCheck: true,
  lib: ['lib.es2021.d.ts'],
  baseUrl: root,
  paths: {
    'libarkffi.so': ['ets/src/main/cpp/types/libarkffi/index.d.ts'],
    'arkffi': ['ets/Index.ets'],
    '@ohos/hypium': ['tests/hypium/index.ets'],
  },
  // The ArkUI components, decorators and style blocks the sample app uses; without the SDK
  // the parser must be told which names are components.
  ets: require('./ets-components.json'),
};
fs.mkdirSync(path.join(root, 'target'), { recursive: true });
const host = ts.createIncrementalCompilerHost(options);
const builder = ts.createIncrementalProgram({ rootNames: [...files, shims], options, host });
const program = builder.getProgram();

const diagnostics = [];
for (const sf of program.getSourceFiles()) {
  if (!sf.fileName.endsWith('.ets')) continue;
  diagnostics.push(...program.getSyntacticDiagnostics(sf));
  if (!needsSdk(sf.text)) diagnostics.push(...program.getSemanticDiagnostics(sf));
}
diagnostics.push(...ts.ArkTSLinter_1_1.runArkTSLinter(builder, undefined, undefined, '1.1'));

let errors = 0;
let warnings = 0;
const seen = new Set();
for (const d of diagnostics) {
  const where = d.file
    ? `${path.relative(root, d.file.fileName)}:${d.file.getLineAndCharacterOfPosition(d.start).line + 1}:${d.file.getLineAndCharacterOfPosition(d.start).character + 1}`
    : '(global)';
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
