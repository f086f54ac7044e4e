//! The three-valued answer against brute force.
//!
//! Generated SCPs read a few keys the record does not carry (principal tags, a multi-valued
//! key, a number, a flag) and sometimes an unknown resource. Brute force evaluates the
//! record under every assignment from a value universe large enough to realise every class
//! of the generated patterns (strings of up to three characters over the patterns' letters
//! and one other), and the answer must be `Certain` exactly when brute force sees a single
//! decision.

use super::*;
use crate::decision::Decision;
use crate::eval::Evaluator;
use crate::policy::{parse_policy, ParseOptions};
use crate::primitives;
use crate::replay::policies::{Guardrails, ReplayPolicies};
use crate::replay::record::{LogOutcome, MappedRecord};
use crate::request::parse_case;

/// xorshift64*: a deterministic generator without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const STRING_KEYS: [&str; 2] = ["aws:PrincipalTag/a", "aws:PrincipalTag/b"];
const MULTI_KEY: &str = "aws:TagKeys";
const NUMBER_KEY: &str = "aws:PrincipalTag/n";
const FLAG_KEY: &str = "aws:PrincipalTag/f";

fn string_value(rng: &mut Rng, glob: bool) -> String {
    let letters: &[char] = if glob {
        &['a', 'b', 'A', '*', '?']
    } else {
        &['a', 'b', 'A']
    };
    (0..1 + rng.below(2)).map(|_| *rng.pick(letters)).collect()
}

fn condition(rng: &mut Rng, keys: &[&str]) -> (String, String, serde_json::Value) {
    let key = *rng.pick(keys);
    let if_exists = if rng.below(3) == 0 { "IfExists" } else { "" };
    let values = |rng: &mut Rng, glob: bool| -> serde_json::Value {
        (0..1 + rng.below(2))
            .map(|_| string_value(rng, glob))
            .collect::<Vec<_>>()
            .into()
    };
    match key {
        NUMBER_KEY => {
            let op = rng.pick(&[
                "NumericLessThan",
                "NumericEquals",
                "NumericGreaterThanEquals",
            ]);
            let v: Vec<String> = (0..1 + rng.below(2))
                .map(|_| (1 + rng.below(3)).to_string())
                .collect();
            (format!("{op}{if_exists}"), key.into(), v.into())
        }
        FLAG_KEY => {
            let v = if rng.below(2) == 0 { "true" } else { "false" };
            (format!("Bool{if_exists}"), key.into(), v.into())
        }
        MULTI_KEY => {
            let op = rng.pick(&[
                "ForAnyValue:StringLike",
                "ForAllValues:StringEquals",
                "ForAnyValue:StringNotEquals",
            ]);
            let glob = op.ends_with("Like");
            (op.to_string(), key.into(), values(rng, glob))
        }
        _ => {
            if rng.below(6) == 0 {
                let v = if rng.below(2) == 0 { "true" } else { "false" };
                return ("Null".into(), key.into(), v.into());
            }
            let op = *rng.pick(&[
                "StringEquals",
                "StringNotEquals",
                "StringEqualsIgnoreCase",
                "StringNotEqualsIgnoreCase",
                "StringLike",
                "StringNotLike",
            ]);
            let glob = op.ends_with("Like");
            (format!("{op}{if_exists}"), key.into(), values(rng, glob))
        }
    }
}

/// An SCP of one to three statements over `keys`, and whether its resources are patterns.
fn scp(rng: &mut Rng, keys: &[&str], resource_patterns: bool) -> String {
    let statements: Vec<serde_json::Value> = (0..1 + rng.below(3))
        .map(|_| {
            let mut conditions = serde_json::Map::new();
            for _ in 0..1 + rng.below(2) {
                let (op, key, values) = condition(rng, keys);
                let block = conditions
                    .entry(op)
                    .or_insert_with(|| serde_json::json!({}));
                block[key] = values;
            }
            let resource = if resource_patterns {
                let r = *rng.pick(&["arn:aws:s3:::a*", "arn:aws:s3:::*b", "arn:aws:s3:::ab", "*"]);
                serde_json::json!(r)
            } else {
                serde_json::json!("*")
            };
            serde_json::json!({
                "Effect": if rng.below(3) == 0 { "Allow" } else { "Deny" },
                "Action": if rng.below(2) == 0 { "s3:GetObject" } else { "s3:*" },
                "Resource": resource,
                "Condition": conditions,
            })
        })
        .collect();
    serde_json::json!({"Version": "2012-10-17", "Statement": statements}).to_string()
}

