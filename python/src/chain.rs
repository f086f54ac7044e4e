//! `fastiam.Chain`: a chain read once, kept packed for evaluation (the prebuilt path).
//!
//! Reading a chain — walking its dict into a `Request` — costs more than evaluating it.
//! A caller that asks about the same chains again (against several programs, or in a
//! loop) reads them once; `Program.evaluate(chain)` then costs the evaluation and a small
//! result object, and `Program.evaluate_many([Chain, …])` needs the GIL for nothing but
//! the results.
//!
//! ```python
//! chain = fastiam.Chain({"principal": arn, "chain": [{"action": "s3:GetObject", "resource": res}]})
//! program.evaluate(chain).decision
//! ```
//!
//! A dict is walked straight into the library's JSON tree (`chain_tree`), never written
//! out as JSON text; errors name the place by JSON pointer (`RequestError.pointer`).

use std::sync::Arc;

use fastiam::request::{read_case_tree, PackedRequest, PolicySet, Request};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};

use crate::chain_tree::Walked;
use crate::errors::request_error;

/// A chain's id and request, read from Python values.
pub struct ReadChain {
    pub id: Arc<str>,
    pub request: Request,
}

/// The hop naming the highest resource policy slot, and the slot: a program with fewer
/// resource policies cannot evaluate the chain.
pub type HighestSlot = Option<(usize, usize)>;

pub fn highest_slot(request: &Request) -> HighestSlot {
    request
        .hops
        .iter()
        .enumerate()
        .filter_map(|(i, h)| h.resource_policy.map(|s| (i, s)))
        .max_by_key(|&(_, s)| s)
}

/// A chain that could not be read: the message and the JSON pointer of the place
/// (`None`: the whole chain). Made without the GIL; [`ChainError::into_py`] makes the
/// `RequestError`.
pub struct ChainError {
    pub message: String,
    pub pointer: Option<String>,
}

impl ChainError {
    pub fn into_py(self, py: Python<'_>) -> PyErr {
        request_error(py, self.message, self.pointer)
    }
}

/// Walks a chain argument — a dict in CASES.md's request shape, or its JSON text — into a
/// tree (needs the GIL), naming it `source` in errors.
pub fn walk_chain(value: &Bound<'_, PyAny>, source: &str) -> PyResult<Walked> {
    let py = value.py();
    let loaded;
    let value = if let Ok(text) = value.cast::<PyString>() {
        loaded = py
            .import("json")?
            .call_method1("loads", (text,))
            .map_err(|e| request_error(py, format!("{source}: {}", e.value(py)), None))?;
        &loaded
    } else {
        value
    };
    if !value.is_instance_of::<PyDict>() {
        let found = value.get_type().name()?;
        return Err(request_error(
            py,
            format!("{source}: expected a chain as a dict (CASES.md request), its JSON text or a fastiam.Chain, found {found}"),
            None,
        ));
    }
    let mut walked = Walked::new(value).map_err(|e| {
        let pointer = e.pointer.to_string();
        request_error(py, located(source, &pointer, &e.message), Some(pointer))
    })?;
    walked.add_default("id", "");
    Ok(walked)
}

/// Reads a walked chain into a request (no GIL needed).
pub fn read_walked(walked: Walked, source: &str) -> Result<ReadChain, ChainError> {
    let case = walked
        .read(|tree| read_case_tree(tree, source, None))
        .map_err(|e| {
            let pointer = e.error.location.pointer.to_string();
            ChainError {
                message: located(source, &pointer, &e.error.kind.to_string()),
                pointer: Some(pointer),
            }
        })?;
    if case.chain.policies != PolicySet::default() {
        return Err(ChainError {
            message: format!("{source}: the chain carries policies; they belong to `Program.compile` (hops name resource policies by `resource_policy_slot`)"),
            pointer: Some("/policies".to_string()),
        });
    }
    Ok(ReadChain {
        id: Arc::from(case.id),
        request: case.chain.request,
    })
}

/// Walks and reads a chain argument (see [`walk_chain`]).
pub fn read_chain(value: &Bound<'_, PyAny>, source: &str) -> PyResult<ReadChain> {
    let walked = walk_chain(value, source)?;
    read_walked(walked, source).map_err(|e| e.into_py(value.py()))
}

/// `chain: at /chain/1/via: expected …` (no `at` for the whole chain).
fn located(source: &str, pointer: &str, what: &str) -> String {
    if pointer.is_empty() {
        format!("{source}: {what}")
    } else {
        format!("{source}: at {pointer}: {what}")
    }
}

/// A chain read once and packed for evaluation (see the module docs).
#[pyclass(frozen, module = "fastiam")]
pub struct Chain {
    pub id: Arc<str>,
    pub packed: PackedRequest,
    pub highest_slot: HighestSlot,
    hops: usize,
}

#[pymethods]
impl Chain {
    /// Reads a chain: a dict in CASES.md's request shape (a case without `policies`, `id`
    /// optional) or its JSON text. Raises `RequestError` naming the place.
    #[new]
    fn new(chain: &Bound<'_, PyAny>) -> PyResult<Chain> {
        let read = read_chain(chain, "chain")?;
        Ok(Chain {
            highest_slot: highest_slot(&read.request),
            hops: read.request.hops.len(),
            packed: PackedRequest::from_request(&read.request),
            id: read.id,
        })
    }

    /// The chain's `id` (empty when it had none).
    #[getter]
    fn id(&self) -> &str {
        &self.id
    }

    /// Hops in the chain.
    fn __len__(&self) -> usize {
        self.hops
    }

    fn __repr__(&self) -> String {
        format!("Chain(id={:?}, hops={})", &*self.id, self.hops)
    }
}
