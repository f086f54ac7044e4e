"""Replay CloudTrail logs with DuckDB on one machine: an Arrow UDF over the records, then SQL.

    python examples/duckdb_replay.py [LOGS_GLOB] [--scp FILE]

DuckDB reads the delivery files (`read_json_objects` and `unnest` of `Records`), hands the
UDF whole Arrow columns (a chunked array, which `Replayer.replay_arrow` accepts as it is), and
groups the decisions with GROUP BY.
"""

import argparse
import json
import pathlib

import duckdb
import pyarrow as pa

import fastiam

REPO = pathlib.Path(__file__).resolve().parents[1]


def replay_with_duckdb(logs: str, scp: pathlib.Path) -> duckdb.DuckDBPyConnection:
    """A connection holding table `decisions` (one JSON object a record: action, verdict,
    decision, matched, unmappable) for the delivery files matching `logs`."""
    replayer = fastiam.Replayer(scp=[[scp]])

    def replay(records):
        # One call for the whole column: the GIL is released while the records replay.
        rows = replayer.replay_arrow(records).to_pylist()
        keep = ("action", "verdict", "decision", "matched", "unmappable")
        return pa.array([json.dumps({k: r[k] for k in keep}) for r in rows])

    con = duckdb.connect()
    varchar = duckdb.sqltype("VARCHAR")
    con.create_function("fastiam_replay", replay, [varchar], varchar, type="arrow")
    con.execute(f"""
        create table records as
        select unnest(json_extract(json, '$.Records[*]'))::varchar as record
        from read_json_objects('{logs}', format = 'auto')
    """)
    con.execute("create table decisions as select fastiam_replay(record)::json as d from records")
    return con


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("logs", nargs="?", default=str(REPO / "corpus/replay/logs/invictus/*.json*"))
    ap.add_argument("--scp", default=str(REPO / "corpus/replay/policies/network-perimeter-iam-users-scp.json"))
    a = ap.parse_args()
    con = replay_with_duckdb(a.logs, pathlib.Path(a.scp))
    print(con.sql("""
        select d->>'verdict' as verdict, coalesce(d->>'unmappable', '') as unmappable, count(*) as records
        from decisions group by all order by records desc
    """))
    print(con.sql("""
        select d->>'action' as action, d->>'matched' as deciding_statement, count(*) as denied
        from decisions where d->>'verdict' = 'denied' group by all order by denied desc limit 10
    """))


if __name__ == "__main__":
    main()
