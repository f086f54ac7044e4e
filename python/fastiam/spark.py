"""Replay at organisation scale on Spark: one ``fastiam.Replayer`` per task, Arrow batches.

An organisation's CloudTrail runs to billions of records a month. This module runs the same
per-record step as ``fastiam replay`` inside Spark, unchanged from a laptop's ``local[*]`` to a
cluster (Glue, EMR, Databricks), and the decisions come back as a DataFrame that Spark can
group, join and write. Two ways in:

* **Paths** (the fast one): ``replay(["logs/", "export.jsonl"], ...)``. Spark reads nothing:
  the driver lists the files and cuts them into tasks (:func:`plan`: whole files, or byte
  ranges of large JSON Lines files), and each task reads its files itself with fastiam's
  readers (``Replayer.replay_range``) and hands Spark Arrow batches of decisions. Every record
  is counted as ``fastiam replay`` counts it — evaluated, unmappable, or unreadable (a damaged
  record, a file that cannot be read) — and named by file and position. The paths must be
  readable by every executor under the same name: local files in local mode, a shared or
  mounted file system on a cluster (``/dbfs/...``, an EFS/NFS mount, a FUSE mount of S3).
  ``s3://`` and ``hdfs://`` URLs are not read this way; use the DataFrame path for them.
  When the counts are all that is wanted, ``summary(paths, ...)`` has each task count its own
  records into groups, and Spark only adds the groups up.
* **A DataFrame** of records, one record's JSON per row (:func:`read_logs`, or
  ``session.read.text`` of JSON Lines, or a table): ``replay(df, ...)`` hands each task's
  batches to ``Replayer.replay_arrow`` (``mapInArrow``: no per-row Python). Spark reads the
  files; slower (Spark's text reading and the hop of every record from the JVM to Python
  cost more than the replay), but it reads whatever Spark reads.

>>> from pyspark.sql import SparkSession
>>> from fastiam import spark as fs
>>> session = SparkSession.builder.master("local[*]").getOrCreate()
>>> scp = [["corpus/replay/policies/network-perimeter-iam-users-scp.json"]]
>>> decisions = fs.replay(["corpus/replay/logs"], scp=scp, spark=session)
>>> fs.summary(decisions)["all"]                                          # doctest: +SKIP
{'allowed': 662, 'explicit_deny': 16, 'implicit_deny': 0, 'depends_on': 16}
>>> records = fs.read_logs(session, ["corpus/replay/logs"])            # one record per row
>>> fs.summary(fs.replay(records, scp=scp))["all"]                        # doctest: +SKIP
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
import pickle
import sys
import tempfile
import zipfile
from typing import Any, Dict, Iterator, List, NamedTuple, Optional, Sequence, Tuple

__all__ = [
    "plan", "Plan", "read_logs", "replay", "summary", "ship_wheel", "COLUMNS", "FILE_COLUMNS",
    "SUMMARY_COLUMNS", "TASK_BYTES", "GZIP_RATIO",
]

#: The columns of :func:`replay`'s DataFrame of a DataFrame: those of
#: ``Replayer.replay_arrow`` (``row`` is the row's index in its batch).
COLUMNS: List[str] = [
    "row", "record", "principal", "action", "resource", "via", "hop", "decision", "verdict",
    "reason", "matched", "missing", "depends_on", "decided_by", "log", "error_code",
    "unmappable", "error",
]

#: The columns of :func:`replay`'s DataFrame of paths: those of ``Replayer.replay_range``,
#: each record named by its ``file`` and ``position`` (as ``fastiam replay --output`` names it).
FILE_COLUMNS: List[str] = ["file", "position"] + COLUMNS[1:]

#: The most bytes of input one Spark task reads (a range of a large JSON Lines file, or small
#: files packed together), unless ``task_bytes`` says otherwise.
TASK_BYTES: int = 64 << 20

#: How many times its size a gzip file is taken to weigh when tasks are packed (CloudTrail's
#: gzip files inflate 10–30 times).
GZIP_RATIO: int = 15

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

    longs = {"row", "hop", "count"}
    return StructType(
        [StructField(c, LongType() if c in longs else StringType(), True) for c in names]
    )


class Plan(NamedTuple):
    """The tasks of a replay of paths (:func:`plan`)."""

    #: One list of tasks per Spark partition; a task is ``(path, start, end, bytes)``, with
    #: ``start``/``end`` ``None`` for a file read whole.
    partitions: List[List[Tuple[str, Optional[int], Optional[int], int]]]
    #: Paths that could not be listed, ``(file, place, message)``: one unreadable row each.
    errors: List[Tuple[str, str, str]]
    #: Paths skipped on purpose (a README in a log directory, a second name of a file, a
    #: link loop), ``(path, reason)`` — what ``fastiam replay`` lists as skipped.
    skipped: List[Tuple[str, str]]
    #: The bytes of input planned.
    bytes: int


def plan(paths: Any, *, task_bytes: Optional[int] = None, parallelism: int = 2) -> Plan:
    """Lists ``paths`` (files and directory trees, walked as ``fastiam replay`` walks them)
    and cuts them into Spark partitions (``fastiam.plan_tasks``): large uncompressed JSON
    Lines files in byte ranges, which each task aligns to lines itself; gzip and delivery
    files whole; small files packed together up to ``task_bytes`` a partition (a gzip file
    weighing :data:`GZIP_RATIO` times its size). Without
    ``task_bytes``, partitions of at most :data:`TASK_BYTES`, as many as a multiple of
    ``parallelism`` (the job's cores), so that the cores finish together."""
    import fastiam

    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    paths = [str(p) for p in paths]
    if task_bytes is None:
        whole, _, _ = fastiam.plan_tasks(paths, task_bytes=1 << 62)
        total = sum(t[3] * (GZIP_RATIO if str(t[0]).endswith(".gz") else 1) for t in whole)
        waves = max(1, -(-total // (max(1, parallelism) * TASK_BYTES)))
        task_bytes = max(1 << 20, -(-total // (max(1, parallelism) * waves)))
    tasks, errors, skipped = fastiam.plan_tasks(paths, task_bytes=task_bytes)
    # Next fit over the tasks by decreasing work: a range alone, small files together. A
    # gzip file weighs what it inflates to, about GZIP_RATIO times its size.
    weighed = sorted(
        ((size * (GZIP_RATIO if str(path).endswith(".gz") else 1), (str(path), start, end, size))
         for path, start, end, size in tasks),
        key=lambda t: -t[0],
    )
    partitions: List[List[Tuple[str, Optional[int], Optional[int], int]]] = []
    filled = 0
    for weight, task in weighed:
        if partitions and filled + weight <= task_bytes:
            partitions[-1].append(task)
            filled += weight
        else:
            partitions.append([task])
            filled = weight
    return Plan(
        partitions=partitions,
        errors=[tuple(e) for e in errors],
        skipped=[(str(p), r) for p, r in skipped],
        bytes=sum(t[3] for t in tasks),
    )


#: Replayers made in this Python worker, by their arguments: Spark reuses its Python workers
#: between tasks, and a replayer's policies are compiled once per worker, not once per task.
_REPLAYERS: Dict[bytes, Any] = {}


def _replayer(fastiam: Any, kwargs: Dict[str, Any]) -> Any:
    key = pickle.dumps(sorted(kwargs.items()))
    engine = _REPLAYERS.get(key)
    if engine is None:
        engine = _REPLAYERS[key] = fastiam.Replayer(**kwargs)
    return engine


def _check_columns(names: Sequence[str], known: Sequence[str], name: str) -> List[str]:
    names = list(names)
    unknown = [c for c in names if c not in known]
    if unknown:
        raise ValueError(f"columns: {unknown} are not replay columns (fastiam.spark.{name})")
    return names


def replay(
    records: Any,
    *,
    column: str = "value",
    columns: Optional[Sequence[str]] = None,
    spark: Any = None,
    task_bytes: Optional[int] = None,
    **replayer: Any,
) -> Any:
    """The decisions of every record: a DataFrame with one row per record.

    ``records`` is either paths (a path or a list: files and directory trees, read by the
    tasks themselves, see the module docs; ``spark`` is the Spark session, the active one
    by default; ``task_bytes`` the most input a task reads, :func:`plan`) — the DataFrame
    has :data:`FILE_COLUMNS` — or a DataFrame with one record's JSON per row in ``column``,
    whose DataFrame has :data:`COLUMNS`.

    ``replayer`` takes :class:`fastiam.Replayer`'s keyword arguments (``scp=[[...]]``,
    ``rcp``, ``identity``, ``session``, ``resource_policies``,
    ``context``, ``assume_absent``, ``exact_guardrails``, ``mode``); ``account_data`` must
    name a file every executor can read. One Replayer is made per Python worker (its
    policies compiled once), and every task replays on its core with the GIL released.
    ``columns`` keeps only these columns (in this order), e.g. :data:`SUMMARY_COLUMNS`:
    Spark cannot prune the output of ``mapInArrow`` itself."""
    kwargs = _replayer_kwargs(replayer)
    if hasattr(records, "mapInArrow"):
        names = _check_columns(COLUMNS if columns is None else columns, COLUMNS, "COLUMNS")
        return _replay_frame(records, column, names, kwargs)
    names = _check_columns(FILE_COLUMNS if columns is None else columns, FILE_COLUMNS, "FILE_COLUMNS")
    if spark is None:
        from pyspark.sql import SparkSession

        spark = SparkSession.builder.getOrCreate()
    planned = records if isinstance(records, Plan) else plan(
        records, task_bytes=task_bytes, parallelism=spark.sparkContext.defaultParallelism
    )
    return _replay_plan(spark, planned, names, kwargs)


def _replay_plan(
    session: Any,
    planned: Plan,
    names: List[str],
    kwargs: Dict[str, Any],
    then: Any = None,
    schema: Any = None,
) -> Any:
    """One Spark partition per planned partition (``session.range``: one id each, no data
    shipped but the plan in the function's closure); each reads its tasks. ``then``, given,
    turns each batch of ``names`` into one of ``schema``."""
    import pyarrow as pa

    partitions = planned.partitions
    errors = planned.errors
    wheel_file = _WHEEL_FILE
    count = max(1, len(partitions))

    def error_batch(rows: List[Tuple[str, str, str]]) -> Any:
        """Paths the driver could not list: one unreadable row each, as the CLI counts them."""
        values = {
            "file": [r[0] for r in rows], "position": [r[1] for r in rows],
            "unmappable": ["unreadable"] * len(rows), "error": [r[2] for r in rows],
        }
        arrays = [
            pa.array(values.get(n, [None] * len(rows)), pa.int64() if n == "hop" else pa.string())
            for n in names
        ]
        return pa.RecordBatch.from_arrays(arrays, names)

    def read(engine: Any, index: int) -> Iterator[Any]:
        if index == 0 and errors:
            yield error_batch(errors)
        for path, start, end, _ in partitions[index] if index < len(partitions) else []:
            yield engine.replay_range(path, start, end, columns=names)

    def run(batches: Iterator[Any]) -> Iterator[Any]:
        fastiam = _import_fastiam(wheel_file)
        engine = _replayer(fastiam, kwargs)
        for batch in batches:
            for index in batch.column(0).to_pylist():
                for out in read(engine, index):
                    yield out if then is None else then(out)

    frame = session.range(0, count, 1, count)
    return frame.mapInArrow(run, _schema(names) if schema is None else schema)


def _counted(paths: Any, spark: Any, task_bytes: Optional[int], replayer: Dict[str, Any]) -> Any:
    """:func:`replay` of paths with each task's rows counted into groups by the task."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if spark is None:
        from pyspark.sql import SparkSession

        spark = SparkSession.builder.getOrCreate()
    planned = paths if isinstance(paths, Plan) else plan(
        paths, task_bytes=task_bytes, parallelism=spark.sparkContext.defaultParallelism
    )
    kept = ("principal", "action", "matched")
    keys = ["unmappable", "verdict", "decision", *kept]

    def count(batch: Any) -> Any:
        denied = pc.and_kleene(
            pc.is_null(batch.column("unmappable")), pc.equal(batch.column("verdict"), "denied")
        )
        nothing = pa.scalar(None, pa.string())
        columns = {k: batch.column(k) for k in keys}
        for k in kept:
            columns[k] = pc.if_else(denied, columns[k], nothing)
        table = pa.table(columns).group_by(keys, use_threads=False).aggregate(
            [("verdict", "count", pc.CountOptions(mode="all"))]
        )
        return pa.RecordBatch.from_arrays(
            [table.column(k).combine_chunks() for k in keys]
            + [table.column("verdict_count").combine_chunks()],
            keys + ["count"],
        )

    names = SUMMARY_COLUMNS
    return _replay_plan(spark, planned, names, _replayer_kwargs(replayer), then=count,
                        schema=_schema(keys + ["count"]))


def _replay_frame(records: Any, column: str, names: List[str], kwargs: Dict[str, Any]) -> Any:
    import pyarrow as pa

    wheel_file = _WHEEL_FILE

    def run(batches: Iterator[Any]) -> Iterator[Any]:
        fastiam = _import_fastiam(wheel_file)
        engine = _replayer(fastiam, kwargs)
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


def summary(
    decisions: Any, *, spark: Any = None, task_bytes: Optional[int] = None, **replayer: Any
) -> Dict[str, Any]:
    """The report's counts: records; ``all`` by outcome (as ``fastiam replay --json``:
    ``allowed``, ``explicit_deny``, ``implicit_deny``, ``depends_on``); ``unmappable`` by
    class (``unreadable`` among them); ``denied`` by principal, action and deciding
    statements, largest first.

    ``decisions`` is :func:`replay`'s DataFrame, counted by Spark in one pass over it (one
    ``groupBy``: the replay runs once); or paths (with :func:`replay`'s ``spark``,
    ``task_bytes`` and Replayer arguments), when the counts are all that is wanted: each
    task then counts its own records into groups (``pyarrow``'s ``group_by``) and hands
    Spark a few rows rather than one per record, which the driver adds up."""
    from pyspark.sql import functions as F

    keys = ("unmappable", "verdict", "decision", "principal", "action", "matched")
    if hasattr(decisions, "groupBy"):
        denied = F.col("unmappable").isNull() & (F.col("verdict") == "denied")
        groups = decisions.groupBy(
            *keys[:3], *(F.when(denied, F.col(c)).alias(c) for c in keys[3:])
        ).count().collect()
    else:
        # A few rows a task: collected as they are and added up here, without a shuffle.
        added: Dict[Any, int] = {}
        for row in _counted(decisions, spark, task_bytes, replayer).collect():
            key = tuple(row[k] for k in keys)
            added[key] = added.get(key, 0) + row["count"]
        groups = [{**dict(zip(keys, key)), "count": n} for key, n in added.items()]
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
