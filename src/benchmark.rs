//! The standard workload, prepared for timing: one policy set, many policy-free requests.
//!
//! The generated cases ([`crate::workload`]) carry the same 3 identity policies (or none,
//! with `inline_policies = false`) and, on KMS hops, the same key policy inline. For
//! timing, the identity policies are compiled once and the key policy becomes resource
//! slot 0 that every KMS hop names, so each engine evaluates exactly the requests of the
//! cases against exactly their policies, without re-reading them per request.
//!
//! ```
//! let prepared = fastiam::benchmark::standard(200, 42).unwrap();
//! assert_eq!(prepared.requests.len(), 200);
//! assert_eq!(prepared.policies.identity.len(), 3);
//! ```

use crate::policy::{parse_policy, ParseOptions, Policy, PolicyKind};
use crate::request::{parse_case, PolicySet, Request};
use crate::workload;

/// A workload ready to evaluate: the policy set and the requests.
#[derive(Clone, Debug)]
pub struct Prepared {
    pub policies: PolicySet,
    pub requests: Vec<Request>,
    /// Hops in all requests (evaluation stops at a denied hop, so fewer are evaluated).
    pub hops: usize,
}

/// Generates `n` standard cases with `seed` and prepares them.
pub fn standard(n: usize, seed: u64) -> Result<Prepared, String> {
    let mut identity = Vec::new();
    let policies: serde_json::Value =
        serde_json::from_str(&workload::policies_json()).map_err(|e| e.to_string())?;
    for entry in policies["identityPolicies"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let name = entry["name"].as_str().unwrap_or("policy");
        let text = entry["policy"].to_string();
        let policy = parse_policy(&text, name, &ParseOptions::new(PolicyKind::Identity))
            .map_err(|e| e.to_string())?;
        identity.push(policy);
    }
    let mut key_policy: Option<Policy> = None;
    let mut requests = Vec::with_capacity(n);
    let mut hops = 0;
    let mut failure = None;
    workload::generate_each(n, seed, false, |line| {
        if failure.is_some() {
            return;
        }
        match prepare_line(line, &mut key_policy) {
            Ok(request) => {
                hops += request.hops.len();
                requests.push(request);
            }
            Err(e) => failure = Some(e),
        }
    });
    if let Some(e) = failure {
        return Err(e);
    }
    // Parsing interleaves each request's allocations with the JSON tree's; cloning them
    // once lays each request's strings out together, as a freshly built request is.
    let requests = requests.to_vec();
    Ok(Prepared {
        policies: PolicySet {
            identity,
            resource: key_policy.into_iter().collect(),
            ..PolicySet::default()
        },
        requests,
        hops,
    })
}

/// Reads one case; its inline resource policy must be the workload's one key policy,
/// which becomes slot 0.
fn prepare_line(line: &str, key_policy: &mut Option<Policy>) -> Result<Request, String> {
    let case = parse_case(line, "workload").map_err(|e| e.to_string())?;
    let mut request = case.chain.request;
    for hop in &mut request.hops {
        let Some(slot) = hop.resource_policy else {
            continue;
        };
        let policy = &case.chain.policies.resource[slot];
        match key_policy {
            None => {
                let mut shared = policy.clone();
                shared.id = "key-policy".into();
                *key_policy = Some(shared);
            }
            Some(shared)
                if shared.statements == policy.statements && shared.version == policy.version => {}
            Some(_) => {
                return Err(format!(
                    "case {}: a resource policy other than the key policy",
                    case.id
                ))
            }
        }
        hop.resource_policy = Some(0);
    }
    Ok(request)
}
