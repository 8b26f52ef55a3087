// Preloaded into every Node process of the aarch64 suite (scripts/test-aarch64.sh sets
// NODE_OPTIONS=--require <this file>).
//
// That suite runs the arm64 Node under qemu-aarch64-static on an x86_64 machine without
// binfmt_misc, where the kernel cannot start an aarch64 executable by itself: a test that
// starts a child Node from process.execPath (the arm64 binary) would fail with ENOEXEC. Here
// process.execPath becomes ARKFFI_NODE_LAUNCHER, a shell script that runs the same arm64 binary
// under qemu, so those children (node:test's own per-file processes included) are the same
// Node with the flags and environment they are given. The x86_64 Node of the build tools is
// left alone.
'use strict';
const launcher = process.env.ARKFFI_NODE_LAUNCHER;
if (launcher && process.arch === 'arm64') process.execPath = launcher;
