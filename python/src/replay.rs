//! `fastiam.Replayer`: CloudTrail records replayed against guardrails (what-if mode) or an
//! account's policies (account-data mode), from Arrow columns or from log files.
//!
//! Every record goes through the library's one replay step (`fastiam::replay::Replayer`,
//! what `fastiam replay` runs), so a record gets the same answer here as on the command
//! line. This module only moves data: Arrow strings in, one row per record out
//! ([`rows`]); files in, the command line's `--json` summary and `--output` lines out.
//!
//! ```python
//! replayer = fastiam.Replayer(scp=[pathlib.Path("perimeter-scp.json")])
//! batch = replayer.replay_arrow(pa.array([json.dumps(record) for record in records]))
//! report = replayer.replay_files(["logs/"])
//! part = replayer.replay_range("big.jsonl", 0, 64 << 20)   # one Spark task's lines
//! report.summary["all"]["explicit_deny"], report.to_pandas()
//! ```

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::builder::StringBuilder;
use arrow_array::{Array, ArrayRef, RecordBatch, UInt64Array};
use arrow_schema::{Field, Schema};
use arrow_select::concat::concat;
use fastiam::policy::PolicyKind;
use fastiam::primitives::canonical_key;
use fastiam::replay::source::{range_unit, read_unit_with};
use fastiam::replay::{
    replay_to, ActionMap, Guardrails, OutputFormat, Position, ReadOptions, ReplayOptions,
    ReplayPolicies, Replayer as Engine,
};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3_arrow::input::AnyArray;
use pyo3_arrow::PyRecordBatch;
use rayon::prelude::*;
use self_cell::self_cell;

use crate::errors::ReplayError;
use crate::policies::Reader;
use crate::rows::{self, string_rows, RecordColumns};

/// The replay step twice over the same policies: one explaining every record (the
/// statements and missing keys of allowed records too, for per-record columns), one
/// explaining only denials (enough for counts and denial groups, and cheaper).
pub struct Engines<'p> {
    explained: Engine<'p>,
    lean: Engine<'p>,
}

impl<'p> Engines<'p> {
    fn new(policies: &'p ReplayPolicies, map: &fastiam::replay::MapOptions) -> Engines<'p> {
        let engine =
            |explain_all| Engine::new(policies, ActionMap::shared(), map.clone(), explain_all);
        Engines {
            explained: engine(true),
            lean: engine(false),
        }
    }

    fn for_columns(&self, columns: &RecordColumns) -> &Engine<'p> {
        if columns.explains() {
            &self.explained
        } else {
            &self.lean
        }
    }
}

self_cell!(
    struct Loaded {
        owner: ReplayPolicies,
        #[covariant]
        dependent: Engines,
    }
);

/// Input rows replayed by one task of `replay_arrow`'s parallel loop.
const ARROW_CHUNK: usize = 4096;

/// Replays CloudTrail records (see the module docs).
#[pyclass(frozen, module = "fastiam")]
pub struct Replayer {
    loaded: Loaded,
    options: fastiam::replay::MapOptions,
}

