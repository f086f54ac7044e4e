#!/usr/bin/env bash
# Every test: the Rust tests, then the Python package's (python/ci.sh builds the wheel
# into a virtual environment under target/ and runs pytest against it).
set -euo pipefail
cd "$(dirname "$0")"
cargo test
bash python/ci.sh
