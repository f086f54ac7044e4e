//! Helpers shared by the integration tests.

use std::path::PathBuf;

use fastiam::runner::{Compiled, Engine, Reference};

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
        Box::new(Compiled::general()),
    ]
}
