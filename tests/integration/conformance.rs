//! The conformance corpus (`corpus/conformance/*.jsonl`) through every engine: each case's
//! decision, `denied_at` and every hop's decision must equal its `expect`.

use fastiam::runner::{run_cases, Outcome};

use crate::util::{engines, read_corpus};

fn check_file(name: &str, expected_cases: usize) {
    let text = read_corpus(name);
    for engine in engines() {
        let mut failures = Vec::new();
        let mut outcomes = 0;
        let summary = run_cases(text.as_bytes(), name, engine.as_ref(), |o: &Outcome| {
            outcomes += 1;
            if o.agrees() != Some(true) {
                failures.push(format!(
                    "{}: {}",
                    o.id.as_deref().unwrap_or("?"),
                    o.to_json()
                ));
            }
        })
        .unwrap();
        assert_eq!(summary.cases, expected_cases, "{name}: case count");
        assert_eq!(outcomes, expected_cases);
        assert_eq!(summary.errors, 0, "{name}: unreadable cases");
        assert!(
            failures.is_empty(),
            "{name} with the {} engine: {} of {expected_cases} disagree:\n{}",
            engine.name(),
            failures.len(),
            failures.join("\n")
        );
    }
}

#[test]
fn hand_cases_all_agree() {
    check_file("conformance/hand.jsonl", 44);
}

#[test]
fn fas_chains_all_agree_hop_by_hop() {
    check_file("conformance/fas.jsonl", 129);
}

/// The expectation checker itself must be able to fail: a case whose `expect` is wrong is
/// reported.
#[test]
fn a_wrong_expectation_is_caught() {
    let text = read_corpus("conformance/hand.jsonl");
    let first = text.lines().next().unwrap().replace(
        r#""expect": {"decision": "Allow""#,
        r#""expect": {"decision": "ImplicitDeny""#,
    );
    let summary = run_cases(
        first.as_bytes(),
        "mutated",
        &fastiam::runner::Reference,
        |_| {},
    )
    .unwrap();
    assert_eq!(summary.expect_agree, 0);
    assert_eq!(summary.expect_disagree.len(), 1);
}
