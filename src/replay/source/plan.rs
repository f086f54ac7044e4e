//! Which files a replay reads, and how they are cut into units of work.
//!
//! Directories are walked with `walkdir` in name order, following symbolic links: a link
//! back to an ancestor directory is recognised by file identity (`walkdir` compares the
//! device and inode of every ancestor, through `same-file`) and not followed, instead of
//! looping with growing memory. A file is read once however many names lead to it — two
//! links, a hard link, the same file given twice, or a directory given with a file in it:
//! the planner keeps the identity (device, inode) of every file it took.
//!
//! In a walked directory only regular files named like logs (`.json`, `.jsonl`, `.ndjson`,
//! optionally `.gz`) are read; everything else — a README, a picture, a hidden file or
//! directory, a FIFO, a second name of a file, a loop — is [`Skipped`], with the reason, and
//! the report lists it. A file named on the command line is read whatever its name or kind
//! (a named pipe such as `<(zcat logs.gz)` too).
//!
//! ```no_run
//! use fastiam::replay::source::Plan;
//! let plan = Plan::new(&["logs/".into(), "extra.jsonl".into()]);
//! println!("{} units, {} errors, {} skipped", plan.units.len(), plan.errors.len(), plan.skipped.len());
//! ```

use std::collections::HashMap;
use std::fs::{File, Metadata};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use memmap2::Mmap;
use walkdir::WalkDir;

use super::{ReadError, Unit, SLICE_BYTES};

/// A path a directory walk did not read, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    pub path: PathBuf,
    pub reason: String,
}

impl std::fmt::Display for Skipped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.reason)
    }
}

/// The work of a replay: units to read, paths that could not be listed or opened, and paths
/// skipped on purpose.
#[derive(Debug, Default)]
pub struct Plan {
    pub units: Vec<Unit>,
    pub errors: Vec<ReadError>,
    pub skipped: Vec<Skipped>,
    /// Cut large JSON Lines files into slices ([`Plan::new`]) or not ([`Plan::listing`]).
    slice: bool,
}

/// What identifies a file whatever the name it is reached by.
#[cfg(unix)]
type FileId = (u64, u64);
#[cfg(not(unix))]
type FileId = PathBuf;

#[cfg(unix)]
fn file_id(_: &Path, meta: &Metadata) -> FileId {
    use std::os::unix::fs::MetadataExt;
    (meta.dev(), meta.ino())
}

#[cfg(not(unix))]
fn file_id(path: &Path, _: &Metadata) -> FileId {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// [`Plan::new`]'s units and errors (the skipped paths left out).
pub fn plan(inputs: &[PathBuf]) -> (Vec<Unit>, Vec<ReadError>) {
    let plan = Plan::new(inputs);
    (plan.units, plan.errors)
}

impl Plan {
    /// Plans the reading of files and directory trees, in the order given.
    pub fn new(inputs: &[PathBuf]) -> Plan {
        Plan::walking(inputs, true)
    }

    /// The files [`Plan::new`] would read, each one whole [`Unit::File`] (no file is mapped
    /// or cut): what a distributed job's driver lists ([`super::range::tasks`]).
    pub fn listing(inputs: &[PathBuf]) -> Plan {
        Plan::walking(inputs, false)
    }

    fn walking(inputs: &[PathBuf], slice: bool) -> Plan {
        let mut plan = Plan {
            slice,
            ..Plan::default()
        };
        let mut seen = HashMap::new();
        for input in inputs {
            plan.walk(input, &mut seen);
        }
        plan
    }

    fn skip(&mut self, path: &Path, reason: impl Into<String>) {
        self.skipped.push(Skipped {
            path: path.to_path_buf(),
            reason: reason.into(),
        });
    }

    fn error(&mut self, path: &Path, place: &str, message: String) {
        let file = path.display().to_string();
        self.errors.push(ReadError::new(&file, place, message));
    }

    fn walk(&mut self, input: &Path, seen: &mut HashMap<FileId, PathBuf>) {
        let mut entries = WalkDir::new(input)
            .follow_links(true)
            .sort_by_file_name()
            .into_iter();
        while let Some(entry) = entries.next() {
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) => {
                    let path = e.path().unwrap_or(input).to_path_buf();
                    match e.loop_ancestor() {
                        Some(ancestor) => self.skip(
                            &path,
                            format!(
                                "a link back to its ancestor `{}`: not followed (a loop)",
                                ancestor.display()
                            ),
                        ),
                        None => {
                            let message = e.io_error().map_or(e.to_string(), |io| io.to_string());
                            self.error(&path, "path", message);
                        }
                    }
                    continue;
                }
            };
            let top = entry.depth() == 0;
            let path = entry.path();
            let kind = entry.file_type();
            let name = entry.file_name().to_string_lossy();
            if !top && name.starts_with('.') {
                if kind.is_dir() {
                    entries.skip_current_dir();
                }
                self.skip(path, "hidden");
                continue;
            }
            if kind.is_dir() {
                continue;
            }
            if !top && !kind.is_file() {
                self.skip(path, "not a regular file");
                continue;
            }
            if !top && !looks_like_log(&name) {
                self.skip(
                    path,
                    "not named like a log (`.json`, `.jsonl`, `.ndjson`, optionally `.gz`)",
                );
                continue;
            }
            let meta = match entry.metadata() {
                Ok(meta) => meta,
                Err(e) => {
                    let message = e.io_error().map_or(e.to_string(), |io| io.to_string());
                    self.error(path, "path", message);
                    continue;
                }
            };
            let id = file_id(path, &meta);
            if let Some(first) = seen.get(&id) {
                let reason = format!("the same file as `{}`, read once", first.display());
                self.skip(path, reason);
                continue;
            }
            seen.insert(id, path.to_path_buf());
            self.add_file(path, &meta);
        }
    }

    fn add_file(&mut self, path: &Path, meta: &Metadata) {
        let size = meta.len();
        if !self.slice || !meta.is_file() || size < 2 * SLICE_BYTES as u64 {
            return self.units.push(Unit::File {
                path: path.to_path_buf(),
                size,
            });
        }
        match slices(path, size) {
            Ok(mut units) => self.units.append(&mut units),
            Err(message) => self.error(path, "file", message),
        }
    }
}

