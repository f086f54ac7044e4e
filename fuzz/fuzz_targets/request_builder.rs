//! Bytes → `RequestBuilder` calls → evaluation, against the reference evaluator on the
//! equivalent `Request` (built in parallel, as the case reader builds one: principal parsed
//! then overridden, keys inserted with `Context::insert`, the CASES.md hop defaults).
//!
//! Each input picks a policy set (compiled once per process) and a principal, then a
//! sequence of builder calls: request and hop context entries (keys in mixed case, some
//! registered, some colliding after canonicalisation, single and list values, empty
//! lists), hops (with and without `via`, in either order), per-hop overrides, FAS options
//! and credentials. When the builder refuses the request, the equivalent request must be
//! malformed in the same way (a key given twice, a misplaced `via`, no hop, a per-hop
//! setter before any hop). When it accepts it, the compiled engine must return exactly the
//! reference's chain decision (decision, reason, matched statements, missing keys) on the
//! compact request built against the evaluator, built without one (lazy, registry only),
//! and built against another evaluator of the same program (ids to be ignored), all from
//! one builder reused across inputs.
#![no_main]

use std::cell::RefCell;
use std::sync::OnceLock;

use fastiam::eval::Evaluator;
use fastiam::request::{
    default_requires_no_permission, default_resource_account, default_resource_policy_required,
    parse_case, BuildError, Chain, Context, ContextValue, Credentials, Hop, Options, PolicySet,
    Principal, PrincipalKind, Request, RequestBuilder,
};
use fastiam::table::{AlignedBytes, Program};
use libfuzzer_sys::fuzz_target;

const POLICY_SETS: &[&str] = &[
    r#"{"identity":[{"Version":"2012-10-17","Statement":[
        {"Sid":"Ip","Effect":"Allow","Action":["s3:Get*","s3:List*"],"Resource":"*",
         "Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}},
        {"Sid":"Tag","Effect":"Allow","Action":"kms:Decrypt","Resource":"*",
         "Condition":{"StringEquals":{"aws:PrincipalTag/Team":"red"},"Bool":{"aws:ViaAWSService":"true"}}},
        {"Sid":"Via","Effect":"Allow","Action":"sqs:*","Resource":"*",
         "Condition":{"ForAnyValue:StringEquals":{"aws:CalledVia":"athena.amazonaws.com"}}},
        {"Sid":"Home","Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::b/${aws:username}/*"},
        {"Sid":"Keys","Effect":"Deny","Action":"s3:PutObject","Resource":"*",
         "Condition":{"ForAnyValue:StringEquals":{"aws:TagKeys":"secret"}}},
        {"Sid":"Prefix","Effect":"Allow","Action":"s3:ListBucket","Resource":"*",
         "Condition":{"StringLike":{"s3:prefix":"home/*"}}},
        {"Sid":"Time","Effect":"Deny","Action":"*","Resource":"*",
         "Condition":{"DateGreaterThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"}}}]}],
      "scp":[[{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},
        {"Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringNotEqualsIfExists":{"aws:RequestedRegion":["us-east-1","eu-west-1"]}}}]}]]}"#,
    r#"{"identity":[{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Null":{"aws:MultiFactorAuthPresent":"false"}}},
        {"Effect":"Deny","NotAction":"s3:*","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalAccount":"444455556666"}}},
        {"Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::*:role/R"}]}],
      "boundary":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*","kms:*","sts:*"],"Resource":"*"}]}}"#,
];

/// The resource policy of slot 0 of every set (a hop names it with `resource_policy`).
const RESOURCE_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
    "Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"},
    {"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*",
     "Condition":{"StringEquals":{"aws:SourceVpce":"vpce-1"}}}]}"#;

struct Compiled {
    policies: PolicySet,
    program: Program<AlignedBytes>,
}

fn policy_sets() -> &'static [Compiled] {
    static SETS: OnceLock<Vec<Compiled>> = OnceLock::new();
    SETS.get_or_init(|| {
        POLICY_SETS
            .iter()
            .map(|p| {
                let line = format!(
                    r#"{{"id":"f","principal":"anonymous","policies":{p},
                    "chain":[{{"action":"s3:GetObject","resource":"*",
                    "resource_policy":{RESOURCE_POLICY}}}]}}"#
                );
                let policies = parse_case(&line, "fuzz").unwrap().chain.policies;
                let program = fastiam::compile::compile(&policies).unwrap();
                Compiled { policies, program }
            })
            .collect()
    })
}

