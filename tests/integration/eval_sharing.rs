//! `fastiam eval` parses each distinct `policies` text once (`parse_case_sharing`) and
//! compiles each set once: every line must get exactly what a full parse of that line
//! alone gives, decisions and error messages alike. Data-driven: each file below is run
//! through the sharing runner, and each of its lines through `evaluate_line` (the full
//! parse, no cache) and the reference evaluator; the three must agree line by line.

use fastiam::request::{parse_case_sharing, PolicySetCache};
use fastiam::runner::{
    evaluate_line, evaluate_line_sharing, run_cases, Compiled, Engine, Reference,
};

const ALLOW_S3: &str = r#"{"identity":[{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/team":"red"}}}]}]}"#;
/// `ALLOW_S3` with other whitespace.
const ALLOW_S3_SPACED: &str = r#"{ "identity": [ {"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/team":"red"}}}]} ] }"#;
/// `ALLOW_S3`'s first 60 bytes, then a statement with a bad effect.
const BAD_AFTER_PREFIX: &str = r#"{"identity":[{"Version":"2012-10-17","Statement":[{"Effect":"Perhaps","Action":"s3:GetObject","Resource":"*"}]}]}"#;
/// Not JSON inside (a trailing comma): the line is a syntax error.
const TRAILING_COMMA: &str = r#"{"identity":[{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*",}]}]}"#;
/// An `Id` in an identity policy: refused in strict mode, ignored in lenient (R-GRAM-3,
/// R-GEN-6).
const ID_IN_IDENTITY: &str = r#"{"identity":[{"Version":"2012-10-17","Id":"x","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}]}"#;
const HUAWEI: &str = r#"{"identity":[{"Version":"5.0","Statement":[{"Effect":"Allow","Action":["obs:object:GetObject"],"Resource":["obs:*:*:object:*"]}]}]}"#;
const KEY_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"Key","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}]}"#;

fn line(id: &str, policies: &str, team: &str, action: &str) -> String {
    format!(
        r#"{{"id":"{id}","principal":"arn:aws:iam::111122223333:user/alice","context":{{"aws:PrincipalTag/team":"{team}"}},"policies":{policies},"chain":[{{"action":"{action}","resource":"arn:aws:s3:::b/k"}}]}}"#
    )
}

fn key_chain(id: &str, first_hop_key: bool) -> String {
    let kms = format!(
        r#"{{"via":"s3.amazonaws.com","action":"kms:Decrypt","resource":"arn:aws:kms:us-east-1:111122223333:key/1","resource_policy":{KEY_POLICY}}}"#
    );
    let s3 = r#"{"action":"s3:GetObject","resource":"arn:aws:s3:::b/k"}"#;
    let hops = if first_hop_key {
        format!(
            r#"{{"action":"kms:Decrypt","resource":"arn:aws:kms:us-east-1:111122223333:key/1","resource_policy":{KEY_POLICY}}},{kms}"#
        )
    } else {
        format!("{s3},{kms}")
    };
    format!(
        r#"{{"id":"{id}","principal":"arn:aws:iam::111122223333:user/alice","context":{{"aws:PrincipalTag/team":"red"}},"policies":{{"identity":[{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":["s3:GetObject","kms:Decrypt"],"Resource":"*"}}]}}]}},"chain":[{hops}]}}"#
    )
}

