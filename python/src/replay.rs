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
//! report.summary["all"]["explicit_deny"], report.to_pandas()
//! ```

use std::collections::HashMap;
use std::path::PathBuf;

use arrow_array::Array;
use fastiam::policy::PolicyKind;
use fastiam::primitives::canonical_key;
use fastiam::replay::{
    replay_to, ActionMap, Guardrails, OutputFormat, Position, ReplayOptions, ReplayPolicies,
    Replayer as Engine,
};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3_arrow::input::AnyArray;
use pyo3_arrow::PyRecordBatch;
use rayon::prelude::*;
use self_cell::self_cell;

use crate::errors::ReplayError;
use crate::policies::Reader;
use crate::rows::{string_rows, Row, Rows};

self_cell!(
    struct Loaded {
        owner: ReplayPolicies,
        #[covariant]
        dependent: Engine,
    }
);

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
        let map = options.clone();
        let loaded =
            py.detach(|| Loaded::new(policies, |p| Engine::new(p, ActionMap::shared(), map, true)));
        Ok(Replayer { loaded, options })
    }

    /// Replays an Arrow column of CloudTrail records, one record's JSON per row: any Arrow
    /// C-data producer of strings (`pyarrow.Array`, `ChunkedArray`, a stream, a DuckDB or
    /// Polars column). Returns a `pyarrow.RecordBatch` with one row per input row, in
    /// order (see `fastiam.Replayer.COLUMNS`). The GIL is released while records replay.
    fn replay_arrow<'py>(&self, py: Python<'py>, records: AnyArray) -> PyResult<Bound<'py, PyAny>> {
        let (chunks, _) = records.into_chunked_array()?.into_inner();
        let engine = self.loaded.borrow_dependent();
        let out = py.detach(|| -> Result<Rows, String> {
            let mut out = Rows::default();
            let mut first_row = 0;
            for chunk in &chunks {
                let strings = string_rows(chunk.as_ref())?;
                let rows: Vec<Row> = strings
                    .par_iter()
                    .enumerate()
                    .map_init(
                        || engine.step(),
                        |step, (i, text)| {
                            let at = Position {
                                file: "arrow".into(),
                                place: format!("rows[{}]", first_row + i),
                            };
                            Row::replay(step, *text, &at)
                        },
                    )
                    .collect();
                first_row += chunk.len();
                out.extend(rows);
            }
            Ok(out)
        });
        let batch = out.map_err(ReplayError::new_err)?.into_batch();
        let batch = batch.map_err(|e| ReplayError::new_err(e.to_string()))?;
        PyRecordBatch::new(batch).into_pyarrow(py)
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
        crate::rows::COLUMNS.to_vec()
    }
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