fn strings_up_to(len: usize, letters: &[char]) -> Vec<String> {
    let mut all = vec![String::new()];
    let mut last = vec![String::new()];
    for _ in 0..len {
        last = last
            .iter()
            .flat_map(|s| letters.iter().map(move |c| format!("{s}{c}")))
            .collect();
        all.extend(last.iter().cloned());
    }
    all
}

fn universe(key: &str) -> Vec<Option<ContextValue>> {
    let mut out = vec![None];
    match key {
        NUMBER_KEY => out.extend(
            ["0", "1", "1.5", "2", "2.5", "3", "4", "x"]
                .map(|s| Some(ContextValue::Single(s.into()))),
        ),
        FLAG_KEY => {
            out.extend(["true", "false", "x"].map(|s| Some(ContextValue::Single(s.into()))))
        }
        MULTI_KEY => {
            // Single values, and every set of up to three elements.
            let elements = strings_up_to(2, &['a', 'b', 'A', '~']);
            let elements = &elements[1..];
            out.extend(
                elements
                    .iter()
                    .map(|e| Some(ContextValue::Single(e.clone()))),
            );
            for (i, a) in elements.iter().enumerate() {
                out.push(Some(ContextValue::Multi(vec![a.clone()])));
                for (j, b) in elements.iter().enumerate().skip(i + 1) {
                    out.push(Some(ContextValue::Multi(vec![a.clone(), b.clone()])));
                    for c in elements.iter().skip(j + 1) {
                        out.push(Some(ContextValue::Multi(vec![
                            a.clone(),
                            b.clone(),
                            c.clone(),
                        ])));
                    }
                }
            }
        }
        _ => out.extend(
            strings_up_to(3, &['a', 'b', 'A', '~'])
                .into_iter()
                .map(|s| Some(ContextValue::Single(s))),
        ),
    }
    out
}

fn mapped(resource_unknown: bool) -> MappedRecord {
    let case = r#"{"id":"t","dialect":"aws","principal":"arn:aws:iam::111122223333:user/alice","policies":{"identity":[]},"chain":[{"action":"s3:GetObject","resource":"arn:aws:s3:::ab/k"}]}"#;
    let case = parse_case(case, "test").expect("the test case parses");
    let mut request = case.chain.request;
    if resource_unknown {
        request.hops[0].resource.clear();
    }
    MappedRecord {
        id: "t".into(),
        request,
        hop: 0,
        via: None,
        known_keys: Vec::new(),
        principal_tags_known: false,
        log_outcome: LogOutcome::Succeeded,
        error_code: None,
        identity_arn: None,
        resource_unknown: resource_unknown.then(|| "test".to_string()),
        mapping: None,
        event_secs: None,
    }
}

#[test]
fn certain_exactly_when_every_assignment_agrees() {
    let cases: usize = std::env::var("FASTIAM_CERTAINTY_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(120);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let key_sets: [&[&str]; 4] = [
        &STRING_KEYS,
        &[STRING_KEYS[0], NUMBER_KEY],
        &[STRING_KEYS[0], FLAG_KEY],
        &[MULTI_KEY],
    ];
    let resources = strings_up_to(2, &['a', 'b', '~'])
        .into_iter()
        .map(|s| format!("arn:aws:s3:::{s}"))
        .chain([
            "".to_string(),
            "*".to_string(),
            "arn:aws:s3:::ab/k".to_string(),
        ])
        .collect::<Vec<_>>();
    let (mut certain, mut depends) = (0, 0);
    for n in 0..cases {
        let keys = key_sets[n % key_sets.len()];
        let resource_unknown = n % 5 == 4;
        let text = scp(&mut rng, keys, resource_unknown);
        let policy = parse_policy(&text, "scp", &ParseOptions::new(PolicyKind::Scp))
            .unwrap_or_else(|e| panic!("{text}: {e}"));
        let policies = ReplayPolicies::what_if(&Guardrails {
            scp: vec![vec![policy]],
            exact: n % 2 == 0,
            ..Guardrails::default()
        })
        .expect("the SCP compiles");
        let prepared = &policies.sets()[0];
        let evaluator = Evaluator::new(&prepared.program);
        let mut scratch = evaluator.scratch();

        // Brute force.
        let mut m = mapped(resource_unknown);
        let canonical: Vec<String> = keys.iter().map(|k| primitives::canonical_key(k)).collect();
        let universes: Vec<Vec<Option<ContextValue>>> = keys.iter().map(|k| universe(k)).collect();
        let resource_choices: Vec<String> = if resource_unknown {
            resources.clone()
        } else {
            vec![m.request.hops[0].resource.clone()]
        };
        let mut seen: Vec<Option<Decision>> = Vec::new();
        for r in &resource_choices {
            m.request.hops[0].resource.clone_from(r);
            select_resource_policy(&mut m.request, 0, prepared);
            let mut index = vec![0usize; keys.len()];
            'assignments: loop {
                for ((k, u), &i) in canonical.iter().zip(&universes).zip(&index) {
                    match &u[i] {
                        None => {
                            m.request.hops[0].context.remove(k);
                        }
                        Some(v) => m.request.hops[0].context.set(k.clone(), v.clone()),
                    }
                }
                let outcome = evaluator.evaluate(&m.request, &mut scratch);
                let d = outcome.hops.first().map(|h| h.decision);
                if !seen.contains(&d) {
                    seen.push(d);
                }
                for (i, u) in index.iter_mut().zip(&universes).rev() {
                    *i += 1;
                    if *i < u.len() {
                        continue 'assignments;
                    }
                    *i = 0;
                }
                break;
            }
        }
        let mut m = mapped(resource_unknown);
        let mut plans = PlanCache::default();
        let mut ask = |m: &mut MappedRecord| {
            let map = MapOptions::default();
            decide(m, 0, prepared, &evaluator, &mut scratch, &map, &mut plans)
        };
        let answer = ask(&mut m).expect("hop 0 is evaluated");
        // Asked again, from the worker's cached plan: the same answer.
        assert_eq!(ask(&mut m).as_ref(), Ok(&answer));
        match (&answer, seen.len()) {
            (Certainty::Certain, 1) => certain += 1,
            (Certainty::Depends { description, .. }, n) if n > 1 => {
                assert!(!description.starts_with("not proved"), "{text}: {description}");
                depends += 1;
            }
            _ => panic!("case {n}: {text}\nresource unknown: {resource_unknown}\nanswer {answer:?}\nbrute force saw {seen:?}"),
        }
    }
    // The generator must exercise both answers.
    assert!(
        certain > cases / 10 && depends > cases / 10,
        "certain {certain}, depends {depends}"
    );
}

