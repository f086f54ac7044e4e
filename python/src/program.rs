//! `fastiam.Program`: a compiled policy set and its evaluator, shared by every Python
//! thread.
//!
//! The library's [`Evaluator`] borrows its [`fastiam::table::Program`]; a `#[pyclass]`
//! cannot hold a borrow, so both live in one `self_cell` (owner: the program, dependent:
//! the evaluator built from it once).
//!
//! ```python
//! program = fastiam.Program.compile(identity=[policy], scp=[[root_scp]])
//! program.evaluate({"principal": arn, "chain": [{"action": "s3:GetObject", "resource": res}]})
//! chain = fastiam.Chain({...})           # read once: evaluate(chain) costs about the Rust API
//! program.evaluate_many(chains)          # in parallel, GIL released
//! fastiam.Program.from_bytes(program.to_bytes())   # verified
//! ```
//!
//! A chain is a CASES.md case without `policies` (its `id` optional): `principal`,
//! `chain` (hops with `action`, `resource`, `via` from hop 1, `context`, …), `context`,
//! `dialect`, `options`, `credentials` — a dict (walked by `chain_tree`, no JSON text), its
//! JSON text, or a `fastiam.Chain` read before (`chain`). Hops name the program's resource
//! policies by `resource_policy_slot` (the position in `compile(resource=[…])`), as with
//! `fastiam eval --program`.
//!
//! Where the time goes (BENCHMARKS.md, "Python package"): reading a dict costs tens of
//! times the evaluation, so `evaluate_many` walks dicts under the GIL and reads them on the
//! workers, and a caller who asks about the same chains again reads them once (`Chain`).

use std::path::PathBuf;

use std::sync::Arc;

use fastiam::decision::ChainDecision;
use fastiam::eval::{Evaluator, SavedOutcome, Scratch};
use fastiam::request::RequestView;
use fastiam::table::{AlignedBytes, LoadError, Program as Table, ProgramView};
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use rayon::prelude::*;
use self_cell::self_cell;

use crate::chain::{
    highest_slot, read_chain, read_walked, walk_chain, Chain, ChainError, HighestSlot,
};
use crate::chain_tree::Walked;
use crate::errors::{request_error, ProgramError};
use crate::outcome::Evaluation;
use crate::policies::{PolicyArgs, Reader};
use crate::scratch_pool::ScratchPool;

/// A program in memory (compiled, or read from bytes) or memory-mapped from a file.
enum Owner {
    Owned(Table<AlignedBytes>),
    Mapped(Table<memmap2::Mmap>),
}

impl Owner {
    fn view(&self) -> ProgramView<'_> {
        match self {
            Owner::Owned(p) => p.view(),
            Owner::Mapped(p) => p.view(),
        }
    }

    fn as_bytes(&self) -> &[u8] {
        match self {
            Owner::Owned(p) => p.as_bytes(),
            Owner::Mapped(p) => p.as_bytes(),
        }
    }
}

self_cell!(
    struct Loaded {
        owner: Owner,
        #[covariant]
        dependent: Evaluator,
    }
);

/// A compiled policy set, ready to evaluate chains (see the module docs).
#[pyclass(frozen, module = "fastiam")]
pub struct Program {
    loaded: Loaded,
    scratches: ScratchPool,
    resource_slots: usize,
}

impl Program {
    fn new(owner: Owner) -> Self {
        let loaded = Loaded::new(owner, |o| Evaluator::from_view(o.view()));
        let resource_slots = loaded
            .borrow_dependent()
            .view()
            .meta
            .first()
            .map_or(0, |m| m.resource_policies as usize);
        Program {
            loaded,
            scratches: ScratchPool::default(),
            resource_slots,
        }
    }

    /// Refuses a chain naming a resource policy slot the program does not have.
    fn check_slots(&self, highest: HighestSlot, source: &str) -> Result<(), String> {
        match highest {
            Some((hop, slot)) if slot >= self.resource_slots => Err(format!(
                "{source}: hop {hop}: `resource_policy_slot` {slot} is beyond the program's {} resource policies",
                self.resource_slots
            )),
            _ => Ok(()),
        }
    }

