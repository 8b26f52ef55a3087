// Calls take a direct path (src/direct.rs) when their shape allows, libffi otherwise. This
// runs the core, callback and nonblocking suites again with ARKFFI_NO_DIRECT=1, so that every
// call of theirs goes through libffi too.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('path');
const { spawnSync } = require('child_process');

test('the core suites pass with every call through libffi', () => {
  const files = ['core', 'callbacks', 'nonblocking', 'structs', 'errno'].map((n) => path.join(__dirname, `${n}.test.js`));
  const env = { ...process.env, ARKFFI_NO_DIRECT: '1' };
  delete env.NODE_TEST_CONTEXT; // a run of its own, not a subtest stream of this one
  const r = spawnSync(process.execPath, [...process.execArgv.filter((a) => !a.startsWith('--test')), '--test', ...files], {
    env,
    encoding: 'utf8',
    timeout: 240000,
  });
  const summary = r.stdout.split('\n').filter((l) => /^# (pass|fail) /.test(l)).join(', ');
  assert.equal(r.status, 0, `${summary}\n${r.stdout.split('\n').filter((l) => l.startsWith('not ok')).join('\n')}`);
  assert.match(summary, /# pass [1-9]\d*, # fail 0/);
});
