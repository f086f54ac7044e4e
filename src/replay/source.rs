//! Reading CloudTrail logs: files as delivered, JSON Lines, gzip, whole directory trees.
//!
//! CloudTrail delivers `{"Records": [...]}` objects, one file per few minutes and account,
//! usually gzip-compressed; exports and pipelines write JSON Lines (one record per line).
//! Both, compressed or not, are read from files or from directories walked in name order.
//! The format is told by content, not by name: gzip by its magic bytes, a delivery file by
//! its first key `"Records"`, JSON Lines by a first line that is a whole JSON value; anything
//! else is one JSON document (an array of records, or one pretty-printed record).
//!
//! The work is cut into [`Unit`]s that workers take independently: a whole delivery file,
//! a whole compressed file, or a slice of a large uncompressed JSON Lines file (memory-mapped
//! and cut at line ends), so that one huge export still keeps every core busy while memory
//! stays bounded by the slices in flight, not by the input.
//!
//! Nothing read is dropped silently: an unreadable file, a line that is not JSON, a
//! delivery file whose `Records` is not an array — each reaches the caller as a
//! [`ReadError`] naming the file and the place.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use memmap2::Mmap;
use serde_json::Value;

/// Uncompressed JSON Lines files above this size are memory-mapped and cut into slices.
pub const SLICE_BYTES: usize = 4 << 20;

/// One piece of work.
#[derive(Clone, Debug)]
pub enum Unit {
    /// A whole file, read by one worker.
    File { path: PathBuf, size: u64 },
    /// Lines `[start, end)` (byte offsets at line starts) of a mapped JSON Lines file;
    /// `first_line` is the 1-based number of the line at `start`, when known.
    Slice {
        path: PathBuf,
        map: Arc<Mmap>,
        start: usize,
        end: usize,
    },
}

impl Unit {
    /// Bytes of input this unit covers (for progress).
    pub fn bytes(&self) -> u64 {
        match self {
            Unit::File { size, .. } => *size,
            Unit::Slice { start, end, .. } => (end - start) as u64,
        }
    }

    pub fn path(&self) -> &Path {
        match self {
            Unit::File { path, .. } | Unit::Slice { path, .. } => path,
        }
    }
}

/// Where a record came from: the file and, within it, `Records[i]`, `line n` or
/// `byte n` (a slice of a mapped file, whose line numbers are not counted).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Position {
    pub file: String,
    pub place: String,
}

impl std::fmt::Display for Position {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.file, self.place)
    }
}

/// A record or a file that could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadError {
    pub position: Position,
    pub message: String,
}

/// The units of a list of files and directories. Errors name paths that cannot be listed.
pub fn plan(inputs: &[PathBuf]) -> (Vec<Unit>, Vec<ReadError>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for input in inputs {
        walk(input, &mut files, &mut errors);
    }
    let mut units = Vec::new();
    for path in files {
        match plan_file(&path) {
            Ok(mut u) => units.append(&mut u),
            Err(message) => errors.push(ReadError {
                position: Position {
                    file: path.display().to_string(),
                    place: "file".into(),
                },
                message,
            }),
        }
    }
    (units, errors)
}

fn walk(path: &Path, files: &mut Vec<PathBuf>, errors: &mut Vec<ReadError>) {
    let error = |message: String| ReadError {
        position: Position {
            file: path.display().to_string(),
            place: "path".into(),
        },
        message,
    };
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) => return errors.push(error(e.to_string())),
    };
    if meta.is_file() {
        files.push(path.to_path_buf());
        return;
    }
    let entries = match std::fs::read_dir(path) {
        Ok(e) => e,
        Err(e) => return errors.push(error(e.to_string())),
    };
    let mut children: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    children.sort();
    for child in children {
        let name = child.file_name().and_then(|n| n.to_str()).unwrap_or("");
        // Hidden files and licence/readme files that sit beside logs are not logs.
        if name.starts_with('.') || (child.is_file() && !looks_like_log(name)) {
            continue;
        }
        walk(&child, files, errors);
    }
}

/// Names a directory walk takes as logs: `.json`, `.jsonl`, `.ndjson`, optionally `.gz`.
fn looks_like_log(name: &str) -> bool {
    let base = name.strip_suffix(".gz").unwrap_or(name);
    [".json", ".jsonl", ".ndjson"]
        .iter()
        .any(|ext| base.ends_with(ext))
}

