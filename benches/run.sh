#!/usr/bin/env bash
# The benchmark command: builds everything the benchmark measures, in this run, then runs it.
#   1. the ArkFFI host build (target/host/), through scripts/setup.sh, the set-up of
#      scripts/test.sh: npm packages, cargo build --release, scripts/build-host.js, fixtures.
#      --no-build-arkffi skips it and measures target/host/ as it is (run.js warns when it is
#      older than src/ or ets/);
#   2. the C library benches/native/benchlib.c -> target/bench/libbenchlib.so (system cc);
#   3. the hand-written NAPI baseline benches/baseline -> target/bench/baseline.node.
# koffi (the peer) is the npm package in node_modules (a devDependency, installed by npm ci in
# scripts/setup.sh); not built here. When it cannot be loaded, run.js goes on without it.
# Every other argument goes to benches/run.js (--quick, --filter a,b, --jitless, --both,
# --json, --samples N, --target-ms N, --list; ARKFFI_KOFFI=none leaves koffi out).
# Usage: bash benches/run.sh [--no-build-arkffi] [run.js options]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

build_arkffi=1
args=()
for a in "$@"; do
  case "$a" in
    --no-build-arkffi) build_arkffi=0 ;;
    *) args+=("$a") ;;
  esac
done

if [ "$build_arkffi" = 1 ]; then
  if [ -f "$root/scripts/setup.sh" ]; then
    echo "== ArkFFI host build (scripts/setup.sh)" >&2
    # setup.sh is written to be sourced (it cds to the root); sourced in a shell of its own,
    # so that its `set -e` holds. Its output goes to stderr: stdout stays the benchmark's.
    if ! bash -c 'source "$1"' setup "$root/scripts/setup.sh" >&2; then
      echo "benches/run.sh: the ArkFFI build failed (above). Fix it, or measure the existing" >&2
      echo "  target/host/ with: bash benches/run.sh --no-build-arkffi ..." >&2
      exit 1
    fi
  else
    echo "benches/run.sh: scripts/setup.sh is missing: measuring target/host/ as it is" >&2
  fi
fi
cd "$root"
if [ ! -f target/host/index.js ]; then
  echo "benches/run.sh: target/host/index.js is missing: run bash scripts/test.sh first" >&2
  echo "  (the benchmark then measures the baseline alone)" >&2
fi

cc="${CC:-cc}"
if ! command -v "$cc" >/dev/null 2>&1; then
  echo "benches/run.sh: no C compiler ('$cc'); install one: apt-get install gcc" >&2
  exit 1
fi
mkdir -p target/bench
echo "== C library (target/bench/libbenchlib.so)" >&2
"$cc" -std=c11 -O2 -Wall -Wextra -Werror -fPIC -shared \
  -o target/bench/libbenchlib.so benches/native/benchlib.c

echo "== NAPI baseline (target/bench/baseline.node)" >&2
cargo build --release --locked --quiet \
  --manifest-path benches/baseline/Cargo.toml --target-dir "$root/target/bench-baseline" >&2
cp target/bench-baseline/release/libarkffi_bench_baseline.so target/bench/baseline.node

echo "== benchmark" >&2
exec node benches/run.js ${args[@]+"${args[@]}"}
