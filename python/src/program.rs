//! `fastiam.Program`: a compiled policy set and its evaluator, shared by every Python
//! thread; `evaluate` and `evaluate_many` release the GIL while they work.
//!
//! The library's [`Evaluator`] borrows its [`fastiam::table::Program`]; a `#[pyclass]`
//! cannot hold a borrow, so both live in one `self_cell` (owner: the program, dependent:
//! the evaluator built from it once).
//!
//! ```python
//! program = fastiam.Program.compile(identity=[policy], scp=[[root_scp]])
//! program.evaluate({"principal": arn, "chain": [{"action": "s3:GetObject", "resource": res}]})
//! program.evaluate_many(chains)          # in parallel, GIL released
//! fastiam.Program.from_bytes(program.to_bytes())   # verified
//! ```
//!
//! A chain is a CASES.md case without `policies` (its `id` optional): `principal`,
//! `chain` (hops with `action`, `resource`, `via` from hop 1, `context`, …), `context`,
//! `dialect`, `options`, `credentials`. Hops name the program's resource policies by
//! `resource_policy_slot` (the position in `compile(resource=[…])`), as with
//! `fastiam eval --program`.

use std::path::PathBuf;

use fastiam::eval::{Evaluator, Scratch};
use fastiam::request::{parse_case, Chain, PolicySet};
use fastiam::table::{AlignedBytes, LoadError, Program as Table, ProgramView};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyString};
use rayon::prelude::*;
use self_cell::self_cell;

use crate::errors::{ProgramError, RequestError};
use crate::outcome::Evaluation;
use crate::policies::{to_json, PolicyArgs, Reader};
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

    /// Reads a chain's JSON text and checks it fits the program.
    fn read_chain(&self, text: &str, source: &str) -> Result<(String, Chain), String> {
        let case = parse_case(text, source).map_err(|e| e.to_string())?;
        if case.chain.policies != PolicySet::default() {
            return Err(format!(
                "{source}: the chain carries policies; they belong to `Program.compile` (hops name resource policies by `resource_policy_slot`)"
            ));
        }
        if let Some(i) = case
            .chain
            .request
            .hops
            .iter()
            .position(|h| h.resource_policy.is_some_and(|s| s >= self.resource_slots))
        {
            return Err(format!(
                "{source}: hop {i}: `resource_policy_slot` is beyond the program's {} resource policies",
                self.resource_slots
            ));
        }
        Ok((case.id, case.chain))
    }

    /// Evaluates one chain's text (any thread, no GIL needed).
    fn run(&self, text: &str, source: &str, scratch: &mut Scratch) -> Result<Evaluation, String> {
        let (id, chain) = self.read_chain(text, source)?;
        let evaluator = self.loaded.borrow_dependent();
        let outcome = evaluator.evaluate(&chain.request, scratch);
        Ok(Evaluation::new(evaluator.decision(&outcome), id))
    }
}

/// A chain argument (dict or JSON text) as the JSON text of a case (`id` added if absent).
fn chain_text(chain: &Bound<'_, PyAny>, name: &str) -> PyResult<String> {
    let py = chain.py();
    let dict = if let Ok(text) = chain.cast::<PyString>() {
        let loaded = py.import("json")?.call_method1("loads", (text,));
        loaded.map_err(|e| RequestError::new_err(format!("{name}: {}", e.value(py))))?
    } else {
        chain.clone()
    };
    let Ok(dict) = dict.cast::<PyDict>() else {
        return Err(RequestError::new_err(format!(
            "{name}: expected a chain as a dict (CASES.md request) or its JSON text, found {}",
            dict.get_type().name()?
        )));
    };
    if dict.contains("id")? {
        return to_json(dict.as_any());
    }
    let with_id = dict.copy()?;
    with_id.set_item("id", "")?;
    to_json(with_id.as_any())
}

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

    /// Evaluates one chain (a dict in CASES.md's request shape, or its JSON text).
    fn evaluate(&self, py: Python<'_>, chain: &Bound<'_, PyAny>) -> PyResult<Evaluation> {
        let text = chain_text(chain, "chain")?;
        py.detach(|| {
            let mut scratch = self.scratches.lend(self.loaded.borrow_dependent());
            self.run(&text, "chain", &mut scratch)
        })
        .map_err(RequestError::new_err)
    }

    /// Evaluates many chains in parallel (all cores, the GIL released), in order. A chain
    /// that cannot be read raises `RequestError` naming it (`chains[3]: …`).
    fn evaluate_many(
        &self,
        py: Python<'_>,
        chains: &Bound<'_, PyAny>,
    ) -> PyResult<Vec<Evaluation>> {
        let texts = chains
            .try_iter()?
            .enumerate()
            .map(|(i, c)| chain_text(&c?, &format!("chains[{i}]")))
            .collect::<PyResult<Vec<String>>>()?;
        let results = py.detach(|| {
            texts
                .par_iter()
                .enumerate()
                .map_init(
                    || self.scratches.lend(self.loaded.borrow_dependent()),
                    |scratch, (i, text)| self.run(text, &format!("chains[{i}]"), scratch),
                )
                .collect::<Result<Vec<_>, String>>()
        });
        results.map_err(RequestError::new_err)
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
