"""The replay's Python paths against `fastiam replay --threads N` on the same JSON Lines
file, in one run (BENCHMARKS.md, "Python package"): Spark local[N] (start-up apart),
DuckDB (examples/duckdb_replay.py) and `Replayer.replay_arrow`, records/s of each.

    fastiam synth corpus/replay/logs -n 500000 -o /tmp/synth500k.jsonl
    python python/benches/replay_vs_cli.py /tmp/synth500k.jsonl [--threads 2] [--fastiam BIN]

Each path runs `--runs` times alternately (CLI, Spark, DuckDB, replay_arrow, CLI, …) so all
see the same load; the medians are printed. Spark's figure is one job over the file: read as
text (one record per row), replayed by `fastiam.spark.replay`, and summarised by
`fastiam.spark.summary` (one pass); its start-up (session, and the first Python workers on a
one-row job) is reported apart. DuckDB's includes its reading of the file; replay_arrow's
does not (the lines are read into one Arrow array first, timed apart). `Program.evaluate_many`
against `fastiam eval` is in throughput.py (it takes chains, not log records).
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

    import importlib.util

    import pyarrow as pa

    import fastiam
    from fastiam import spark as fs

    spec = importlib.util.spec_from_file_location("duckdb_replay", REPO / "examples" / "duckdb_replay.py")
    duckdb_example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(duckdb_example)

    records = sum(1 for _ in open(a.jsonl, "rb"))
    print(f"{records:,} records in {a.jsonl}; load average {os.getloadavg()}")

    started = time.perf_counter()
    session = (
        SparkSession.builder.master(f"local[{a.threads}]")
        .appName("fastiam-bench")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    session_ready = time.perf_counter()
    # The first job starts the Python workers: a one-row job, timed apart.
    fs.summary(fs.replay(session.createDataFrame([("{}",)], ["value"]), scp=[[SCP]]))
    workers_ready = time.perf_counter()
    print(f"Spark start-up: session {session_ready - started:.1f} s, first job (Python workers) "
          f"{workers_ready - session_ready:.1f} s")

    started = time.perf_counter()
    with open(a.jsonl, encoding="utf-8") as f:
        column = pa.array([line.rstrip("\n") for line in f if line.strip()], pa.string())
    print(f"replay_arrow input: {len(column):,} lines read into an Arrow array in {time.perf_counter() - started:.1f} s")
    replayer = fastiam.Replayer(scp=[[SCP]])

    cli, spark, duck, arrow = [], [], [], []
    for run in range(a.runs):
        seconds, report = cli_seconds(a.fastiam, a.jsonl, a.threads)
        cli.append(seconds)
        started = time.perf_counter()
        summary = fs.summary(fs.replay(session.read.text(a.jsonl), scp=[[SCP]]))
        spark.append(time.perf_counter() - started)
        same = summary["all"] == report["all"] and summary["records"] == report["records"]
        started = time.perf_counter()
        con = duckdb_example.replay_with_duckdb(a.jsonl, SCP)
        verdicts = dict(con.execute("select d.verdict, count(*) from decisions group by all").fetchall())
        duck.append(time.perf_counter() - started)
        started = time.perf_counter()
        out = replayer.replay_arrow(column)
        arrow.append(time.perf_counter() - started)
        print(f"run {run}: CLI {seconds:.1f} s, Spark {spark[-1]:.1f} s, DuckDB {duck[-1]:.1f} s, "
              f"replay_arrow {arrow[-1]:.1f} s ({out.num_rows:,} rows); Spark counts equal the CLI's: "
              f"{same}; DuckDB denied {verdicts.get('denied')}; load {os.getloadavg()[0]:.1f}")
        if not same:
            print("  CLI:", report["all"], report["records"], "Spark:", summary["all"], summary["records"])
    c = statistics.median(cli)
    print(f"fastiam replay --threads {a.threads}: {records / c:,.0f} records/s (median {c:.1f} s)")
    for name, times in [(f"Spark local[{a.threads}] fastiam.spark", spark), ("DuckDB example", duck),
                        ("Replayer.replay_arrow", arrow)]:
        m = statistics.median(times)
        print(f"{name}: {records / m:,.0f} records/s (median {m:.1f} s), {c / m:.2f}x the CLI")
    session.stop()


if __name__ == "__main__":
    main()