const PRINCIPALS: &[&str] = &[
    "arn:aws:iam::111122223333:user/alice",
    "arn:aws:sts::111122223333:assumed-role/R/s1",
    "arn:aws:sts::444455556666:federated-user/bob",
    "arn:aws:iam::111122223333:root",
    "arn:aws:iam::111122223333:role/aws-service-role/x",
    "s3.amazonaws.com",
    "anonymous",
    "arn:nonsense",
];
const KEYS: &[&str] = &[
    "aws:SourceIp",
    "AWS:sourceip",
    "aws:PrincipalTag/Team",
    "aws:principaltag/team",
    "aws:PrincipalTag/TEAM",
    "aws:CalledVia",
    "aws:TagKeys",
    "aws:username",
    "s3:prefix",
    "aws:CurrentTime",
    "aws:RequestedRegion",
    "aws:ViaAWSService",
    "aws:SourceVpce",
    "aws:MultiFactorAuthPresent",
    "aws:PrincipalAccount",
    "kms:ViaService",
];
const VALUES: &[&str] = &[
    "10.1.2.3",
    "192.0.2.1",
    "red",
    "Red",
    "athena.amazonaws.com",
    "secret",
    "alice",
    "home/x",
    "2026-01-01T00:00:00Z",
    "2031-01-01T00:00:00Z",
    "us-east-1",
    "ap-south-1",
    "true",
    "false",
    "vpce-1",
    "444455556666",
    "",
];
const ACTIONS: &[&str] = &[
    "s3:GetObject",
    "S3:listbucket",
    "s3:PutObject",
    "kms:Decrypt",
    "sqs:SendMessage",
    "sts:AssumeRole",
    "sts:GetCallerIdentity",
    "ec2:RunInstances",
    "s3:GétObject",
];
const RESOURCES: &[&str] = &[
    "*",
    "arn:aws:s3:::b/alice/k",
    "arn:aws:kms:us-east-1:111122223333:key/k",
    "arn:aws:kms:us-east-1:444455556666:key/k",
    "arn:aws:iam::444455556666:role/R",
    "arn:aws:sqs:us-east-1:111122223333:q",
];
const VIAS: &[&str] = &[
    "s3.amazonaws.com",
    "athena.amazonaws.com",
    "kms.amazonaws.com",
    "cloudformation.amazonaws.com",
];

/// Reads choices from the input; 0 once it is used up.
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn byte(&mut self) -> u8 {
        let (first, rest) = self.0.split_first().unwrap_or((&0, &[]));
        self.0 = rest;
        *first
    }
    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.byte() as usize % items.len()]
    }
}

/// Whether the equivalent request is malformed (the builder must then refuse it).
#[derive(Default)]
struct Malformed {
    collision: bool,
    before_first_hop: bool,
}

fn hop(via: Option<&str>, action: &str, resource: &str) -> Hop {
    Hop {
        via: via.map(str::to_string),
        action: action.to_string(),
        resource: resource.to_string(),
        resource_account: default_resource_account(resource),
        resource_policy: None,
        resource_policy_required: default_resource_policy_required(
            fastiam::policy::Dialect::Aws,
            action,
            resource,
        ),
        requires_no_permission: default_requires_no_permission(
            fastiam::policy::Dialect::Aws,
            action,
        ),
        context: Context::new(),
    }
}

fn insert(ctx: &mut Context, key: &str, value: ContextValue, bad: &mut Malformed) {
    if matches!(&value, ContextValue::Multi(vs) if vs.is_empty()) {
        return; // R-CTX-4: no entry.
    }
    if ctx.insert(key, value).is_err() {
        bad.collision = true;
    }
}

thread_local! {
    static BUILDER: RefCell<RequestBuilder> = RefCell::new(RequestBuilder::new());
}