#[pymethods]
impl Replayer {
    /// What-if mode without `account_data`: every principal is assumed allowed by its
    /// identity and resource side; only `scp`/`rcp` (lists of levels, root first, as
    /// `Program.compile` takes them; each level also holds `FullAWSAccess` unless
    /// `exact_guardrails`) can deny. With `account_data` (the
    /// output of `aws iam get-account-authorization-details`), each record is evaluated
    /// against its user's or role's policies. `identity` gives identity policies of every
    /// principal (in what-if mode they replace the assumed allow-all), `session` the
    /// session policies of every role session. `resource_policies` maps resource ARNs to
    /// their policies; `context` sets keys on every record; `assume_absent` lists key
    /// patterns (`aws:PrincipalTag/*`) to take as absent rather than unknown.
    #[new]
    #[pyo3(signature = (*, scp=None, rcp=None, identity=None, session=None,
                        resource_policies=None, account_data=None,
                        context=None, assume_absent=None, exact_guardrails=false,
                        mode="strict"))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        scp: Option<Bound<'_, PyAny>>,
        rcp: Option<Bound<'_, PyAny>>,
        identity: Option<Bound<'_, PyAny>>,
        session: Option<Bound<'_, PyAny>>,
        resource_policies: Option<HashMap<String, Bound<'_, PyAny>>>,
        account_data: Option<PathBuf>,
        context: Option<HashMap<String, String>>,
        assume_absent: Option<Vec<String>>,
        exact_guardrails: bool,
        mode: &str,
    ) -> PyResult<Replayer> {
        let reader = Reader::new(mode, false)?;
        let mut guardrails = Guardrails {
            scp: reader.optional_levels(scp.as_ref(), "scp", PolicyKind::Scp)?,
            rcp: reader.optional_levels(rcp.as_ref(), "rcp", PolicyKind::Rcp)?,
            identity: reader.optional_list(identity.as_ref(), "identity", PolicyKind::Identity)?,
            session: reader.optional_list(session.as_ref(), "session", PolicyKind::Session)?,
            exact: exact_guardrails,
            mode: reader.mode(),
            ..Guardrails::default()
        };
        let mut resource: Vec<_> = resource_policies.unwrap_or_default().into_iter().collect();
        resource.sort_by(|a, b| a.0.cmp(&b.0));
        for (arn, policy) in resource {
            let name = format!("resource_policies[{arn:?}]");
            for p in reader.policies(&policy, &name, PolicyKind::ResourceBased)? {
                guardrails.resource.push((arn.clone(), p));
            }
        }
        let mut options = fastiam::replay::MapOptions::default();
        let mut context: Vec<_> = context.unwrap_or_default().into_iter().collect();
        context.sort();
        for (key, value) in context {
            options.extra_context.push((canonical_key(&key), value));
        }
        for pattern in assume_absent.unwrap_or_default() {
            if !pattern.contains(':') {
                return Err(PyValueError::new_err(format!(
                    "assume_absent: expected a key pattern such as `aws:PrincipalTag/*`, found `{pattern}`"
                )));
            }
            options.assume_absent.push(canonical_key(&pattern));
        }
        let policies = py
            .detach(|| match &account_data {
                Some(path) => ReplayPolicies::from_account_data(path, &guardrails),
                None => ReplayPolicies::what_if(&guardrails),
            })
            .map_err(|e| ReplayError::new_err(e.to_string()))?;
        let loaded = py.detach(|| Loaded::new(policies, |p| Engines::new(p, &options)));
        Ok(Replayer { loaded, options })
    }

    /// Replays an Arrow column of CloudTrail records, one record's JSON per row: any Arrow
    /// C-data producer of strings (`pyarrow.Array`, `ChunkedArray`, a stream, a DuckDB or
    /// Polars column). Returns a `pyarrow.RecordBatch` with one row per input row, in
    /// order (see `fastiam.Replayer.COLUMNS`). The GIL is released while records replay.
    fn replay_arrow<'py>(&self, py: Python<'py>, records: AnyArray) -> PyResult<Bound<'py, PyAny>> {
        let (chunks, _) = records.into_chunked_array()?.into_inner();
        let names = rows::columns();
        let engine = &self.loaded.borrow_dependent().explained;
        let parts = py.detach(|| -> Result<Vec<Vec<(&str, ArrayRef)>>, String> {
            let mut parts = Vec::new();
            let mut first_row = 0;
            for chunk in &chunks {
                let strings = string_rows(chunk.as_ref())?;
                let built: Vec<_> = strings
                    .par_chunks(ARROW_CHUNK)
                    .enumerate()
                    .map_init(
                        || engine.step(),
                        |step, (k, texts)| {
                            let mut columns = RecordColumns::new(&names);
                            for (i, text) in texts.iter().enumerate() {
                                let at = Position {
                                    file: "arrow".into(),
                                    place: format!("rows[{}]", first_row + k * ARROW_CHUNK + i),
                                };
                                columns.push_text(step, *text, &at);
                            }
                            columns.finish(false)
                        },
                    )
                    .collect();
                first_row += chunk.len();
                parts.extend(built);
            }
            Ok(parts)
        });
        let parts = parts.map_err(ReplayError::new_err)?;
        let rows = parts
            .iter()
            .map(|p| p.first().map_or(0, |c| c.1.len()))
            .sum::<usize>();
        let index: ArrayRef = Arc::new((0..rows as u64).collect::<UInt64Array>());
        let mut columns = vec![("row", index)];
        for (j, name) in rows::RECORD_COLUMNS.iter().enumerate() {
            let pieces: Vec<&dyn Array> = parts.iter().map(|p| p[j].1.as_ref()).collect();
            let column = match pieces.as_slice() {
                [] => RecordColumns::new(&names).finish(false).swap_remove(j).1,
                _ => concat(&pieces).map_err(|e| ReplayError::new_err(e.to_string()))?,
            };
            columns.push((name, column));
        }
        batch_of(py, columns)
    }

    /// Replays one task of a distributed replay (see `fastiam.plan_tasks`): the whole file
    /// `path` when `start` and `end` are not given, read as `fastiam replay` reads it (any
    /// format, gzip too); else the lines of the JSON Lines file that the raw byte range
    /// `[start, end)` owns — those whose preceding newline lies in it (the first line is
    /// owned by the range starting at 0), so that ranges covering a file read each of its
    /// lines once. Returns a `pyarrow.RecordBatch` of `FILE_COLUMNS`, one row per record
    /// in file order: evaluated, unmappable with its class, or unreadable (a damaged
    /// record, or a file that cannot be opened or stops early: one row with `unmappable`
    /// `"unreadable"`), exactly what the command line counts. Runs on the calling thread
    /// (one Spark task, one core) with the GIL released.
    ///
    /// `columns` keeps only these of `FILE_COLUMNS`, in this order (a Spark job's summary
    /// needs six): the others are not computed.
    #[pyo3(signature = (path, start=None, end=None, *, columns=None))]
    fn replay_range<'py>(
        &self,
        py: Python<'py>,
        path: PathBuf,
        start: Option<u64>,
        end: Option<u64>,
        columns: Option<Vec<String>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let range = match (start, end) {
            (None, None) => None,
            (Some(start), Some(end)) => Some((start, end)),
            _ => return Err(PyValueError::new_err(
                "replay_range: give both start and end (a byte range), or neither (the whole file)",
            )),
        };
        let all = rows::file_columns();
        let names: Vec<&'static str> = match &columns {
            None => all.clone(),
            Some(asked) => asked
                .iter()
                .map(|c| {
                    all.iter().find(|n| *n == c).copied().ok_or_else(|| {
                        PyValueError::new_err(format!(
                            "columns: `{c}` is not one of Replayer.FILE_COLUMNS ({})",
                            all.join(", ")
                        ))
                    })
                })
                .collect::<PyResult<_>>()?,
        };
        let engines = self.loaded.borrow_dependent();
        let built = py.detach(|| read_task(engines, &path, range, &names));
        let mut built: Vec<(&str, ArrayRef)> = built;
        let columns = names
            .iter()
            .map(|n| {
                let k = built
                    .iter()
                    .position(|(m, _)| m == n)
                    .expect("every asked column is built");
                built.swap_remove(k)
            })
            .collect();
        batch_of(py, columns)
    }

    /// Replays log files and directories as `fastiam replay` does (CloudTrail delivery
    /// files, JSON Lines, arrays, gzip; directory trees), on all cores with the GIL
    /// released. With `rows=False` the per-record rows are not kept (faster, less memory).
    #[pyo3(signature = (paths, *, rows=true))]
    fn replay_files(
        &self,
        py: Python<'_>,
        paths: Vec<PathBuf>,
        rows: bool,
    ) -> PyResult<ReplayReport> {
        let policies = self.loaded.borrow_owner();
        let options = ReplayOptions {
            map: self.options.clone(),
            output: rows.then_some(OutputFormat::Json),
            // The bundled action table, no cancellation, the default reading limits.
            ..ReplayOptions::default()
        };
        let (report, lines, seconds) = py.detach(|| {
            let started = std::time::Instant::now();
            let mut lines = Vec::new();
            let report = replay_to(&paths, policies, &options, &|_| {}, &mut lines);
            (report, lines, started.elapsed().as_secs_f64())
        });
        let report = report.map_err(|e| ReplayError::new_err(e.to_string()))?;
        let mut summary = report.to_json();
        summary["seconds"] = serde_json::json!(seconds);
        Ok(ReplayReport {
            summary: summary.to_string(),
            lines: rows.then_some(lines),
        })
    }

    /// The names of `replay_arrow`'s columns, in order.
    #[classattr]
    #[allow(non_snake_case)]
    fn COLUMNS() -> Vec<&'static str> {
        rows::columns()
    }

    /// The names of `replay_range`'s columns, in order.
    #[classattr]
    #[allow(non_snake_case)]
    fn FILE_COLUMNS() -> Vec<&'static str> {
        rows::file_columns()
    }
}

