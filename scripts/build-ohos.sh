#!/usr/bin/env bash
# Builds libarkffi.so for OpenHarmony / HarmonyOS and puts it where the HAR package expects
# it: ets/libs/arm64-v8a/ (devices, aarch64-unknown-linux-ohos) and ets/libs/x86_64/ (the
# emulator, x86_64-unknown-linux-ohos). docs/ohos-build.md explains every step.
#
# Usage: bash scripts/build-ohos.sh [--abi arm64-v8a|x86_64|all] [--debug] [--check]
#   --abi     the ABI to build; repeat it for several; default: all (both)
#   --debug   a debug build (default: release, as shipped)
#   --check   check the toolchain only and build nothing
#
# Needs: OHOS_NDK_HOME = the OpenHarmony SDK directory that holds native/ (native/llvm,
# native/sysroot), e.g. <DevEco Studio>/sdk/default/openharmony; the Rust targets
# (rustup target add aarch64-unknown-linux-ohos x86_64-unknown-linux-ohos); make and Node.js.
# Stops before building anything when one of them is missing, and says what to install.
set -euo pipefail
# OHOS_NDK_HOME may be relative to where the script was started: make it absolute first.
ndk="${OHOS_NDK_HOME:-}"
if [ -n "$ndk" ] && [ -d "$ndk" ]; then ndk="$(cd "$ndk" && pwd)"; fi
cd "$(dirname "${BASH_SOURCE[0]}")/.."

usage() { sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; }

abis=()
profile=release
check_only=0
while [ $# -gt 0 ]; do
  case "$1" in
    --abi)
      case "${2:-}" in
        arm64-v8a|x86_64) abis+=("$2") ;;
        all) abis+=(arm64-v8a x86_64) ;;
        *) echo "build-ohos.sh: --abi takes arm64-v8a, x86_64 or all, not '${2:-}'" >&2; exit 2 ;;
      esac
      shift 2 ;;
    --debug) profile=debug; shift ;;
    --check) check_only=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "build-ohos.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[ ${#abis[@]} -gt 0 ] || abis=(arm64-v8a x86_64)

# The ABI names of OpenHarmony (the libs/ directories of a HAR/HAP) and what each means to
# Rust (target), clang (--target) and libffi's configure (--host, see scripts/ohos-libffi.sh).
rust_target() { case "$1" in arm64-v8a) echo aarch64-unknown-linux-ohos ;; x86_64) echo x86_64-unknown-linux-ohos ;; esac; }
clang_target() { case "$1" in arm64-v8a) echo aarch64-linux-ohos ;; x86_64) echo x86_64-linux-ohos ;; esac; }
libffi_host() { case "$1" in arm64-v8a) echo aarch64-linux-musl ;; x86_64) echo x86_64-linux-musl ;; esac; }

# ---- Check everything first, report every missing piece at once, build nothing if any.
problems=()
rustc="${RUSTC:-rustc}"
for tool in cargo "$rustc" node make; do
  command -v "$tool" >/dev/null 2>&1 || problems+=("'$tool' is not installed.")
done
llvm=""
case "$PWD" in
  *[[:space:]]*) problems+=("The checkout path '$PWD' contains white space, which libffi's autotools build cannot handle; move or clone the repository to a path without spaces.") ;;
esac
if [ -z "$ndk" ]; then
  problems+=("OHOS_NDK_HOME is not set. Install the OpenHarmony SDK with its native component (DevEco Studio ships it in <DevEco Studio>/sdk/default/openharmony; the command-line SDK in ohos-sdk/linux) and export OHOS_NDK_HOME=<that directory>, the one that holds native/llvm and native/sysroot.")
elif [ ! -d "$ndk" ]; then
  problems+=("OHOS_NDK_HOME=$ndk does not exist.")
elif [ ! -d "$ndk/native" ] && [ -d "$ndk/llvm" ]; then
  problems+=("OHOS_NDK_HOME=$ndk is the native/ directory itself; set it to its parent, $(dirname "$ndk").")