fn plan_file(path: &Path) -> Result<Vec<Unit>, String> {
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    let size = meta.len();
    if (size as usize) < 2 * SLICE_BYTES {
        return Ok(vec![Unit::File {
            path: path.to_path_buf(),
            size,
        }]);
    }
    let file = File::open(path).map_err(|e| e.to_string())?;
    // SAFETY: the map is read-only and private to this process; the file must not be
    // truncated while the replay runs (documented in the README: logs are read as they are
    // at the start). A concurrent truncation would raise SIGBUS, which is why small files
    // are read, not mapped.
    #[allow(unsafe_code)]
    let map = Arc::new(unsafe { Mmap::map(&file) }.map_err(|e| e.to_string())?);
    let bytes: &[u8] = &map;
    if bytes.starts_with(&[0x1f, 0x8b]) || starts_delivery_file(bytes) {
        return Ok(vec![Unit::File {
            path: path.to_path_buf(),
            size,
        }]);
    }
    let mut units = Vec::new();
    let mut start = 0;
    while start < bytes.len() {
        let mut end = (start + SLICE_BYTES).min(bytes.len());
        while end < bytes.len() && bytes[end - 1] != b'\n' {
            end += 1;
        }
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

/// Whether the bytes begin a `{"Records": …}` delivery file.
fn starts_delivery_file(bytes: &[u8]) -> bool {
    let text = &bytes[..bytes.len().min(256)];
    let mut i = 0;
    while i < text.len() && text[i].is_ascii_whitespace() {
        i += 1;
    }
    if text.get(i) != Some(&b'{') {
        return false;
    }
    i += 1;
    while i < text.len() && text[i].is_ascii_whitespace() {
        i += 1;
    }
    text[i..].starts_with(b"\"Records\"")
}

/// Reads a unit, calling `each` with every record (or error) in order. Returns early, with
/// `false`, when `each` returns `false` (cancellation).
pub fn read_unit(
    unit: &Unit,
    each: &mut dyn FnMut(Position, Result<Value, String>) -> bool,
) -> Result<bool, ReadError> {
    let file = unit.path().display().to_string();
    let at = |place: String| Position {
        file: file.clone(),
        place,
    };
    let whole_file_error = |message: String| ReadError {
        position: at("file".into()),
        message,
    };
    match unit {
        Unit::Slice {
            map, start, end, ..
        } => {
            let bytes = &map[*start..*end];
            let mut offset = *start;
            for line in bytes.split(|b| *b == b'\n') {
                let here = offset;
                offset += line.len() + 1;
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                let parsed = serde_json::from_slice::<Value>(line).map_err(|e| e.to_string());
                if !each(at(format!("byte {here}")), parsed) {
                    return Ok(false);
                }
            }
            Ok(true)
        }
        Unit::File { path, .. } => {
            let file = File::open(path).map_err(|e| whole_file_error(e.to_string()))?;
            let mut raw = BufReader::new(file);
            let gzip = raw
                .fill_buf()
                .map_err(|e| whole_file_error(e.to_string()))?
                .starts_with(&[0x1f, 0x8b]);
            let reader: Box<dyn Read> = if gzip {
                Box::new(flate2::read::MultiGzDecoder::new(raw))
            } else {
                Box::new(raw)
            };
            let mut reader = BufReader::with_capacity(256 << 10, reader);
            let head = reader
                .fill_buf()
                .map_err(|e| whole_file_error(e.to_string()))?;
            // JSON Lines when the first line is a whole JSON value; otherwise one document
            // (a delivery file, an array of records, or one pretty-printed record).
            let first_line = head.split(|b| *b == b'\n').next().unwrap_or(&[]);
            let lines = first_line.len() < head.len()
                && serde_json::from_slice::<serde::de::IgnoredAny>(first_line).is_ok();
            if starts_delivery_file(head) || !lines {
                read_delivery(reader, &at, each).map_err(whole_file_error)
            } else {
                read_lines(reader, &at, each).map_err(whole_file_error)
            }
        }
    }
}

/// A delivery file (`{"Records": [...]}`), a bare array of records, or one record.
fn read_delivery(
    mut reader: impl Read,
    at: &dyn Fn(String) -> Position,
    each: &mut dyn FnMut(Position, Result<Value, String>) -> bool,
) -> Result<bool, String> {
    let mut bytes = Vec::new();
    reader.read_to_end(&mut bytes).map_err(|e| e.to_string())?;
    let root: Value = serde_json::from_slice(&bytes)
        .map_err(|e| format!("not JSON at line {}, column {}: {e}", e.line(), e.column()))?;
    drop(bytes);
    let records = match root {
        Value::Array(a) => a,
        Value::Object(mut o) => match o.remove("Records") {
            Some(Value::Array(a)) => a,
            Some(_) => return Err("`Records` is not an array".into()),
            None => {
                each(at("document".into()), Ok(Value::Object(o)));
                return Ok(true);
            }
        },
        _ => return Err("expected `{\"Records\": [...]}` or an array of records".into()),
    };
    for (i, record) in records.into_iter().enumerate() {
        if !each(at(format!("Records[{i}]")), Ok(record)) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// JSON Lines, streamed: one record per line, blank lines skipped.
fn read_lines(
    reader: impl BufRead,
    at: &dyn Fn(String) -> Position,
    each: &mut dyn FnMut(Position, Result<Value, String>) -> bool,
) -> Result<bool, String> {
    for (i, line) in reader.split(b'\n').enumerate() {
        let line = line.map_err(|e| format!("at line {}: {e}", i + 1))?;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let parsed = serde_json::from_slice::<Value>(&line).map_err(|e| e.to_string());
        if !each(at(format!("line {}", i + 1)), parsed) {
            return Ok(false);
        }
    }
    Ok(true)
}