fuzz_target!(|data: &[u8]| {
    let mut input = Bytes(data);
    let sets = policy_sets();
    let set = &sets[input.byte() as usize % sets.len()];
    let arn = input.pick(PRINCIPALS);
    BUILDER.with(|b| {
        let mut b = b.borrow_mut();
        b.clear();
        let Ok(mut principal) = Principal::from_arn(arn) else {
            assert!(matches!(b.principal(arn), Err(BuildError::Principal(_))));
            return;
        };
        b.principal(arn).expect("a principal the parser accepts");
        let mut request = Request {
            dialect: fastiam::policy::Dialect::Aws,
            principal: Principal::from_arn("anonymous").unwrap(),
            context: Context::new(),
            hops: Vec::new(),
            options: Options::default(),
            credentials: None,
        };
        let mut bad = Malformed::default();
        for _ in 0..(input.byte() % 24) {
            let op = input.byte() % 14;
            match op {
                0 | 1 => {
                    let (k, v) = (input.pick(KEYS), input.pick(VALUES));
                    b.context(k, v);
                    insert(&mut request.context, k, ContextValue::Single(v.into()), &mut bad);
                }
                2 => {
                    let k = input.pick(KEYS);
                    let vs: Vec<&str> = (0..input.byte() % 3).map(|_| input.pick(VALUES)).collect();
                    b.context_list(k, &vs);
                    let vs = vs.iter().map(|v| v.to_string()).collect();
                    insert(&mut request.context, k, ContextValue::Multi(vs), &mut bad);
                }
                3 | 4 => {
                    let (a, r) = (input.pick(ACTIONS), input.pick(RESOURCES));
                    // Mostly well-placed `via`s; sometimes not.
                    let misplaced = input.byte() % 16 == 0;
                    let forwarded = request.hops.is_empty() == misplaced;
                    if forwarded {
                        let via = input.pick(VIAS);
                        b.forwarded_hop(via, a, r);
                        request.hops.push(hop(Some(via), a, r));
                    } else {
                        b.hop(a, r);
                        request.hops.push(hop(None, a, r));
                    }
                }
                5 | 6 => {
                    let (k, v) = (input.pick(KEYS), input.pick(VALUES));
                    b.hop_context(k, v);
                    match request.hops.last_mut() {
                        Some(h) => insert(&mut h.context, k, ContextValue::Single(v.into()), &mut bad),
                        None => bad.before_first_hop = true,
                    }
                }
                7 => {
                    let k = input.pick(KEYS);
                    let vs: Vec<&str> = (0..input.byte() % 3).map(|_| input.pick(VALUES)).collect();
                    b.hop_context_list(k, &vs);
                    let vs = vs.iter().map(|v| v.to_string()).collect();
                    match request.hops.last_mut() {
                        Some(h) => insert(&mut h.context, k, ContextValue::Multi(vs), &mut bad),
                        None => bad.before_first_hop = true,
                    }
                }
                8 => {
                    let slot = (input.byte() % 3 == 0).then_some(0u32);
                    let account = match input.byte() % 3 {
                        0 => None,
                        1 => Some("111122223333"),
                        _ => Some("444455556666"),
                    };
                    b.resource_policy(slot).resource_account(account);
                    match request.hops.last_mut() {
                        Some(h) => {
                            h.resource_policy = slot.map(|s| s as usize);
                            h.resource_account = account.map(str::to_string);
                        }
                        None => bad.before_first_hop = true,
                    }
                }
                9 => {
                    let (required, free) = (input.byte() % 2 == 0, input.byte() % 2 == 0);
                    b.resource_policy_required(required).requires_no_permission(free);
                    match request.hops.last_mut() {
                        Some(h) => {
                            h.resource_policy_required = required;
                            h.requires_no_permission = free;
                        }
                        None => bad.before_first_hop = true,
                    }
                }
                10 => {
                    let yes = input.byte() % 2 == 0;
                    b.preserve_source_ip(yes);
                    request.options.fas.preserve_source_ip = yes;
                }
                11 => {
                    let services: Vec<&str> = (0..input.byte() % 3).map(|_| input.pick(VIAS)).collect();
                    b.called_via_services(&services);
                    request.options.fas.called_via_services =
                        services.iter().map(|s| s.to_string()).collect();
                }
                12 => {
                    let at = |n: u8| fastiam::primitives::parse_date(["2025-01-01T00:00:00Z", "2027-01-01T00:00:00Z", "2032-01-01T00:00:00Z"][n as usize % 3]);
                    let creds = Credentials {
                        issued: at(input.byte()).filter(|_| input.byte() % 2 == 0),
                        expires: at(input.byte()),
                    };
                    b.credentials(creds);
                    request.credentials = Some(creds);
                }
                _ => {
                    match input.byte() % 5 {
                        0 => {
                            b.principal_kind(PrincipalKind::FederatedUser);
                            principal.kind = PrincipalKind::FederatedUser;
                        }
                        1 => {
                            b.principal_account("444455556666");
                            principal.account = Some("444455556666".into());
                        }
                        2 => {
                            b.principal_parent_user_arn("arn:aws:iam::111122223333:user/alice");
                            principal.parent_user_arn = Some("arn:aws:iam::111122223333:user/alice".into());
                        }
                        3 => {
                            b.service_linked(true);
                            principal.service_linked = true;
                        }
                        _ => {
                            b.management_account(true);
                            principal.management_account = true;
                        }
                    }
                }
            }
        }
        request.principal = principal;
        let malformed = bad.collision
            || bad.before_first_hop
            || request.hops.is_empty()
            || request.hops[0].via.is_some()
            || request.hops[1..].iter().any(|h| h.via.is_none());
        let program = &set.program;
        let evaluator = Evaluator::new(program);
        let other = Evaluator::new(program);
        let built = b.finish_for(&evaluator);
        assert_eq!(built.is_err(), malformed, "{:?}", built.err());
        if malformed {
            return;
        }
        let chain = Chain {
            request,
            policies: set.policies.clone(),
        };
        let oracle = fastiam::reference::evaluate_chain(&chain);
        let mut scratch = evaluator.scratch();
        for round in 0..3 {
            let compact = match round {
                0 => b.finish_for(&evaluator),
                1 => b.finish(),
                _ => b.finish_for(&other),
            }
            .unwrap();
            let got = evaluator.decision(&evaluator.evaluate(compact, &mut scratch));
            assert_eq!(got, oracle, "round {round}: {:?}", chain.request);
        }
    });
});
