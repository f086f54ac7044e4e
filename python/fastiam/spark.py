"""Replay at organisation scale on Spark: one ``fastiam.Replayer`` per task, Arrow batches.

An organisation's CloudTrail runs to billions of records a month. This module runs the same
per-record step as ``fastiam replay`` inside Spark, unchanged from a laptop's ``local[*]`` to a
cluster (Glue, EMR, Databricks): records are read as text, handed to each task's
``Replayer.replay_arrow`` batch by batch (``mapInArrow``: no per-row Python), and the decisions
come back as a DataFrame that Spark can group, join and write.

>>> from pyspark.sql import SparkSession
>>> from fastiam import spark as fs
>>> session = SparkSession.builder.master("local[*]").getOrCreate()
>>> records = fs.read_logs(session, ["corpus/replay/logs"])            # one record per row
>>> decisions = fs.replay(records, scp=[["corpus/replay/policies/network-perimeter-iam-users-scp.json"]])
>>> fs.summary(decisions)["all"]                                          # doctest: +SKIP
{'allowed': 662, 'explicit_deny': 16, 'implicit_deny': 0, 'depends_on': 16}

**How the package reaches executors.** The function shipped to executors imports
``fastiam``; it must be importable there:

* installed on every node: Glue ``--additional-python-modules fastiam==X`` (or the wheel's S3
  path), EMR a virtual environment packed with ``venv-pack`` and passed as
  ``spark.archives=pyenv.tar.gz#environment`` with
  ``spark.pyspark.python=./environment/bin/python``, Databricks a cluster library (the wheel);
* or shipped with the job: :func:`ship_wheel` adds the wheel with ``SparkContext.addFile``
  and each executor unpacks it once (atomically: into a temporary directory, then renamed)
  and puts it on ``sys.path`` when ``import fastiam`` fails there. ``sc.addPyFile(wheel)``
  does not work for a native module, which cannot be imported from inside a zip.

Policies are given as paths, JSON text or dicts, as for :class:`fastiam.Replayer`; paths are
read on the driver, and their text is what executors receive.
"""

from __future__ import annotations

import json
import os
import pathlib
import sys
import tempfile
import zipfile
from typing import Any, Dict, Iterator, List, Optional, Sequence

__all__ = ["read_logs", "replay", "summary", "ship_wheel", "COLUMNS", "SUMMARY_COLUMNS"]

#: The columns of :func:`replay`'s DataFrame: those of ``Replayer.replay_arrow``.
COLUMNS: List[str] = [
    "row", "record", "principal", "action", "resource", "via", "hop", "decision", "verdict",
    "reason", "matched", "missing", "depends_on", "decided_by", "log", "error_code",
    "unmappable", "error",
]

#: The columns :func:`summary` reads: ``replay(..., columns=SUMMARY_COLUMNS)`` when the
#: summary is all that is wanted sends a third of the columns back from the Python workers
#: (Spark cannot prune the output of ``mapInArrow`` itself).
SUMMARY_COLUMNS: List[str] = ["principal", "action", "decision", "verdict", "matched", "unmappable"]

_WHEEL_FILE: Optional[str] = None


def ship_wheel(session: Any, wheel: str) -> None:
    """Ships the fastiam wheel to the executors of ``session`` (``SparkContext.addFile``);
    tasks that cannot ``import fastiam`` unpack it once per executor and import it from
    there. Not needed where the package is installed on every node."""
    global _WHEEL_FILE
    session.sparkContext.addFile(str(wheel))
    _WHEEL_FILE = os.path.basename(str(wheel))


def _import_fastiam(wheel_file: Optional[str]):
    """``import fastiam``, unpacking the shipped wheel first where it is not installed."""
    try:
        import fastiam  # noqa: F401

        return fastiam
    except ImportError:
        if wheel_file is None:
            raise
    from pyspark import SparkFiles

    wheel = SparkFiles.get(wheel_file)
    target = os.path.join(tempfile.gettempdir(), "fastiam-wheel-" + wheel_file)
    if not os.path.isdir(target):
        staging = tempfile.mkdtemp(prefix="fastiam-unpack-", dir=tempfile.gettempdir())
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(staging)
        try:
            os.rename(staging, target)  # atomic: another task may have won the race
        except OSError:
            if not os.path.isdir(target):
                raise
    if target not in sys.path:
        sys.path.insert(0, target)
    import fastiam

    return fastiam


