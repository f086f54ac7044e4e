"""`fastiam.plan_tasks` + `Replayer.replay_range` (what each Spark task of the file path
runs) equal `fastiam replay` record for record, however small the ranges: every record read
exactly once, with the command line's accounting of what cannot be read.
"""

import pyarrow as pa
import pytest

import fastiam
from file_rows import LOGS, SCP, arrow_rows, cli_rows, logs_tree
from test_replay import log_records


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    directory = tmp_path_factory.mktemp("ranges")
    exports = logs_tree(directory / "exports", log_records())
    return [LOGS, *exports, directory / "missing.json"]


@pytest.fixture(scope="module")
def expected(inputs, fastiam_bin, tmp_path_factory):
    return cli_rows(fastiam_bin, inputs, tmp_path_factory.mktemp("cli") / "rows.jsonl")


def replay_tasks(replayer, inputs, task_bytes):
    tasks, errors, skipped = fastiam.plan_tasks(inputs, task_bytes=task_bytes)
    rows = []
    for path, start, end, _ in tasks:
        batch = replayer.replay_range(path, start, end)
        assert batch.schema.names == fastiam.Replayer.FILE_COLUMNS
        assert batch.schema.field("hop").type == pa.int64()
        rows.extend(batch.to_pylist())
    for file, place, message in errors:
        rows.append({"file": file, "position": place, "unmappable": "unreadable", "error": message})
    return tasks, skipped, rows


@pytest.mark.parametrize("task_bytes", [1 << 40, 100_000, 4096, 333])
def test_ranges_equal_the_cli_record_for_record(inputs, expected, task_bytes):
    summary, want = expected
    tasks, skipped, rows = replay_tasks(fastiam.Replayer(scp=[[SCP]]), inputs, task_bytes)
    ranges = [t for t in tasks if t[1] is not None]
    if task_bytes < 1 << 20:
        # Both exports are cut into ranges (the delivery files never are).
        assert len({t[0] for t in ranges}) == 2 and len(ranges) > 4
        assert all(t[0].suffix in (".jsonl", ".ndjson") for t in ranges)
    else:
        assert not ranges
    assert [p for p, _ in skipped] == [LOGS / "invictus" / "LICENSE"]
    assert len(rows) == 3 * 698 + 2  # and the damaged line, and the missing file
    # The command line counts a path it cannot list as unreadable but writes no row for it.
    listed = [r for r in rows if r["position"] != "path"]
    assert len(rows) - len(listed) == 1
    assert arrow_rows(listed) == want
    unreadable = sum(1 for r in rows if r["unmappable"] == "unreadable")
    assert unreadable == summary["unreadable"]["count"] == 2


def test_bad_ranges_are_rows_or_errors(tmp_path):
    replayer = fastiam.Replayer()
    with pytest.raises(ValueError, match="both start and end"):
        replayer.replay_range(LOGS, 0)
    gz = next(LOGS.rglob("*.json.gz"))
    rows = replayer.replay_range(gz, 0, 100).to_pylist()
    assert len(rows) == 1 and rows[0]["unmappable"] == "unreadable"
    assert "not JSON Lines" in rows[0]["error"]
    rows = replayer.replay_range(tmp_path / "absent.jsonl").to_pylist()
    assert len(rows) == 1 and rows[0]["unmappable"] == "unreadable"
    assert rows[0]["file"].endswith("absent.jsonl") and rows[0]["position"] == "file"
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    assert replayer.replay_range(empty, 0, 10).num_rows == 0


def test_asked_columns_are_the_full_batch_s_columns(inputs):
    """`columns=` computes only some columns (and explains only denials when neither
    `matched` nor `missing` is asked): the same values as in the full batch."""
    replayer = fastiam.Replayer(scp=[[SCP]])
    tasks, _, _ = fastiam.plan_tasks(inputs, task_bytes=100_000)
    names = ["verdict", "file", "hop", "principal", "decision", "depends_on", "unmappable", "error"]
    for path, start, end, _ in tasks:
        full = replayer.replay_range(path, start, end)
        part = replayer.replay_range(path, start, end, columns=names)
        assert part.schema.names == names
        for name in names:
            assert part.column(name).equals(full.column(name)), (path, name)
    with pytest.raises(ValueError, match="`row` is not one of"):
        replayer.replay_range(tasks[0][0], columns=["row"])