else
  llvm="$ndk/native/llvm/bin"
  for bin in clang llvm-ar llvm-ranlib llvm-nm llvm-strip llvm-readelf; do
    [ -x "$llvm/$bin" ] || problems+=("$llvm/$bin is missing: OHOS_NDK_HOME must hold the SDK's native component (native/llvm).")
  done
  [ -d "$ndk/native/sysroot/usr/include" ] ||
    problems+=("$ndk/native/sysroot is missing or incomplete: OHOS_NDK_HOME must hold the SDK's native component (native/sysroot).")
fi
if command -v "$rustc" >/dev/null 2>&1; then
  for abi in "${abis[@]}"; do
    t="$(rust_target "$abi")"
    libdir="$("$rustc" --print target-libdir --target "$t" 2>/dev/null || true)"
    if [ -z "$libdir" ] || ! ls "$libdir"/libcore-*.rlib >/dev/null 2>&1; then
      problems+=("The Rust standard library for $t is not installed: rustup target add $t")
    fi
  done
fi
if [ ${#problems[@]} -gt 0 ]; then
  echo "build-ohos.sh: cannot build for OpenHarmony on this machine:" >&2
  for p in "${problems[@]}"; do echo "  - $p" >&2; done
  echo "See docs/ohos-build.md." >&2
  exit 2
fi
echo "OpenHarmony toolchain: $llvm/clang, sysroot $ndk/native/sysroot; Rust targets:" \
  "$(for abi in "${abis[@]}"; do printf '%s ' "$(rust_target "$abi")"; done)"
[ "$check_only" = 0 ] || exit 0

# ---- Build each ABI.
cargo fetch --locked >/dev/null
for abi in "${abis[@]}"; do
  t="$(rust_target "$abi")"
  T="$(echo "$t" | tr 'a-z-' 'A-Z_')"  # CARGO_TARGET_<T>_LINKER
  t_="$(echo "$t" | tr '-' '_')"         # CC_<t_> (the cc crate)
  work="$PWD/target/ohos/$abi"
  mkdir -p "$work/bin"

  # The C compiler and linker for this ABI: the NDK's clang with its target and sysroot (the
  # wrapper the Rust platform-support page for *-linux-ohos describes).
  cat >"$work/bin/clang" <<EOF
#!/bin/sh
exec "$llvm/clang" --target=$(clang_target "$abi") --sysroot="$ndk/native/sysroot" -D__MUSL__ "\$@"
EOF
  chmod +x "$work/bin/clang"

  CC="$work/bin/clang" AR="$llvm/llvm-ar" RANLIB="$llvm/llvm-ranlib" NM="$llvm/llvm-nm" \
    STRIP="$llvm/llvm-strip" bash scripts/ohos-libffi.sh --host "$(libffi_host "$abi")" --prefix "$work/libffi"

  echo "== cargo build --target $t ($profile)"
  flags=(--locked --target "$t")
  [ "$profile" = release ] && flags+=(--release)
  env OHOS_NDK_HOME="$ndk" ARKFFI_LIBFFI_DIR="$work/libffi/lib" \
    "CARGO_TARGET_${T}_LINKER=$work/bin/clang" "CC_${t_}=$work/bin/clang" "AR_${t_}=$llvm/llvm-ar" \
    cargo build "${flags[@]}"

  so="target/$t/$profile/libarkffi.so"
  dynamic="$("$llvm/llvm-readelf" -d "$so")"  # a failure of readelf stops the script here
  needed="$(echo "$dynamic" | grep NEEDED || true)"
  if echo "$needed" | grep -q 'libffi'; then
    echo "build-ohos.sh: $so depends on a shared libffi; it must be linked in statically:" >&2
    echo "$needed" >&2
    exit 1
  fi
  if ! echo "$needed" | grep -q 'libace_napi.z.so'; then
    echo "build-ohos.sh: $so does not link libace_napi.z.so (the OpenHarmony NAPI):" >&2
    echo "$needed" >&2
    exit 1
  fi
  mkdir -p "ets/libs/$abi"
  cp "$so" "ets/libs/$abi/libarkffi.so"
  echo "ets/libs/$abi/libarkffi.so ($(wc -c <"$so") bytes; needs:" \
    "$(echo "$needed" | sed 's/.*\[\(.*\)\]/\1/' | tr '\n' ' '))"
done