/// Every record of one task as a row, with its place: the columns of `names` that
/// `replay_range` returns (in any order).
fn read_task(
    engines: &Engines<'_>,
    path: &Path,
    range: Option<(u64, u64)>,
    names: &[&'static str],
) -> Vec<(&'static str, ArrayRef)> {
    let mut columns = RecordColumns::new(names);
    let mut places = Places::new(names);
    match range_unit(path, range) {
        Err(e) => {
            columns.push_failed("unreadable", &e.message);
            places.push(&e.position);
        }
        Ok(unit) => {
            let mut step = engines.for_columns(&columns).step();
            let read = read_unit_with(&unit, &ReadOptions::default(), &mut |position, parsed| {
                match parsed {
                    Ok(record) => columns.push(step.replay(record, position)),
                    Err(message) => columns.push_failed("unreadable", &message),
                }
                places.push(position);
                true
            });
            if let Err(e) = read {
                columns.push_failed("unreadable", &e.message);
                places.push(&e.position);
            }
        }
    }
    let mut out = places.finish();
    out.extend(columns.finish(true));
    out
}

/// The `file` and `position` columns, when asked for.
struct Places {
    file: Option<StringBuilder>,
    position: Option<StringBuilder>,
}

impl Places {
    fn new(names: &[&str]) -> Places {
        let builder = |name| names.contains(&name).then(StringBuilder::new);
        Places {
            file: builder("file"),
            position: builder("position"),
        }
    }

    fn push(&mut self, at: &Position) {
        if let Some(b) = &mut self.file {
            b.append_value(&at.file);
        }
        if let Some(b) = &mut self.position {
            b.append_value(&at.place);
        }
    }

    fn finish(self) -> Vec<(&'static str, ArrayRef)> {
        let mut out: Vec<(&'static str, ArrayRef)> = Vec::new();
        if let Some(mut b) = self.file {
            out.push(("file", Arc::new(b.finish())));
        }
        if let Some(mut b) = self.position {
            out.push(("position", Arc::new(b.finish())));
        }
        out
    }
}

/// A `pyarrow.RecordBatch` of named columns (all nullable but `row`).
fn batch_of<'py>(py: Python<'py>, columns: Vec<(&str, ArrayRef)>) -> PyResult<Bound<'py, PyAny>> {
    let fields: Vec<Field> = columns
        .iter()
        .map(|(name, c)| Field::new(*name, c.data_type().clone(), *name != "row"))
        .collect();
    let arrays = columns.into_iter().map(|(_, c)| c).collect();
    let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)
        .map_err(|e| ReplayError::new_err(e.to_string()))?;
    PyRecordBatch::new(batch).into_pyarrow(py)
}

