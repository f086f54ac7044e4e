"""Spark local mode: the replay as a DataFrame, counted by Spark, equals `fastiam replay`.

Skipped with the reason where pyspark or a Java runtime is missing (python/ci.sh installs
pyspark; the machines have Java 17).
"""

import json
import os
import shutil
import subprocess
import sys

import pytest

from conftest import CORPUS

pyspark = pytest.importorskip("pyspark", reason="pyspark is not installed")
if shutil.which("java") is None:
    pytest.skip("no Java runtime for Spark", allow_module_level=True)

from fastiam import spark as fs  # noqa: E402

LOGS = CORPUS / "replay" / "logs"
SCP = CORPUS / "replay" / "policies" / "network-perimeter-iam-users-scp.json"


@pytest.fixture(scope="module")
def session():
    from pyspark.sql import SparkSession

    # The workers run this interpreter (its venv has fastiam and pyarrow), not `python3`.
    os.environ["PYSPARK_PYTHON"] = sys.executable
    s = (
        SparkSession.builder.master("local[2]")
        .appName("fastiam-test")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .getOrCreate()
    )
    yield s
    s.stop()


def test_spark_counts_equal_the_command_line(session, fastiam_bin):
    cli = json.loads(
        subprocess.run(
            [fastiam_bin, "replay", "--json", "--scp", str(SCP), str(LOGS)],
            check=True, capture_output=True, text=True,
        ).stdout
    )
    records = fs.read_logs(session, [str(LOGS)])
    decisions = fs.replay(records, scp=[[SCP]])
    got = fs.summary(decisions)
    assert got["records"] == cli["records"] - cli["unreadable"]["count"]
    assert got["all"] == cli["all"]
    assert got["unmappable"] == {k: v["count"] for k, v in cli["unmappable"].items()}
    # Denials grouped as the command line groups them.
    want = sorted((d["principal"], d["action"], d["deciders"], d["count"]) for d in cli["denied"])
    have = sorted((d["principal"], d["action"], d["matched"], d["count"]) for d in got["denied"])
    assert have == want


def test_spark_rows_are_the_replay_arrow_rows(session):
    import fastiam
    import pyarrow as pa

    records = fs.read_logs(session, [str(LOGS)])
    texts = [r["value"] for r in records.collect()]
    decisions = fs.replay(records, scp=[[SCP]]).collect()
    direct = fastiam.Replayer(scp=[[SCP]]).replay_arrow(pa.array(texts)).to_pylist()
    key = lambda r: (r["record"] or "", r["action"] or "", r["error"] or "")  # noqa: E731
    spark_rows = sorted(({c: r[c] for c in fs.COLUMNS if c != "row"} for r in decisions), key=key)
    direct_rows = sorted(({c: r[c] for c in fs.COLUMNS if c != "row"} for r in direct), key=key)
    assert spark_rows == direct_rows


def test_spark_file_path_equals_the_cli_record_for_record(session, fastiam_bin, tmp_path):
    """`replay(paths)`: the tasks read the files themselves, in byte ranges small enough to
    cut both JSON Lines exports mid-way; every record comes back once, as the CLI has it."""
    from file_rows import arrow_rows, cli_rows, logs_tree
    from test_replay import log_records

    exports = logs_tree(tmp_path / "exports", log_records())
    inputs = [str(p) for p in (LOGS, *exports, tmp_path / "missing.json")]
    cli, want = cli_rows(fastiam_bin, inputs, tmp_path / "rows.jsonl")
    planned = fs.plan(inputs, task_bytes=50_000)
    assert len(planned.partitions) > 10 and planned.skipped
    decisions = fs.replay(planned, scp=[[SCP]], spark=session)
    assert decisions.rdd.getNumPartitions() == len(planned.partitions)
    assert decisions.columns == fs.FILE_COLUMNS
    rows = [r.asDict() for r in decisions.collect()]
    # The command line counts a path it cannot list as unreadable but writes no row for it.
    listed = [r for r in rows if r["position"] != "path"]
    assert len(rows) - len(listed) == 1
    assert arrow_rows(listed) == want
    got = fs.summary(fs.replay(inputs, scp=[[SCP]], spark=session, columns=fs.SUMMARY_COLUMNS))
    assert got["records"] == len(rows) == 3 * 698 + 2
    assert got["all"] == cli["all"]
    unmappable = {k: v["count"] for k, v in cli["unmappable"].items()}
    assert got["unmappable"] == {**unmappable, "unreadable": cli["unreadable"]["count"]}
    want_denied = sorted((d["principal"], d["action"], d["deciders"], d["count"]) for d in cli["denied"])
    have = sorted((d["principal"], d["action"], d["matched"], d["count"]) for d in got["denied"])
    assert have == want_denied


def test_spark_summary_of_paths_counts_in_the_tasks(session, fastiam_bin, tmp_path):
    """`summary(paths)`: each task counts its records into groups; the same report."""
    inputs = [str(LOGS), str(tmp_path / "missing.json")]
    cli = json.loads(
        subprocess.run(
            [fastiam_bin, "replay", "--json", "--scp", str(SCP), *inputs],
            capture_output=True, text=True,
        ).stdout
    )
    got = fs.summary(inputs, scp=[[SCP]], spark=session, task_bytes=20_000)
    whole = fs.summary(fs.replay(inputs, scp=[[SCP]], spark=session))
    assert got == whole
    assert got["records"] == 698 + 1
    assert got["all"] == cli["all"]
    unmappable = {k: v["count"] for k, v in cli["unmappable"].items()}
    assert got["unmappable"] == {**unmappable, "unreadable": cli["unreadable"]["count"]}
    want = sorted((d["principal"], d["action"], d["deciders"], d["count"]) for d in cli["denied"])
    assert sorted((d["principal"], d["action"], d["matched"], d["count"]) for d in got["denied"]) == want
