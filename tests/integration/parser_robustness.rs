//! Arbitrary and mutated JSON into the policy and case parsers: an error or a value, never
//! a panic. Deterministic (xorshift), so a failure reproduces; the cargo-fuzz target
//! `parse_policy` explores further.

use fastiam::policy::{parse_policy, Mode, ParseOptions, PolicyKind};
use fastiam::request::parse_case;

use crate::util::read_corpus;

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Fragments that steer mutations towards the parser's interesting paths.
const TOKENS: &[&str] = &[
    "\"*\"",
    "\"Allow\"",
    "\"Deny\"",
    "[]",
    "{}",
    "null",
    "true",
    "1.5",
    "\"${aws:username}\"",
    "\"${a, 'b'}\"",
    "\"arn:aws:s3:::\"",
    "\"ForAllValues:StringLike\"",
    "\"NotPrincipal\"",
    "\"Condition\"",
    "\"10.0.0.0/33\"",
    "\"é\"",
    "\"\\u0000\"",
    ",",
    ":",
    "\"",
    "{",
    "}",
    "[",
    "]",
];

fn mutate(rng: &mut XorShift, base: &str) -> String {
    let mut bytes = base.as_bytes().to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(bytes.len() + 1);
        match rng.below(5) {
            0 => {
                let token = TOKENS[rng.below(TOKENS.len())];
                bytes.splice(at..at, token.bytes());
            }
            1 if at < bytes.len() => {
                let end = (at + 1 + rng.below(12)).min(bytes.len());
                bytes.drain(at..end);
            }
            2 if at < bytes.len() => bytes[at] = rng.next() as u8,
            3 => bytes.truncate(at),
            _ => {
                let from = rng.below(bytes.len());
                let end = (from + rng.below(40)).min(bytes.len());
                let chunk: Vec<u8> = bytes[from..end].to_vec();
                bytes.splice(at.min(bytes.len())..at.min(bytes.len()), chunk);
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

#[test]
fn mutated_cases_and_policies_never_panic() {
    let seeds: Vec<String> = ["conformance/hand.jsonl", "conformance/fas.jsonl"]
        .iter()
        .flat_map(|f| {
            read_corpus(f)
                .lines()
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect();
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let (mut ok, mut err) = (0, 0);
    for _ in 0..20_000 {
        let base = &seeds[rng.below(seeds.len())];
        let text = mutate(&mut rng, base);
        match parse_case(&text, "fuzz") {
            Ok(case) => {
                ok += 1;
                let _ = fastiam::reference::evaluate_chain(&case.chain);
            }
            Err(e) => {
                err += 1;
                let msg = e.to_string();
                assert!(msg.starts_with("fuzz: at "), "{msg}");
            }
        }
        for kind in [
            PolicyKind::Identity,
            PolicyKind::ResourceBased,
            PolicyKind::Scp,
        ] {
            for mode in [Mode::Strict, Mode::Lenient] {
                let _ = parse_policy(&text, "fuzz", &ParseOptions::new(kind).with_mode(mode));
            }
        }
    }
    // The mutations must exercise both outcomes, or the test proves little.
    assert!(ok > 500 && err > 5_000, "ok {ok}, err {err}");
}

#[test]
fn arbitrary_bytes_never_panic() {
    let mut rng = XorShift(42);
    for _ in 0..20_000 {
        let len = rng.below(64);
        let bytes: Vec<u8> = (0..len)
            .map(|_| TOKENS.concat().as_bytes()[rng.below(100)])
            .collect();
        let text = String::from_utf8_lossy(&bytes);
        let _ = parse_policy(&text, "fuzz", &ParseOptions::new(PolicyKind::Identity));
        let _ = parse_case(&text, "fuzz");
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let policy = format!("{{\"Statement\": {deep}}}");
    assert!(parse_policy(&policy, "deep", &ParseOptions::new(PolicyKind::Identity)).is_err());
    assert!(parse_case(&deep, "deep").is_err());
}
