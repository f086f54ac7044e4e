"""The replay's Python paths against `fastiam replay --threads N` on the same JSON Lines
file, in one run (BENCHMARKS.md, "Python package"): Spark local[N] reading the file itself
and through a DataFrame (start-up apart), DuckDB (examples/duckdb_replay.py) and
`Replayer.replay_arrow`, records/s of each.

    fastiam synth corpus/replay/logs -n 500000 -o /tmp/synth500k.jsonl
    PYSPARK_PYTHON=$PWD/target/python-venv/bin/python target/python-venv/bin/python \
        python/benches/replay_vs_cli.py /tmp/synth500k.jsonl [--threads 2] [--runs 3] \
        [--modes spark-files,spark-files-summary,spark-counts,spark-dataframe,duckdb,replay_arrow] \
        [--fastiam BIN]

Each path runs `--runs` times alternately (CLI, Spark files, Spark DataFrame, DuckDB,
replay_arrow, CLI, …) so all see the same load; the medians are printed, with each path's
ratio to the CLI. Spark's figures are one job over the file replayed and summarised by
`fastiam.spark.summary` (one pass): "files" is `fastiam.spark.replay(paths)` (the tasks read
byte ranges of the file themselves, Spark reads nothing; every column of every record comes
back to Spark), "files-summary" the same with only the six columns the summary reads,
"counts" `fastiam.spark.summary(paths)` (each task counts its records into groups, Spark adds
the groups up), "dataframe" `fastiam.spark.replay(session.read.text(path))` (Spark reads the
text, each record crosses from the JVM to Python). Their start-up (session, and the first Python workers on a
one-row job) is reported apart. Each figure is also given in records per CPU-second of all
the processes involved (for Spark: the driver, the JVM, the Python workers), which a loaded
machine disturbs less than the wall clock. DuckDB's includes its reading of the file; replay_arrow's
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


def _descendants_cpu():
    """CPU seconds (user + system) of this process and every process under it (Spark's JVM,
    its Python daemon and workers; with what their reaped children used), from /proc.
    The CLI's runs, waited for by this process, are in os.times()'s children fields, which
    are left out here."""
    tick = os.sysconf("SC_CLK_TCK")
    parents, cpu = {}, {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(entry)
        parents[pid] = int(fields[1])
        cpu[pid] = sum(int(x) for x in fields[11:15]) / tick
    me = os.getpid()
    children = {}
    for pid, parent in parents.items():
        children.setdefault(parent, []).append(pid)
    total, stack = 0.0, list(children.get(me, []))
    while stack:
        pid = stack.pop()
        total += cpu.get(pid, 0.0)
        stack.extend(children.get(pid, []))
    own = os.times()
    return total + own.user + own.system


def cli_seconds(binary, path, threads):
    before = os.times()
    started = time.perf_counter()
    out = subprocess.run(
        [binary, "replay", "--quiet", "--json", "--threads", str(threads), "--scp", str(SCP), path],
        check=False, capture_output=True, text=True,
    )
    seconds = time.perf_counter() - started
    after = os.times()
    if out.returncode not in (0, 4):
        sys.exit(f"fastiam replay failed ({out.returncode}): {out.stderr[-2000:]}")
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    return seconds, cpu, json.loads(out.stdout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("jsonl")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--fastiam", default=str(REPO / "target" / "release" / "fastiam"))
    ap.add_argument("--modes", default="spark-files,spark-files-summary,spark-counts,spark-dataframe,"
                    "duckdb,replay_arrow",
                    help="comma-separated: spark-files, spark-files-summary (only the six "
                         "columns fs.summary reads), spark-counts (fs.summary(paths): each task "
                         "counts its records), spark-dataframe, duckdb, replay_arrow")
    a = ap.parse_args()
    modes = a.modes.split(",")
    unknown = set(modes) - {"spark-files", "spark-files-summary", "spark-counts",
                            "spark-dataframe", "duckdb", "replay_arrow"}
    if unknown:
        sys.exit(f"--modes: unknown {sorted(unknown)}")
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
    print(f"{records:,} records in {a.jsonl} ({os.path.getsize(a.jsonl) / 1e6:,.0f} MB); "
          f"{os.cpu_count()} cores; load average {os.getloadavg()}")

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
    print(f"Spark start-up (not in the figures below): session {session_ready - started:.1f} s, "
          f"first job (Python workers) {workers_ready - session_ready:.1f} s")
    # What any job costs, whatever its input: the same one-row job again, warm.
    cpu_before = _descendants_cpu()
    started = time.perf_counter()
    fs.summary(fs.replay(session.createDataFrame([("{}",)], ["value"]), scp=[[SCP]]))
    print(f"Spark's fixed cost of a job (in the figures below): the one-row replay and summary "
          f"again, warm: {time.perf_counter() - started:.2f} s, {_descendants_cpu() - cpu_before:.2f} CPU s")

    column = None
    if "replay_arrow" in modes:
        started = time.perf_counter()
        with open(a.jsonl, encoding="utf-8") as f:
            column = pa.array([line.rstrip("\n") for line in f if line.strip()], pa.string())
        print(f"replay_arrow input: {len(column):,} lines read into an Arrow array in "
              f"{time.perf_counter() - started:.1f} s (not in its figure)")
    replayer = fastiam.Replayer(scp=[[SCP]])

    def spark_files():
        summary = fs.summary(fs.replay([a.jsonl], scp=[[SCP]], spark=session))
        return summary, f"{summary['records']:,} records"

    def spark_files_summary():
        summary = fs.summary(fs.replay([a.jsonl], scp=[[SCP]], spark=session, columns=fs.SUMMARY_COLUMNS))
        return summary, f"{summary['records']:,} records"

    def spark_counts():
        summary = fs.summary([a.jsonl], scp=[[SCP]], spark=session)
        return summary, f"{summary['records']:,} records"

    def spark_dataframe():
        summary = fs.summary(fs.replay(session.read.text(a.jsonl), scp=[[SCP]]))
        return summary, f"{summary['records']:,} records"

    def duckdb():
        con = duckdb_example.replay_with_duckdb(a.jsonl, SCP)
        verdicts = dict(con.execute("select d.verdict, count(*) from decisions group by all").fetchall())
        return None, f"denied {verdicts.get('denied')}"

    def arrow():
        out = replayer.replay_arrow(column)
        return None, f"{out.num_rows:,} rows"

    paths = {
        "spark-files": (f"Spark local[{a.threads}] fastiam.spark.replay(paths)", spark_files),
        "spark-files-summary": (f"Spark local[{a.threads}] fastiam.spark.replay(paths, columns=SUMMARY_COLUMNS)",
                                spark_files_summary),
        "spark-counts": (f"Spark local[{a.threads}] fastiam.spark.summary(paths) (tasks count)", spark_counts),
        "spark-dataframe": (f"Spark local[{a.threads}] fastiam.spark.replay(read.text)", spark_dataframe),
        "duckdb": ("DuckDB example", duckdb),
        "replay_arrow": ("Replayer.replay_arrow (1 process, all cores)", arrow),
    }
    times = {m: [] for m in modes}
    cpus = {m: [] for m in modes}
    cli, cli_cpu = [], []
    for run in range(a.runs):
        seconds, cpu, report = cli_seconds(a.fastiam, a.jsonl, a.threads)
        cli.append(seconds)
        cli_cpu.append(cpu)
        line = [f"run {run}: CLI {seconds:.1f} s ({cpu:.1f} CPU s)"]
        for mode in modes:
            name, f = paths[mode]
            cpu_before = _descendants_cpu()
            started = time.perf_counter()
            summary, note = f()
            times[mode].append(time.perf_counter() - started)
            cpus[mode].append(_descendants_cpu() - cpu_before)
            same = ""
            if summary is not None:
                equal = summary["all"] == report["all"] and summary["records"] == report["records"]
                same = ", counts equal the CLI's" if equal else ", COUNTS DIFFER FROM THE CLI'S"
                if not equal:
                    print("  CLI:", report["all"], report["records"], f"{mode}:", summary["all"], summary["records"])
            line.append(f"{mode} {times[mode][-1]:.1f} s ({cpus[mode][-1]:.1f} CPU s; {note}{same})")
        print("; ".join(line) + f"; load {os.getloadavg()[0]:.1f}")
    c, cc = statistics.median(cli), statistics.median(cli_cpu)
    print("Medians. Wall: records/s and the ratio to the CLI's (what issue 16 measures: >= 0.5x). "
          "CPU: records per CPU-second of every process involved (Spark: JVM, Python workers and "
          "driver), less sensitive to a loaded machine than the wall clock.")
    print(f"fastiam replay --threads {a.threads}: {records / c:,.0f} records/s (median {c:.1f} s); "
          f"{records / cc:,.0f} records per CPU-second")
    for mode in modes:
        m, mc = statistics.median(times[mode]), statistics.median(cpus[mode])
        print(f"{paths[mode][0]}: {records / m:,.0f} records/s (median {m:.1f} s), {c / m:.2f}x the CLI; "
              f"{records / mc:,.0f} records per CPU-second, {cc / mc:.2f}x the CLI's")
    session.stop()


if __name__ == "__main__":
    main()
