"""Record-for-record comparison of file replays with `fastiam replay --output`.

`logs_tree` writes JSON Lines exports of the bundled CloudTrail logs made to be cut badly:
CRLF and LF endings, blank lines, a damaged line, no newline at the end. `cli_rows` runs the
command line on inputs and returns its summary and rows; `arrow_rows` turns rows of
`Replayer.replay_range` (or of the Spark file path) into the same comparable form.

A record is compared by everything both sides say about it: its file and position, its
record id, principal, action, resource, hop, decision, verdict, reason, keys, log outcome —
or its unmappable class and reason. Positions are compared as byte offsets of the line for
JSON Lines (the command line numbers the lines of a small file, `line 7`; a range names
them by offset, `byte 5120`, as the command line does in the slices of a large file).
"""

import json
import pathlib
import subprocess
from typing import Any, Dict, List, Tuple

from conftest import CORPUS

LOGS = CORPUS / "replay" / "logs"
SCP = CORPUS / "replay" / "policies" / "network-perimeter-iam-users-scp.json"

FIELDS = ("record", "principal", "action", "resource", "via", "hop", "decision", "verdict",
          "reason", "decided_by", "log", "error_code", "unmappable")


def logs_tree(directory: pathlib.Path, records: List[str]) -> List[pathlib.Path]:
    """JSON Lines exports of `records` in `directory`, badly shaped on purpose."""
    directory.mkdir(parents=True, exist_ok=True)
    mixed = directory / "export.jsonl"
    parts = []
    for i, r in enumerate(records):
        parts.append(r + ("\r\n" if i % 3 == 0 else "\n"))
        if i % 50 == 7:
            parts.append("\n  \n")  # blank lines
        if i == 300:
            parts.append('{"eventVersion": "1.08", "damaged\n')  # a line that is not JSON
    mixed.write_text("".join(parts).rstrip("\n"), encoding="utf-8")  # no final newline
    crlf = directory / "crlf.ndjson"
    crlf.write_text("".join(r + "\r\n" for r in reversed(records)), encoding="utf-8")
    return [mixed, crlf]


def _line_offsets(path: str) -> List[int]:
    data = pathlib.Path(path).read_bytes()
    offsets = [0]
    at = data.find(b"\n")
    while at >= 0:
        offsets.append(at + 1)
        at = data.find(b"\n", at + 1)
    return offsets


_OFFSETS: Dict[str, List[int]] = {}


def _place(file: str, position: str) -> str:
    """`line n` as `byte <offset of line n>`; other places as they are."""
    if position.startswith("line "):
        offsets = _OFFSETS.setdefault(file, _line_offsets(file))
        return f"byte {offsets[int(position[5:]) - 1]}"
    return position


def _key(row: Dict[str, Any]) -> Tuple:
    return tuple("" if row.get(f) is None else str(row[f]) for f in ("file", "position") + FIELDS + (
        "depends_on", "missing", "error"))


def cli_rows(fastiam_bin: str, inputs: List[Any], out: pathlib.Path) -> Tuple[Dict[str, Any], List[Tuple]]:
    """The command line's summary, and its rows in comparable form, sorted."""
    run = subprocess.run(
        [fastiam_bin, "replay", "--quiet", "--json", "--scp", str(SCP), "--output", str(out),
         *map(str, inputs)],
        capture_output=True, text=True,
    )
    assert run.returncode in (0, 1, 4), run.stderr  # 1: unreadable input, 4: denials
    summary = json.loads(run.stdout)
    rows = []
    for line in out.read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        r["position"] = _place(r["file"], r["position"])
        if "unmappable" in r:
            r["error"] = r.pop("reason")
        else:
            r["depends_on"] = " ".join(r["depends_on"])
            r["missing"] = " ".join(r["missing"])
        rows.append(_key(r))
    return summary, sorted(rows)


def arrow_rows(rows: List[Dict[str, Any]]) -> List[Tuple]:
    """Rows of FILE_COLUMNS in comparable form, sorted."""
    out = []
    for r in rows:
        r = dict(r)
        r["position"] = _place(r["file"], r["position"])
        out.append(_key(r))
    return sorted(out)