/// What `replay_files` returns: the command line's `--json` summary, and its `--output`
/// lines as rows.
#[pyclass(frozen, module = "fastiam")]
pub struct ReplayReport {
    summary: String,
    lines: Option<Vec<u8>>,
}

#[pymethods]
impl ReplayReport {
    /// The summary `fastiam replay --json` prints (counts, denials, unmappable records…).
    #[getter]
    fn summary<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        py.import("json")?.call_method1("loads", (&self.summary,))
    }

    /// One dict per record, as `fastiam replay --output FILE` writes them (file, position,
    /// record, principal, action, resource, decision, verdict, reason, matched, …).
    #[getter]
    fn rows<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyAny>>> {
        let Some(lines) = &self.lines else {
            return Err(ReplayError::new_err(
                "the replay kept no rows: call replay_files(paths, rows=True)",
            ));
        };
        let json = py.import("json")?;
        std::str::from_utf8(lines)
            .map_err(|e| ReplayError::new_err(e.to_string()))?
            .lines()
            .map(|line| json.call_method1("loads", (line,)))
            .collect()
    }

    /// The rows as a `pandas.DataFrame` (needs pandas).
    fn to_pandas<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let rows = self.rows(py)?;
        py.import("pandas")?.call_method1("DataFrame", (rows,))
    }

    fn __repr__(&self) -> String {
        let records = serde_json::from_str::<serde_json::Value>(&self.summary)
            .ok()
            .and_then(|v| v["records"].as_u64())
            .unwrap_or(0);
        format!("ReplayReport(records={records})")
    }
}
