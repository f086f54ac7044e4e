//! Long chains (issue 17): every hop of a 1,000-hop chain carries its own resource policy,
//! so a hop that walked every resource policy of the chain would make the compiled engine
//! quadratic. Timing is BENCHMARKS.md's business; here the answers of such chains must be
//! the reference evaluator's, hop by hop, whichever way the action is indexed.

use fastiam::runner::{run_cases, Compiled, Engine, Reference};

const KEY_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"Key","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"},{"Sid":"NotFromEvil","Effect":"Deny","Principal":"*","Action":"kms:*","Resource":"*","Condition":{"ForAnyValue:StringEquals":{"aws:CalledVia":["evil.amazonaws.com"]}}}]}"#;

/// A chain of `hops` hops: hop 0 reads an object, each later hop decrypts with a key whose
/// policy the hop carries; `identity_actions` is the identity policy's `Action`, and
/// `last_via` forwards the last hop.
fn chain(hops: usize, identity_actions: &str, last_via: &str) -> String {
    let mut list = vec![r#"{"action":"s3:GetObject","resource":"arn:aws:s3:::b/k"}"#.to_string()];
    for k in 1..hops {
        let via = if k + 1 == hops {
            last_via
        } else if k % 2 == 1 {
            "s3.amazonaws.com"
        } else {
            "athena.amazonaws.com"
        };
        list.push(format!(
            r#"{{"via":"{via}","action":"kms:Decrypt","resource":"arn:aws:kms:us-east-1:111122223333:key/{k}","resource_policy":{KEY_POLICY},"context":{{"kms:ViaService":"s3.us-east-1.amazonaws.com"}}}}"#
        ));
    }
    format!(
        r#"{{"id":"long","options":{{"called_via_services":["athena.amazonaws.com","evil.amazonaws.com"]}},"principal":"arn:aws:iam::111122223333:user/alice","policies":{{"identity":[{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":{identity_actions},"Resource":"*"}}]}}]}},"chain":[{}]}}"#,
        list.join(",")
    )
}

fn decide(line: &str, engine: &dyn Engine) -> serde_json::Value {
    let mut out = Vec::new();
    run_cases(line.as_bytes(), "long.jsonl", engine, |o| {
        out.push(o.to_json())
    })
    .unwrap();
    out.pop().unwrap()
}

#[test]
fn a_thousand_hops_each_with_its_resource_policy_decide_as_the_reference() {
    for (actions, last_via, decision) in [
        // `kms:Decrypt` named exactly: the tabulated candidates.
        (
            r#"["s3:GetObject","kms:Decrypt"]"#,
            "s3.amazonaws.com",
            "Allow",
        ),
        // Only a glob: the candidates built per hop.
        (r#"["s3:GetObject","kms:*"]"#, "s3.amazonaws.com", "Allow"),
        // The key policies deny the last hop: its CalledVia holds evil.amazonaws.com (a
        // CalledVia service by the case's `called_via_services`, R-FAS-6).
        (
            r#"["s3:GetObject","kms:*"]"#,
            "evil.amazonaws.com",
            "ExplicitDeny",
        ),
    ] {
        let line = chain(1000, actions, last_via);
        let compiled = decide(&line, &Compiled::new());
        let reference = decide(&line, &Reference);
        assert_eq!(compiled, reference, "{actions} via {last_via}");
        assert_eq!(compiled["decision"], decision, "{actions} via {last_via}");
        assert_eq!(compiled["hops"].as_array().unwrap().len(), 1000);
        let last = &compiled["hops"][999]["matched"];
        assert!(
            last.as_array()
                .unwrap()
                .iter()
                .any(|m| m["policy"] == "resource[999]"),
            "the last hop's own key policy decides: {last}"
        );
    }
}
