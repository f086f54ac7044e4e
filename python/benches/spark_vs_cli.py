"""Spark local[N] against `fastiam replay --threads N` on the same JSON Lines file, in one run
(BENCHMARKS.md, "Python package"): records/s of each, Spark's start-up apart; then
DuckDB (examples/duckdb_replay.py's query), `Replayer.replay_arrow` and
`Program.evaluate_many` are not here — see throughput.py.

    fastiam synth corpus/replay/logs -n 500000 -o /tmp/synth500k.jsonl
    python python/benches/spark_vs_cli.py /tmp/synth500k.jsonl [--threads 2] [--fastiam BIN]

Each side runs `--runs` times alternately (CLI, Spark, CLI, …) so both see the same load;
the medians are printed. Spark's figure is one job over the file: read as text (one record
per row), replayed by `fastiam.spark.replay`, and summarised by `fastiam.spark.summary`
(one pass); its start-up (session and the first Python workers, measured on a one-row job)
is reported apart.
"""

import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import time

REPO = pathlib.Path(__file__).resolve().parents[2]
SCP = REPO / "corpus" / "replay" / "policies" / "network-perimeter-iam-users-scp.json"


def cli_seconds(binary, path, threads):
    started = time.perf_counter()
    out = subprocess.run(
        [binary, "replay", "--quiet", "--json", "--threads", str(threads), "--scp", str(SCP), path],
        check=False, capture_output=True, text=True,
    )
    seconds = time.perf_counter() - started
    if out.returncode not in (0, 4):
        sys.exit(f"fastiam replay failed ({out.returncode}): {out.stderr[-2000:]}")
    return seconds, json.loads(out.stdout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("jsonl")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--fastiam", default=str(REPO / "target" / "release" / "fastiam"))
    a = ap.parse_args()
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    from fastiam import spark as fs

    records = sum(1 for _ in open(a.jsonl, "rb"))
    print(f"{records:,} records in {a.jsonl}; load average {os.getloadavg()}")

    started = time.perf_counter()
    session = (
        SparkSession.builder.master(f"local[{a.threads}]")
        .appName("fastiam-bench")
        .config("spark.ui.enabled", "false")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    session_ready = time.perf_counter()
    # The first job starts the Python workers: a one-row job, timed apart.
    fs.summary(fs.replay(session.createDataFrame([("{}",)], ["value"]), scp=[[SCP]]))
    workers_ready = time.perf_counter()
    print(f"Spark start-up: session {session_ready - started:.1f} s, first job (Python workers) "
          f"{workers_ready - session_ready:.1f} s")

    cli, spark = [], []
    for run in range(a.runs):
        seconds, report = cli_seconds(a.fastiam, a.jsonl, a.threads)
        cli.append(seconds)
        started = time.perf_counter()
        summary = fs.summary(fs.replay(session.read.text(a.jsonl), scp=[[SCP]]))
        spark.append(time.perf_counter() - started)
        same = summary["all"] == report["all"] and summary["records"] == report["records"]
        print(f"run {run}: CLI {seconds:.1f} s, Spark {spark[-1]:.1f} s; "
              f"counts equal: {same}; load {os.getloadavg()[0]:.1f}")
        if not same:
            print("  CLI:", report["all"], report["records"], "Spark:", summary["all"], summary["records"])
    c, s = statistics.median(cli), statistics.median(spark)
    print(f"fastiam replay --threads {a.threads}: {records / c:,.0f} records/s (median {c:.1f} s)")
    print(f"Spark local[{a.threads}] fastiam.spark:  {records / s:,.0f} records/s (median {s:.1f} s)")
    print(f"Spark / CLI: {c / s:.2f}x")
    session.stop()


if __name__ == "__main__":
    main()