/// The files: each a list of lines, run as one file so that later lines meet the sets of
/// earlier ones.
fn files() -> Vec<(&'static str, Vec<String>)> {
    vec![
        (
            "same policies text, different requests",
            vec![
                line("a", ALLOW_S3, "red", "s3:GetObject"),
                line("b", ALLOW_S3, "blue", "s3:GetObject"),
                line("c", ALLOW_S3, "red", "s3:PutObject"),
                line("d", ALLOW_S3, "red", "s3:GetObject"),
            ],
        ),
        (
            "policies that differ only in whitespace",
            vec![
                line("a", ALLOW_S3, "red", "s3:GetObject"),
                line("b", ALLOW_S3_SPACED, "red", "s3:GetObject"),
                line("c", ALLOW_S3_SPACED, "blue", "s3:GetObject"),
            ],
        ),
        (
            "bad policies after good ones with the same prefix",
            vec![
                line("a", ALLOW_S3, "red", "s3:GetObject"),
                line("b", BAD_AFTER_PREFIX, "red", "s3:GetObject"),
                line("c", TRAILING_COMMA, "red", "s3:GetObject"),
                line("d", ALLOW_S3, "red", "s3:GetObject"),
                // Known policies, then a syntax error after them.
                line("e", ALLOW_S3, "red", "s3:GetObject").replace(r#""chain":["#, r#""chain":[,"#),
                // Known policies twice: a duplicate member.
                line("f", ALLOW_S3, "red", "s3:GetObject")
                    .replace(r#""chain":"#, &format!(r#""policies":{ALLOW_S3},"chain":"#)),
                // Known policies, and an unknown member after them.
                line("g", ALLOW_S3, "red", "s3:GetObject")
                    .replace(r#""chain":"#, r#""extra":1,"chain":"#),
                // Known policies, and a bad context after them.
                line("h", ALLOW_S3, "red", "s3:GetObject")
                    .replace(r#""context":{"#, r#""context":{"x":{},"#),
            ],
        ),
        (
            "one text under two loading modes",
            vec![
                line("a", ID_IN_IDENTITY, "red", "s3:GetObject"),
                line("b", ID_IN_IDENTITY, "red", "s3:GetObject")
                    .replace(r#""id":"b","#, r#""id":"b","options":{"mode":"lenient"},"#),
                line("c", ID_IN_IDENTITY, "red", "s3:GetObject"),
                line("d", ID_IN_IDENTITY, "red", "s3:GetObject")
                    .replace(r#""id":"d","#, r#""id":"d","options":{"mode":"lenient"},"#),
            ],
        ),
        (
            "the dialect guessed from known policies",
            vec![
                line("a", HUAWEI, "red", "obs:object:GetObject"),
                line("b", HUAWEI, "red", "obs:object:GetObject"),
                line("c", HUAWEI, "red", "obs:object:GetObject")
                    .replace(r#""id":"c","#, r#""id":"c","dialect":"aws","#),
            ],
        ),
        (
            "one resource policy text at two hops",
            vec![
                key_chain("a", false),
                key_chain("b", true),
                key_chain("c", false),
            ],
        ),
        (
            "no policies member",
            vec![
                line("a", ALLOW_S3, "red", "s3:GetObject")
                    .replace(&format!(r#""policies":{ALLOW_S3},"#), ""),
                line("b", ALLOW_S3, "red", "s3:GetObject")
                    .replace(&format!(r#""policies":{ALLOW_S3},"#), ""),
            ],
        ),
    ]
}

fn run(lines: &[String], engine: &dyn Engine) -> Vec<String> {
    let input = lines.join("\n");
    let mut out = Vec::new();
    run_cases(input.as_bytes(), "f.jsonl", engine, |o| {
        out.push(o.to_json().to_string())
    })
    .unwrap();
    out
}

#[test]
fn every_line_gets_what_its_full_parse_gives() {
    for (name, lines) in files() {
        let compiled = Compiled::new();
        let shared = run(&lines, &compiled);
        let reference = run(&lines, &Reference);
        assert_eq!(shared.len(), lines.len(), "{name}");
        for (i, text) in lines.iter().enumerate() {
            let place = format!("f.jsonl:{}", i + 1);
            let alone = evaluate_line(text, &place, i + 1, &Compiled::new(), None);
            let alone = alone.to_json().to_string();
            assert_eq!(shared[i], alone, "{name}: line {}", i + 1);
            assert_eq!(
                shared[i],
                reference[i],
                "{name}: line {} (reference)",
                i + 1
            );
            if alone.contains(r#""decision":"Error""#) {
                assert!(alone.contains(&place), "{name}: {alone} names its line");
            }
        }
    }
}

/// What each file must show, so that the agreement above is not over errors only.
#[test]
fn the_files_decide_what_they_are_about() {
    let decisions = |name: &str| -> Vec<String> {
        let (_, lines) = files().into_iter().find(|(n, _)| *n == name).unwrap();
        run(&lines, &Compiled::new())
            .iter()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                v["decision"].as_str().unwrap().to_string()
            })
            .collect()
    };
    assert_eq!(
        decisions("same policies text, different requests"),
        ["Allow", "ImplicitDeny", "ImplicitDeny", "Allow"]
    );
    assert_eq!(
        decisions("policies that differ only in whitespace"),
        ["Allow", "Allow", "ImplicitDeny"]
    );
    assert_eq!(
        decisions("bad policies after good ones with the same prefix"),
        ["Allow", "Error", "Error", "Allow", "Error", "Error", "Error", "Error"]
    );
    assert_eq!(
        decisions("one text under two loading modes"),
        ["Error", "Allow", "Error", "Allow"]
    );
    assert_eq!(
        decisions("one resource policy text at two hops"),
        ["Allow", "Allow", "Allow"]
    );
}

#[test]
fn resource_policies_keep_the_name_of_their_hop() {
    let lines = [key_chain("a", false), key_chain("b", true)];
    let out = run(&lines, &Compiled::new());
    assert!(out[0].contains(r#""policy":"resource[1]""#), "{}", out[0]);
    assert!(out[1].contains(r#""policy":"resource[0]""#), "{}", out[1]);
}

#[test]
fn a_text_is_parsed_once_and_whitespace_makes_another() {
    let mut cache = PolicySetCache::new();
    let mut id = |text: &str| {
        parse_case_sharing(text, "f.jsonl:1", None, &mut cache)
            .unwrap()
            .policies
            .id
    };
    let a = id(&line("a", ALLOW_S3, "red", "s3:GetObject"));
    let b = id(&line("b", ALLOW_S3, "blue", "s3:PutObject"));
    let c = id(&line("c", ALLOW_S3_SPACED, "red", "s3:GetObject"));
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert_eq!(cache.len(), 2);
}

#[test]
fn a_new_set_on_every_line_keeps_the_cache_bounded() {
    let mut cache = PolicySetCache::with_bounds(4, 1 << 20);
    let compiled = Compiled::new();
    for i in 0..200 {
        let policies = ALLOW_S3.replace("s3:GetObject", &format!("s3:Get{i}"));
        let text = line(&format!("x{i}"), &policies, "red", &format!("s3:Get{i}"));
        let outcome = evaluate_line_sharing(&text, "f.jsonl", i + 1, &compiled, None, &mut cache);
        assert_eq!(outcome.to_json()["decision"], "Allow", "line {i}");
        assert!(cache.len() <= 4, "{} texts held", cache.len());
    }
}
