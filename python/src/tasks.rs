//! `fastiam.plan_tasks`: the log files of a replay cut into tasks that share nothing, for a
//! distributed job (Spark) whose executors read the files themselves.
//!
//! The library lists and cuts ([`fastiam::replay::source::tasks`]): every file the command
//! line would read, whole, and large uncompressed JSON Lines files in raw byte ranges that
//! `Replayer.replay_range` aligns to lines on the executor — so the driver reads no more
//! than each file's first bytes.
//!
//! ```python
//! tasks, errors, skipped = fastiam.plan_tasks(["logs/", "export.jsonl"], task_bytes=64 << 20)
//! # tasks: [("logs/a.json.gz", None, None, 10234), ("export.jsonl", 0, 67108864, 67108864), …]
//! ```

use std::path::PathBuf;

use pyo3::prelude::*;

/// A task: the path, the raw byte range (`None, None`: the whole file), its bytes.
type TaskRow = (PathBuf, Option<u64>, Option<u64>, u64);

/// Lists `paths` (files and directory trees, as `fastiam replay` walks them) and cuts them
/// into tasks: `(path, start, end, bytes)` with `start`/`end` `None` for a file read whole
/// (gzip, delivery files, arrays, JSON Lines under twice `task_bytes`), and raw byte ranges
/// of about `task_bytes` of larger JSON Lines files (largest tasks first, so that a job's
/// cores finish together). Also returns the paths that could not be listed,
/// `(file, place, message)` — the command line counts each as one unreadable record — and
/// the paths skipped on purpose, `(path, reason)`.
#[pyfunction]
#[pyo3(signature = (paths, *, task_bytes = 64 << 20))]
#[allow(clippy::type_complexity)]
pub fn plan_tasks(
    py: Python<'_>,
    paths: Vec<PathBuf>,
    task_bytes: u64,
) -> (
    Vec<TaskRow>,
    Vec<(String, String, String)>,
    Vec<(PathBuf, String)>,
) {
    let planned = py.detach(|| fastiam::replay::source::tasks(&paths, task_bytes));
    let mut tasks: Vec<TaskRow> = planned
        .tasks
        .into_iter()
        .map(|t| {
            let (start, end) = t.range.unzip();
            (t.path, start, end, t.bytes)
        })
        .collect();
    tasks.sort_by_key(|t| std::cmp::Reverse(t.3));
    let errors = planned
        .errors
        .into_iter()
        .map(|e| (e.position.file, e.position.place, e.message))
        .collect();
    let skipped = planned
        .skipped
        .into_iter()
        .map(|s| (s.path, s.reason))
        .collect();
    (tasks, errors, skipped)
}