def _policy_text(policy: Any) -> Any:
    """A path becomes the policy's text, named by the file's stem as the command line names
    it (executors need not see the driver's files)."""
    if isinstance(policy, pathlib.Path) or (
        isinstance(policy, str) and not policy.lstrip().startswith(("{", "["))
        and os.path.isfile(policy)
    ):
        path = pathlib.Path(policy)
        return {"id": path.stem, "document": path.read_text(encoding="utf-8")}
    return policy


def _policy_files(policy: Any) -> List[Any]:
    """A directory becomes its ``*.json`` files' texts; anything else, itself."""
    if isinstance(policy, (str, pathlib.Path)) and os.path.isdir(policy):
        return [_policy_text(p) for p in sorted(pathlib.Path(policy).glob("*.json"))]
    return [_policy_text(policy)]


def _replayer_kwargs(kwargs: Dict[str, Any]) -> Dict[str, Any]:
    """The Replayer's arguments with every policy path read on the driver."""
    out = dict(kwargs)
    for levels in ("scp", "rcp"):
        if out.get(levels) is not None:
            out[levels] = [[t for p in level for t in _policy_files(p)] for level in out[levels]]
    for flat in ("identity", "session"):
        if out.get(flat) is not None:
            out[flat] = [t for p in out[flat] for t in _policy_files(p)]
    if out.get("resource_policies") is not None:
        out["resource_policies"] = {k: _policy_text(v) for k, v in out["resource_policies"].items()}
    return out


def _records_of_text(text: str) -> Iterator[str]:
    """The records of one log file's text: a CloudTrail delivery document
    (``{"Records": [...]}``), an array of records, or JSON Lines."""
    stripped = text.lstrip()
    if stripped.startswith("["):
        for record in json.loads(stripped):
            yield json.dumps(record)
        return
    if stripped.startswith("{"):
        try:
            document = json.loads(stripped)
        except ValueError:
            document = None
        if isinstance(document, dict):
            records = document.get("Records")
            if isinstance(records, list):
                for record in records:
                    yield json.dumps(record)
            else:
                yield stripped
            return
    for line in text.splitlines():
        if line.strip():
            yield line


def read_logs(session: Any, paths: Sequence[str], *, pattern: str = "*.json*") -> Any:
    """One CloudTrail record (or Huawei CTS trace) per row, column ``value``, from delivery
    files, arrays or JSON Lines, plain or gzip (by extension, as Spark reads text), under
    ``paths`` (files, directories; ``pattern`` filters directory entries). For a lake that
    already holds one record per line, ``session.read.text(paths)`` is the same, cheaper."""
    import pyarrow as pa

    whole = (
        session.read.option("wholetext", True)
        .option("pathGlobFilter", pattern)
        .option("recursiveFileLookup", True)
        .text([str(p) for p in paths])
    )

    def split(batches: Iterator[Any]) -> Iterator[Any]:
        for batch in batches:
            texts = batch.column(0).to_pylist()
            records = [r for t in texts if t is not None for r in _records_of_text(t)]
            yield pa.RecordBatch.from_arrays([pa.array(records, pa.string())], ["value"])

    return whole.mapInArrow(split, "value string")


def _schema(names: Sequence[str]) -> Any:
    from pyspark.sql.types import LongType, StringType, StructField, StructType

    longs = {"row", "hop"}
    return StructType(
        [StructField(c, LongType() if c in longs else StringType(), True) for c in names]
    )


