"""Replayer against `fastiam replay --json` on the bundled CloudTrail logs.

replay_files must print the command line's own summary (same counts, same denials, same
unmappable records); replay_arrow must give one row per record with the same decisions,
whether the records come as one array, a chunked array, large strings or a stream.
"""

import gzip
import json
import subprocess

import pyarrow as pa
import pytest

import fastiam
from conftest import CORPUS

LOGS = CORPUS / "replay" / "logs"
SCP = CORPUS / "replay" / "policies" / "network-perimeter-iam-users-scp.json"

# Option sets given to both the CLI and the Replayer: the CLI's flags, the Python kwargs.
OPTIONS = {
    "plain": ([], {}),
    "context": (["--context", "aws:SourceVpc=vpc-0a1b2c3d4e5f60718"],
                {"context": {"aws:SourceVpc": "vpc-0a1b2c3d4e5f60718"}}),
    "assume-absent": (["--assume-absent", "aws:SourceVpc"], {"assume_absent": ["aws:SourceVpc"]}),
    # The SCP's document as every principal's identity policy: only denials, so the
    # assumed allow-all identity side is gone and records are implicitly denied.
    "identity": (["--identity", str(SCP)], {"identity": [SCP]}),
}


def cli_summary(fastiam_bin, flags):
    out = subprocess.run(
        [fastiam_bin, "replay", "--json", "--scp", str(SCP), *flags, str(LOGS)],
        check=True, capture_output=True, text=True,
    ).stdout
    summary = json.loads(out)
    summary.pop("seconds")
    return summary


def log_records():
    """Every record of the bundled logs, as JSON text, in file order."""
    records = []
    for path in sorted(LOGS.rglob("*")):
        if not path.is_file() or not path.name.endswith((".json", ".json.gz")):
            continue
        data = path.read_bytes()
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        records.extend(json.dumps(r) for r in json.loads(data)["Records"])
    return records


@pytest.fixture(scope="module")
def records():
    return log_records()


@pytest.mark.parametrize("name", OPTIONS)
def test_replay_files_equals_the_cli(name, fastiam_bin):
    flags, kwargs = OPTIONS[name]
    expected = cli_summary(fastiam_bin, flags)
    report = fastiam.Replayer(scp=[[SCP]], **kwargs).replay_files([LOGS])
    summary = report.summary
    assert summary.pop("seconds") >= 0
    assert summary == expected
    rows = report.rows
    unmappable = sum(v["count"] for v in expected["unmappable"].values())
    assert len(rows) == expected["records"] == 698
    assert sum(1 for r in rows if "unmappable" in r) == unmappable
    frame = report.to_pandas()
    assert len(frame) == 698 and "verdict" in frame.columns


def test_options_change_the_answer(fastiam_bin):
    """The option sets above are not all the same question: at least one changes counts."""
    summaries = [json.dumps(cli_summary(fastiam_bin, flags)["all"]) for flags, _ in OPTIONS.values()]
    assert len(set(summaries)) > 1


def counts(batch):
    """The summary's `all` counts and unmappable classes, from replay_arrow's rows."""
    rows = batch.to_pylist()
    all_ = {"allowed": 0, "explicit_deny": 0, "implicit_deny": 0, "depends_on": 0}
    unmappable = {}
    for r in rows:
        if r["unmappable"] is not None:
            unmappable[r["unmappable"]] = unmappable.get(r["unmappable"], 0) + 1
        elif r["verdict"] == "depends":
            all_["depends_on"] += 1
        elif r["verdict"] == "allowed":
            all_["allowed"] += 1
        elif r["decision"] == "ExplicitDeny":
            all_["explicit_deny"] += 1
        else:
            all_["implicit_deny"] += 1
    return all_, unmappable


@pytest.mark.parametrize("name", OPTIONS)
def test_replay_arrow_equals_the_cli(name, records, fastiam_bin):
    flags, kwargs = OPTIONS[name]
    expected = cli_summary(fastiam_bin, flags)
    batch = fastiam.Replayer(scp=[[SCP]], **kwargs).replay_arrow(pa.array(records))
    assert isinstance(batch, pa.RecordBatch)
    assert batch.schema.names == fastiam.Replayer.COLUMNS
    assert batch.num_rows == len(records) == 698
    assert batch.column("row").to_pylist() == list(range(698))
    all_, unmappable = counts(batch)
    assert all_ == expected["all"]
    assert unmappable == {k: v["count"] for k, v in expected["unmappable"].items()}


class CapsuleStream:
    """An Arrow producer known only by the PyCapsule interface."""

    def __init__(self, data):
        self.data = data

    def __arrow_c_stream__(self, requested_schema=None):
        return self.data.__arrow_c_stream__(requested_schema)


def test_arrow_inputs_give_the_same_batch(records):
    replayer = fastiam.Replayer(scp=[[SCP]])
    one = replayer.replay_arrow(pa.array(records))
    cut = [records[:100], records[100:101], records[101:]]
    inputs = {
        "chunked": pa.chunked_array([pa.array(c) for c in cut]),
        "large_string": pa.array(records, type=pa.large_string()),
        "string_view": pa.array(records, type=pa.string_view()),
        # A one-column record batch stream (what DuckDB's and Polars' exports look like).
        "batch_stream": pa.RecordBatchReader.from_batches(
            pa.schema([("r", pa.string())]),
            [pa.record_batch([pa.array(c)], names=["r"]) for c in cut],
        ),
        # Any object with only the PyCapsule stream method.
        "capsule_stream": CapsuleStream(pa.chunked_array([pa.array(c) for c in cut])),
    }
    for name, data in inputs.items():
        assert replayer.replay_arrow(data).equals(one), name


def test_bad_rows_are_rows_not_crashes():
    replayer = fastiam.Replayer()
    batch = replayer.replay_arrow(pa.array(["{not json", None, "[]", json.dumps({"eventName": "X"})]))
    rows = batch.to_pylist()
    assert len(rows) == 4
    assert rows[0]["unmappable"] == "unreadable" and "arrow: rows[0]" in rows[0]["error"]
    assert rows[1]["unmappable"] == "unreadable" and "null" in rows[1]["error"]
    assert all(r["unmappable"] is not None and r["decision"] is None for r in rows)


def test_replay_errors(tmp_path):
    with pytest.raises(fastiam.ReplayError, match="expected a column of strings"):
        fastiam.Replayer().replay_arrow(pa.array([1, 2]))
    with pytest.raises(ValueError, match="__arrow_c_array__"):
        fastiam.Replayer().replay_arrow(42)
    with pytest.raises(fastiam.PolicyError):
        fastiam.Replayer(scp=[['{"Statement": 3}']])
    with pytest.raises(ValueError, match="assume_absent"):
        fastiam.Replayer(assume_absent=["SourceVpc"])
    with pytest.raises(fastiam.ReplayError, match="absent.json"):
        fastiam.Replayer(account_data=tmp_path / "absent.json")
    report = fastiam.Replayer().replay_files([tmp_path / "no-such-dir"], rows=False)
    assert report.summary["unreadable"]["count"] == 1
    with pytest.raises(fastiam.ReplayError, match="rows=True"):
        report.rows
