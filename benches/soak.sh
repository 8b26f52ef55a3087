#!/usr/bin/env bash
# The soak (benches/soak.js): 10M mixed calls, 100k JSCallback cycles, 10k dlopen cycles;
# fails if RSS grows by 10 MB or more after warm-up, or anything is left held or open.
# Two sizing policies that are not leaks would otherwise dominate RSS and are pinned here:
#  - MALLOC_ARENA_MAX=1: glibc gives each thread (V8's GC helpers, libuv workers) its own
#    malloc arena; memory freed on one thread is kept in another's arena, so RSS climbs to a
#    plateau with no leak (measured: +4.6 MB over 80k dlopen cycles with arenas, +0 without);
#  - --max-semi-space-size=1: V8 grows its young generation with the allocation rate up to
#    2x16 MB; capping it keeps that out of the figure (heapUsed stays flat either way).
# Needs the host build: bash scripts/test.sh first. Extra arguments go to soak.js.
set -euo pipefail
cd "$(dirname "$0")/.."
MALLOC_ARENA_MAX=1 exec node --expose-gc --max-semi-space-size=1 benches/soak.js "$@"
