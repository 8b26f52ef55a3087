#!/usr/bin/env bash
# CI stage: the OpenHarmony builds, on a machine without the OpenHarmony SDK. Assembles the
# stand-in NDK from Debian packages (tests/ohos-ndk-standin/), builds libarkffi.so for both
# ABIs with the unchanged scripts/build-ohos.sh, the Rust standard library built from
# Debian's rust-web-src (ARKFFI_OHOS_BUILD_STD=1, with Debian's rustc-web/cargo-web 1.96;
# cached in target/<ohos target>/), and runs the load test under musl's loaders
# (tests/ohos-load/). Installs the Debian packages it needs when missing (as root).
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS
source tests/ohos-ndk-standin/apt-need.sh
apt_need rustc-web cargo-web rust-web-src qemu-user-static musl:amd64 musl:arm64 make

echo "== stand-in OpenHarmony NDK"
bash tests/ohos-ndk-standin/setup.sh
echo "== OpenHarmony builds (stand-in NDK, standard library from source)"
OHOS_NDK_HOME="$PWD/target/ohos-ndk-standin" ARKFFI_OHOS_BUILD_STD=1 CARGO=/usr/bin/cargo RUSTC=/usr/bin/rustc \
  bash scripts/build-ohos.sh --abi all
echo "== load test (musl's dynamic loader, RTLD_NOW)"
bash tests/ohos-load/run.sh --abi all
echo "== OpenHarmony stage passed in $((SECONDS - started)) s"
