#!/usr/bin/env bash
# The load test of the OpenHarmony builds: loads each ets/libs/<abi>/libarkffi.so (as
# scripts/build-ohos.sh ships it) with musl's own dynamic loader — x86_64 natively, aarch64
# under qemu-aarch64-static — in a tiny C host (host.c) built against the NDK's sysroot, with
# RTLD_NOW, and checks that the module's constructor registered a module named `arkffi`; then
# initialises the module against the host's minimal NAPI engine and calls __debugPanic twice
# (an argument error; a panic caught by catch_unwind). An undefined symbol (one that neither
# the library nor libc.so nor libace_napi.z.so defines) fails here as it would on a device
# at `import`: each run first checks that on a control library (undefined.c).
#
# Usage: bash tests/ohos-load/run.sh [--abi arm64-v8a|x86_64|all]   (default: both)
# OHOS_NDK_HOME: the NDK to build the host with; default the stand-in, target/ohos-ndk-standin
# (tests/ohos-ndk-standin/setup.sh). Needs musl's loaders (/lib/ld-musl-x86_64.so.1,
# /lib/ld-musl-aarch64.so.1: Debian's musl and musl:arm64) and qemu-user-static.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
abis=()
while [ $# -gt 0 ]; do
  case "$1" in
    --abi)
      case "${2:-}" in
        arm64-v8a|x86_64) abis+=("$2") ;;
        all) abis+=(arm64-v8a x86_64) ;;
        *) echo "ohos-load: --abi takes arm64-v8a, x86_64 or all, not '${2:-}'" >&2; exit 2 ;;
      esac
      shift 2 ;;
    *) echo "ohos-load: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
[ ${#abis[@]} -gt 0 ] || abis=(arm64-v8a x86_64)
ndk="${OHOS_NDK_HOME:-$PWD/target/ohos-ndk-standin}"
clang="$ndk/native/llvm/bin/clang"
[ -x "$clang" ] || { echo "ohos-load: $clang is missing (bash tests/ohos-ndk-standin/setup.sh)" >&2; exit 2; }

status=0
for abi in "${abis[@]}"; do
  case "$abi" in
    arm64-v8a) t=aarch64-linux-ohos; rt=aarch64-unknown-linux-ohos; loader=/lib/ld-musl-aarch64.so.1; run=(qemu-aarch64-static) ;;
    x86_64) t=x86_64-linux-ohos; rt=x86_64-unknown-linux-ohos; loader=/lib/ld-musl-x86_64.so.1; run=() ;;
  esac
  so="$PWD/ets/libs/$abi/libarkffi.so"
  [ -f "$so" ] || { echo "ohos-load: $so is missing (bash scripts/build-ohos.sh --abi $abi)" >&2; exit 2; }
  [ -e "$loader" ] || { echo "ohos-load: musl's loader $loader is missing (apt-get install musl musl:arm64)" >&2; exit 2; }
  if [ ${#run[@]} -gt 0 ] && ! command -v "${run[0]}" >/dev/null; then
    echo "ohos-load: ${run[0]} is missing (apt-get install qemu-user-static)" >&2; exit 2
  fi
  work="$PWD/target/ohos-load/$abi"
  mkdir -p "$work"
  cc=("$clang" --target="$t" --sysroot="$ndk/native/sysroot" -D__MUSL__ -O1 -Wall -Werror)
  # The run-time libace_napi.z.so: each NAPI function napi-ohos declares, returning
  # napi_generic_failure, except napi_module_register. The host defines that one and the few
  # its engine implements, and exports them (--export-dynamic), so they take precedence.
  node tests/ohos-ndk-standin/napi-functions.js "$rt" | grep -vx napi_module_register |
    sed 's/.*/int &(void) { return 9; }/' >"$work/ace_napi.c"
  "${cc[@]}" -shared -fPIC -Wl,-soname,libace_napi.z.so -o "$work/libace_napi.z.so" "$work/ace_napi.c"
  "${cc[@]}" -Wl,--export-dynamic -o "$work/ohos-load" tests/ohos-load/host.c
  echo "== load test $abi (musl's $loader${run[0]:+ under ${run[0]}})"
  # The control first: a library with an undefined symbol must fail to load here.
  "${cc[@]}" -shared -fPIC -o "$work/libundefined.so" tests/ohos-load/undefined.c
  if control="$(env LD_LIBRARY_PATH="$work" ${run[@]+"${run[@]}"} "$work/ohos-load" "$work/libundefined.so" 2>&1)" ||
    ! printf '%s' "$control" | grep -q 'arkffi_load_test_undefined: symbol not found'; then
    echo "ohos-load: the control library with an undefined symbol did not fail to load as it must: $control" >&2
    status=1
  else
    echo "control: a library with an undefined symbol fails to load here ($(printf '%s' "$control" | sed 's/.*failed: //'))"
  fi
  if ! env LD_LIBRARY_PATH="$work" ${run[@]+"${run[@]}"} "$work/ohos-load" "$so"; then status=1; fi
done
exit "$status"