/// The answers for the test record under one SCP, with each of `options` in turn (the same
/// record each time, so that it is also checked to be left as it was found).
fn answers(scp: &str, options: &[MapOptions]) -> Vec<Result<Certainty, Unmappable>> {
    let policy = parse_policy(scp, "scp", &ParseOptions::new(PolicyKind::Scp)).unwrap();
    let policies = ReplayPolicies::what_if(&Guardrails {
        scp: vec![vec![policy]],
        ..Guardrails::default()
    })
    .unwrap();
    let prepared = &policies.sets()[0];
    let evaluator = Evaluator::new(&prepared.program);
    let mut scratch = evaluator.scratch();
    let mut m = mapped(false);
    let before = m.request.clone();
    options
        .iter()
        .map(|map| {
            let mut plans = PlanCache::default();
            let answer = decide(
                &mut m,
                0,
                prepared,
                &evaluator,
                &mut scratch,
                map,
                &mut plans,
            );
            assert_eq!(
                m.request.hops[0].context, before.hops[0].context,
                "the request is left as it was found"
            );
            answer
        })
        .collect()
}

#[test]
fn a_deny_on_known_keys_is_certain_whatever_else_is_unknown() {
    let text = r#"{"Version":"2012-10-17","Statement":[
        {"Sid":"Known","Effect":"Deny","Action":"s3:*","Resource":"*",
         "Condition":{"StringNotEquals":{"aws:PrincipalAccount":"999999999999"}}},
        {"Sid":"Unknown","Effect":"Deny","Action":"s3:*","Resource":"*",
         "Condition":{"StringNotEqualsIfExists":{"aws:SourceOrgID":"o-1"}}}]}"#;
    assert_eq!(
        answers(text, &[MapOptions::default()]),
        [Ok(Certainty::Certain)]
    );
}

#[test]
fn an_uncertain_answer_says_what_decides_it() {
    let text = r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Deny","Action":"s3:*","Resource":"*",
         "Condition":{"StringNotEquals":{"aws:SourceVpc":"vpc-1"}}}]}"#;
    // Assumed absent, the key is known, and the deny certain.
    let assume = MapOptions {
        assume_absent: vec!["aws:source*".into()],
        ..MapOptions::default()
    };
    let got = answers(text, &[MapOptions::default(), assume]);
    let Ok(Certainty::Depends { keys, description }) = &got[0] else {
        panic!("{got:?}")
    };
    assert_eq!(keys, &["aws:SourceVpc"]);
    assert!(
        description.contains("Allow if aws:SourceVpc = \"vpc-1\""),
        "{description}"
    );
    assert!(
        description.contains("ExplicitDeny if aws:SourceVpc absent"),
        "{description}"
    );
    assert_eq!(got[1], Ok(Certainty::Certain));
}
