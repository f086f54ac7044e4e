#!/usr/bin/env bash
# Every test: the Rust tests (which include the C programs and, where Chromium is installed,
# the HTML report in a real browser), the C test under valgrind, then the Python package's
# (python/ci.sh builds the wheel into a virtual environment under target/ and runs pytest).
# .ci/run installs chromium and valgrind first, then calls this script.
set -euo pipefail
cd "$(dirname "$0")"
cargo test
# The C ABI's C test (tests/c/capi_test.c: conformance corpus, threads, error paths) under
# valgrind's memcheck: no invalid access, no uninitialised read, no leak.
if command -v valgrind >/dev/null 2>&1; then
  cargo test --test integration -- --ignored --nocapture capi::c::c_test_under_valgrind
else
  echo "skipped: the C test under valgrind (valgrind is not installed: apt-get install valgrind)"
fi
bash python/ci.sh
