//! One row per replayed record, and the Arrow batch they make: what `replay_arrow` returns.
//!
//! The columns are those of `fastiam replay --output FILE --format csv`, less the file
//! (an Arrow column has none) and with the row's index instead of its position, plus the
//! reason a record could not be replayed:
//!
//! ```text
//! row  record  principal  action  resource  via  hop  decision  verdict  reason  matched
//! missing  depends_on  decided_by  log  error_code  unmappable  error
//! ```
//!
//! A row whose record was replayed has `unmappable` and `error` null; one that was not
//! (not JSON, not an API call, an unknown action, …) has them set and the rest null — every
//! input row gets exactly one output row, in order.

use std::sync::Arc;

use arrow_array::builder::{StringBuilder, UInt32Builder, UInt64Builder};
use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{ArrowError, Field, Schema};
use fastiam::replay::{Position, RecordStep, StepOutcome};

pub const COLUMNS: [&str; 18] = [
    "row",
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

/// A replayed record's fields (all but `row`, which is the row's index).
#[derive(Default)]
pub struct Row {
    text: [Option<String>; 16],
    hop: Option<u32>,
}

/// Indexes into [`Row::text`], in [`COLUMNS`] order after `row` (`hop` apart).
mod col {
    pub const RECORD: usize = 0;
    pub const PRINCIPAL: usize = 1;
    pub const ACTION: usize = 2;
    pub const RESOURCE: usize = 3;
    pub const VIA: usize = 4;
    pub const DECISION: usize = 5;
    pub const VERDICT: usize = 6;
    pub const REASON: usize = 7;
    pub const MATCHED: usize = 8;
    pub const MISSING: usize = 9;
    pub const DEPENDS_ON: usize = 10;
    pub const DECIDED_BY: usize = 11;
    pub const LOG: usize = 12;
    pub const ERROR_CODE: usize = 13;
    pub const UNMAPPABLE: usize = 14;
    pub const ERROR: usize = 15;
}

impl Row {
    /// Parses and replays one row's record with the library's replay step.
    pub fn replay(step: &mut RecordStep<'_, '_>, text: Option<&str>, at: &Position) -> Row {
        let Some(text) = text else {
            return Row::failed("unreadable", format!("{at}: null instead of a record"));
        };
        let record = match fastiam::replay::json::parse(text.as_bytes()) {
            Ok(v) => v,
            Err(e) => return Row::failed("unreadable", format!("{at}: not JSON: {e}")),
        };
        match step.replay(record, at) {
            StepOutcome::Unmappable(u) => Row::failed(u.class, u.reason),
            StepOutcome::Evaluated(r) => {
                let m = r.mapped;
                let mut row = Row {
                    hop: Some(m.hop as u32),
                    ..Row::default()
                };
                let t = &mut row.text;
                t[col::RECORD] = Some(m.id.clone());
                t[col::PRINCIPAL] = Some(m.request.principal.arn.clone());
                t[col::ACTION] = Some(m.action().to_string());
                t[col::RESOURCE] = Some(m.resource().to_string());
                t[col::VIA] = m.via.clone();
                t[col::DECISION] = Some(r.decision.decision.name().to_string());
                t[col::VERDICT] = Some(r.verdict.name().to_string());
                t[col::REASON] = Some(r.decision.reason.to_string());
                t[col::MATCHED] = Some(r.deciders());
                t[col::MISSING] = Some(r.decision.missing.join(" "));
                t[col::DEPENDS_ON] = Some(r.depends_on.join(" "));
                t[col::DECIDED_BY] = r.decided_by.clone();
                t[col::LOG] = Some(m.log_outcome.name().to_string());
                t[col::ERROR_CODE] = m.error_code.clone();
                row
            }
        }
    }

    fn failed(class: &str, reason: String) -> Row {
        let mut row = Row::default();
        row.text[col::UNMAPPABLE] = Some(class.to_string());
        row.text[col::ERROR] = Some(reason);
        row
    }
}

/// Rows in input order.
#[derive(Default)]
pub struct Rows(Vec<Row>);

impl Rows {
    pub fn extend(&mut self, rows: Vec<Row>) {
        self.0.extend(rows);
    }

    /// The batch of [`COLUMNS`].
    pub fn into_batch(self) -> Result<RecordBatch, ArrowError> {
        let n = self.0.len();
        let mut index = UInt64Builder::with_capacity(n);
        let mut hop = UInt32Builder::with_capacity(n);
        let mut text: Vec<StringBuilder> = (0..16).map(|_| StringBuilder::new()).collect();
        for (i, row) in self.0.into_iter().enumerate() {
            index.append_value(i as u64);
            hop.append_option(row.hop);
            for (builder, value) in text.iter_mut().zip(row.text) {
                builder.append_option(value);
            }
        }
        let mut text: Vec<ArrayRef> = text
            .into_iter()
            .map(|mut b| Arc::new(b.finish()) as ArrayRef)
            .collect();
        let mut columns: Vec<ArrayRef> = vec![Arc::new(index.finish())];
        columns.extend(text.drain(..5));
        columns.push(Arc::new(hop.finish()));
        columns.extend(text);
        let fields: Vec<Field> = COLUMNS
            .iter()
            .zip(&columns)
            .map(|(name, c)| Field::new(*name, c.data_type().clone(), *name != "row"))
            .collect();
        RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
    }
}