    /// Evaluates one request (any thread, no GIL needed).
    fn run<R: RequestView>(&self, request: &R, scratch: &mut Scratch) -> SavedOutcome {
        let evaluator = self.loaded.borrow_dependent();
        SavedOutcome::from(&evaluator.evaluate(request, scratch))
    }

    /// Reads (if walked) and evaluates one item of `evaluate_many` (no GIL needed).
    fn run_item(
        &self,
        item: Item<'_>,
        source: &str,
        scratch: &mut Scratch,
    ) -> Result<(SavedOutcome, Arc<str>), ChainError> {
        let slots = |highest| {
            self.check_slots(highest, source)
                .map_err(|message| ChainError {
                    message,
                    pointer: None,
                })
        };
        match item {
            Item::Prebuilt(chain) => {
                slots(chain.highest_slot)?;
                Ok((self.run(&chain.packed, scratch), chain.id.clone()))
            }
            Item::Walked(walked) => {
                let read = read_walked(walked, source)?;
                slots(highest_slot(&read.request))?;
                Ok((self.run(&read.request, scratch), read.id))
            }
            Item::Unreadable => Err(ChainError {
                message: String::new(),
                pointer: None,
            }),
        }
    }

    /// The owned decision of an outcome this program made (names its statements and keys).
    pub fn decision(&self, saved: &SavedOutcome) -> ChainDecision {
        self.loaded.borrow_dependent().decision(&saved.outcome())
    }
}

/// One item of `evaluate_many`: walked under the GIL, read and evaluated without it.
enum Item<'c> {
    Prebuilt(&'c Chain),
    Walked(Walked),
    Unreadable,
}

/// `evaluate_many` gives the GIL back between chunks of this many chains, to check for
/// Ctrl-C (`KeyboardInterrupt`) and let other Python threads run.
const CHUNK: usize = 4096;

fn load_error(source: &str, e: LoadError) -> PyErr {
    ProgramError::new_err(format!("{source}: {e}"))
}

