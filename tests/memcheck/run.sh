#!/usr/bin/env bash
# The memory check: runs tests/memcheck/exercise.js (every native code path of ArkFFI: calls
# of every kind, strings, buffers, memory helpers, structs and held results, callbacks on the
# JS thread and from C threads, exceptions, nonblocking calls, errors, close) under valgrind
# memcheck on `node --jitless`, and fails on any memory error or definite leak. Only what is
# provably Node's own is suppressed (tests/memcheck/node.supp, commented).
# Needs the host build: run `bash scripts/test.sh` (or scripts/setup.sh) first.
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v valgrind >/dev/null 2>&1; then
  echo "tests/memcheck/run.sh: valgrind is missing; install it: apt-get install valgrind" >&2
  exit 1
fi
log="target/memcheck.log"
status=0
valgrind --tool=memcheck --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite \
  --num-callers=40 --error-exitcode=3 --suppressions=tests/memcheck/node.supp \
  node --jitless --expose-gc tests/memcheck/exercise.js >"$log" 2>&1 || status=$?
grep -E "exercise ok|ERROR SUMMARY|definitely lost:" "$log" || true
if [ "$status" -ne 0 ] || ! grep -q "exercise ok" "$log"; then
  echo "memcheck: FAILED (exit $status); the full report is in $log" >&2
  exit 1
fi
echo "memcheck: no memory errors and no definite leaks in ArkFFI or its fixtures"
