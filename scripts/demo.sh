#!/usr/bin/env bash
# The demo command: sets up a fresh machine (scripts/setup.sh), then runs examples/demo.ets
# through the host build: calls into libc, libm and the fixture library, printing each call.
set -euo pipefail
source "$(dirname "$0")/setup.sh"
node scripts/demo.js
