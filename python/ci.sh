#!/usr/bin/env bash
# The Python package's CI, also runnable by hand: builds the wheel, installs it into a
# fresh virtual environment and runs python/tests against it.
#
#   bash python/ci.sh            # from anywhere in the repository
#
# Needs python3 (3.10 or later) with venv, and PyPI for maturin, pyarrow, pandas, pytest.
# The tests compare with the `fastiam` binary of this checkout (built here if absent).
# Set FASTIAM_PY_VENV to reuse a virtual environment between runs.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
target=${CARGO_TARGET_DIR:-$repo/target}
venv=${FASTIAM_PY_VENV:-$target/python-venv}
wheels=$target/wheels-ci
started=$SECONDS
stamp() { echo "python/ci.sh: $1 ($((SECONDS - started)) s)"; }

if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --upgrade pip
# pyarrow >= 14 reads the Arrow PyCapsule interface; pyspark (local mode, for
# tests/test_spark.py; Java 17 is on the machines) wants pandas < 3; duckdb for the
# DuckDB example's test.
"$venv/bin/python" -m pip install --quiet 'maturin>=1.16,<2' 'pyarrow>=14' 'pandas<3' pytest \
  pyspark duckdb
stamp "environment ready"

rm -rf "$wheels"
"$venv/bin/maturin" build --release --quiet -m python/Cargo.toml -i "$venv/bin/python" -o "$wheels"
wheel=$(ls "$wheels"/fastiam-*.whl)
echo "python/ci.sh: built $(basename "$wheel") ($(du -k "$wheel" | cut -f1) KiB)"
"$venv/bin/python" -m pip install --quiet --force-reinstall --no-deps "$wheel"
stamp "wheel built and installed"

cargo build --quiet -p fastiam --bin fastiam
export FASTIAM_BIN=$target/debug/fastiam

# From python/tests: no `fastiam/` folder there to shadow the installed package.
cd python/tests
status=0
"$venv/bin/python" -m pytest -p no:cacheprovider -q . || status=$?
if [ "$status" = 5 ]; then
  echo "python/ci.sh: pytest collected no test (exit 5): python/tests is broken" >&2
  exit 1
fi
stamp "tests done"
exit "$status"
