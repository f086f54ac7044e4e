//! Byte ranges of log files as independent tasks: how a distributed job (Spark) cuts the
//! reading of many large files among executors that share nothing but the file system.
//!
//! The driver plans [`Task`]s without reading records ([`tasks`]): every file the command
//! line would read, whole; or, for a large uncompressed JSON Lines file, raw byte ranges of
//! about `task_bytes` each, which need not fall on line starts. Each executor then turns its
//! range into the lines it owns ([`range_unit`], by [`align`]'s rule) and reads them with
//! the library's readers, so a record gets the same answer, error or accounting as under
//! `fastiam replay`. Gzip files and `{"Records": [...]}` delivery files are never cut: they
//! are one task each.
//!
//! The alignment rule makes neighbouring ranges agree without talking to each other: a
//! range `[start, end)` owns the lines whose preceding newline lies in `[start, end)` (the
//! file's first line counts as preceded at byte −1, owned by the range that starts at 0).
//! So it begins after the first newline at or after `start` (at 0 when `start` is 0) and
//! ends after the first newline at or after `end` (at the file's end when there is none):
//!
//! ```text
//! bytes   {"a":1}\n{"b":2}\n{"c":3}        (newlines at 7 and 15; 23 bytes)
//! [0,4)   → {"a":1}\n     from 0, to after the newline at 7 (the first at or after 4)
//! [4,8)   → {"b":2}\n     from after 7, to after 15 (the first newline at or after 8)
//! [8,30)  → {"c":3}       from after 15; no newline after it: to the file's end
//! ```
//!
//! Every line is read exactly once whatever the cut: contiguous ranges covering the file
//! own disjoint sets of lines whose union is all of them.

use std::fs::File;
use std::io::Read;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use memmap2::Mmap;

use super::plan::Skipped;
use super::{Plan, ReadError, Unit, SLICE_BYTES};

/// One task of a distributed replay: a whole file, or a raw byte range of a JSON Lines file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Task {
    pub path: PathBuf,
    /// `None`: the whole file, read as `fastiam replay` reads it (any format, gzip too).
    /// `Some((start, end))`: the lines [`align`] gives for these raw offsets.
    pub range: Option<(u64, u64)>,
    /// The bytes the task covers (for scheduling the largest first).
    pub bytes: u64,
}

/// The tasks of a replay, and what the listing could not read or skipped on purpose (the
/// same as [`Plan::new`]'s: a missing path is an error, a README in a directory is skipped).
#[derive(Debug, Default)]
pub struct Tasks {
    pub tasks: Vec<Task>,
    pub errors: Vec<ReadError>,
    pub skipped: Vec<Skipped>,
}

/// Lists `inputs` as [`Plan::new`] does, and cuts every uncompressed JSON Lines file
/// larger than `task_bytes` into the fewest ranges of equal size (± 1 byte) no larger than
/// it. Only the first bytes of a file are read, to tell its format.
pub fn tasks(inputs: &[PathBuf], task_bytes: u64) -> Tasks {
    let task_bytes = task_bytes.max(1);
    let plan = Plan::listing(inputs);
    let mut out = Tasks {
        errors: plan.errors,
        skipped: plan.skipped,
        ..Tasks::default()
    };
    for unit in plan.units {
        let path = unit.path().to_path_buf();
        let size = unit.bytes();
        if size <= task_bytes || !starts_as_json_lines(&path) {
            out.tasks.push(Task {
                path,
                range: None,
                bytes: size,
            });
            continue;
        }
        let count = size.div_ceil(task_bytes);
        // `size * k` in 128 bits: no overflow whatever the file's size.
        let cut = |k: u64| (u128::from(size) * u128::from(k) / u128::from(count)) as u64;
        for k in 0..count {
            let (start, end) = (cut(k), cut(k + 1));
            out.tasks.push(Task {
                path: path.clone(),
                range: Some((start, end)),
                bytes: end - start,
            });
        }
    }
    out
}

/// Whether a regular file's head is JSON Lines (as the planner tells it for slicing).
fn starts_as_json_lines(path: &Path) -> bool {
    let Ok(file) = File::open(path) else {
        return false; // read whole: the reader reports why it cannot be opened
    };
    let Ok(meta) = file.metadata() else {
        return false;
    };
    if !meta.is_file() {
        return false;
    }
    let mut head = Vec::new();
    if file
        .take(SLICE_BYTES as u64)
        .read_to_end(&mut head)
        .is_err()
    {
        return false;
    }
    let begin = if head.starts_with(BOM) { BOM.len() } else { 0 };
    super::plan::is_json_lines(&head[begin..])
}

const BOM: &[u8] = b"\xef\xbb\xbf";

