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
