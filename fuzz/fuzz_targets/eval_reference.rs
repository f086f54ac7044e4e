//! Arbitrary case lines through the case reader and the reference evaluator: an `Error`
//! or a decision, never a panic; the decision is deterministic (R-GEN-3) and well formed
//! (R-FAS-2: hops up to and including the first denied one).
#![no_main]

use fastiam::decision::Decision;
use fastiam::reference::evaluate_chain;
use fastiam::request::parse_case;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(case) = parse_case(text, "fuzz") else {
        return;
    };
    let first = evaluate_chain(&case.chain);
    assert_eq!(first, evaluate_chain(&case.chain));
    match first.denied_at {
        Some(i) if first.decision != Decision::InvalidCredentials => {
            assert_eq!(first.hops.len(), i + 1);
            assert_eq!(first.hops[i].decision, first.decision);
        }
        Some(_) => assert!(first.hops.is_empty()),
        None => {
            assert_eq!(first.decision, Decision::Allow);
            assert_eq!(first.hops.len(), case.chain.request.hops.len());
        }
    }
});
