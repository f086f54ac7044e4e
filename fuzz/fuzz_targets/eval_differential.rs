//! Arbitrary case lines through every engine: the reference evaluator, the compiled program
//! in memory, and the compiled program after a write/load round trip (evaluating the request
//! packed, the interpreter's other input layout) must return exactly the same result
//! (decision, reason, matched statements, missing keys; R-GEN-4).
#![no_main]

use fastiam::request::parse_case;
use fastiam::runner::{Compiled, Engine, Reference};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(case) = parse_case(text, "fuzz") else {
        return;
    };
    let oracle = Reference.evaluate(&case.chain);
    let compiled = Compiled::new().evaluate(&case.chain);
    assert_eq!(oracle, compiled, "compiled engine differs from the reference");
    let loaded = Compiled::round_trip().evaluate(&case.chain);
    assert_eq!(oracle, loaded, "round-tripped program differs from the reference");
});
