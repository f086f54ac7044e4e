//! One row per replayed record, built straight into Arrow columns: what `replay_arrow` and
//! `replay_range` return.
//!
//! The columns are those of `fastiam replay --output FILE --format csv`, plus the reason a
//! record could not be replayed; each record's own columns ([`RECORD_COLUMNS`]) come after
//! the row's index (`replay_arrow`: [`COLUMNS`]) or its file and place in it
//! (`replay_range`: [`FILE_COLUMNS`]):
//!
//! ```text
//! row | file position   record  principal  action  resource  via  hop  decision  verdict
//! reason  matched  missing  depends_on  decided_by  log  error_code  unmappable  error
//! ```
//!
//! A row whose record was replayed has `unmappable` and `error` null; one that was not
//! (not JSON, not an API call, an unknown action, …) has them set and the rest null — every
//! input record gets exactly one output row, in order.
//!
//! Why straight into columns: a Spark task replays tens of thousands of records and hands
//! Spark only the columns it asked for. Values are copied into the column builders from the
//! mapped record (no string per field per record), and a column not asked for is not
//! computed at all (`matched` formats statement names; the step need not even collect them).

use std::fmt::Write as _;
use std::sync::Arc;

use arrow_array::builder::StringBuilder;
use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayRef, Int64Array, UInt32Array};
use fastiam::replay::{Position, RecordStep, StepOutcome};

/// What a replayed record says, in order: every row has these after its own leading columns.
pub const RECORD_COLUMNS: [&str; 17] = [
    "record",
    "principal",
    "action",
    "resource",
    "via",
    "hop",
    "decision",
    "verdict",
    "reason",
    "matched",
    "missing",
    "depends_on",
    "decided_by",
    "log",
    "error_code",
    "unmappable",
    "error",
];

/// `replay_arrow`'s columns: the row's index in the input, then [`RECORD_COLUMNS`].
pub fn columns() -> Vec<&'static str> {
    std::iter::once("row").chain(RECORD_COLUMNS).collect()
}

/// `replay_range`'s columns: the record's file and place in it (`line 7`, `Records[3]`,
/// `byte 1048576`, as `fastiam replay --output` names them), then [`RECORD_COLUMNS`].
pub fn file_columns() -> Vec<&'static str> {
    ["file", "position"]
        .into_iter()
        .chain(RECORD_COLUMNS)
        .collect()
}

/// Indexes into [`RECORD_COLUMNS`].
mod col {
    pub const RECORD: usize = 0;
    pub const PRINCIPAL: usize = 1;
    pub const ACTION: usize = 2;
    pub const RESOURCE: usize = 3;
    pub const VIA: usize = 4;
    pub const HOP: usize = 5;
    pub const DECISION: usize = 6;
    pub const VERDICT: usize = 7;
    pub const REASON: usize = 8;
    pub const MATCHED: usize = 9;
    pub const MISSING: usize = 10;
    pub const DEPENDS_ON: usize = 11;
    pub const DECIDED_BY: usize = 12;
    pub const LOG: usize = 13;
    pub const ERROR_CODE: usize = 14;
    pub const UNMAPPABLE: usize = 15;
    pub const ERROR: usize = 16;
}

/// The strings of a column of records; nulls are rows without a record. A struct column of
/// one field (a one-column record batch or stream) stands for that field.
pub fn string_rows(array: &dyn Array) -> Result<Vec<Option<&str>>, String> {
    if let Some(s) = array.as_struct_opt() {
        if s.num_columns() == 1 && s.null_count() == 0 {
            return string_rows(s.column(0).as_ref());
        }
    }
    if let Some(a) = array.as_string_opt::<i32>() {
        return Ok(a.iter().collect());
    }
    if let Some(a) = array.as_string_opt::<i64>() {
        return Ok(a.iter().collect());
    }
    if let Some(a) = array.as_string_view_opt() {
        return Ok(a.iter().collect());
    }
    Err(format!(
        "expected a column of strings (one CloudTrail record's JSON per row), found {}",
        array.data_type()
    ))
}

/// The [`RECORD_COLUMNS`] of records as they are replayed, only those asked for.
pub struct RecordColumns {
    wanted: [bool; 17],
    text: Vec<StringBuilder>,
    hop: Vec<Option<u32>>,
}