/// The bytes the raw range `[start, end)` owns in `bytes` (see the module docs): from after
/// the first newline at or after `start` (0 when `start` is 0, after a byte-order mark if
/// the file has one) to after the first newline at or after `end` (the end of `bytes` when
/// none). Empty when the range owns no line; offsets past the end are clamped.
pub fn align(bytes: &[u8], start: u64, end: u64) -> Range<usize> {
    let len = bytes.len();
    let start = usize::try_from(start).unwrap_or(usize::MAX).min(len);
    let end = usize::try_from(end).unwrap_or(usize::MAX).min(len);
    let after_newline =
        |from: usize| memchr::memchr(b'\n', &bytes[from..]).map_or(len, |k| from + k + 1);
    let begin = if start == 0 {
        if bytes.starts_with(BOM) {
            BOM.len()
        } else {
            0
        }
    } else {
        after_newline(start)
    };
    if end <= start {
        return begin..begin;
    }
    let finish = after_newline(end);
    begin.min(finish)..finish
}

/// The unit a task reads: the whole file, or the aligned lines of its range in a memory map
/// of the file (read with positions `byte n`, as `fastiam replay` names the records of the
/// slices it cuts). An error when the file cannot be opened or mapped, or when a range is
/// asked of a file that is not JSON Lines (a range of gzip or of a delivery file would cut
/// records apart).
pub fn range_unit(path: &Path, range: Option<(u64, u64)>) -> Result<Unit, ReadError> {
    let name = path.display().to_string();
    let file = File::open(path).map_err(|e| ReadError::new(&name, "file", e.to_string()))?;
    let meta = file
        .metadata()
        .map_err(|e| ReadError::new(&name, "file", e.to_string()))?;
    let Some((start, end)) = range else {
        return Ok(Unit::File {
            path: path.to_path_buf(),
            size: meta.len(),
        });
    };
    if !meta.is_file() {
        return Err(ReadError::new(
            &name,
            "file",
            format!("bytes {start}..{end} asked of something that is not a regular file"),
        ));
    }
    if meta.len() == 0 {
        return Ok(Unit::File {
            path: path.to_path_buf(),
            size: 0,
        });
    }
    // SAFETY: as for the planner's slices (plan.rs): read-only, private to this process; the
    // file must not be truncated while it is read (a truncation raises SIGBUS).
    #[allow(unsafe_code)]
    let map =
        unsafe { Mmap::map(&file) }.map_err(|e| ReadError::new(&name, "file", e.to_string()))?;
    let bytes: &[u8] = &map;
    let head = &bytes[..bytes.len().min(SLICE_BYTES)];
    let head = head.strip_prefix(BOM).unwrap_or(head);
    if !super::plan::is_json_lines(head) {
        return Err(ReadError::new(
            &name,
            "file",
            format!(
                "bytes {start}..{end} asked of a file that is not JSON Lines (gzip, delivery \
                 files and arrays are read whole)"
            ),
        ));
    }
    let lines = align(bytes, start, end);
    Ok(Unit::Slice {
        path: path.to_path_buf(),
        map: Arc::new(map),
        start: lines.start,
        end: lines.end,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lines every range of a cut owns, concatenated: must be the file, once.
    fn cut(bytes: &[u8], bounds: &[u64]) -> Vec<u8> {
        let mut out = Vec::new();
        for w in bounds.windows(2) {
            let r = align(bytes, w[0], w[1]);
            out.extend_from_slice(&bytes[r]);
        }
        out
    }

    #[test]
    fn ranges_own_lines_by_their_preceding_newline() {
        let b = b"{\"a\":1}\n{\"b\":2}\n{\"c\":3}";
        assert_eq!(align(b, 0, 4), 0..8);
        assert_eq!(align(b, 4, 8), 8..16);
        assert_eq!(align(b, 8, 30), 16..23);
        // A range starting on a line start leaves that line to the range before it.
        assert_eq!(align(b, 8, 9), 16..16);
        assert_eq!(align(b, 7, 8), 8..16);
        assert_eq!(align(b, 0, 8), 0..16);
        assert_eq!(align(b, 0, 7), 0..8);
    }

    #[test]
    fn every_cut_reads_every_byte_once() {
        let files: [&[u8]; 5] = [
            b"{\"a\":1}\n{\"b\":2}\n{\"c\":3}\n",
            b"{\"a\":1}\r\n{\"b\":2}\r\n\r\n{\"c\":3}",
            b"\xef\xbb\xbf{\"a\":1}\n\n\n{\"b\":22222}\n",
            b"\n\n{\"a\":1}\n",
            b"{\"only\":\"one line, no newline\"}",
        ];
        for bytes in files {
            let len = bytes.len() as u64;
            let bom = if bytes.starts_with(BOM) { 3 } else { 0 };
            let body = &bytes[bom..];
            for step in 1..=len + 1 {
                let mut bounds: Vec<u64> = (0..len).step_by(step as usize).collect();
                bounds.push(len);
                assert_eq!(cut(bytes, &bounds), body, "step {step} of {bytes:?}");
            }
            // Uneven cuts, empty ranges and a range past the end included.
            for a in 0..=len {
                for b in a..=len {
                    let bounds = [0, a, a, b, len, len + 10];
                    assert_eq!(cut(bytes, &bounds), body, "{bounds:?} of {bytes:?}");
                }
            }
        }
    }

    #[test]
    fn empty_and_inverted_ranges_own_nothing() {
        let b = b"{\"a\":1}\n{\"b\":2}\n";
        assert!(align(b, 3, 3).is_empty());
        assert!(align(b, 9, 2).is_empty());
        assert!(align(b, 100, 200).is_empty());
        assert!(align(b"", 0, 10).is_empty());
    }

    /// Every record the units of `tasks` read, in order, as text (errors as `ERROR`).
    fn read_tasks(path: &Path, task_bytes: u64) -> Vec<String> {
        let mut out = Vec::new();
        for task in tasks(&[path.to_path_buf()], task_bytes).tasks {
            let unit = range_unit(&task.path, task.range).unwrap();
            super::super::read_unit(&unit, &mut |_, v| {
                out.push(v.map_or("ERROR".to_string(), |v| v.to_string()));
                true
            })
            .unwrap();
        }
        out
    }

    #[test]
    fn tasks_of_any_size_read_the_records_of_the_whole_file() {
        let path = std::env::temp_dir().join(format!("fastiam-tasks-{}.jsonl", std::process::id()));
        let mut text = String::new();
        for i in 0..400 {
            text.push_str(&format!("{{\"n\":{i},\"pad\":\"{}\"}}", "x".repeat(i % 37)));
            text.push_str(if i % 3 == 0 { "\r\n" } else { "\n" });
            if i % 50 == 9 {
                text.push_str("\n \n{\"broken\n");
            }
        }
        text.push_str("{\"last\":true}"); // no final newline
        std::fs::write(&path, &text).unwrap();
        let whole = read_tasks(&path, u64::MAX);
        assert_eq!(whole.len(), 400 + 8 + 1);
        assert_eq!(whole.iter().filter(|r| *r == "ERROR").count(), 8);
        for task_bytes in [1, 7, 100, 1000, 4096, text.len() as u64 - 1] {
            assert_eq!(
                read_tasks(&path, task_bytes),
                whole,
                "task_bytes {task_bytes}"
            );
        }
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn large_json_lines_files_are_cut_and_others_are_whole() {
        let dir = std::env::temp_dir().join(format!("fastiam-ranges-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let lines: String = (0..100).map(|i| format!("{{\"n\":{i}}}\n")).collect();
        std::fs::write(dir.join("a.jsonl"), &lines).unwrap();
        let delivery = format!("{{\"Records\":[{}]}}", "{\"n\":1},".repeat(100) + "{}");
        std::fs::write(dir.join("b.json"), &delivery).unwrap();
        std::fs::write(dir.join("README"), "not a log").unwrap();
        let planned = tasks(&[dir.clone(), dir.join("missing.json")], 100);
        let a = dir.join("a.jsonl");
        let cut: Vec<_> = planned.tasks.iter().filter(|t| t.path == a).collect();
        // 890 bytes in ranges of at most 100: 9 of 98 or 99, end to end.
        assert_eq!(lines.len(), 890);
        assert_eq!(cut.len(), 9);
        let mut next = 0;
        for t in &cut {
            let (start, end) = t.range.unwrap();
            assert_eq!(start, next);
            assert!((98..=99).contains(&(end - start)), "{t:?}");
            assert_eq!(t.bytes, end - start);
            next = end;
        }
        assert_eq!(next, lines.len() as u64);
        let b: Vec<_> = planned.tasks.iter().filter(|t| t.path != a).collect();
        assert_eq!(b.len(), 1);
        assert_eq!(b[0].range, None);
        assert_eq!(planned.skipped.len(), 1);
        assert_eq!(planned.errors.len(), 1);
        // A range of the delivery file is refused; the whole file is a plain unit.
        let err = range_unit(&dir.join("b.json"), Some((0, 10))).unwrap_err();
        assert!(err.message.contains("not JSON Lines"), "{}", err.message);
        assert!(matches!(
            range_unit(&dir.join("b.json"), None),
            Ok(Unit::File { .. })
        ));
        let Ok(Unit::Slice { start, end, .. }) = range_unit(&a, Some((5, 20))) else {
            panic!("a range of JSON Lines is a slice");
        };
        assert_eq!((start, end), (8, 24));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
