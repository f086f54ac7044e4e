//! Arbitrary bytes as a program file: `Program::from_bytes` returns an error or a program,
//! never panics; and a program it accepts evaluates a set of requests without panicking
//! (the verifier's promise to the interpreter).
//!
//! The input is loaded twice: as it is (the checksum refuses nearly every changed file
//! there), and re-sealed with its checksum written (`table::seal`), so that the fuzzer's
//! mutations reach the directory checks and the verifier behind the checksum.
#![no_main]

use std::sync::OnceLock;

use fastiam::eval::Evaluator;
use fastiam::request::{parse_case, Request};
use fastiam::table::{seal, Program};
use libfuzzer_sys::fuzz_target;

/// Requests of varied shapes (AWS and Huawei, chains, resource slots).
fn requests() -> &'static [Request] {
    static REQUESTS: OnceLock<Vec<Request>> = OnceLock::new();
    REQUESTS.get_or_init(|| {
        [
            r#"{"id":"a","principal":"arn:aws:sts::111122223333:assumed-role/R/s","context":{"aws:SourceIp":"10.1.2.3","aws:CurrentTime":"2026-01-01T00:00:00Z","aws:CalledVia":["athena.amazonaws.com"]},"chain":[{"action":"s3:GetObject","resource":"arn:aws:s3:::b/k","resource_policy_slot":0},{"via":"athena.amazonaws.com","action":"kms:Decrypt","resource":"arn:aws:kms:us-east-1:111122223333:key/1","resource_policy_slot":1}]}"#,
            r#"{"id":"b","principal":"iam::0a1b:user:alice","dialect":"huawei","chain":[{"action":"obs:object:getObject","resource":"obs:cn-north-4:0a1b:object:b/k"},{"via":"service.obs","action":"kms:cmk:decrypt","resource":"*"}]}"#,
            r#"{"id":"c","principal":"anonymous","chain":[{"action":"s3:GetObject","resource":"arn:aws:s3:::b/k","resource_policy_slot":0}]}"#,
        ]
        .iter()
        .map(|l| parse_case(l, "fuzz").expect("fixed requests parse").chain.request)
        .collect()
    })
}

fn load_and_evaluate(bytes: Vec<u8>) {
    let Ok(program) = Program::from_vec(bytes) else {
        return;
    };
    let evaluator = Evaluator::new(&program);
    let mut scratch = evaluator.scratch();
    for request in requests() {
        let outcome = evaluator.evaluate(request, &mut scratch);
        let _ = evaluator.decision(&outcome);
    }
}

fuzz_target!(|data: &[u8]| {
    load_and_evaluate(data.to_vec());
    let mut sealed = data.to_vec();
    seal(&mut sealed);
    load_and_evaluate(sealed);
});
