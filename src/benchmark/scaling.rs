//! Workloads for the scaling curves: cost per hop as the policy set grows, and as chains
//! grow.
//!
//! The standard workload has 20 statements and chains of one to three hops; whether the
//! compiled engine stays fast is a question of how its cost grows. Two families answer it:
//!
//! * [`statements`] — one identity policy set of exactly `n` statements drawn from real AWS
//!   managed policies (the caller reads them, e.g. `corpus/managed/policies.tsv.gz`), in a
//!   fixed shuffled order so that every size is a prefix of the next; one-hop requests
//!   biased towards matching: three in four take an action and a resource from a statement
//!   of the set (wildcards filled in), one in four calls a service no policy names (these
//!   still match statements whose `Action` is `*` or a `NotAction`; a draw that lands on
//!   such a statement makes that kind of call too). Past the corpus's
//!   statements, policies are taken again from the start under new names (`~2`), so a set
//!   of 10,000 statements holds some repeated ones (981 with the bundled corpus). Left out
//!   of the corpus: the 13 unconditional `Deny` statements on every resource whose action
//!   list is `*` or a `NotAction` (`AWSDenyAll`, the permissions-boundary and root-task
//!   policies, which deny everything but a short list): a principal holding all of them
//!   is denied nearly every request, and the curve would time one answer.
//! * [`chains`] — chains of exactly `k` hops over the standard workload's policies, each
//!   hop allowed so that all `k` are evaluated.
//!
//! Both return a [`Prepared`] workload, which [`super::rounds::measure`] checks (the engines
//! and request forms compared on every chain) and then times on the chosen paths in rounds
//! interleaved across the workloads.
//!
//! ```
//! use fastiam::benchmark::scaling;
//! let chains = scaling::chains(3, 50, 7).unwrap();
//! assert_eq!(chains.hops, 150);
//! ```

use super::Prepared;
use crate::policy::{
    parse_policy, ActionPattern, ParseOptions, Policy, PolicyKind, ResourcePattern, Token,
};
use crate::request::{
    default_resource_policy_required, Context, ContextValue, Hop, Options, PolicySet, Principal,
    Request,
};
use crate::test_rng::XorShift;

/// The principal of every scaling request.
const PRINCIPAL: &str = "arn:aws:sts::111122223333:assumed-role/BenchRole/alice";

/// Parses managed-policy documents given as `(name, JSON text)` as identity policies,
/// leaves out the blanket denies ([`is_blanket_deny`]) and the policies left empty, and
/// puts them in a fixed order shuffled by `seed` (so that a prefix mixes services rather
/// than following the alphabet).
pub fn parse_managed(documents: &[(String, String)], seed: u64) -> Result<Vec<Policy>, String> {
    let options = ParseOptions::new(PolicyKind::Identity);
    let mut policies = Vec::with_capacity(documents.len());
    for (name, text) in documents {
        let mut policy = parse_policy(text, name, &options).map_err(|e| format!("{name}: {e}"))?;
        policy.statements.retain(|s| !is_blanket_deny(s));
        // A statement's index is its position in the policy (explanations name it).
        for (i, statement) in policy.statements.iter_mut().enumerate() {
            statement.index = i;
        }
        if !policy.statements.is_empty() {
            policies.push(policy);
        }
    }
    let mut rng = XorShift(seed | 1);
    for i in (1..policies.len()).rev() {
        policies.swap(i, rng.below(i + 1));
    }
    Ok(policies)
}

/// An unconditional `Deny` of every action (or of every action but a `NotAction` list) on
/// every resource.
pub fn is_blanket_deny(statement: &crate::policy::Statement) -> bool {
    statement.effect == crate::policy::Effect::Deny
        && statement.conditions.is_empty()
        && (statement.action.negated || statement.action.patterns.contains(&ActionPattern::Any))
        && !statement.resource.negated
        && statement.resource.patterns.contains(&ResourcePattern::Any)
}

/// Reads the lines `NAME<TAB>JSON` of `corpus/managed/policies.tsv` (decompressed).
pub fn read_managed_tsv(text: &str) -> Result<Vec<(String, String)>, String> {
    text.lines()
        .filter(|l| !l.is_empty())
        .enumerate()
        .map(|(i, line)| {
            line.split_once('\t')
                .map(|(n, j)| (n.to_string(), j.to_string()))
                .ok_or_else(|| format!("line {}: no tab", i + 1))
        })
        .collect()
}

/// The first `n` statements of `policies` (in order, the last policy cut short), taking
/// the policies again under new names once they run out.
pub fn first_statements(policies: &[Policy], n: usize) -> Vec<Policy> {
    let mut out = Vec::new();
    let mut left = n;
    for round in 1.. {
        if left == 0 || policies.iter().all(|p| p.statements.is_empty()) {
            break;
        }
        for policy in policies {
            if left == 0 {
                break;
            }
            let mut p = policy.clone();
            p.statements.truncate(left);
            left -= p.statements.len();
            if round > 1 {
                p.id = format!("{}~{round}", p.id);
            }
            out.push(p);
        }
    }
    out
}

