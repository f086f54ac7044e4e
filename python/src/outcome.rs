//! What `Program.evaluate` returns: the chain's decision, the first denied hop, and per hop
//! the decision, the reason, the statements that decided and the context keys the policies
//! looked for but the request did not carry — the fields of CASES.md's decision line, which
//! `to_dict()` gives as it is.
//!
//! ```python
//! r = program.evaluate(chain)
//! r.decision, r.denied_at             # "ImplicitDeny", 1
//! r.hops[1].reason                    # "NoAllow"
//! r.hops[0].matched[0].policy         # "identity[0]"
//! r.hops[1].missing                   # ["aws:sourcevpc"]
//! ```
//!
//! An `Evaluation` is lazy: it keeps the evaluator's outcome as ids ([`SavedOutcome`], no
//! strings) and its program, and builds the owned [`ChainDecision`] — policy names, sids,
//! key names — the first time a hop or `to_dict()` is asked for. A caller that reads the
//! decision alone (`evaluate_many` over many chains) pays for no hop object, no string and
//! no JSON.

use std::sync::{Arc, OnceLock};

use fastiam::decision::{kind_name, ChainDecision, HopDecision, MatchedStatement as Matched};
use fastiam::eval::SavedOutcome;
use pyo3::prelude::*;

use crate::program::Program;

/// One statement that took part in a hop's decision (R-SIM-3).
#[pyclass(frozen, get_all, module = "fastiam")]
#[derive(Clone)]
pub struct MatchedStatement {
    /// The policy's name: `identity[0]`, a file stem, or the id given.
    policy: String,
    /// `Scp`, `Rcp`, `VpcEndpoint`, `ResourceBased`, `Identity`, `PermissionsBoundary`, `Session`.
    kind: &'static str,
    /// The statement's index within its policy.
    statement: usize,
    sid: Option<String>,
    /// SCP/RCP level, root first; `None` for other kinds.
    level: Option<usize>,
}

/// The result of one hop.
#[pyclass(frozen, get_all, module = "fastiam")]
#[derive(Clone)]
pub struct HopResult {
    /// `Allow`, `ExplicitDeny`, `ImplicitDeny`.
    decision: &'static str,
    /// `Allowed:Identity`, `ExplicitDeny:Scp`, `NoAllow`, … (R-SIM-2).
    reason: String,
    matched: Vec<MatchedStatement>,
    /// Canonical key names, sorted (R-SIM-4).
    missing: Vec<String>,
}

/// The result of a chain: the first hop not allowed decides (R-FAS-2).
#[pyclass(frozen, module = "fastiam")]
pub struct Evaluation {
    saved: SavedOutcome,
    /// The program that evaluated the chain: it names the statements and keys.
    program: Py<Program>,
    /// Built on first use (see the module docs).
    result: OnceLock<ChainDecision>,
    /// The chain's `id` (empty when it had none), for the decision line.
    id: Arc<str>,
}

impl Evaluation {
    pub fn new(saved: SavedOutcome, id: Arc<str>, program: Py<Program>) -> Self {
        Evaluation {
            saved,
            program,
            result: OnceLock::new(),
            id,
        }
    }

    fn result(&self) -> &ChainDecision {
        self.result
            .get_or_init(|| self.program.get().decision(&self.saved))
    }
}

impl HopResult {
    fn new(h: &HopDecision) -> Self {
        HopResult {
            decision: h.decision.name(),
            reason: h.reason.to_string(),
            matched: h.matched.iter().map(MatchedStatement::new).collect(),
            missing: h.missing.clone(),
        }
    }
}

impl MatchedStatement {
    fn new(m: &Matched) -> Self {
        MatchedStatement {
            policy: m.policy.clone(),
            kind: kind_name(m.kind),
            statement: m.statement,
            sid: m.sid.clone(),
            level: m.level,
        }
    }
}

#[pymethods]
impl Evaluation {
    /// `Allow`, `ExplicitDeny`, `ImplicitDeny` or `InvalidCredentials`.
    #[getter]
    fn decision(&self) -> &'static str {
        self.saved.decision.name()
    }

    /// The index of the first hop not allowed; `None` when allowed.
    #[getter]
    fn denied_at(&self) -> Option<usize> {
        self.saved.denied_at
    }

    /// One per evaluated hop, up to and including the first denied one.
    #[getter]
    fn hops(&self) -> Vec<HopResult> {
        self.result().hops.iter().map(HopResult::new).collect()
    }

    /// Whether the whole chain is allowed.
    #[getter]
    fn allowed(&self) -> bool {
        self.saved.decision == fastiam::decision::Decision::Allow
    }

    /// The CASES.md decision line as a dict (what `fastiam eval` prints for the case).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let line = self.result().to_json(&self.id).to_string();
        py.import("json")?.call_method1("loads", (line,))
    }

    fn __repr__(&self) -> String {
        format!(
            "Evaluation(decision={:?}, denied_at={:?}, hops={})",
            self.decision(),
            self.saved.denied_at,
            self.saved.hops().len()
        )
    }
}

#[pymethods]
impl HopResult {
    fn __repr__(&self) -> String {
        format!(
            "HopResult(decision={:?}, reason={:?}, matched={}, missing={:?})",
            self.decision,
            self.reason,
            self.matched.len(),
            self.missing
        )
    }
}

#[pymethods]
impl MatchedStatement {
    fn __repr__(&self) -> String {
        format!(
            "MatchedStatement(policy={:?}, kind={:?}, statement={}, sid={:?})",
            self.policy, self.kind, self.statement, self.sid
        )
    }
}
