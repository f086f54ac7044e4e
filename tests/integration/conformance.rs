//! The conformance corpus (`corpus/conformance/*.jsonl`) through every engine: each case's
//! decision, `denied_at` and every hop's decision must equal its `expect`.

use fastiam::request::parse_case;
use fastiam::runner::{run_cases, Outcome};

use crate::util::{engines, read_corpus};

fn check_file(name: &str, expected_cases: usize) {
    let text = read_corpus(name);
    let cases: Vec<_> = text
        .lines()
        .enumerate()
        .map(|(i, l)| parse_case(l, &format!("{name}:{}", i + 1)).unwrap_or_else(|e| panic!("{e}")))
        .collect();
    assert_eq!(cases.len(), expected_cases, "{name}: case count");
    let engines = engines();
    let oracle: Vec<_> = cases
        .iter()
        .map(|c| engines[0].evaluate(&c.chain))
        .collect();
    for engine in &engines {
        let mut failures = Vec::new();
        for (case, reference) in cases.iter().zip(&oracle) {
            let got = engine.evaluate(&case.chain);
            let outcome = Outcome {
                line: 0,
                id: Some(case.id.clone()),
                result: Ok(got.clone()),
                expect: case.expect.clone(),
            };
            if outcome.agrees() != Some(true) {
                failures.push(format!("{}: {}", case.id, outcome.to_json()));
            } else if got != *reference {
                failures.push(format!(
                    "{}: differs from the reference: {}",
                    case.id,
                    got.to_json(&case.id)
                ));
            }
        }
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

#[test]
fn regressions_stay_fixed() {
    check_file("regressions/decisions.jsonl", 5);
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