/// A policy set of `n` managed statements ([`first_statements`]) and `requests` one-hop
/// requests biased towards matching (module docs).
pub fn statements(
    policies: &[Policy],
    n: usize,
    requests: usize,
    seed: u64,
) -> Result<Prepared, String> {
    let identity = first_statements(policies, n);
    let pool: Vec<&crate::policy::Statement> =
        identity.iter().flat_map(|p| &p.statements).collect();
    if pool.is_empty() {
        return Err("no statements".into());
    }
    let principal = Principal::from_arn(PRINCIPAL).map_err(|e| e.0)?;
    let mut rng = XorShift(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let mut out = Vec::with_capacity(requests);
    for i in 0..requests {
        let (action, resource) = if rng.below(4) < 3 {
            let st = pool[rng.below(pool.len())];
            drawn_action(&st.action.patterns, st.action.negated, &mut rng)
                .zip(Some(drawn_resource(
                    &st.resource.patterns,
                    st.resource.negated,
                    &mut rng,
                )))
                .unwrap_or_else(|| unknown_service(i))
        } else {
            unknown_service(i)
        };
        let resource = resource.unwrap_or_else(|| service_arn(&action, i));
        out.push(request(
            &principal,
            base_context(i),
            vec![hop(None, &action, &resource)],
        ));
    }
    Ok(Prepared {
        policies: PolicySet {
            identity,
            ..PolicySet::default()
        },
        hops: out.len(),
        requests: out,
    })
}

/// An action a statement's `Action` list names, wildcards filled in; `None` for
/// `NotAction` and `*` (no action in particular).
fn drawn_action(patterns: &[ActionPattern], negated: bool, rng: &mut XorShift) -> Option<String> {
    if negated || patterns.is_empty() {
        return None;
    }
    match &patterns[rng.below(patterns.len())] {
        ActionPattern::Aws { service, name } => {
            Some(format!("{}:{}", fill(service, "s3"), fill(name, "Object")))
        }
        _ => None,
    }
}

/// A resource a statement's `Resource` list matches, wildcards filled in; `None` for `*`,
/// `NotResource` and variables-only text (the caller then makes an ARN of the action's
/// service).
fn drawn_resource(
    patterns: &[ResourcePattern],
    negated: bool,
    rng: &mut XorShift,
) -> Option<String> {
    if negated || patterns.is_empty() {
        return None;
    }
    match &patterns[rng.below(patterns.len())] {
        ResourcePattern::Arn { segments, resource } => {
            let fillers = ["arn", "aws", "s3", "us-east-1", "111122223333"];
            let head: Vec<String> = segments
                .iter()
                .zip(fillers)
                .map(|(s, f)| fill(s, f))
                .collect();
            let tail: String = resource
                .tokens
                .iter()
                .map(|t| match t {
                    Token::Text(s) => fill(s, "bench"),
                    Token::Literal(s) => s.clone(),
                    Token::Variable(_) | Token::Unresolvable => "alice".to_string(),
                })
                .collect();
            Some(format!("{}:{tail}", head.join(":")))
        }
        _ => None,
    }
}

/// Wildcards filled in: `*` → `star`, `?` → `a`.
fn fill(text: &str, star: &str) -> String {
    text.replace('*', star).replace('?', "a")
}

/// A call to a service no policy names.
fn unknown_service(i: usize) -> (String, Option<String>) {
    (format!("benchsvc:Operation{}", i % 97), None)
}

/// An ARN of the action's service, for statements whose resource is `*`.
fn service_arn(action: &str, i: usize) -> String {
    let service = action.split(':').next().unwrap_or("benchsvc");
    format!(
        "arn:aws:{service}:us-east-1:111122223333:bench/item{}",
        i % 1000
    )
}

/// The hop-0 context of the scaling requests: what a console or SDK call from a corporate
/// or a public address carries.
fn base_context(i: usize) -> Context {
    let mut ctx = Context::new();
    let source_ip = if i % 3 == 0 {
        "198.51.100.7"
    } else {
        "10.20.30.40"
    };
    for (key, value) in [
        ("aws:SourceIp", source_ip),
        ("aws:CurrentTime", "2026-05-01T12:00:00Z"),
        ("aws:SecureTransport", "true"),
        ("aws:RequestedRegion", "us-east-1"),
        ("aws:MultiFactorAuthAge", "600"),
        ("aws:PrincipalTag/Team", "analytics"),
        ("aws:PrincipalTag/Project", "apollo"),
        ("aws:ViaAWSService", "false"),
    ] {
        // The keys are distinct, so no collision.
        let _ = ctx.insert(key, ContextValue::Single(value.to_string()));
    }
    ctx
}

fn hop(via: Option<&str>, action: &str, resource: &str) -> Hop {
    Hop {
        via: via.map(str::to_string),
        action: action.to_string(),
        resource: resource.to_string(),
        resource_account: None,
        resource_policy: None,
        resource_policy_required: default_resource_policy_required(
            crate::policy::Dialect::Aws,
            action,
            resource,
        ),
        requires_no_permission: false,
        context: Context::new(),
    }
}

fn request(principal: &Principal, context: Context, hops: Vec<Hop>) -> Request {
    Request {
        dialect: crate::policy::Dialect::Aws,
        principal: principal.clone(),
        context,
        hops,
        options: Options::default(),
        credentials: None,
    }
}

/// The five hops of the chain-length workload, each allowed by the standard policies for a
/// principal tagged `Team=analytics`: Athena starts a query (allowed by the `NotAction`
/// statement), forwards `glue:GetTable` (the same), Glue reads the data from S3 (allowed
/// because Athena is in `aws:CalledVia`), S3 Object Lambda invokes a function (`svc-*`
/// functions for tagged principals) and the function's caller sends to a queue. Built to
/// be allowed at every hop so that all `k` hops are evaluated; a shape for timing, not a
/// claim about which AWS services forward to which.
const CHAIN: [(Option<&str>, &str, &str); 5] = [
    (
        None,
        "athena:StartQueryExecution",
        "arn:aws:athena:us-east-1:111122223333:workgroup/primary",
    ),
    (
        Some("athena.amazonaws.com"),
        "glue:GetTable",
        "arn:aws:glue:us-east-1:111122223333:table/sales/orders{i}",
    ),
    (
        Some("glue.amazonaws.com"),
        "s3:GetObject",
        "arn:aws:s3:::data-raw/alice/obj{i}.parquet",
    ),
    (
        Some("s3.amazonaws.com"),
        "lambda:InvokeFunction",
        "arn:aws:lambda:us-east-1:111122223333:function:svc-{i}",
    ),
    (
        Some("lambda.amazonaws.com"),
        "sqs:SendMessage",
        "arn:aws:sqs:us-east-1:111122223333:queue-{i}",
    ),
];

/// The longest chain [`chains`] builds.
pub const MAX_CHAIN: usize = CHAIN.len();

/// `n` chains of exactly `hops` hops (1 to [`MAX_CHAIN`]) over the standard workload's
/// policies, every hop allowed; resources and source addresses vary from chain to chain.
pub fn chains(hops: usize, n: usize, seed: u64) -> Result<Prepared, String> {
    if !(1..=MAX_CHAIN).contains(&hops) {
        return Err(format!("chains of {hops} hops: 1 to {MAX_CHAIN}"));
    }
    let policies = super::standard(0, 42)?.policies;
    let principal = Principal::from_arn(PRINCIPAL).map_err(|e| e.0)?;
    let mut rng = XorShift(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let requests = (0..n)
        .map(|i| {
            let id = rng.below(10_000).to_string();
            let chain = CHAIN[..hops]
                .iter()
                .map(|(via, action, resource)| hop(*via, action, &resource.replace("{i}", &id)))
                .collect();
            request(&principal, base_context(i), chain)
        })
        .collect();
    Ok(Prepared {
        policies,
        requests,
        hops: hops * n,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::Evaluator;

    fn tiny_corpus() -> Vec<Policy> {
        let docs = vec![
            (
                "A".to_string(),
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:Get*","s3:List*"],"Resource":"arn:aws:s3:::b-*/*"},{"Effect":"Deny","Action":"iam:*","Resource":"*"}]}"#.to_string(),
            ),
            (
                "B".to_string(),
                r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","NotAction":"kms:*","Resource":"arn:aws:sqs:*:111122223333:*"}}"#.to_string(),
            ),
        ];
        parse_managed(&docs, 1).unwrap()
    }

    #[test]
    fn sizes_are_exact_and_cycle_with_new_names() {
        let policies = tiny_corpus();
        for n in [1, 2, 3, 7] {
            let set = first_statements(&policies, n);
            assert_eq!(set.iter().map(|p| p.statements.len()).sum::<usize>(), n);
        }
        let set = first_statements(&policies, 7);
        let ids: std::collections::BTreeSet<&str> = set.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(
            ids.len(),
            set.len(),
            "every policy of the set has its own name"
        );
    }

    #[test]
    fn statement_workloads_match_and_miss_and_the_engines_agree() {
        let w = statements(&tiny_corpus(), 3, 400, 5).unwrap();
        let program = crate::compile::compile(&w.policies).unwrap();
        let checked = super::super::check(&w, &Evaluator::new(&program)).unwrap();
        assert_eq!(checked.hops_evaluated, 400);
        assert!(checked.decisions.iter().all(|&d| d > 0), "{checked:?}");
    }

    #[test]
    fn every_hop_of_every_chain_is_allowed() {
        for hops in 1..=MAX_CHAIN {
            let w = chains(hops, 30, 3).unwrap();
            let program = crate::compile::compile(&w.policies).unwrap();
            let checked = super::super::check(&w, &Evaluator::new(&program)).unwrap();
            assert_eq!(checked.decisions, [30, 0, 0], "{hops} hops");
            assert_eq!(checked.hops_evaluated, 30 * hops);
        }
        assert!(chains(0, 1, 1).is_err());
    }
}