#[pymethods]
impl Program {
    /// Compiles a policy set. Each policy is JSON text, a dict, `{"id": ..., "document": ...}`,
    /// or a path (a file, or a directory of `*.json` files). `scp` and `rcp` are lists of
    /// levels, root first; `session=[]` means session policies were passed, none of them;
    /// hops name `resource` policies by `resource_policy_slot` (their position).
    #[staticmethod]
    #[pyo3(signature = (identity=None, *, boundary=None, session=None, scp=None, rcp=None,
                        vpce=None, resource=None, mode="strict", huawei_policy_variables=false))]
    #[allow(clippy::too_many_arguments)]
    fn compile(
        py: Python<'_>,
        identity: Option<Bound<'_, PyAny>>,
        boundary: Option<Bound<'_, PyAny>>,
        session: Option<Bound<'_, PyAny>>,
        scp: Option<Bound<'_, PyAny>>,
        rcp: Option<Bound<'_, PyAny>>,
        vpce: Option<Bound<'_, PyAny>>,
        resource: Option<Bound<'_, PyAny>>,
        mode: &str,
        huawei_policy_variables: bool,
    ) -> PyResult<Program> {
        let args = PolicyArgs {
            identity,
            boundary,
            session,
            scp,
            rcp,
            vpce,
            resource,
        };
        let set = Reader::new(mode, huawei_policy_variables)?.policy_set(&args)?;
        let table = py
            .detach(|| fastiam::compile::compile(&set))
            .map_err(|e| ProgramError::new_err(e.to_string()))?;
        Ok(py.detach(|| Program::new(Owner::Owned(table))))
    }

    /// Memory-maps a program file (`fastiam compile -o FILE`, `to_bytes()`) and verifies
    /// it. The file must not change while the program is alive.
    #[staticmethod]
    fn load(py: Python<'_>, path: PathBuf) -> PyResult<Program> {
        let name = path.display().to_string();
        let file = std::fs::File::open(&path)
            .map_err(|e| pyo3::exceptions::PyOSError::new_err(format!("{name}: {e}")))?;
        py.detach(|| {
            #[allow(unsafe_code)]
            // SAFETY: `Program::map` requires the file to stay unchanged while mapped; that
            // is this method's documented contract with its caller (as for
            // `fastiam_program_open` of the C ABI). Every byte is verified before use.
            let mapped = unsafe { Table::map(&file) };
            let table = mapped
                .map_err(|e| pyo3::exceptions::PyOSError::new_err(format!("{name}: {e}")))?
                .map_err(|e| load_error(&name, e))?;
            Ok(Program::new(Owner::Mapped(table)))
        })
    }

    /// Loads a program from its bytes, verified (copied into aligned memory).
    #[staticmethod]
    fn from_bytes(py: Python<'_>, data: &[u8]) -> PyResult<Program> {
        let table = Table::from_vec(data.to_vec()).map_err(|e| load_error("bytes", e))?;
        Ok(py.detach(|| Program::new(Owner::Owned(table))))
    }

    /// The program's bytes: what `fastiam compile -o` writes and `load` reads.
    fn to_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, self.loaded.borrow_owner().as_bytes())
    }

    /// Evaluates one chain: a `fastiam.Chain` (read once, the fast path), a dict in
    /// CASES.md's request shape, or its JSON text. Raises `RequestError` for a chain that
    /// cannot be read or names a resource policy slot the program lacks.
    fn evaluate(slf: &Bound<'_, Self>, chain: &Bound<'_, PyAny>) -> PyResult<Evaluation> {
        let py = slf.py();
        let this = slf.get();
        let bad = |message| request_error(py, message, None);
        let (saved, id) = if let Ok(prebuilt) = chain.cast::<Chain>() {
            let prebuilt = prebuilt.get();
            this.check_slots(prebuilt.highest_slot, "chain")
                .map_err(bad)?;
            // The GIL is kept: the evaluation takes about a microsecond, and giving the GIL
            // away and back would add a tenth of that to every call (`evaluate_many`
            // releases it).
            let mut scratch = this.scratches.lend(this.loaded.borrow_dependent());
            let saved = this.run(&prebuilt.packed, &mut scratch);
            (saved, prebuilt.id.clone())
        } else {
            let read = read_chain(chain, "chain")?;
            this.check_slots(highest_slot(&read.request), "chain")
                .map_err(bad)?;
            let saved = py.detach(|| {
                let mut scratch = this.scratches.lend(this.loaded.borrow_dependent());
                this.run(&read.request, &mut scratch)
            });
            (saved, read.id)
        };
        Ok(Evaluation::new(saved, id, slf.clone().unbind()))
    }

    /// Evaluates many chains in parallel (all cores), in order. `fastiam.Chain` items need
    /// the GIL for nothing but the results; dicts and JSON text are read first, under it.
    /// The GIL is given back every 4,096 chains, so Ctrl-C interrupts a long call.
    ///
    /// `errors="raise"` (the default) raises `RequestError` for the first chain that cannot
    /// be evaluated, naming it (`chains[3]: …`); `errors="return"` puts that
    /// `RequestError` in the chain's place in the list and goes on.
    #[pyo3(signature = (chains, *, errors="raise"))]
    fn evaluate_many(
        slf: &Bound<'_, Self>,
        chains: &Bound<'_, PyAny>,
        errors: &str,
    ) -> PyResult<Vec<Py<PyAny>>> {
        let py = slf.py();
        let this = slf.get();
        let keep_errors = match errors {
            "raise" => false,
            "return" => true,
            other => {
                return Err(pyo3::exceptions::PyValueError::new_err(format!(
                    "errors: expected \"raise\" or \"return\", found {other:?}"
                )))
            }
        };
        let mut objects = chains.try_iter()?;
        let program = slf.clone().unbind();
        let mut results = Vec::new();
        // Chunk by chunk: walk under the GIL, read and evaluate without it, hand back the
        // results, check for Ctrl-C. A chunk's trees are fresh in the cache when read, and
        // memory stays bounded by the chunk.
        loop {
            let chunk = objects.by_ref().take(CHUNK).collect::<PyResult<Vec<_>>>()?;
            if chunk.is_empty() {
                break;
            }
            let first = results.len();
            let mut failures: Vec<(usize, PyErr)> = Vec::new();
            let mut items = Vec::with_capacity(chunk.len());
            for (k, object) in chunk.iter().enumerate() {
                if let Ok(prebuilt) = object.cast::<Chain>() {
                    items.push(Item::Prebuilt(prebuilt.get()));
                    continue;
                }
                match walk_chain(object, &format!("chains[{}]", first + k)) {
                    Ok(walked) => items.push(Item::Walked(walked)),
                    Err(e) => {
                        failures.push((k, e));
                        items.push(Item::Unreadable);
                        if !keep_errors {
                            // The chains before may fail too: the first failure in order raises.
                            break;
                        }
                    }
                }
            }
            let outcomes = py.detach(|| {
                items
                    .into_par_iter()
                    .enumerate()
                    .map_init(
                        || this.scratches.lend(this.loaded.borrow_dependent()),
                        |scratch, (k, item)| {
                            this.run_item(item, &format!("chains[{}]", first + k), scratch)
                        },
                    )
                    .collect::<Vec<_>>()
            });
            let mut failures = failures.into_iter().peekable();
            for (k, outcome) in outcomes.into_iter().enumerate() {
                match outcome {
                    Ok((saved, id)) => {
                        let evaluation = Evaluation::new(saved, id, program.clone_ref(py));
                        results.push(Py::new(py, evaluation)?.into_any());
                    }
                    Err(error) => {
                        let err = match failures.next_if(|(at, _)| *at == k) {
                            Some((_, err)) => err,
                            None => error.into_py(py),
                        };
                        if !keep_errors {
                            return Err(err);
                        }
                        results.push(err.into_value(py).into_any());
                    }
                }
            }
            py.check_signals()?;
        }
        Ok(results)
    }

    /// Benchmark baseline (`python/benches/throughput.py`), not API: the seconds the Rust
    /// API takes, on this thread with no Python in the loop, to evaluate `chains` `rounds`
    /// times — `Evaluator::evaluate` on the packed requests, each outcome saved as
    /// `evaluate` saves it when `save`, else only read.
    #[pyo3(signature = (chains, rounds, save=true))]
    fn _rust_seconds(
        &self,
        py: Python<'_>,
        chains: Vec<Bound<'_, Chain>>,
        rounds: usize,
        save: bool,
    ) -> f64 {
        let chains: Vec<&Chain> = chains.iter().map(|c| c.get()).collect();
        py.detach(|| {
            let evaluator = self.loaded.borrow_dependent();
            let mut scratch = self.scratches.lend(evaluator);
            let started = std::time::Instant::now();
            for _ in 0..rounds {
                for chain in &chains {
                    let outcome = evaluator.evaluate(&chain.packed, &mut scratch);
                    if save {
                        std::hint::black_box(SavedOutcome::from(&outcome));
                    } else {
                        std::hint::black_box(outcome.decision);
                    }
                }
            }
            started.elapsed().as_secs_f64()
        })
    }

    /// Statements in the program.
    #[getter]
    fn statements(&self) -> usize {
        self.loaded.borrow_owner().view().statements.len()
    }

    /// Policies in the program.
    #[getter]
    fn policies(&self) -> usize {
        self.loaded.borrow_owner().view().policies.len()
    }

    /// Resource policies (slots for `resource_policy_slot`).
    #[getter]
    fn resource_policies(&self) -> usize {
        self.resource_slots
    }

    fn __len__(&self) -> usize {
        self.loaded.borrow_owner().as_bytes().len()
    }

    fn __repr__(&self) -> String {
        format!(
            "Program(policies={}, statements={}, resource_policies={}, bytes={})",
            self.policies(),
            self.statements(),
            self.resource_slots,
            self.__len__()
        )
    }
}
