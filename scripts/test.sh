#!/usr/bin/env bash
# The test command: sets up a fresh machine (scripts/setup.sh), then runs every test:
# Rust unit tests, the ArkTS lint of every .ets file, and the host tests through the
# package's host build against the C fixtures (under node --jitless and the exec guard).
set -euo pipefail
source "$(dirname "$0")/setup.sh"

echo "== builds for the tests only"
cargo build --release --locked -p arkffi-bindgen # target/release/arkffi-bindgen, for tests/host/bindgen.test.js
# The same crate with the allocation counter (cargo feature alloc-stats), for
# tests/host/allocations.test.js: target/host-alloc/.
cargo build --release --locked --features alloc-stats --target-dir target/alloc-stats
node scripts/build-host.js --addon target/alloc-stats/release/libarkffi.so --out target/host-alloc
# The crate linked the way OpenHarmony builds link it (scripts/build-ohos.sh): libffi built
# by scripts/ohos-libffi.sh for <cpu>-linux-musl, taken through libffi's `system` feature;
# for tests/host/ohos-build.test.js: target/host-libffi-system/.
CC="${CC:-cc}" bash scripts/ohos-libffi.sh --host "$(uname -m)-linux-musl" --prefix target/libffi-musl
ARKFFI_LIBFFI_DIR="$PWD/target/libffi-musl/lib" \
  cargo build --release --locked --features libffi-system --target-dir target/libffi-system
node scripts/build-host.js --addon target/libffi-system/release/libarkffi.so --out target/host-libffi-system

echo "== cargo test"
cargo test --release --locked
echo "== ArkTS lint"
node tests/lint/arkts-lint.js
echo "== host tests (node:test, --jitless, under the exec guard)"
# HarmonyOS 5 forbids apps anonymous or writable executable memory. The host tests run the
# way a device enforces it: V8 without JIT, and tests/exec-guard/noexec.c preloaded so that
# any such mapping fails (exec-guard.test.js checks the guard is really active).
LD_PRELOAD="$PWD/target/fixtures/libnoexec.so" ARKFFI_EXEC_GUARD=required \
  node --jitless --expose-gc --test tests/host/
echo "== the sample app's instrumented tests on the host (hypium suites of entry/src/ohosTest)"
LD_PRELOAD="$PWD/target/fixtures/libnoexec.so" ARKFFI_EXEC_GUARD=required \
  node --jitless --test-reporter=tap tests/hypium/run-host.js