def replay(
    records: Any, *, column: str = "value", columns: Optional[Sequence[str]] = None, **replayer: Any
) -> Any:
    """The decisions of every record of the DataFrame ``records`` (one record's JSON per row
    in ``column``): a DataFrame of :data:`COLUMNS`, one row per record. ``replayer`` takes
    :class:`fastiam.Replayer`'s keyword arguments (``scp=[[...]]``, ``rcp``, ``identity``,
    ``session``, ``resource_policies``, ``context``, ``assume_absent``, ``exact_guardrails``,
    ``mode``); ``account_data`` must name a file every executor can read. One Replayer is
    made per task; its policies are compiled once per task, then every batch is replayed on
    the task's core with the GIL released. ``columns`` keeps only these of :data:`COLUMNS`
    (in this order), e.g. :data:`SUMMARY_COLUMNS`."""
    import pyarrow as pa

    names = list(COLUMNS if columns is None else columns)
    unknown = [c for c in names if c not in COLUMNS]
    if unknown:
        raise ValueError(f"columns: {unknown} are not replay columns (fastiam.spark.COLUMNS)")
    kwargs = _replayer_kwargs(replayer)
    wheel_file = _WHEEL_FILE

    def run(batches: Iterator[Any]) -> Iterator[Any]:
        fastiam = _import_fastiam(wheel_file)
        engine = fastiam.Replayer(**kwargs)
        for batch in batches:
            values = batch.column(batch.schema.get_field_index(column))
            out = engine.replay_arrow(values)
            # Spark's schema: 64-bit integers and strings; lists as space-separated text.
            arrays = []
            for name in names:
                col = out.column(out.schema.get_field_index(name))
                if pa.types.is_list(col.type) or pa.types.is_large_list(col.type):
                    col = pa.array(
                        [None if v is None else " ".join(map(str, v)) for v in col.to_pylist()],
                        pa.string(),
                    )
                elif pa.types.is_integer(col.type):
                    col = col.cast(pa.int64())
                else:
                    col = col.cast(pa.string())
                arrays.append(col)
            yield pa.RecordBatch.from_arrays(arrays, names)

    return records.select(column).mapInArrow(run, _schema(names))


def summary(decisions: Any) -> Dict[str, Any]:
    """The report's counts from :func:`replay`'s DataFrame, computed by Spark in one pass over
    it (one ``groupBy``: the replay runs once): records; ``all`` by outcome (as
    ``fastiam replay --json``: ``allowed``, ``explicit_deny``, ``implicit_deny``,
    ``depends_on``); ``unmappable`` by class; ``denied`` by principal, action and deciding
    statements, largest first."""
    from pyspark.sql import functions as F

    denied = F.col("unmappable").isNull() & (F.col("verdict") == "denied")
    groups = (
        decisions.groupBy(
            "unmappable",
            "verdict",
            "decision",
            *(F.when(denied, F.col(c)).alias(c) for c in ("principal", "action", "matched")),
        )
        .count()
        .collect()
    )
    counts: Dict[str, Any] = {
        "records": sum(row["count"] for row in groups),
        "all": {"allowed": 0, "explicit_deny": 0, "implicit_deny": 0, "depends_on": 0},
        "unmappable": {},
    }
    denials = []
    for row in groups:
        n = row["count"]
        if row["unmappable"] is not None:
            counts["unmappable"][row["unmappable"]] = counts["unmappable"].get(row["unmappable"], 0) + n
            continue
        if row["verdict"] == "depends":
            counts["all"]["depends_on"] += n
        elif row["decision"] == "Allow":
            counts["all"]["allowed"] += n
        elif row["decision"] == "ExplicitDeny":
            counts["all"]["explicit_deny"] += n
        else:
            counts["all"]["implicit_deny"] += n
        if row["verdict"] == "denied":
            denials.append(
                {"principal": row["principal"], "action": row["action"], "matched": row["matched"], "count": n}
            )
    # A denied group may come in several rows (one per decision): merge them.
    merged: Dict[Any, Dict[str, Any]] = {}
    for d in denials:
        key = (d["principal"], d["action"], d["matched"])
        if key in merged:
            merged[key]["count"] += d["count"]
        else:
            merged[key] = d
    counts["denied"] = sorted(
        merged.values(), key=lambda d: (-d["count"], d["principal"] or "", d["action"] or "")
    )
    return counts
