"""The DuckDB example (examples/duckdb_replay.py): an Arrow UDF over DuckDB's columns gives
the command line's counts. Skipped with the reason where duckdb is not installed."""

import importlib.util
import json
import subprocess

import pytest

from conftest import CORPUS, REPO

duckdb = pytest.importorskip("duckdb", reason="duckdb is not installed")

LOGS = CORPUS / "replay" / "logs"
SCP = CORPUS / "replay" / "policies" / "network-perimeter-iam-users-scp.json"


def test_duckdb_counts_equal_the_command_line(fastiam_bin):
    spec = importlib.util.spec_from_file_location("duckdb_replay", REPO / "examples" / "duckdb_replay.py")
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    con = example.replay_with_duckdb(str(LOGS / "invictus" / "*.json*"), SCP)
    got = dict(
        con.execute(
            "select coalesce(d.unmappable, d.verdict), count(*) from decisions group by all"
        ).fetchall()
    )
    cli = json.loads(
        subprocess.run(
            [fastiam_bin, "replay", "--json", "--scp", str(SCP), str(LOGS)],
            check=True, capture_output=True, text=True,
        ).stdout
    )
    a = cli["all"]
    want = {
        "allowed": a["allowed"],
        "denied": a["explicit_deny"] + a["implicit_deny"],
        "depends": a["depends_on"],
        **{k: v["count"] for k, v in cli["unmappable"].items()},
    }
    assert {k: v for k, v in got.items() if v} == {k: v for k, v in want.items() if v}
