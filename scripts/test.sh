#!/usr/bin/env bash
# The test command: sets up a fresh machine (scripts/setup.sh), then runs every test:
# Rust unit tests, the ArkTS lint of every .ets file, and the host tests through the
# package's host build against the C fixtures.
set -euo pipefail
source "$(dirname "$0")/setup.sh"

echo "== cargo test"
cargo test --release --locked
echo "== ArkTS lint"
node tests/lint/arkts-lint.js
echo "== host tests (node:test)"
node --test tests/host/
