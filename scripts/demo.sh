#!/usr/bin/env bash
# The demo command: sets up a fresh machine (scripts/setup.sh), then runs examples/demo.ets
# through the host build (calls into libc, libm and the fixture library, printing each call),
# then the sample app's showcase logic against libc, zlib and the app's own C library.
set -euo pipefail
source "$(dirname "$0")/setup.sh"
node scripts/demo.js
# The sample app's showcase (entry/src/main/ets/showcase/Showcase.ets), run on this machine.
node entry/host/run-showcase.js
