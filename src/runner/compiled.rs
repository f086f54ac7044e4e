//! The compiled engine of `fastiam eval`: each distinct policy set is compiled once, and
//! its program, the evaluator built over it and a scratch are kept together and reused by
//! every case of that set.
//!
//! Why: building an [`Evaluator`] (its per-program tables) and a scratch costs far more
//! than evaluating one chain, and so does compiling; a file of 20,000 cases over one set
//! should pay them once. Cases read by the runner come with their set shared
//! ([`SharedCase`]): the program is found by the set's id and the texts of the case's
//! resource policies (with their names), without looking at the parsed policies. A chain handed over
//! alone ([`Engine::evaluate`]) is keyed by its set's full debug text instead, as
//! before. Both caches are bounded ([`BoundedCache`]).
//!
//! ```
//! use fastiam::runner::{run_cases, Compiled, Reference};
//! let line = r#"{"id":"a","principal":"anonymous","policies":{},"chain":[{"action":"s3:GetObject","resource":"*"}]}"#;
//! let input = format!("{line}\n{line}\n");
//! let (mut compiled, mut reference) = (Vec::new(), Vec::new());
//! run_cases(input.as_bytes(), "c.jsonl", &Compiled::new(), |o| compiled.push(o.to_json())).unwrap();
//! run_cases(input.as_bytes(), "c.jsonl", &Reference, |o| reference.push(o.to_json())).unwrap();
//! assert_eq!(compiled, reference);
//! ```

use std::cell::RefCell;
use std::fmt::Write as _;
use std::rc::Rc;

use self_cell::self_cell;

use super::Engine;
use crate::bounded_cache::BoundedCache;
use crate::compile::compile;
use crate::decision::ChainDecision;
use crate::eval::{Evaluator, Scratch};
use crate::request::{Chain, PackedRequest, PolicySet, SharedCase};
use crate::table::{AlignedBytes, Program};

self_cell!(
    /// A program with the evaluator built over it.
    struct ProgramEvaluator {
        owner: Program<AlignedBytes>,
        #[covariant]
        dependent: Evaluator,
    }
);

/// What one policy set compiles to, ready to evaluate.
struct Ready {
    program: ProgramEvaluator,
    scratch: RefCell<Scratch>,
}

impl Ready {
    fn decide(&self, chain: &Chain, packed: bool) -> ChainDecision {
        let evaluator = self.program.borrow_dependent();
        let mut scratch = self.scratch.borrow_mut();
        if packed {
            let request = PackedRequest::from_request(&chain.request);
            evaluator.decision(&evaluator.evaluate(&request, &mut scratch))
        } else {
            evaluator.decision(&evaluator.evaluate(&chain.request, &mut scratch))
        }
    }
}

/// At most this many programs are kept …
const MAX_PROGRAMS: usize = 64;
/// … and about this many bytes of them, counting a program's evaluator and scratch as
/// [`PROGRAM_WEIGHT`] times its bytes.
const MAX_PROGRAM_BYTES: usize = 512 << 20;
const PROGRAM_WEIGHT: usize = 4;

/// The compiled engine: see the module documentation.
pub struct Compiled {
    programs: RefCell<BoundedCache<Rc<Ready>>>,
    /// The key of the current case, built in place.
    key: RefCell<String>,
    /// Write each program to bytes and load it back (verified) before use, and evaluate
    /// each request packed ([`PackedRequest`]).
    round_trip: bool,
    /// Evaluate without the residual programs ([`Evaluator::general`]): every hop on the
    /// general path, for comparing the two.
    general: bool,
}

impl std::fmt::Debug for Compiled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Compiled")
            .field("programs", &self.programs.borrow().len())
            .field("round_trip", &self.round_trip)
            .field("general", &self.general)
            .finish()
    }
}

impl Default for Compiled {
    fn default() -> Self {
        Compiled {
            programs: RefCell::new(BoundedCache::new(MAX_PROGRAMS, MAX_PROGRAM_BYTES)),
            key: RefCell::new(String::new()),
            round_trip: false,
            general: false,
        }
    }
}

impl Compiled {
    /// Compiles and evaluates in memory.
    pub fn new() -> Self {
        Compiled::default()
    }

    /// Compiles, writes the program's bytes, loads them back through the verifier, and
    /// evaluates the loaded program (the file path, without the file). It evaluates each
    /// request packed, the other layout the interpreter reads: every test and fuzz target
    /// that compares the engines thereby compares both layouts too.
    pub fn round_trip() -> Self {
        Compiled {
            round_trip: true,
            ..Compiled::default()
        }
    }

    /// Compiles and evaluates in memory, every hop on the general path (no residual
    /// programs, [`Evaluator::general`]).
    pub fn general() -> Self {
        Compiled {
            general: true,
            ..Compiled::default()
        }
    }

    /// The program under `key`, compiled from `set()` when not held.
    fn ready(&self, key: &str, set: impl FnOnce() -> PolicySet) -> Rc<Ready> {
        if let Some(ready) = self.programs.borrow_mut().get(key) {
            return ready.clone();
        }
        let mut program = compile(&set()).expect("policy sets of cases fit the program format");
        if self.round_trip {
            program =
                Program::from_vec(program.as_bytes().to_vec()).expect("a written program loads");
        }
        let weight = program.as_bytes().len() * PROGRAM_WEIGHT;
        let program = if self.general {
            ProgramEvaluator::new(program, |p| Evaluator::general(p))
        } else {
            ProgramEvaluator::new(program, |p| Evaluator::new(p))
        };
        let scratch = RefCell::new(program.borrow_dependent().scratch());
        let ready = Rc::new(Ready { program, scratch });
        self.programs
            .borrow_mut()
            .insert(key, ready.clone(), weight);
        ready
    }
}

impl Engine for Compiled {
    fn name(&self) -> &'static str {
        if self.round_trip {
            "compiled-roundtrip"
        } else if self.general {
            "compiled-general"
        } else {
            "compiled"
        }
    }

    fn evaluate(&self, chain: &Chain) -> ChainDecision {
        // `PolicySet {` starts every debug text, `#` every shared key: they never meet.
        let key = format!("{:?}", chain.policies);
        self.ready(&key, || chain.policies.clone())
            .decide(chain, self.round_trip)
    }

    fn shares_policy_sets(&self) -> bool {
        true
    }

    fn evaluate_shared(&self, case: &SharedCase, text: &str) -> ChainDecision {
        let chain = &case.case.chain;
        let ready = {
            let mut key = self.key.borrow_mut();
            key.clear();
            let _ = write!(key, "#{}", case.policies.id);
            // A resource policy is its text and its name (`resource[HOP]` by default).
            for (span, policy) in case
                .resource_policy_spans
                .iter()
                .zip(&chain.policies.resource)
            {
                key.push('\0');
                key.push_str(&policy.id);
                key.push('\0');
                key.push_str(text.get(span.range()).unwrap_or_default());
            }
            self.ready(&key, || PolicySet {
                resource: chain.policies.resource.clone(),
                ..case.policies.set.clone()
            })
        };
        ready.decide(chain, self.round_trip)
    }
}
