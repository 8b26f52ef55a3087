// The one way this repository checks .ets files: TypeScript's syntax and type check plus the
// real ArkTS linter (ArkTSLinter_1_1 of the npm package ohos-typescript), with the package's
// module paths ('arkffi', 'libarkffi.so', '@ohos/hypium') and the ArkUI component names.
// Used by tests/lint/arkts-lint.js (every .ets file) and by the tests that lint what they
// make or expect to fail (tests/host/typed-lint.test.js, tests/host/bindgen.test.js).
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const ts = require('ohos-typescript');

const root = path.resolve(__dirname, '..', '..');
const shims = path.join(__dirname, 'shims.d.ts');

// Every diagnostic of `files` (TypeScript Diagnostic objects): the syntax check of each .ets
// file, the type check of those for which `typeCheck(text)` is true, then the ArkTS linter.
// `buildInfo`: the file where the incremental program keeps its state between runs (default:
// a temporary one, removed afterwards).
function checkEts(files, { buildInfo = null, typeCheck = () => true } = {}) {
  const tmp = buildInfo ? null : fs.mkdtempSync(path.join(os.tmpdir(), 'arkffi-ets-check-'));
  const options = {
    target: ts.ScriptTarget.ES2021,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.NodeJs,
    strict: true,
    noEmit: true,
    incremental: true,
    tsBuildInfoFile: buildInfo || path.join(tmp, 'buildinfo'),
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
  try {
    const host = ts.createIncrementalCompilerHost(options);
    const builder = ts.createIncrementalProgram({ rootNames: [...files, shims], options, host });
    const program = builder.getProgram();
    const diagnostics = [];
    for (const sf of program.getSourceFiles()) {
      if (!sf.fileName.endsWith('.ets')) continue;
      diagnostics.push(...program.getSyntacticDiagnostics(sf));
      if (typeCheck(sf.text)) diagnostics.push(...program.getSemanticDiagnostics(sf));
    }
    diagnostics.push(...ts.ArkTSLinter_1_1.runArkTSLinter(builder, undefined, undefined, '1.1'));
    return diagnostics;
  } finally {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  }
}

// Where a diagnostic is: { file (absolute, or null), line, column } (1-based).
function placeOf(d) {
  if (!d.file) return { file: null, line: 0, column: 0 };
  const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
  return { file: path.resolve(d.file.fileName), line: line + 1, column: character + 1 };
}

// The errors among `diagnostics`: { file, line, text }.
function errorsOf(diagnostics) {
  return diagnostics
    .filter((d) => d.category === ts.DiagnosticCategory.Error)
    .map((d) => ({ ...placeOf(d), text: ts.flattenDiagnosticMessageText(d.messageText, '\n') }));
}

module.exports = { checkEts, errorsOf, placeOf, ts, root };
