#!/usr/bin/env bash
# Builds libarkffi.so for OpenHarmony / HarmonyOS and puts it where the HAR package expects
# it: ets/libs/arm64-v8a/ (devices, aarch64-unknown-linux-ohos) and ets/libs/x86_64/ (the
# emulator, x86_64-unknown-linux-ohos), stripped and checked (scripts/ohos-check-so.js); the
# unstripped library stays in target/ohos/<abi>/unstripped/. docs/ohos-build.md explains it.
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
# ARKFFI_OHOS_BUILD_STD=1: build the Rust standard library from its source instead
# (cargo -Zbuild-std, with RUSTC_BOOTSTRAP=1; needs rust-src and the cargo of the same
# release as rustc; CARGO and RUSTC name them when they are not the ones on PATH).
set -euo pipefail
# OHOS_NDK_HOME may be relative to where the script was started: make it absolute first.
ndk="${OHOS_NDK_HOME:-}"
if [ -n "$ndk" ] && [ -d "$ndk" ]; then ndk="$(cd "$ndk" && pwd)"; fi
cd "$(dirname "${BASH_SOURCE[0]}")/.."

usage() { sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; }

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
cargo="${CARGO:-cargo}"
build_std="${ARKFFI_OHOS_BUILD_STD:-0}"
case "$build_std" in
  0|1) ;;
  *) problems+=("ARKFFI_OHOS_BUILD_STD is '$build_std'; it takes 1 (build the standard library from source) or 0 (the default: use the installed one).") ;;
esac
for tool in "$cargo" "$rustc" node make; do
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
  # compiler-rt's builtins, which build.rs links in (rustc links with -nodefaultlibs).
  if [ -x "$llvm/clang" ]; then
    for abi in "${abis[@]}"; do
      t="$(rust_target "$abi")"
      rt="$("$llvm/clang" --target="$t" --rtlib=compiler-rt -print-libgcc-file-name 2>/dev/null || true)"
      [ -n "$rt" ] && [ -f "$rt" ] ||
        problems+=("$llvm/clang does not report compiler-rt's builtins for $t (--rtlib=compiler-rt -print-libgcc-file-name gave '${rt}'): the NDK is incomplete.")
    done
  fi
fi
if ! command -v "$rustc" >/dev/null 2>&1; then
  :
elif [ "$build_std" = 1 ]; then
  # The standard library is built from source by cargo (-Zbuild-std): that needs its source
  # next to this rustc, and the cargo of the same release.
  library="$("$rustc" --print sysroot)/lib/rustlib/src/rust/library"
  [ -f "$library/std/Cargo.toml" ] ||
    problems+=("ARKFFI_OHOS_BUILD_STD=1 needs the source of the Rust standard library of $("$rustc" -V), which is not in $library: rustup component add rust-src (or, for Debian's rustc-web, apt-get install rust-web-src)")
  rustc_release="$("$rustc" -V | cut -d' ' -f2 | cut -d. -f1,2)"
  cargo_release="$("$cargo" -V 2>/dev/null | cut -d' ' -f2 | cut -d. -f1,2)"
  [ "$rustc_release" = "$cargo_release" ] ||
    problems+=("ARKFFI_OHOS_BUILD_STD=1 needs the cargo of the same release as rustc ($("$rustc" -V)), not $("$cargo" -V 2>/dev/null): set CARGO (and RUSTC) to the pair, e.g. CARGO=/usr/bin/cargo RUSTC=/usr/bin/rustc")
else
  for abi in "${abis[@]}"; do
    t="$(rust_target "$abi")"
    libdir="$("$rustc" --print target-libdir --target "$t" 2>/dev/null || true)"
    if [ -z "$libdir" ] || ! ls "$libdir"/libcore-*.rlib >/dev/null 2>&1; then
      problems+=("The Rust standard library for $t is not installed: rustup target add $t (or build it from source with ARKFFI_OHOS_BUILD_STD=1, see docs/ohos-build.md)")
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
"$cargo" fetch --locked >/dev/null
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

  flags=(--locked --target "$t")
  [ "$profile" = release ] && flags+=(--release)
  std=()
  if [ "$build_std" = 1 ]; then
    # The standard library from source, with unwinding (catch_unwind keeps panics out of the
    # engine's frames). Cargo builds it into target/<rust target>/ and reuses it next time.
    flags+=(-Zbuild-std=std,panic_unwind)
    std=(RUSTC_BOOTSTRAP=1 "RUSTC=$rustc")
  fi
  echo "== cargo build --target $t ($profile$([ "$build_std" = 1 ] && echo ', standard library from source'))"
  env ${std[@]+"${std[@]}"} OHOS_NDK_HOME="$ndk" ARKFFI_LIBFFI_DIR="$work/libffi/lib" \
    "CARGO_TARGET_${T}_LINKER=$work/bin/clang" "CC_${t_}=$work/bin/clang" "AR_${t_}=$llvm/llvm-ar" \
    "$cargo" build "${flags[@]}"

  # The library as linked (with its symbol table: kept for symbolication), the stripped copy
  # that ships, and the checks of what ships (scripts/ohos-check-so.js). A library that fails
  # them does not reach ets/libs/.
  built="target/$t/$profile/libarkffi.so"
  unstripped="$work/unstripped/libarkffi.so"
  stripped="$work/libarkffi.so"
  mkdir -p "$work/unstripped" "ets/libs/$abi"
  rm -f "ets/libs/$abi/libarkffi.so"
  cp "$built" "$unstripped"
  "$llvm/llvm-strip" --strip-all -o "$stripped" "$unstripped"
  if ! node scripts/ohos-check-so.js --abi "$abi" --ndk "$ndk" "$stripped"; then
    echo "build-ohos.sh: $built (linked for $abi) fails the checks above; nothing was copied to ets/libs/$abi/" >&2
    exit 1
  fi
  cp "$stripped" "ets/libs/$abi/libarkffi.so"
  echo "ets/libs/$abi/libarkffi.so: $(wc -c <"$stripped") bytes stripped (unstripped, for symbolication:" \
    "$unstripped, $(wc -c <"$unstripped") bytes, build ID $("$llvm/llvm-readelf" -n "$unstripped" | sed -n 's/.*Build ID: //p'))"
done
