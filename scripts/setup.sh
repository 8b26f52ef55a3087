#!/usr/bin/env bash
# Shared set-up of scripts/test.sh and scripts/demo.sh on a fresh Debian machine with Rust
# and Node.js: checks the tools, installs the pinned npm packages (package-lock.json), builds
# the crate for this machine, the host package (target/host/) and the C fixtures.
# Sourced, not run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

need() {
  if ! command -v "$1" >/dev/null 2>&1; then
    echo "ArkFFI set-up: '$1' is missing. $2" >&2
    exit 1
  fi
}
need cargo "Install Rust with rustup (https://rustup.rs)."
need node "Install Node.js 18 or newer (apt-get install nodejs npm)."
need npm "Install npm (apt-get install npm)."
need "${CC:-cc}" "Install a C compiler (apt-get install gcc)."
node_major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$node_major" -lt 18 ]; then
  echo "ArkFFI set-up: Node.js $(node --version) is too old; 18 or newer is needed." >&2
  exit 1
fi

# arkffi-bindgen's Debian packages: libclang (with clang's own headers) and the headers that
# its tests bind (zlib.h, sqlite3.h). apt-get only for what is missing, only as root.
missing_debs=()
for deb in libclang-14-dev zlib1g-dev libsqlite3-dev; do
  dpkg-query -W -f='${Status}' "$deb" 2>/dev/null | grep -q 'install ok installed' || missing_debs+=("$deb")
done
if [ "${#missing_debs[@]}" -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing_debs[@]}"
  else
    echo "ArkFFI set-up: missing ${missing_debs[*]} (libclang for arkffi-bindgen, headers for its tests). Install them as root: apt-get install ${missing_debs[*]}" >&2
    exit 1
  fi
fi

# npm packages, exactly as locked (no install scripts are needed by any of them).
lock_sum="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [ "$(cat node_modules/.arkffi-lock 2>/dev/null || true)" != "$lock_sum" ]; then
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_sum" > node_modules/.arkffi-lock
fi

cargo build --release --locked
node scripts/build-host.js
bash tests/fixtures/build.sh
