//! Every `T-…` vector of SEMANTICS.md, encoded as cases in `corpus/spec/vectors.jsonl`
//! (the rules each cites are in `vectors.tsv`), through every engine. Decisions are checked
//! hop by hop against each case's `expect`; the reasons SEMANTICS.md §15 states are checked
//! from the table below.

use std::collections::BTreeSet;

use fastiam::decision::Decision;
use fastiam::request::parse_case;

use crate::util::{engines, read_corpus};

/// Every vector id in SEMANTICS.md (as of the spec this corpus was written against).
const SPEC_VECTORS: &[&str] = &[
    "T-ACT-1",
    "T-ACT-2",
    "T-ACT-3",
    "T-RES-1",
    "T-RES-2",
    "T-RES-3",
    "T-OPS-1",
    "T-OPS-2",
    "T-OPS-3",
    "T-OPA-1",
    "T-OPA-2",
    "T-VAR-1",
    "T-VAR-2",
    "T-VAR-3",
    "T-VAR-4",
    "T-VAR-5",
    "T-FAS-1",
    "T-FAS-2",
    "T-FAS-3",
    "T-FAS-4",
    "T-FAS-5",
    "T-PERIM-1",
    "T-EVAL-1",
    "T-EVAL-2",
    "T-EVAL-3",
    "T-EVAL-4",
    "T-EVAL-5",
    "T-EVAL-6",
    "T-EVAL-7",
    "T-EVAL-8",
    "T-EVAL-9",
    "T-EVAL-10",
    "T-EVAL-11",
    "T-EVAL-12",
    "T-EVAL-13",
    "T-EVAL-14",
    "T-EVAL-15",
    "T-EVAL-16",
    "T-EVAL-17",
    "T-EVAL-18",
    "T-EVAL-19",
    "T-EVAL-20",
    "T-EVAL-21",
    "T-EVAL-22",
    "T-EVAL-23",
    "T-EVAL-24",
    "T-EVAL-25",
    "T-HW-1",
    "T-HW-2",
    "T-HW-3",
    "T-HW-4",
];

/// The reasons §15 states for the evaluation vectors (R-SIM-2, R-SIM-2a).
const SPEC_REASONS: &[(&str, &str)] = &[
    ("T-EVAL-1", "Allowed:Identity"),
    ("T-EVAL-2", "ExplicitDeny:Identity"),
    ("T-EVAL-3", "Allowed:ResourceDirect"),
    ("T-EVAL-4", "BoundaryNoAllow"),
    ("T-EVAL-5", "Allowed:ResourceDirect"),
    ("T-EVAL-6", "NoAllow"),
    ("T-EVAL-7", "CrossAccountNoIdentityGrant"),
    ("T-EVAL-8", "SessionPolicyNoAllow"),
    ("T-EVAL-9", "ScpNoAllow"),
    ("T-EVAL-10", "ExplicitDeny:Rcp"),
    ("T-EVAL-11", "ResourcePolicyRequired"),
    ("T-EVAL-12", "Allowed:Identity"),
    ("T-EVAL-13", "Allowed:ResourceDirect"),
    ("T-EVAL-14", "ExplicitDeny:ResourceBased"),
    ("T-EVAL-15", "SessionPolicyNoAllow"),
    ("T-EVAL-16", "Allowed:ResourceDirect"),
    ("T-EVAL-17", "ExplicitDeny:Scp"),
    ("T-EVAL-18", "Allowed:Root"),
    ("T-EVAL-21", "NoPermissionRequired"),
    ("T-EVAL-22", "NoPermissionRequired"),
    ("T-EVAL-25", "Allowed:ResourceDirect"),
];

fn vector_id(case_id: &str) -> &str {
    case_id.split('/').next().unwrap_or(case_id)
}

#[test]
fn every_spec_vector_is_encoded() {
    let text = read_corpus("spec/vectors.jsonl");
    let mut seen = BTreeSet::new();
    for (i, line) in text.lines().enumerate() {
        let case =
            parse_case(line, &format!("vectors.jsonl:{}", i + 1)).unwrap_or_else(|e| panic!("{e}"));
        seen.insert(vector_id(&case.id).to_string());
    }
    let missing: Vec<_> = SPEC_VECTORS
        .iter()
        .filter(|v| !seen.contains(**v))
        .collect();
    assert!(missing.is_empty(), "vectors without a case: {missing:?}");
    // The side table cites the rules of every case.
    let tsv = read_corpus("spec/vectors.tsv");
    assert_eq!(
        tsv.lines().count() - 1,
        text.lines().count(),
        "one vectors.tsv row per case"
    );
}

#[test]
fn every_engine_agrees_with_every_vector() {
    let text = read_corpus("spec/vectors.jsonl");
    for engine in engines() {
        let mut failures = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let case = parse_case(line, &format!("vectors.jsonl:{}", i + 1)).unwrap();
            let got = engine.evaluate(&case.chain);
            let expect = case
                .expect
                .as_ref()
                .expect("every vector has an expectation");
            let hops_agree = expect
                .hops
                .iter()
                .enumerate()
                .all(|(h, d)| got.hops.get(h).is_some_and(|g| g.decision.name() == d));
            if got.decision.name() != expect.decision
                || got.denied_at != expect.denied_at
                || !hops_agree
            {
                failures.push(format!("{}: {}", case.id, got.to_json(&case.id)));
            }
            if let Some((_, reason)) = SPEC_REASONS.iter().find(|(id, _)| *id == case.id) {
                let last = got
                    .hops
                    .last()
                    .expect("the vectors evaluate at least one hop");
                if last.reason.to_string() != *reason {
                    failures.push(format!(
                        "{}: reason {} (spec: {reason})",
                        case.id, last.reason
                    ));
                }
            }
        }
        assert!(
            failures.is_empty(),
            "{} engine:\n{}",
            engine.name(),
            failures.join("\n")
        );
    }
}

/// T-EVAL-2 (R-SIM-3): for an explicit deny, the Deny statement is the only one listed.
#[test]
fn explicit_deny_lists_only_the_deny() {
    let text = read_corpus("spec/vectors.jsonl");
    let line = text
        .lines()
        .find(|l| l.contains("\"id\": \"T-EVAL-2\""))
        .expect("T-EVAL-2");
    let case = parse_case(line, "T-EVAL-2").unwrap();
    for engine in engines() {
        let got = engine.evaluate(&case.chain);
        assert_eq!(got.decision, Decision::ExplicitDeny);
        let matched = &got.hops[0].matched;
        assert_eq!(matched.len(), 1, "{matched:?}");
        let policy = &case.chain.policies.identity[0];
        let statement = &policy.statements[matched[0].statement];
        assert_eq!(statement.effect, fastiam::policy::Effect::Deny);
    }
}
