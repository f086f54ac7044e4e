//! Data-driven checks of the typed resource and action tests against the reference
//! evaluator, through compact requests (whose resource colons the typed ARN tests read) and
//! parsed ones (whose colons the walk finds): ARN patterns with `*` segments, literal
//! accounts and literal-headed tails, on resources with empty segments, fewer than five
//! colons, colons in the last segment, a non-`arn` head; resource policies whose action
//! clauses are answered per service at build (`kms:*`), per action (`s3:Get*`, `*:*`,
//! `?`), or negated (`NotAction`).

use crate::eval::Evaluator;
use crate::request::{parse_case, Case, RequestBuilder};

/// Every resource and action of `hops` against the case, by the evaluator (on the parsed
/// request and on a compact one built against it) and by the general evaluator, as the
/// reference decides them.
fn agree(mut case: Case, hops: &[(&str, &str)]) {
    let program = super::tests::program_of(&case);
    let evaluator = Evaluator::new(&program);
    let general = Evaluator::general(&program);
    let mut scratch = evaluator.scratch();
    let mut builder = RequestBuilder::new();
    for (action, resource) in hops {
        case.chain.request.hops[0].action = (*action).into();
        case.chain.request.hops[0].resource = (*resource).into();
        let expected = crate::reference::evaluate_chain(&case.chain);
        for e in [&evaluator, &general] {
            let outcome = e.evaluate(&case.chain.request, &mut scratch);
            assert_eq!(e.decision(&outcome), expected, "{action} {resource}");
        }
        builder.fill_from(&case.chain.request);
        let compact = builder.finish_for(&evaluator).unwrap();
        let outcome = evaluator.evaluate(compact, &mut scratch);
        assert_eq!(
            evaluator.decision(&outcome),
            expected,
            "compact {action} {resource}"
        );
    }
}

/// Action clauses of resource-policy statements: decided per service (`kms:*`, `*`,
/// `*:*`, `k?s:*`, negated), by name (`s3:Get*`, `?`), with the action's case.
pub(super) const CLAUSES: [&str; 8] = [
    r#""Action":"kms:*""#,
    r#""Action":"KMS:Decrypt""#,
    r#""Action":["s3:Get*","kms:Describe?ey"]"#,
    r#""Action":"*:*""#,
    r#""Action":"*""#,
    r#""Action":"k?s:*""#,
    r#""NotAction":"kms:*""#,
    r#""NotAction":["s3:*","kms:Encrypt"]"#,
];

const RESOURCES: [&str; 21] = [
    "arn:aws:kms:us-east-1:111122223333:key/abc",
    "arn:aws:kms:us-east-1:11112222333:key/abc",
    "arn:aws:kms:us-east-1:1111222233334:key/abc",
    "arn:aws:kms:ap-south-123:111122223333:key/abc",
    "arn:aws:kms:ap-south-124:111122223333:key/abc",
    "arn:aws:kms::111122223333:key/",
    "arn:aws:kms:us-east-1:111122223334:key/abc",
    "arn:aws:kms:us-east-1:111122223333:alias/x",
    "arn:aws:kms:us-east-1:111122223333",
    "arn:aws:kms:us-east-1:111122223333:key/a:b:c",
    "arn:aws:kms",
    "arn:aws:kms:::",
    "arn:aws:sqs:eu-west-1:111122223333:q",
    "arn:aws:s3:::b/k",
    "ARN:aws:kms:us-east-1:111122223333:key/abc",
    "arn:aws:iam::1:role/axb",
    "arn:aws:ec2:us-east-1::image/ami-1",
    "arn:aws:dynamodb:us-west-2:111122223333:table/t1",
    "kms:us-east-1:111122223333:key/abc:x",
    "*",
    "",
];

/// Typed ARN ops (a literal head, then segment tests cut at the request's colons) decide
/// every resource as the reference.
#[test]
fn typed_arn_patterns_decide_as_the_reference() {
    let patterns = [
        "arn:aws:kms:*:111122223333:key/*",
        "arn:aws:sqs:*:111122223333:*",
        "arn:aws:kms:us-*:*:key/a*c",
        "arn:aws:dynamodb:us-*:111122223333:table/t?",
        "arn:aws:ec2:*::image/*",
        "arn:aws:iam::*:role/a*b",
        "arn:*:kms:*:*:key/*",
        "arn:aws:kms:*:*:*",
        "arn:aws:kms:::",
        "arn:aws:kms:ap-south-123:*:key/*",
        "arn:aws:*:*:111122223333:*",
        "arn:aws:kms:*:111122223333:key/abc",
    ];
    for pattern in patterns {
        let statement = format!(r#"{{"Effect":"Allow","Action":"*","Resource":"{pattern}"}}"#);
        let case = crate::eval::test_case(&[statement]);
        let hops: Vec<_> = RESOURCES.iter().map(|r| ("kms:Decrypt", *r)).collect();
        agree(case, &hops);
    }
}

/// A hop's own resource policy: its statements' action clauses, decided per service when
/// the evaluator is built or checked on the action, and its resource patterns, decide as
/// the reference for actions of every case.
#[test]
fn own_resource_policy_clauses_decide_as_the_reference() {
    let actions = [
        "kms:Decrypt",
        "KMS:decrypt",
        "kms:DescribeKey",
        "kms:Encrypt",
        "s3:GetObject",
        "s3:PutObject",
        "sqs:SendMessage",
        "iam:PassRole",
        "nocolon",
    ];
    for clause in CLAUSES {
        let text = format!(
            r#"{{"id":"t","principal":"arn:aws:iam::111122223333:user/a",
            "options":{{"mode":"lenient"}},
            "policies":{{"identity":[{{"Version":"2012-10-17","Statement":[
              {{"Effect":"Allow","Action":["kms:Decrypt","s3:GetObject","sqs:*"],"Resource":"*"}}]}}]}},
            "chain":[{{"action":"kms:Decrypt","resource":"*","resource_policy":
              {{"Version":"2012-10-17","Statement":[
              {{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::111122223333:root"}},
                {clause},"Resource":"arn:aws:kms:*:111122223333:key/*"}},
              {{"Effect":"Deny","Principal":"*",{clause},"Resource":"*",
                "Condition":{{"StringEquals":{{"aws:PrincipalTag/x":"y"}}}}}}]}}}}]}}"#
        );
        let case = parse_case(&text, "test").unwrap();
        let mut hops = Vec::new();
        for action in actions {
            for resource in &RESOURCES[..10] {
                hops.push((action, *resource));
            }
        }
        agree(case, &hops);
    }
}

