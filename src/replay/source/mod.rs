//! Reading CloudTrail logs: files as delivered, JSON Lines, gzip, whole directory trees —
//! and surviving whatever else a log directory holds.
//!
//! CloudTrail delivers `{"Records": [...]}` objects, one file per few minutes and account,
//! usually gzip-compressed; exports and pipelines write JSON Lines (one record per line).
//! Both, compressed or not, are read from files or from directories walked in name order.
//! The format is told by content, not by name: gzip by its magic bytes, a delivery file by
//! its first key `"Records"`, an array by its `[`, JSON Lines by a first line that is a whole
//! JSON value; anything else is one JSON document (one pretty-printed record).
//!
//! The work is cut into [`Unit`]s that workers take independently ([`Plan`]): a whole file,
//! or a slice of a large uncompressed JSON Lines file (memory-mapped and cut at line ends),
//! so that one huge export still keeps every core busy.
//!
//! Why this module is defensive, phase by phase (each a file of its own):
//!
//! * [`plan`](mod@plan) walks directories with `walkdir`, which follows links but detects a
//!   link back to an ancestor by file identity instead of looping; each file is read once
//!   (by device and inode), and whatever is not read — a README, a picture, a FIFO, a
//!   hidden file, a second name of a file already planned, a loop — is *skipped* and listed,
//!   not silently dropped.
//! * [`inflate`] decompresses gzip behind a guard: past [`ReadOptions::inflate_ratio`] times
//!   the compressed bytes read *and* [`ReadOptions::inflate_floor`] bytes, reading stops with
//!   an error naming the file; the records before it still count.
//! * `format` looks at a bounded prefix first: a file that does not start (after
//!   whitespace) with `{` or `[` — a megabyte of zeros, a PNG — is refused at once.
//! * `split` cuts documents into records without parsing them: the elements of a
//!   `{"Records": [...]}` array (or of a top-level array) and the lines of JSON Lines are
//!   found by a byte scanner that tracks only strings, escapes and nesting depth; each
//!   record is then parsed on its own (with sonic-rs, [`super::json`](mod@super::json)). Memory is one record, not one file
//!   (a 1 GB delivery document streams like JSON Lines); a record past
//!   [`ReadOptions::max_record_bytes`] is skipped and reported, and reading goes on after
//!   it; a record with an invalid UTF-8 byte or any other error costs that record only.
//!
//! Nothing read is dropped silently: every record reaches the caller's callback as a value
//! or as an error with its place, and a file that stops early ends in a [`ReadError`]
//! naming the file and where it stopped. An empty file holds no record.
//!
//! ```no_run
//! use fastiam::replay::source::{read_unit_with, Plan, ReadOptions};
//! let plan = Plan::new(&["logs/".into()]);
//! let options = ReadOptions::default();
//! for unit in &plan.units {
//!     let r = read_unit_with(unit, &options, &mut |at, record| {
//!         match record {
//!             Ok(value) => println!("{at}: {}", value["eventName"]),
//!             Err(message) => eprintln!("{at}: {message}"),
//!         }
//!         true // false stops the unit
//!     });
//!     if let Err(e) = r {
//!         eprintln!("{}: {}", e.position, e.message);
//!     }
//! }
//! for s in &plan.skipped {
//!     eprintln!("skipped {s}");
//! }
//! ```

mod format;
pub mod inflate;
pub mod plan;
pub mod range;
mod split;

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::json::Record;
use memmap2::Mmap;

pub use plan::{plan, Plan, Skipped};
pub use range::{align, range_unit, tasks, Task, Tasks};

/// Uncompressed JSON Lines files above this size are memory-mapped and cut into slices.
pub const SLICE_BYTES: usize = 4 << 20;

/// How much of a file is looked at before it is refused as not JSON (a prefix of nothing but
/// whitespace this long is refused too).
pub const SNIFF_BYTES: usize = 64 << 10;

