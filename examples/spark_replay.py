"""Replay CloudTrail logs against a data-perimeter SCP on Spark (local[*] by default).

    python examples/spark_replay.py [LOGS...] [--master spark://…] [--scp FILE] [--wheel WHEEL]
                                    [--via-dataframe] [--output DIR]

The same job runs on a cluster (Glue, EMR, Databricks) once the fastiam wheel is installed on
the executors, or shipped with --wheel (see fastiam/spark.py). Prints the report's counts and
the largest groups of denials.

Local paths (or paths every executor sees under the same name: a shared mount) are read by
the tasks themselves (`fs.replay(paths)`), the fast way; URLs (`s3://…`, `hdfs://…`) or
--via-dataframe go through Spark's reading (`fs.read_logs`, then `fs.replay(df)`).
"""

import argparse
import json
import os
import pathlib
import sys
import time

from pyspark.sql import SparkSession

from fastiam import spark as fs

REPO = pathlib.Path(__file__).resolve().parents[1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("logs", nargs="*", default=[str(REPO / "corpus/replay/logs")])
    ap.add_argument("--master", default="local[*]")
    ap.add_argument("--scp", default=str(REPO / "corpus/replay/policies/network-perimeter-iam-users-scp.json"))
    ap.add_argument("--wheel", help="ship this fastiam wheel to executors (addFile)")
    ap.add_argument("--output", help="write the decisions here (Parquet)")
    ap.add_argument("--via-dataframe", action="store_true",
                    help="let Spark read the logs (needed for s3:// and other URLs)")
    a = ap.parse_args()
    started = time.time()
    if a.master.startswith("local"):
        # Local workers run this interpreter (where fastiam and pyarrow are installed), not
        # whatever `python3` is first on the PATH.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    session = SparkSession.builder.master(a.master).appName("fastiam-replay").getOrCreate()
    if a.wheel:
        fs.ship_wheel(session, a.wheel)
    ready = time.time()
    scp = [[pathlib.Path(a.scp)]]
    if a.via_dataframe or any("://" in p for p in a.logs):
        decisions = fs.replay(fs.read_logs(session, a.logs), scp=scp)
    else:
        decisions = fs.replay(a.logs, scp=scp, spark=session)
    if a.output:
        decisions.write.mode("overwrite").parquet(a.output)
    report = fs.summary(decisions)
    done = time.time()
    print(json.dumps({k: report[k] for k in ("records", "all", "unmappable")}, indent=2))
    for d in report["denied"][:10]:
        print(f"{d['count']:>8}  {d['principal']}  {d['action']}  {d['matched']}")
    print(f"Spark start-up {ready - started:.1f} s, replay and summary {done - ready:.1f} s")
    session.stop()


if __name__ == "__main__":
    main()