/// A hop's own resource policy merged into its action's program when the evaluator is
/// built (`own_programs`): statements decided yes, by name, or no for the action's service,
/// reading keys the identity statements read too and keys they do not, in every order
/// against the identity statements' ids; each context leaves different keys absent, so the
/// merged programs' missing keys (R-SIM-4) and matched statements (R-SIM-3) are checked
/// with the decision. The hops of exact actions take the merged program (or skip the
/// policy), the others merge while walking; all decide as the reference.
#[test]
fn merged_own_programs_decide_as_the_reference() {
    let policies = [
        // Every statement can apply to kms; s3 by name; a Deny of everything.
        r#"[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},
            "Action":"kms:*","Resource":"*",
            "Condition":{"StringLike":{"kms:ViaService":"s3.*"}}},
           {"Effect":"Deny","Principal":"*","Action":["s3:Get*","kms:Describe?ey"],
            "Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}},
           {"Effect":"Allow","Principal":"*","NotAction":"kms:Encrypt",
            "Resource":"arn:aws:kms:*:111122223333:key/*",
            "Condition":{"StringEquals":{"aws:PrincipalTag/y":"z"}}},
           {"Effect":"Deny","Principal":"*","Action":"*","Resource":"*",
            "Condition":{"IpAddress":{"aws:SourceIp":"192.0.2.0/24"}}}]"#,
        // Only kms statements: a hop of any other service skips the policy.
        r#"[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/a"},
            "Action":["kms:Decrypt","kms:Encrypt"],"Resource":"*",
            "Condition":{"StringEquals":{"aws:PrincipalTag/x":"y"}}},
           {"Effect":"Deny","Principal":"*","Action":"kms:Encrypt","Resource":"*"}]"#,
    ];
    let contexts = [
        r#"{}"#,
        r#"{"aws:PrincipalTag/x":"y","aws:SecureTransport":"false"}"#,
        r#"{"kms:ViaService":"s3.us-east-1.amazonaws.com","aws:PrincipalTag/y":"z",
            "aws:SourceIp":"10.1.2.3","aws:SecureTransport":"true"}"#,
        r#"{"aws:SourceIp":"192.0.2.9","aws:PrincipalTag/x":"n","kms:ViaService":"sqs.x"}"#,
    ];
    let actions = [
        "kms:Decrypt",
        "kms:Encrypt",
        "kms:DescribeKey",
        "s3:GetObject",
        "s3:PutObject",
        "sqs:SendMessage",
        "sqs:DeleteQueue",
        "KMS:decrypt",
    ];
    let (mut merged, mut skipped) = (0, 0);
    for policy in policies {
        for context in contexts {
            let text = format!(
                r#"{{"id":"t","principal":"arn:aws:iam::111122223333:user/a",
                "options":{{"mode":"lenient"}},"context":{context},
                "policies":{{"identity":[{{"Version":"2012-10-17","Statement":[
                  {{"Effect":"Allow","Action":["kms:Decrypt","s3:GetObject","sqs:Send*"],
                    "Resource":"*","Condition":{{"StringEquals":{{"aws:PrincipalTag/x":"y"}}}}}},
                  {{"Effect":"Allow","Action":["kms:*","s3:PutObject","sqs:*"],"Resource":"*"}},
                  {{"Effect":"Deny","Action":"s3:*","Resource":"*",
                    "Condition":{{"StringEquals":{{"aws:SecureTransport":"false"}}}}}}]}}]}},
                "chain":[{{"action":"kms:Decrypt","resource":"*","resource_policy":
                  {{"Version":"2012-10-17","Statement":{policy}}}}}]}}"#
            );
            let case = parse_case(&text, "test").unwrap();
            let program = super::tests::program_of(&case);
            let e = Evaluator::new(&program);
            for action in actions {
                let Some(entry) = e.exact.get(action.to_ascii_lowercase().as_str()) else {
                    continue;
                };
                match e.residual.own(0, entry) {
                    super::Own::Merged(..) => merged += 1,
                    super::Own::Skip => skipped += 1,
                    super::Own::Walk => {}
                }
            }
            let mut hops = Vec::new();
            for action in actions {
                for resource in ["arn:aws:kms:us-east-1:111122223333:key/k", "*"] {
                    hops.push((action, resource));
                }
            }
            agree(case, &hops);
        }
    }
    assert!(merged > 0 && skipped > 0, "{merged} {skipped}");
}
