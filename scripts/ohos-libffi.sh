#!/usr/bin/env bash
# Builds the libffi that the `libffi-sys` crate bundles as a static, position-independent
# archive for one OpenHarmony ABI, outside cargo. Called by scripts/build-ohos.sh; see
# docs/ohos-build.md for why.
#
# Why: libffi-sys's own build runs the bundled `configure --host=<rust target>`, and the
# bundled config.sub (2022) rejects the OS of `aarch64-unknown-linux-ohos` ("OS `ohos' not
# recognized"). OpenHarmony's libc is musl, so libffi is configured here for the same CPU
# with `<cpu>-linux-musl` and compiled with the NDK's clang (CC, given by the caller). The
# crate then links it through libffi's `system` feature (Cargo.toml, target_env = "ohos";
# build.rs puts this archive first on the search path, so it is linked statically).
#
# Usage: scripts/ohos-libffi.sh --host <cpu>-linux-musl --prefix <dir>
#   Environment: CC (required: the target C compiler); AR, RANLIB, NM, STRIP, CFLAGS (optional).
# Result: <dir>/lib/libffi.a and <dir>/include/ffi.h; no shared library. The build is
# skipped when <dir> already holds one made from the same source, host, CC and CFLAGS.
# Fails if the result would not use static trampolines (FFI_EXEC_STATIC_TRAMP): ArkFFI does
# not use libffi's closure allocator (JSCallback pointers are compiled-in slots), and with
# them that allocator, if anything ever called it, would not map executable anonymous memory,
# which HarmonyOS forbids.
set -euo pipefail

usage() { sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; }

host=""
prefix=""
while [ $# -gt 0 ]; do
  case "$1" in
    --host) host="${2:-}"; shift 2 ;;
    --prefix) prefix="${2:-}"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "ohos-libffi.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
if [ -z "$host" ] || [ -z "$prefix" ]; then
  echo "ohos-libffi.sh: --host and --prefix are required (see --help)" >&2
  exit 2
fi
if [ -z "${CC:-}" ]; then
  echo "ohos-libffi.sh: set CC to the target's C compiler" >&2
  exit 2
fi
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# The libffi source is the one bundled with the libffi-sys version in Cargo.lock, so the
# headers and the library agree with the Rust bindings of the host build.
if ! meta="$(cargo metadata --format-version 1 --locked)"; then
  echo "ohos-libffi.sh: 'cargo metadata --locked' failed (above); the libffi source comes from the libffi-sys crate" >&2
  exit 1
fi
src="$(printf '%s' "$meta" | node -e '
  let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
    const p = JSON.parse(s).packages.find((q) => q.name === "libffi-sys");
    if (p) console.log(require("path").join(require("path").dirname(p.manifest_path), "libffi"));
  });')"
if [ -z "$src" ] || [ ! -x "$src/configure" ]; then
  echo "ohos-libffi.sh: the libffi source of the libffi-sys crate was not found (run 'cargo fetch --locked')" >&2
  exit 1
fi

mkdir -p "$prefix"
prefix="$(cd "$prefix" && pwd)"
# What the result depends on: the source, the host, the tools and flags, and the compiler:
# the wrapper's text, and what the driver does with it — its full command for compiling C
# (`-###`: the real compiler, its target, sysroot, include paths, defines, whatever script
# sits in between) and a hash of the compiler it runs. So a changed NDK, or a changed
# stand-in NDK behind the same path, rebuilds libffi.
# (gcc names temporary files in it: those names are masked.)
driver="$("$CC" -### -c -x c /dev/null -o /dev/null 2>&1 | sed -E 's#[^ "'"'"']*/cc[A-Za-z0-9]{6}\.([a-z]+)#TMP.\1#g' || true)"
cc1="$(printf '%s\n' "$driver" | sed -n 's/^ *"\([^"]*\)" "-cc1".*/\1/p' | head -n 1)"
fingerprint="$({
  cat "$CC" 2>/dev/null || true
  printf '%s\n' "$driver"
  if [ -n "$cc1" ] && [ -f "$cc1" ]; then sha256sum <"$cc1"; fi
  for t in "${AR:-}" "${RANLIB:-}" "${NM:-}" "${STRIP:-}"; do
    if [ -n "$t" ]; then "$t" --version 2>/dev/null | head -n 1 || true; fi
  done
} | sha256sum | cut -d' ' -f1)"
stamp="src=$src host=$host cc=$CC compiler=$fingerprint ar=${AR:-} ranlib=${RANLIB:-} nm=${NM:-} strip=${STRIP:-} cflags=${CFLAGS:-}"
if [ -f "$prefix/lib/libffi.a" ] && [ "$(cat "$prefix/.arkffi-stamp" 2>/dev/null)" = "$stamp" ]; then
  echo "libffi for $host is up to date in $prefix"
  exit 0
fi

build="$prefix/build"
rm -rf "$build" "$prefix/lib" "$prefix/include" "$prefix/.arkffi-stamp"
cp -R "$src" "$build"
chmod -R u+w "$build"
echo "== libffi ($(basename "$(dirname "$src")")) for $host with $CC"
(
  cd "$build"
  # --disable-multi-os-directory: the archive lands in lib/, not lib64/ or lib/../lib64.
  ./configure --host="$host" --prefix="$prefix" --with-pic --enable-static --disable-shared \
    --disable-docs --disable-multi-os-directory --enable-exec-static-tramp >configure.log 2>&1 ||
    { tail -n 30 configure.log >&2; echo "ohos-libffi.sh: configure failed (log: $build/configure.log)" >&2; exit 1; }
  make -j"$(nproc 2>/dev/null || echo 2)" install >make.log 2>&1 ||
    { tail -n 30 make.log >&2; echo "ohos-libffi.sh: make failed (log: $build/make.log)" >&2; exit 1; }
)

# configure writes its header into a directory named for the canonical host triplet.
config_h="$(find "$build" -path "$build/msvc_build" -prune -o -name fficonfig.h -print | head -n 1)"
if [ -z "$config_h" ] || ! grep -q '^#define FFI_EXEC_STATIC_TRAMP 1' "$config_h"; then
  echo "ohos-libffi.sh: this libffi build for $host does not use static trampolines" \
    "(FFI_EXEC_STATIC_TRAMP is not 1 in ${config_h:-fficonfig.h}); its closure allocator would" \
    "map executable anonymous memory, which HarmonyOS forbids" >&2
  exit 1
fi
rm -f "$prefix"/lib/libffi.so* "$prefix"/lib/libffi.la
if [ ! -f "$prefix/lib/libffi.a" ]; then
  echo "ohos-libffi.sh: $prefix/lib/libffi.a was not produced" >&2
  exit 1
fi
echo "$stamp" >"$prefix/.arkffi-stamp"
echo "libffi for $host: $prefix/lib/libffi.a (static trampolines on)"
