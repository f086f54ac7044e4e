//! Helpers shared by the integration tests.

use std::path::PathBuf;

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use fastiam::decision::ChainDecision;
use fastiam::eval::Evaluator;
use fastiam::request::{Chain, RequestBuilder};
use fastiam::runner::{Compiled, Engine, Reference};
use fastiam::table::{AlignedBytes, Program};

/// A file under the repository's `corpus/`.
pub fn corpus(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(path)
}

/// Reads a corpus file to a string, with a clear panic if it is missing.
pub fn read_corpus(path: &str) -> String {
    let p = corpus(path);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Every engine the differential tests compare. The reference evaluator comes first:
/// it is the oracle.
pub fn engines() -> Vec<Box<dyn Engine>> {
    vec![
        Box::new(Reference),
        Box::new(Compiled::new()),
        Box::new(Compiled::round_trip()),
        Box::new(CompiledCompact::new(Resolution::Evaluator)),
        Box::new(CompiledCompact::new(Resolution::Lazy)),
        Box::new(CompiledCompact::new(Resolution::OtherEvaluator)),
        Box::new(Compiled::general()),
    ]
}

/// How [`CompiledCompact`] builds its compact requests.
#[derive(Clone, Copy, Debug)]
pub enum Resolution {
    /// Against the evaluator that evaluates them: keys and actions by id.
    Evaluator,
    /// Without an evaluator: registered keys by registry id, the others by name.
    Lazy,
    /// Against another evaluator of the same program: its ids are to be ignored.
    OtherEvaluator,
}

/// The compiled engine fed compact requests: each chain's request goes through one reused
/// [`RequestBuilder`] (so that clearing between requests is tested too).
pub struct CompiledCompact {
    resolution: Resolution,
    builder: RefCell<RequestBuilder>,
    programs: RefCell<HashMap<String, Rc<Program<AlignedBytes>>>>,
}

impl CompiledCompact {
    pub fn new(resolution: Resolution) -> Self {
        CompiledCompact {
            resolution,
            builder: RefCell::new(RequestBuilder::new()),
            programs: RefCell::default(),
        }
    }
}

impl Engine for CompiledCompact {
    fn name(&self) -> &'static str {
        match self.resolution {
            Resolution::Evaluator => "compiled-compact",
            Resolution::Lazy => "compiled-compact-lazy",
            Resolution::OtherEvaluator => "compiled-compact-other-evaluator",
        }
    }

    fn evaluate(&self, chain: &Chain) -> ChainDecision {
        let key = format!("{:?}", chain.policies);
        let program = self
            .programs
            .borrow_mut()
            .entry(key)
            .or_insert_with(|| Rc::new(fastiam::compile::compile(&chain.policies).unwrap()))
            .clone();
        let evaluator = Evaluator::new(&program);
        let other = Evaluator::new(&program);
        let mut builder = self.builder.borrow_mut();
        builder.fill_from(&chain.request);
        let request = match self.resolution {
            Resolution::Evaluator => builder.finish_for(&evaluator),
            Resolution::Lazy => builder.finish(),
            Resolution::OtherEvaluator => builder.finish_for(&other),
        }
        .expect("a parsed case builds");
        let mut scratch = evaluator.scratch();
        evaluator.decision(&evaluator.evaluate(request, &mut scratch))
    }
}
