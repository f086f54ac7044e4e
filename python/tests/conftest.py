"""Shared fixtures: the repository's corpus and the `fastiam` binary to compare against.

The tests read only files of this repository (corpus/) and run only its own binary; they
never touch ../shared or the network.
"""

import os
import pathlib
import shutil

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
CORPUS = REPO / "corpus"


@pytest.fixture(scope="session")
def repo() -> pathlib.Path:
    return REPO


@pytest.fixture(scope="session")
def fastiam_bin() -> str:
    """The command-line binary: $FASTIAM_BIN, else the newest of target/{release,debug}."""
    given = os.environ.get("FASTIAM_BIN")
    if given:
        return given
    built = [REPO / "target" / p / "fastiam" for p in ("release", "debug")]
    built = [p for p in built if p.is_file()]
    if built:
        return str(max(built, key=lambda p: p.stat().st_mtime))
    found = shutil.which("fastiam")
    if found:
        return found
    pytest.fail("no fastiam binary: run `cargo build` or set FASTIAM_BIN (python/ci.sh does)")