/// Limits that keep a hostile or broken input from costing more than a bounded amount of
/// memory and time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadOptions {
    /// A record (an array element, a line, a whole non-delivery document) longer than this
    /// is skipped and reported as unreadable; reading goes on after it where the format
    /// allows. Default 16 MiB (CloudTrail's own records are a few KiB; its largest events
    /// stay well under 1 MiB).
    pub max_record_bytes: usize,
    /// Decompression guard: reading a gzip file stops when its decompressed bytes exceed both
    /// this many times the compressed bytes read so far and [`inflate_floor`]. Default 500:
    /// real CloudTrail gzip files inflate 10–30×, records repeated by a generator about
    /// 200×, and deflate itself cannot pass 1032×, so only long runs of repeated bytes
    /// (a gzip bomb) get that far.
    ///
    /// [`inflate_floor`]: ReadOptions::inflate_floor
    pub inflate_ratio: u64,
    /// No gzip file is stopped before it has produced this many bytes. Default 1 GiB.
    pub inflate_floor: u64,
}

impl Default for ReadOptions {
    fn default() -> ReadOptions {
        ReadOptions {
            max_record_bytes: 16 << 20,
            inflate_ratio: 500,
            inflate_floor: 1 << 30,
        }
    }
}

/// One piece of work.
#[derive(Clone, Debug)]
pub enum Unit {
    /// A whole file (or a named pipe given on the command line), read by one worker.
    File { path: PathBuf, size: u64 },
    /// Lines `[start, end)` (byte offsets at line starts) of a mapped JSON Lines file.
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

/// Where a record came from: the file and, within it, `Records[i]` (a delivery file),
/// `[i]` (an array), `line n`, `byte n` (a slice of a mapped file, whose line numbers are not
/// counted), `document` (one record), `file` or `path`.
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

impl ReadError {
    fn new(file: &str, place: impl Into<String>, message: impl Into<String>) -> ReadError {
        ReadError {
            position: Position {
                file: file.to_string(),
                place: place.into(),
            },
            message: message.into(),
        }
    }
}

/// The callback records are handed to: a record's place and its value, or why it could not
/// be read. Returning `false` stops reading (cancellation). The place is lent: a reader
/// rewrites one [`Position`] for each record rather than allocating one (`Places`).
pub type Each<'a> = dyn FnMut(&Position, Result<Record, String>) -> bool + 'a;

/// One [`Position`] rewritten in place for every record of a file: its `file` is set once,
/// its `place` formatted into the same buffer, so naming a record allocates nothing (it
/// cost two allocations and a `format!` a record: 2.5% of a replay's instructions).
///
/// ```text
/// places.at(format_args!("line {n}"))  → &Position { file: "logs/a.jsonl", place: "line 7" }
/// ```
pub(super) struct Places {
    position: Position,
}

impl Places {
    pub(super) fn new(file: &str) -> Places {
        Places {
            position: Position {
                file: file.to_string(),
                place: String::new(),
            },
        }
    }

    /// The position named `place` in the file.
    pub(super) fn at(&mut self, place: std::fmt::Arguments<'_>) -> &Position {
        use std::fmt::Write as _;
        self.position.place.clear();
        let _ = self.position.place.write_fmt(place);
        &self.position
    }

    /// The position last named, owned (for an error that outlives the reading).
    pub(super) fn owned(&mut self, place: std::fmt::Arguments<'_>) -> Position {
        self.at(place).clone()
    }
}

/// [`read_unit_with`] under the default [`ReadOptions`].
pub fn read_unit(unit: &Unit, each: &mut Each<'_>) -> Result<bool, ReadError> {
    read_unit_with(unit, &ReadOptions::default(), each)
}

/// Reads a unit, calling `each` with every record (or record error) in order. Returns
/// `Ok(false)` when `each` stopped it, and an error when the file stopped being readable
/// (every record before that point has been handed on).
pub fn read_unit_with(
    unit: &Unit,
    options: &ReadOptions,
    each: &mut Each<'_>,
) -> Result<bool, ReadError> {
    let name = unit.path().display().to_string();
    match unit {
        Unit::Slice {
            map, start, end, ..
        } => format::read_slice(&name, &map[*start..*end], *start, options, each),
        Unit::File { path, .. } => {
            let file =
                File::open(path).map_err(|e| ReadError::new(&name, "file", e.to_string()))?;
            read_reader(&name, file, options, each)
        }
    }
}

/// Reads one log from any byte source, plain or gzip, named `name` in positions and errors
/// (what [`read_unit_with`] does with a file; the fuzz target feeds bytes here).
pub fn read_reader(
    name: &str,
    reader: impl Read,
    options: &ReadOptions,
    each: &mut Each<'_>,
) -> Result<bool, ReadError> {
    let mut input = inflate::open(reader, options).map_err(|e| ReadError::new(name, "file", e))?;
    format::read_stream(name, &mut input, options, each)
}
