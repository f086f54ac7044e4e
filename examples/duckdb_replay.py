"""Replay CloudTrail logs with DuckDB on one machine: an Arrow UDF over the records, then SQL.

    python examples/duckdb_replay.py [LOGS_GLOB] [--scp FILE]

DuckDB reads the delivery files (`read_json_objects` and `unnest` of `Records`) or JSON Lines
of records (`*.jsonl`, `*.ndjson`: one record a line, as `fastiam synth` writes), hands the
UDF whole Arrow columns (a chunked array, which `Replayer.replay_arrow` accepts as it is),
gets back a STRUCT column built from the replay's Arrow columns (no Python per row), and
groups the decisions with GROUP BY.
"""

import argparse
import json
import pathlib

import duckdb
import pyarrow as pa

import fastiam

REPO = pathlib.Path(__file__).resolve().parents[1]


#: The replay columns the example keeps (a STRUCT column `d` of table `decisions`).
KEEP = ("action", "verdict", "decision", "matched", "unmappable")


def replay_with_duckdb(logs: str, scp: pathlib.Path) -> duckdb.DuckDBPyConnection:
    """A connection holding table `decisions` (column `d`, a STRUCT of action, verdict,
    decision, matched, unmappable) for the log files matching `logs`: delivery files, or
    JSON Lines of records when the name ends in `.jsonl` or `.ndjson`."""
    replayer = fastiam.Replayer(scp=[[scp]])

    def replay(records):
        # One call for the whole column: the GIL is released while the records replay.
        out = replayer.replay_arrow(records)
        return pa.StructArray.from_arrays([out.column(k) for k in KEEP], list(KEEP))

    con = duckdb.connect()
    varchar = duckdb.sqltype("VARCHAR")
    struct = duckdb.struct_type({k: varchar for k in KEEP})
    con.create_function("fastiam_replay", replay, [varchar], struct, type="arrow")
    if logs.endswith((".jsonl", ".ndjson")):
        records = f"""
            select json::varchar as record
            from read_json_objects('{logs}', format = 'newline_delimited')
        """
    else:
        records = f"""
            select unnest(json_extract(json, '$.Records[*]'))::varchar as record
            from read_json_objects('{logs}', format = 'auto')
        """
    con.execute(f"create table records as {records}")
    con.execute("create table decisions as select fastiam_replay(record) as d from records")
    return con


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("logs", nargs="?", default=str(REPO / "corpus/replay/logs/invictus/*.json*"))
    ap.add_argument("--scp", default=str(REPO / "corpus/replay/policies/network-perimeter-iam-users-scp.json"))
    a = ap.parse_args()
    con = replay_with_duckdb(a.logs, pathlib.Path(a.scp))
    print(con.sql("""
        select d.verdict as verdict, coalesce(d.unmappable, '') as unmappable, count(*) as records
        from decisions group by all order by records desc
    """))
    print(con.sql("""
        select d.action as action, d.matched as deciding_statement, count(*) as denied
        from decisions where d.verdict = 'denied' group by all order by denied desc limit 10
    """))


if __name__ == "__main__":
    main()