impl RecordColumns {
    /// Builders for the columns of `names` that are record columns (others are ignored).
    pub fn new(names: &[&str]) -> RecordColumns {
        let mut wanted = [false; 17];
        for (i, name) in RECORD_COLUMNS.iter().enumerate() {
            wanted[i] = names.contains(name);
        }
        RecordColumns {
            wanted,
            text: (0..RECORD_COLUMNS.len())
                .map(|_| StringBuilder::new())
                .collect(),
            hop: Vec::new(),
        }
    }

    /// Whether the statements and missing keys of every record are read (else the replay
    /// step need only explain denials).
    pub fn explains(&self) -> bool {
        self.wanted[col::MATCHED] || self.wanted[col::MISSING]
    }

    /// Parses and replays one row's record with the library's replay step.
    pub fn push_text(&mut self, step: &mut RecordStep<'_, '_>, text: Option<&str>, at: &Position) {
        let Some(text) = text else {
            return self.push_failed("unreadable", &format!("{at}: null instead of a record"));
        };
        match fastiam::replay::json::parse(text.as_bytes()) {
            Ok(record) => self.push(step.replay(record, at)),
            Err(e) => self.push_failed("unreadable", &format!("{at}: not JSON: {e}")),
        }
    }

    fn set(&mut self, column: usize, value: Option<&str>) {
        if self.wanted[column] {
            self.text[column].append_option(value);
        }
    }

    /// Writes a value with `write!` (nothing is formatted for a column not asked for).
    fn write(&mut self, column: usize, f: impl FnOnce(&mut StringBuilder) -> std::fmt::Result) {
        if self.wanted[column] {
            let builder = &mut self.text[column];
            let _ = f(builder);
            builder.append_value("");
        }
    }

    /// The row of what the replay step made of a record.
    pub fn push(&mut self, outcome: StepOutcome<'_>) {
        let r = match outcome {
            StepOutcome::Unmappable(u) => return self.push_failed(u.class, &u.reason),
            StepOutcome::Evaluated(r) => r,
        };
        let m = &r.mapped;
        self.set(col::RECORD, Some(&m.id));
        self.set(col::PRINCIPAL, Some(&m.request.principal.arn));
        self.set(col::ACTION, Some(m.action()));
        self.set(col::RESOURCE, Some(m.resource()));
        self.set(col::VIA, m.via.as_deref());
        self.hop.push(Some(m.hop as u32));
        self.set(col::DECISION, Some(r.decision.decision.name()));
        self.set(col::VERDICT, Some(r.verdict.name()));
        self.write(col::REASON, |b| write!(b, "{}", r.decision.reason));
        if self.wanted[col::MATCHED] {
            self.set(col::MATCHED, Some(&r.deciders()));
        }
        self.write(col::MISSING, |b| join(b, &r.decision.missing));
        self.write(col::DEPENDS_ON, |b| join(b, &r.depends_on));
        self.set(col::DECIDED_BY, r.decided_by.as_deref());
        self.set(col::LOG, Some(m.log_outcome.name()));
        self.set(col::ERROR_CODE, m.error_code.as_deref());
        self.set(col::UNMAPPABLE, None);
        self.set(col::ERROR, None);
    }

    /// A record (or file) that was not replayed: its class (`unreadable`, or an unmappable
    /// class) and why.
    pub fn push_failed(&mut self, class: &str, reason: &str) {
        for column in 0..col::UNMAPPABLE {
            if column != col::HOP {
                self.set(column, None);
            }
        }
        self.hop.push(None);
        self.set(col::UNMAPPABLE, Some(class));
        self.set(col::ERROR, Some(reason));
    }

    /// The columns asked for, by name: `hop` as `int64` (Spark's `long`) when `long_hop`,
    /// else `uint32`.
    pub fn finish(mut self, long_hop: bool) -> Vec<(&'static str, ArrayRef)> {
        let mut out = Vec::new();
        for (i, name) in RECORD_COLUMNS.iter().enumerate() {
            if !self.wanted[i] {
                continue;
            }
            let array: ArrayRef = if i == col::HOP {
                if long_hop {
                    Arc::new(
                        self.hop
                            .iter()
                            .map(|h| h.map(i64::from))
                            .collect::<Int64Array>(),
                    )
                } else {
                    Arc::new(self.hop.iter().copied().collect::<UInt32Array>())
                }
            } else {
                Arc::new(self.text[i].finish())
            };
            out.push((*name, array));
        }
        out
    }
}

/// `items` separated by spaces.
fn join(out: &mut StringBuilder, items: &[String]) -> std::fmt::Result {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.write_char(' ')?;
        }
        out.write_str(item)?;
    }
    Ok(())
}