/// Names a directory walk takes as logs: `.json`, `.jsonl`, `.ndjson`, optionally `.gz`.
fn looks_like_log(name: &str) -> bool {
    let base = name.strip_suffix(".gz").unwrap_or(name);
    [".json", ".jsonl", ".ndjson"]
        .iter()
        .any(|ext| base.ends_with(ext))
}

/// A large file: slices of a memory map when it is JSON Lines, else one unit (read as a
/// stream: a delivery file, an array, gzip, or something the reader refuses).
fn slices(path: &Path, size: u64) -> Result<Vec<Unit>, String> {
    let whole = || {
        vec![Unit::File {
            path: path.to_path_buf(),
            size,
        }]
    };
    let file = File::open(path).map_err(|e| e.to_string())?;
    // SAFETY: the map is read-only and private to this process; the file must not be
    // truncated while the replay runs (documented in the README: logs are read as they are
    // at the start). A concurrent truncation would raise SIGBUS, which is why small files
    // are read, not mapped.
    #[allow(unsafe_code)]
    let map = Arc::new(unsafe { Mmap::map(&file) }.map_err(|e| e.to_string())?);
    let bytes: &[u8] = &map;
    let begin = if bytes.starts_with(b"\xef\xbb\xbf") {
        3
    } else {
        0
    };
    if !is_json_lines(&bytes[begin..]) {
        return Ok(whole());
    }
    let mut units = Vec::new();
    let mut start = begin;
    while start < bytes.len() {
        let probe = (start + SLICE_BYTES).min(bytes.len());
        let end = memchr::memchr(b'\n', &bytes[probe - 1..]).map_or(bytes.len(), |k| probe + k);
        units.push(Unit::Slice {
            path: path.to_path_buf(),
            map: Arc::clone(&map),
            start,
            end,
        });
        start = end;
    }
    Ok(units)
}

/// Whether `bytes` start with a line (within the first slice) that is one whole JSON object
/// and not the start of a `{"Records": …}` file.
pub(super) fn is_json_lines(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(SLICE_BYTES)];
    let Some(end) = memchr::memchr(b'\n', head) else {
        return false;
    };
    let line = &head[..end];
    let Some(first) = line.iter().position(|b| !super::split::is_space(*b)) else {
        return false;
    };
    line[first] == b'{'
        && super::format::delivery_start(&line[first..]).is_none()
        && serde_json::from_slice::<serde::de::IgnoredAny>(line).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_whole_json_lines_are_sliced() {
        assert!(is_json_lines(b" {\"a\": 1}\n{\"b\"\n"));
        assert!(!is_json_lines(b"{\"Records\": []}\n"));
        assert!(!is_json_lines(b"{\n  \"a\": 1\n}\n"));
        assert!(!is_json_lines(b"[{\"a\": 1}]\n"));
        assert!(!is_json_lines(&[0u8; 100]));
        assert!(!is_json_lines(b"\n\n"));
    }

    #[test]
    fn a_file_named_twice_is_planned_once_and_a_missing_path_is_an_error() {
        let dir = std::env::temp_dir().join(format!("fastiam-plan-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("d")).unwrap();
        let file = dir.join("d/a.json");
        std::fs::write(&file, "{}").unwrap();
        let plan = Plan::new(&[file.clone(), dir.join("d"), file.clone(), dir.join("none")]);
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(plan.units.len(), 1);
        assert_eq!(plan.units[0].path(), file);
        assert_eq!(plan.skipped.len(), 2);
        for s in &plan.skipped {
            assert_eq!(s.path, file);
            assert!(s.reason.starts_with("the same file as"), "{s}");
        }
        assert_eq!(plan.errors.len(), 1);
        assert!(plan.errors[0].position.file.ends_with("none"));
        assert_eq!(plan.errors[0].position.place, "path");
    }

    #[test]
    fn log_names() {
        for name in ["a.json", "a.json.gz", "b.jsonl", "c.ndjson.gz"] {
            assert!(looks_like_log(name), "{name}");
        }
        for name in ["README.md", "LICENSE", "a.png", "a.gz", "json"] {
            assert!(!looks_like_log(name), "{name}");
        }
    }
}
