//! A deterministic random generator of cases (CASES.md JSON lines) for the differential
//! tests, biased towards matching.
//!
//! Each case first draws a small vocabulary — 2–4 services with a few actions and concrete
//! resources each, a few accounts, user / role / session names, tag values, networks with
//! addresses inside and outside them, a request time and some numbers — and then builds
//! both the request chain and the policies out of that same vocabulary:
//!
//! - statements are aimed at a hop of the chain: its action and resource, rewritten into
//!   wildcard (`*`, `?`), case and policy-variable variants, mixed with decoys from the
//!   vocabulary, sometimes negated (`NotAction`, `NotResource`);
//! - principals in resource, RCP and VPC-endpoint policies name the requester through one
//!   of its identities (account id, root ARN, role ARN, session ARN, user ARN, `*`, service)
//!   or a near miss, sometimes through `NotPrincipal`;
//! - condition values are taken from the values the request context carries at some hop
//!   (or from near misses), for every operator family, with `IfExists`, set qualifiers,
//!   `Null`, variables with defaults and type mismatches;
//! - the context carries network, time, MFA, tag, organisation and service keys, hop
//!   contexts add resource and service keys, and the FAS derivation adds the rest.
//!
//! Both dialects are covered (AWS `2012-10-17` / `2008-10-17` / no `Version`; Huawei `5.0`
//! and `1.1` with `g:` keys, three-part actions and URNs), every policy kind (identity,
//! boundary, session incl. an empty session list, SCP and RCP levels, VPC endpoint,
//! resource policies per hop), every principal kind, chains of 1–4 hops with `via`
//! services in and out of the CalledVia registry, the case options (`called_via_services`,
//! `preserve_source_ip`, `mode`, `huawei_policy_variables`), credential windows, and — in
//! lenient cases — invalid values (short ARNs, bad CIDRs, bad numbers and dates, partial
//! wildcard principals, empty lists, malformed variables, unknown members).
//!
//! Everything is a pure function of the seed: the generator has its own SplitMix64 RNG and
//! reads nothing else. A strict case is meant to be valid; a lenient case is meant to parse
//! in lenient mode.

use serde_json::{json, Map, Value};

/// One case as a JSON line (no trailing newline).
pub fn generate_case(seed: u64) -> String {
    Generator::new(seed).case().to_string()
}

// ---------------------------------------------------------------------------------------
// Random numbers

/// SplitMix64: small, fast, and good enough to drive a test generator.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        assert!(n > 0, "below(0)");
        (self.next_u64() % n as u64) as usize
    }

    /// True with probability `percent` / 100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }

    /// Uniform in `lo..=hi`.
    pub fn between(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// An index drawn with the given relative weights.
    pub fn weighted(&mut self, weights: &[u64]) -> usize {
        let total: u64 = weights.iter().sum();
        let mut r = self.next_u64() % total;
        for (i, w) in weights.iter().enumerate() {
            if r < *w {
                return i;
            }
            r -= w;
        }
        weights.len() - 1
    }
}

// ---------------------------------------------------------------------------------------
// Vocabulary tables

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    S3,
    Kms,
    Dynamo,
    Athena,
    Glue,
    Sqs,
    IamUser,
    StsRole,
    Ec2,
    Cfn,
    Logs,
    Lambda,
    HwObs,
    HwKms,
    HwEcs,
    HwDli,
    HwIam,
    HwSts,
}

struct Svc {
    prefix: &'static str,
    /// The service principal that forwards requests made through this service.
    principal: &'static str,
    actions: &'static [&'static str],
    shape: Shape,
}

const AWS_SERVICES: &[Svc] = &[
    Svc {
        prefix: "s3",
        principal: "s3.amazonaws.com",
        actions: &[
            "GetObject",
            "PutObject",
            "ListBucket",
            "DeleteObject",
            "GetObjectTagging",
        ],
        shape: Shape::S3,
    },
    Svc {
        prefix: "kms",
        principal: "kms.amazonaws.com",
        actions: &["Decrypt", "Encrypt", "GenerateDataKey", "DescribeKey"],
        shape: Shape::Kms,
    },
    Svc {
        prefix: "dynamodb",
        principal: "dynamodb.amazonaws.com",
        actions: &["GetItem", "PutItem", "Query", "DescribeTable"],
        shape: Shape::Dynamo,
    },
    Svc {
        prefix: "athena",
        principal: "athena.amazonaws.com",
        actions: &["StartQueryExecution", "GetQueryResults", "GetWorkGroup"],
        shape: Shape::Athena,
    },
    Svc {
        prefix: "glue",
        principal: "glue.amazonaws.com",
        actions: &["GetTable", "GetDatabase", "GetPartitions"],
        shape: Shape::Glue,
    },
    Svc {
        prefix: "sqs",
        principal: "sqs.amazonaws.com",
        actions: &["SendMessage", "ReceiveMessage", "DeleteMessage"],
        shape: Shape::Sqs,
    },
    Svc {
        prefix: "iam",
        principal: "iam.amazonaws.com",
        actions: &["GetUser", "ListAccessKeys", "CreateAccessKey", "PassRole"],
        shape: Shape::IamUser,
    },
    Svc {
        prefix: "sts",
        principal: "sts.amazonaws.com",
        actions: &["AssumeRole", "AssumeRoleWithWebIdentity", "TagSession"],
        shape: Shape::StsRole,
    },
    Svc {
        prefix: "ec2",
        principal: "ec2.amazonaws.com",
        actions: &["DescribeInstances", "RunInstances", "StartInstances"],
        shape: Shape::Ec2,
    },
    Svc {
        prefix: "cloudformation",
        principal: "cloudformation.amazonaws.com",
        actions: &["CreateStack", "DescribeStacks", "UpdateStack"],
        shape: Shape::Cfn,
    },
    Svc {
        prefix: "logs",
        principal: "logs.amazonaws.com",
        actions: &["PutLogEvents", "CreateLogStream"],
        shape: Shape::Logs,
    },
    Svc {
        prefix: "lambda",
        principal: "lambda.amazonaws.com",
        actions: &["InvokeFunction", "GetFunction"],
        shape: Shape::Lambda,
    },
];

const HW_SERVICES: &[Svc] = &[
    Svc {
        prefix: "obs",
        principal: "service.obs",
        actions: &[
            "object:getObject",
            "object:putObject",
            "bucket:listBucket",
            "bucket:getBucketPolicy",
            "object:deleteObject",
        ],
        shape: Shape::HwObs,
    },
    Svc {
        prefix: "kms",
        principal: "service.kms",
        actions: &[
            "cmk:decrypt",
            "cmk:encrypt",
            "cmk:generateDataKey",
            "cmk:get",
        ],
        shape: Shape::HwKms,
    },
    Svc {
        prefix: "ecs",
        principal: "service.ecs",
        actions: &["servers:get", "servers:list", "servers:start"],
        shape: Shape::HwEcs,
    },
    Svc {
        prefix: "dli",
        principal: "service.dli",
        actions: &["queue:submitJob", ":listTags", "queue:get"],
        shape: Shape::HwDli,
    },
    Svc {
        prefix: "iam",
        principal: "service.iam",
        actions: &["users:getUser", "agencies:list", "users:listAccessKeys"],
        shape: Shape::HwIam,
    },
    Svc {
        prefix: "sts",
        principal: "service.sts",
        actions: &["agencies:assume", ":tagSession"],
        shape: Shape::HwSts,
    },
];

const AWS_ACCOUNTS: &[&str] = &[
    "111122223333",
    "444455556666",
    "777788889999",
    "123456789012",
];
const HW_ACCOUNTS: &[&str] = &[
    "0a1b2c3d4e5f67890a1b2c3d4e5f6789",
    "f0e1d2c3b4a5968778695a4b3c2d1e0f",
    "1234567890abcdef1234567890abcdef",
];
const AWS_REGIONS: &[&str] = &["us-east-1", "eu-west-1", "ap-southeast-2"];
const HW_REGIONS: &[&str] = &["cn-north-4", "ap-southeast-1", "cn-east-3"];
const USERS: &[&str] = &["alice", "bob", "carol", "dave_admin"];
const ROLES: &[&str] = &["data-reader", "etl-runner", "admin", "deployer"];
const SESSIONS: &[&str] = &["s1", "alice-session", "build-42"];
const TEAMS: &[&str] = &["red", "blue", "analytics", "shared"];
const ENVS: &[&str] = &["prod", "dev", "PreProd"];
const TAG_KEYS: &[&str] = &["team", "env", "Project", "CostCenter"];
const ORGS: &[&str] = &["o-a1b2c3d4e5", "o-zz99yy88xx"];
const VPCS: &[&str] = &["vpc-111bbb22", "vpc-0abc"];
const VPCES: &[&str] = &["vpce-1a2b3c4d", "vpce-9z8y"];
const AWS_VIAS: &[&str] = &[
    "athena.amazonaws.com",
    "cloudformation.amazonaws.com",
    "dynamodb.amazonaws.com",
    "kms.amazonaws.com",
    "servicecatalog.amazonaws.com",
    "s3.amazonaws.com",
    "glue.amazonaws.com",
    "lambda.amazonaws.com",
    "ec2.amazonaws.com",
];
const AWS_SERVICE_PRINCIPALS: &[&str] = &[
    "cloudtrail.amazonaws.com",
    "s3.amazonaws.com",
    "lambda.amazonaws.com",
    "config.amazonaws.com",
];
const HW_VIAS: &[&str] = &[
    "service.obs",
    "service.kms",
    "service.ecs",
    "service.dli",
    "service.functiongraph",
];
const BINARIES: &[&str] = &["aGVsbG8=", "d29ybGQ=", "AAECAw==", ""];

struct Net {
    cidr: &'static str,
    inside: &'static [&'static str],
    outside: &'static [&'static str],
}

const NETS: &[Net] = &[
    Net {
        cidr: "203.0.113.0/24",
        inside: &["203.0.113.9", "203.0.113.200"],
        outside: &["203.0.114.9", "198.51.100.7"],
    },
    Net {
        cidr: "10.0.0.0/8",
        inside: &["10.1.2.3", "10.255.0.1"],
        outside: &["11.0.0.1", "192.168.1.1"],
    },
    Net {
        cidr: "2001:db8::/32",
        inside: &["2001:db8::1", "2001:DB8:1234::abcd"],
        outside: &["2001:db9::1", "::ffff:10.1.2.3"],
    },
    Net {
        cidr: "192.0.2.7",
        inside: &["192.0.2.7"],
        outside: &["192.0.2.8"],
    },
    Net {
        cidr: "198.51.100.77/25",
        inside: &["198.51.100.5"],
        outside: &["198.51.100.200"],
    },
];

/// 2026-11-22T10:30:00Z.
const BASE_TIME: i64 = 1_795_343_400;

// ---------------------------------------------------------------------------------------
// The generator's model of a case

/// The value type of a context key, which decides the condition operators aimed at it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ty {
    Str,
    Num,
    Date,
    Bool,
    Ip,
    Arn,
    Bin,
    Multi,
}

/// A key conditions may test, with the values it can have at some hop (dates as epoch
/// seconds). Keys are remembered whether or not the context ends up carrying them, so
/// conditions also test absent keys.
#[derive(Clone, Debug)]
struct KeyInfo {
    name: String,
    ty: Ty,
    values: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    User,
    Session,
    Role,
    Federated,
    Root,
    Service,
    Anonymous,
}

/// The requester.
#[derive(Clone, Debug)]
struct Who {
    kind: Kind,
    arn: String,
    account: Option<String>,
    role_arn: Option<String>,
    user: Option<String>,
    parent_user: Option<String>,
    json: Value,
}

#[derive(Clone, Debug)]
struct HopPlan {
    svc: usize,
    action: String,
    resource: String,
    via: Option<String>,
}

/// Where a statement goes: decides Principal, Resource and Action rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Identity,
    Boundary,
    Session,
    Scp,
    Rcp,
    Vpce,
    Resource,
}

impl Role {
    fn has_principal(self) -> bool {
        matches!(self, Role::Rcp | Role::Vpce | Role::Resource)
    }

    fn name(self) -> &'static str {
        match self {
            Role::Identity => "identity",
            Role::Boundary => "boundary",
            Role::Session => "session",
            Role::Scp => "scp",
            Role::Rcp => "rcp",
            Role::Vpce => "vpce",
            Role::Resource => "resource",
        }
    }
}

/// Builds one case from a seed.
pub struct Generator {
    rng: Rng,
    seed: u64,
    hw: bool,
    lenient: bool,
    hw_vars: bool,
    services: Vec<&'static Svc>,
    resources: Vec<Vec<String>>,
    accounts: Vec<String>,
    regions: Vec<&'static str>,
    teams: Vec<&'static str>,
    who: Who,
    hops: Vec<HopPlan>,
    pool: Vec<KeyInfo>,
    called_via: Option<Vec<String>>,
    now: i64,
    counter: usize,
    /// Whether the document being built expands policy variables.
    vars: bool,
}

impl Generator {
    pub fn new(seed: u64) -> Self {
        let mut rng = Rng::new(seed);
        let hw = rng.chance(25);
        let lenient = rng.chance(15);
        let hw_vars = hw && rng.chance(35);
        Generator {
            rng,
            seed,
            hw,
            lenient,
            hw_vars,
            services: Vec::new(),
            resources: Vec::new(),
            accounts: Vec::new(),
            regions: Vec::new(),
            teams: Vec::new(),
            who: Who {
                kind: Kind::Anonymous,
                arn: String::new(),
                account: None,
                role_arn: None,
                user: None,
                parent_user: None,
                json: Value::Null,
            },
            hops: Vec::new(),
            pool: Vec::new(),
            called_via: None,
            now: BASE_TIME,
            counter: 0,
            vars: false,
        }
    }

    /// The whole case as a JSON value.
    pub fn case(&mut self) -> Value {
        self.vocabulary();
        self.who = self.make_principal();
        self.make_hops();
        let options = self.options();
        let mut context = self.hop0_context();
        self.derived_keys();
        let hop_contexts: Vec<Map<String, Value>> =
            (0..self.hops.len()).map(|i| self.hop_context(i)).collect();
        // The pool is complete: policies may now aim conditions at any key.
        let policies = self.policies();
        let chain: Vec<Value> = (0..self.hops.len())
            .map(|i| self.hop_json(i, &hop_contexts[i]))
            .collect();

        let mut case = Map::new();
        case.insert("id".into(), json!(format!("gen-{}", self.seed)));
        if self.rng.chance(85) {
            case.insert(
                "dialect".into(),
                json!(if self.hw { "huawei" } else { "aws" }),
            );
        } else if self.hw && !policies_have_version(&policies) {
            // Without a 5.0 / 1.1 document the dialect would be guessed as AWS.
            case.insert("dialect".into(), json!("huawei"));
        }
        case.insert("principal".into(), self.who.json.clone());
        if !policies.is_empty() || self.rng.chance(50) {
            case.insert("policies".into(), Value::Object(policies));
        }
        if self.rng.chance(4) {
            // Drop the time so that a credentials window cannot be checked.
            context.remove("aws:CurrentTime");
            context.remove("g:CurrentTime");
        }
        if !context.is_empty() || self.rng.chance(30) {
            case.insert("context".into(), Value::Object(context));
        }
        case.insert("chain".into(), Value::Array(chain));
        if !options.is_empty() {
            case.insert("options".into(), Value::Object(options));
        }
        if self.rng.chance(10) {
            case.insert("credentials".into(), self.credentials());
        }
        Value::Object(case)
    }

    // -----------------------------------------------------------------------------------
    // Vocabulary

    fn vocabulary(&mut self) {
        let table = if self.hw { HW_SERVICES } else { AWS_SERVICES };
        let n = self.rng.between(2, 4);
        let mut picked: Vec<usize> = Vec::new();
        while picked.len() < n {
            let i = self.rng.below(table.len());
            if !picked.contains(&i) {
                picked.push(i);
            }
        }
        self.services = picked.iter().map(|&i| &table[i]).collect();
        let accounts = if self.hw { HW_ACCOUNTS } else { AWS_ACCOUNTS };
        let home = self.rng.below(accounts.len());
        self.accounts = vec![accounts[home].to_string()];
        for (i, a) in accounts.iter().enumerate() {
            if i != home && (self.accounts.len() < 2 || self.rng.chance(40)) {
                self.accounts.push(a.to_string());
            }
        }
        let regions = if self.hw { HW_REGIONS } else { AWS_REGIONS };
        self.regions = vec![*self.rng.pick(regions)];
        if self.rng.chance(40) {
            self.regions.push(*self.rng.pick(regions));
        }
        self.teams = vec![*self.rng.pick(TEAMS), *self.rng.pick(TEAMS)];
        self.now = BASE_TIME + self.rng.below(60 * 86_400) as i64 - 30 * 86_400;
    }

    /// The principal's own account, or (less often) another one of the vocabulary.
    fn some_account(&mut self) -> String {
        if self.rng.chance(80) || self.accounts.len() == 1 {
            self.accounts[0].clone()
        } else {
            self.accounts[1 + self.rng.below(self.accounts.len() - 1)].clone()
        }
    }

    fn other_account(&mut self) -> String {
        if self.accounts.len() > 1 {
            self.accounts[1 + self.rng.below(self.accounts.len() - 1)].clone()
        } else {
            self.accounts[0].clone()
        }
    }

    fn region(&mut self) -> &'static str {
        self.regions[self.rng.below(self.regions.len())]
    }

    fn team(&mut self) -> &'static str {
        self.teams[self.rng.below(self.teams.len())]
    }

    /// A user name: the principal's (often) or another.
    fn username(&mut self) -> String {
        match &self.who.user {
            Some(u) if self.rng.chance(70) => u.clone(),
            _ => self.rng.pick(USERS).to_string(),
        }
    }

    fn bucket(&mut self) -> String {
        match self.rng.below(4) {
            0 => "acme-data".into(),
            1 => format!("team-{}", self.team()),
            2 => "team-shared".into(),
            _ => "logs-archive".into(),
        }
    }

    fn object_key(&mut self) -> String {
        match self.rng.below(7) {
            0 => "reports/q1.csv".into(),
            1 | 2 => format!("home/{}/notes.txt", self.username()),
            3 => "lit/*/x".into(),
            4 => "a/b/c.json".into(),
            5 => "reports/".into(),
            _ => format!("home/{}/", self.username()),
        }
    }

    fn make_resource(&mut self, shape: Shape) -> String {
        let acct = self.some_account();
        let region = self.region();
        let uuid =
            ["1234abcd-12ab-34cd-56ef-1234567890ab", "0d0a7b1c-2e3f-4a5b"][self.rng.below(2)];
        match shape {
            Shape::S3 => {
                let bucket = self.bucket();
                if self.rng.chance(25) {
                    format!("arn:aws:s3:::{bucket}")
                } else {
                    format!("arn:aws:s3:::{bucket}/{}", self.object_key())
                }
            }
            Shape::Kms => {
                if self.rng.chance(85) {
                    format!("arn:aws:kms:{region}:{acct}:key/{uuid}")
                } else {
                    format!("arn:aws:kms:{region}:{acct}:alias/app-key")
                }
            }
            Shape::Dynamo => {
                let table = ["Orders", "Users", "team-red"][self.rng.below(3)];
                let index = if self.rng.chance(20) {
                    "/index/byDate"
                } else {
                    ""
                };
                format!("arn:aws:dynamodb:{region}:{acct}:table/{table}{index}")
            }
            Shape::Athena => format!(
                "arn:aws:athena:{region}:{acct}:workgroup/{}",
                ["primary", "analytics"][self.rng.below(2)]
            ),
            Shape::Glue => format!("arn:aws:glue:{region}:{acct}:table/sales/q1"),
            Shape::Sqs => format!(
                "arn:aws:sqs:{region}:{acct}:{}",
                ["jobs", "jobs-dlq"][self.rng.below(2)]
            ),
            Shape::IamUser => {
                let path = if self.rng.chance(25) {
                    "division_abc/"
                } else {
                    ""
                };
                format!("arn:aws:iam::{acct}:user/{path}{}", self.username())
            }
            Shape::StsRole => format!("arn:aws:iam::{acct}:role/{}", self.rng.pick(ROLES)),
            Shape::Ec2 => {
                if self.rng.chance(35) {
                    "*".into()
                } else {
                    format!("arn:aws:ec2:{region}:{acct}:instance/i-0abc1234")
                }
            }
            Shape::Cfn => format!("arn:aws:cloudformation:{region}:{acct}:stack/app/{uuid}"),
            Shape::Logs => format!("arn:aws:logs:{region}:{acct}:log-group:app:log-stream:s1"),
            Shape::Lambda => format!("arn:aws:lambda:{region}:{acct}:function:worker"),
            Shape::HwObs => {
                let acct = if self.rng.chance(30) {
                    String::new()
                } else {
                    acct
                };
                let bucket = self.bucket();
                if self.rng.chance(25) {
                    format!("obs:{region}:{acct}:bucket:{bucket}")
                } else {
                    format!("obs:{region}:{acct}:object:{bucket}/{}", self.object_key())
                }
            }
            Shape::HwKms => format!("kms:{region}:{acct}:KeyId:{uuid}"),
            Shape::HwEcs => format!("ecs:{region}:{acct}:instance:i-77aa"),
            Shape::HwDli => format!("dli:{region}:{acct}:queue:default"),
            Shape::HwIam => format!("iam::{acct}:user:{}", self.username()),
            Shape::HwSts => format!("iam::{acct}:agency:{}", self.rng.pick(ROLES)),
        }
    }

    // -----------------------------------------------------------------------------------
    // The principal

    fn make_principal(&mut self) -> Who {
        let acct = self.accounts[0].clone();
        let mut who = Who {
            kind: Kind::User,
            arn: String::new(),
            account: Some(acct.clone()),
            role_arn: None,
            user: None,
            parent_user: None,
            json: Value::Null,
        };
        let mut object = Map::new();
        let mut force_object = false;
        if self.hw {
            match self.rng.weighted(&[45, 30, 7, 10, 8]) {
                0 => {
                    let name = *self.rng.pick(USERS);
                    who.arn = format!("iam::{acct}:user:{name}");
                    who.user = Some(name.into());
                }
                1 => {
                    let agency = *self.rng.pick(ROLES);
                    let session = *self.rng.pick(SESSIONS);
                    who.kind = Kind::Session;
                    who.arn = format!("sts::{acct}:assumed-agency:{agency}/{session}");
                    who.role_arn = Some(format!("iam::{acct}:agency:{agency}"));
                }
                2 => {
                    who.kind = Kind::Root;
                    who.arn = format!("iam::{acct}:root");
                }
                3 => {
                    who.kind = Kind::Service;
                    who.arn = self.rng.pick(HW_VIAS).to_string();
                    who.account = None;
                }
                _ => {
                    who.kind = Kind::Anonymous;
                    who.arn = "anonymous".into();
                    who.account = None;
                }
            }
        } else {
            match self.rng.weighted(&[24, 28, 5, 10, 9, 10, 8, 3]) {
                0 => {
                    let name = *self.rng.pick(USERS);
                    let path = if self.rng.chance(20) {
                        "division_abc/"
                    } else {
                        ""
                    };
                    who.arn = format!("arn:aws:iam::{acct}:user/{path}{name}");
                    who.user = Some(name.into());
                }
                1 => {
                    let role = *self.rng.pick(ROLES);
                    let session = *self.rng.pick(SESSIONS);
                    who.kind = Kind::Session;
                    who.arn = format!("arn:aws:sts::{acct}:assumed-role/{role}/{session}");
                    if self.rng.chance(15) {
                        let role_arn = format!("arn:aws:iam::{acct}:role/app/{role}");
                        object.insert("role_arn".into(), json!(role_arn));
                        who.role_arn = Some(role_arn);
                        force_object = true;
                    } else {
                        who.role_arn = Some(format!("arn:aws:iam::{acct}:role/{role}"));
                    }
                }
                2 => {
                    let role = *self.rng.pick(ROLES);
                    who.kind = Kind::Role;
                    who.arn = format!("arn:aws:iam::{acct}:role/{role}");
                    who.role_arn = Some(who.arn.clone());
                }
                3 => {
                    let name = *self.rng.pick(USERS);
                    who.kind = Kind::Federated;
                    who.arn = format!("arn:aws:sts::{acct}:federated-user/{name}");
                    if self.rng.chance(40) {
                        let parent = format!("arn:aws:iam::{acct}:user/{name}");
                        object.insert("parent_user_arn".into(), json!(parent));
                        who.parent_user = Some(parent);
                        force_object = true;
                    }
                }
                4 => {
                    who.kind = Kind::Root;
                    who.arn = format!("arn:aws:iam::{acct}:root");
                }
                5 => {
                    who.kind = Kind::Service;
                    who.arn = self.rng.pick(AWS_SERVICE_PRINCIPALS).to_string();
                    who.account = None;
                }
                6 => {
                    who.kind = Kind::Anonymous;
                    who.arn = "anonymous".into();
                    who.account = None;
                }
                _ => {
                    who.kind = Kind::Session;
                    who.arn = format!("arn:aws:sts::{acct}:assumed-role/AWSServiceRoleForConfig/s");
                    who.role_arn = Some(format!(
                        "arn:aws:iam::{acct}:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig"
                    ));
                    object.insert("role_arn".into(), json!(who.role_arn.clone()));
                    force_object = true;
                }
            }
        }
        let authenticated = !matches!(who.kind, Kind::Service | Kind::Anonymous);
        if force_object || (authenticated && self.rng.chance(20)) {
            object.insert("arn".into(), json!(who.arn));
            if self.rng.chance(25) {
                object.insert("management_account".into(), json!(self.rng.chance(50)));
            }
            if self.rng.chance(15) {
                object.insert("service_linked".into(), json!(self.rng.chance(50)));
            }
            if self.rng.chance(20) {
                object.insert("account".into(), json!(acct));
            }
            if self.rng.chance(20) {
                let kind = match who.kind {
                    Kind::User => "User",
                    Kind::Session | Kind::Role => "AssumedRole",
                    Kind::Federated => "FederatedUser",
                    Kind::Root => "Root",
                    Kind::Service => "Service",
                    Kind::Anonymous => "Anonymous",
                };
                object.insert("kind".into(), json!(kind));
            }
            who.json = Value::Object(object);
        } else {
            who.json = json!(who.arn);
        }
        who
    }

    /// The ways a resource policy can name the requester (R-PRIN-3).
    fn principal_names(&self) -> Vec<String> {
        let w = &self.who;
        let mut v = Vec::new();
        if let Some(a) = &w.account {
            v.push(a.clone());
            if !self.hw {
                v.push(format!("arn:aws:iam::{a}:root"));
            }
        }
        if let Some(r) = &w.role_arn {
            v.push(r.clone());
        }
        if matches!(w.kind, Kind::User | Kind::Session | Kind::Federated) {
            v.push(w.arn.clone());
        }
        if let Some(p) = &w.parent_user {
            v.push(p.clone());
        }
        v
    }

    /// Near misses: other accounts, other users and roles.
    fn decoy_principal(&mut self) -> String {
        let other = self.other_account();
        let home = self.accounts[0].clone();
        if self.hw {
            match self.rng.below(3) {
                0 => other,
                1 => format!("iam::{home}:user:mallory"),
                _ => format!("iam::{other}:agency:{}", self.rng.pick(ROLES)),
            }
        } else {
            match self.rng.below(5) {
                0 => other,
                1 => format!("arn:aws:iam::{other}:root"),
                2 => format!("arn:aws:iam::{home}:user/mallory"),
                3 => format!("arn:aws:iam::{home}:role/{}", self.rng.pick(ROLES)),
                _ => format!(
                    "arn:aws:sts::{home}:assumed-role/{}/other",
                    self.rng.pick(ROLES)
                ),
            }
        }
    }

    // -----------------------------------------------------------------------------------
    // The chain

    fn make_hops(&mut self) {
        self.resources = Vec::new();
        for i in 0..self.services.len() {
            let n = self.rng.between(1, 3);
            let shape = self.services[i].shape;
            let list: Vec<String> = (0..n).map(|_| self.make_resource(shape)).collect();
            self.resources.push(list);
        }
        let n = 1 + self.rng.weighted(&[30, 38, 20, 12]);
        let mut prev: Option<usize> = None;
        for _ in 0..n {
            let mut svc = self.rng.below(self.services.len());
            if prev == Some(svc) && self.rng.chance(70) {
                svc = (svc + 1) % self.services.len();
            }
            let def = self.services[svc];
            let name = *self.rng.pick(def.actions);
            let mut action = format!("{}:{name}", def.prefix);
            if self.rng.chance(5) {
                action = random_case(&mut self.rng, &action);
            }
            let resource = if self.rng.chance(6) {
                "*".to_string()
            } else {
                self.rng.pick(&self.resources[svc]).clone()
            };
            let via = match prev {
                None => None,
                Some(p) if self.rng.chance(70) => Some(self.services[p].principal.to_string()),
                Some(_) => Some(
                    self.rng
                        .pick(if self.hw { HW_VIAS } else { AWS_VIAS })
                        .to_string(),
                ),
            };
            self.hops.push(HopPlan {
                svc,
                action,
                resource,
                via,
            });
            prev = Some(svc);
        }
    }

    fn options(&mut self) -> Map<String, Value> {
        let mut o = Map::new();
        if self.rng.chance(15) {
            let mut list: Vec<String> = Vec::new();
            for h in &self.hops {
                if let Some(v) = &h.via {
                    if self.rng.chance(50) && !list.contains(v) {
                        list.push(v.clone());
                    }
                }
            }
            if !self.hw && self.rng.chance(50) {
                list.push("athena.amazonaws.com".into());
            }
            self.called_via = Some(list.clone());
            o.insert("called_via_services".into(), json!(list));
        }
        if self.rng.chance(20) {
            o.insert("preserve_source_ip".into(), json!(self.rng.chance(50)));
        }
        if self.lenient {
            o.insert("mode".into(), json!("lenient"));
        } else if self.rng.chance(5) {
            o.insert("mode".into(), json!("strict"));
        }
        if self.hw_vars {
            o.insert("huawei_policy_variables".into(), json!(true));
        } else if self.hw && self.rng.chance(5) {
            o.insert("huawei_policy_variables".into(), json!(false));
        }
        o
    }

    // -----------------------------------------------------------------------------------
    // Contexts

    /// Remembers a key and its possible values for conditions.
    fn remember(&mut self, name: &str, ty: Ty, values: &[String]) {
        let canon = name.to_lowercase();
        if let Some(k) = self
            .pool
            .iter_mut()
            .find(|k| k.name.to_lowercase() == canon)
        {
            for v in values {
                if !k.values.contains(v) {
                    k.values.push(v.clone());
                }
            }
            return;
        }
        self.pool.push(KeyInfo {
            name: name.to_string(),
            ty,
            values: values.to_vec(),
        });
    }

    /// Remembers `name` with `candidates`, and puts one of them (a subset for `Multi`) in
    /// `ctx` with probability `percent`.
    fn offer(
        &mut self,
        ctx: &mut Map<String, Value>,
        name: &str,
        ty: Ty,
        candidates: Vec<String>,
        percent: u64,
    ) {
        self.remember(name, ty, &candidates);
        if !self.rng.chance(percent) {
            return;
        }
        let value = if ty == Ty::Multi {
            let n = self.rng.between(1, candidates.len().min(3));
            let mut items: Vec<String> = Vec::new();
            for _ in 0..n {
                let c = self.rng.pick(&candidates).clone();
                if !items.contains(&c) {
                    items.push(c);
                }
            }
            json!(items)
        } else {
            let v = self.rng.pick(&candidates).clone();
            self.context_value(ty, &v)
        };
        let key = self.spell_key(name);
        ctx.insert(key, value);
    }

    /// The JSON form of a context value: numbers and booleans sometimes as JSON scalars,
    /// dates in one of the accepted formats, and now and then garbage of the wrong type.
    fn context_value(&mut self, ty: Ty, v: &str) -> Value {
        if self.rng.chance(3) {
            let junk = match ty {
                Ty::Num => "12abc",
                Ty::Date => "yesterday",
                Ty::Bool => "yes",
                Ty::Ip => "not-an-ip",
                Ty::Arn => "not:an:arn",
                Ty::Bin => "!!",
                Ty::Str | Ty::Multi => "",
            };
            return json!(junk);
        }
        match ty {
            Ty::Num => match v.parse::<i64>() {
                Ok(n) if self.rng.chance(50) => json!(n),
                _ => json!(v),
            },
            Ty::Bool => match v {
                "true" | "false" if self.rng.chance(50) => json!(v == "true"),
                _ if self.rng.chance(10) => json!(v.to_uppercase()),
                _ => json!(v),
            },
            Ty::Date => {
                let t: i64 = v.parse().unwrap_or(self.now);
                if self.rng.chance(10) {
                    json!(t)
                } else {
                    json!(self.format_date(t, false))
                }
            }
            _ => json!(v),
        }
    }

    /// A key name as written: usually canonical spelling, sometimes in another case.
    fn spell_key(&mut self, name: &str) -> String {
        if self.rng.chance(12) {
            random_case(&mut self.rng, name)
        } else {
            name.to_string()
        }
    }

    fn hop0_context(&mut self) -> Map<String, Value> {
        let mut ctx = Map::new();
        let g = if self.hw { "g" } else { "aws" };
        let k = |name: &str| format!("{g}:{name}");
        let via_endpoint = self.rng.chance(18);
        // Network.
        let net = self.rng.pick(NETS);
        let mut ips: Vec<String> = net.inside.iter().map(|s| s.to_string()).collect();
        ips.extend(net.outside.iter().map(|s| s.to_string()));
        let ip_percent = if via_endpoint { 10 } else { 75 };
        self.offer(&mut ctx, &k("SourceIp"), Ty::Ip, ips.clone(), ip_percent);
        let vpc_percent = if via_endpoint { 85 } else { 3 };
        let vpcs: Vec<String> = VPCS.iter().map(|s| s.to_string()).collect();
        self.offer(&mut ctx, &k("SourceVpc"), Ty::Str, vpcs, vpc_percent);
        let vpces: Vec<String> = VPCES.iter().map(|s| s.to_string()).collect();
        self.offer(&mut ctx, &k("SourceVpce"), Ty::Str, vpces, vpc_percent);
        self.offer(&mut ctx, &k("VpcSourceIp"), Ty::Ip, ips, vpc_percent / 2);
        // Time and session.
        let now = self.now.to_string();
        let times = vec![now.clone(), (self.now - 3600).to_string()];
        self.offer(&mut ctx, &k("CurrentTime"), Ty::Date, vec![now], 80);
        let token_key = k("TokenIssueTime");
        self.offer(&mut ctx, &token_key, Ty::Date, times, 30);
        let bools = vec!["true".to_string(), "false".to_string()];
        self.offer(&mut ctx, &k("SecureTransport"), Ty::Bool, bools.clone(), 45);
        let mfa = if self.hw {
            "MFAPresent"
        } else {
            "MultiFactorAuthPresent"
        };
        self.offer(&mut ctx, &k(mfa), Ty::Bool, bools, 35);
        let age = if self.hw {
            "MFAAge"
        } else {
            "MultiFactorAuthAge"
        };
        let ages = vec!["300".to_string(), "3600".into(), "86400".into()];
        self.offer(&mut ctx, &k(age), Ty::Num, ages, 25);
        if !self.hw {
            let epoch = vec![self.now.to_string()];
            self.offer(&mut ctx, "aws:EpochTime", Ty::Num, epoch, 20);
        }
        // Organisation and tags.
        let org = if self.hw {
            "PrincipalOrgId"
        } else {
            "PrincipalOrgID"
        };
        let orgs: Vec<String> = ORGS.iter().map(|s| s.to_string()).collect();
        self.offer(&mut ctx, &k(org), Ty::Str, orgs, 45);
        let teams: Vec<String> = self.teams.iter().map(|s| s.to_string()).collect();
        self.offer(
            &mut ctx,
            &k("PrincipalTag/team"),
            Ty::Str,
            teams.clone(),
            55,
        );
        let envs: Vec<String> = ENVS.iter().map(|s| s.to_string()).collect();
        self.offer(&mut ctx, &k("PrincipalTag/env"), Ty::Str, envs.clone(), 20);
        self.offer(&mut ctx, &k("RequestTag/env"), Ty::Str, envs, 25);
        self.offer(&mut ctx, &k("RequestTag/team"), Ty::Str, teams, 12);
        let tag_keys: Vec<String> = TAG_KEYS.iter().map(|s| s.to_string()).collect();
        self.offer(&mut ctx, &k("TagKeys"), Ty::Multi, tag_keys, 22);
        let regions: Vec<String> = self.regions.iter().map(|s| s.to_string()).collect();
        self.offer(&mut ctx, &k("RequestedRegion"), Ty::Str, regions, 35);
        // Principal keys given explicitly (a given value wins over the derived one).
        if let Some(user) = self.who.user.clone() {
            let name = if self.hw {
                "g:UserName"
            } else {
                "aws:username"
            };
            self.offer(&mut ctx, name, Ty::Str, vec![user], 6);
        }
        if !self.hw {
            let id = match &self.who.kind {
                Kind::Session => "AROAEXAMPLE:s1".to_string(),
                _ => "AIDAEXAMPLE".to_string(),
            };
            self.offer(&mut ctx, "aws:userid", Ty::Str, vec![id], 10);
            if self.who.kind == Kind::Session {
                let providers = vec!["cognito-identity.amazonaws.com".to_string()];
                self.offer(&mut ctx, "aws:FederatedProvider", Ty::Str, providers, 12);
            }
            if self.who.kind == Kind::Service {
                let src = format!("arn:aws:s3:::{}", self.bucket());
                self.offer(&mut ctx, "aws:SourceArn", Ty::Arn, vec![src], 60);
                let accts = vec![self.accounts[0].clone()];
                self.offer(&mut ctx, "aws:SourceAccount", Ty::Str, accts, 50);
            }
            let calls: Vec<String> = AWS_VIAS[..3].iter().map(|s| s.to_string()).collect();
            self.offer(&mut ctx, "aws:CalledVia", Ty::Multi, calls, 4);
            let referers = vec!["https://example.com/app".to_string()];
            self.offer(&mut ctx, "aws:referer", Ty::Str, referers, 5);
        }
        // Service keys of the first hop's service.
        let svc = self.services[self.hops[0].svc].prefix;
        let prefixes = vec![
            "home/".to_string(),
            format!("home/{}/", self.username()),
            "reports/".into(),
        ];
        match svc {
            "s3" => {
                self.offer(&mut ctx, "s3:prefix", Ty::Str, prefixes, 30);
                let max = vec!["10".to_string(), "1000".into(), "7.5".into()];
                self.offer(&mut ctx, "s3:max-keys", Ty::Num, max, 20);
                let md5: Vec<String> = BINARIES.iter().map(|s| s.to_string()).collect();
                let md5_key = "s3:x-amz-server-side-encryption-customer-key-MD5";
                self.offer(&mut ctx, md5_key, Ty::Bin, md5, 20);
            }
            "obs" => self.offer(&mut ctx, "obs:prefix", Ty::Str, prefixes, 30),
            "ec2" => {
                let arns = vec![format!(
                    "arn:aws:ec2:{}:{}:instance/i-0abc1234",
                    self.region(),
                    self.accounts[0]
                )];
                self.offer(&mut ctx, "ec2:SourceInstanceArn", Ty::Arn, arns, 20);
            }
            _ => {
                let md5: Vec<String> = BINARIES.iter().map(|s| s.to_string()).collect();
                self.offer(&mut ctx, "kms:RecipientAttestation", Ty::Bin, md5, 8);
            }
        }
        if self.hw {
            let projects = vec!["0".to_string(), "ep-1234".into()];
            self.offer(&mut ctx, "g:EnterpriseProjectId", Ty::Str, projects, 10);
        }
        ctx
    }

    /// Keys the evaluator derives (principal keys, FAS keys): remembered for conditions.
    fn derived_keys(&mut self) {
        let vias: Vec<String> = self.hops.iter().filter_map(|h| h.via.clone()).collect();
        let mut called: Vec<String> = vias.clone();
        called.push(
            if self.hw {
                "service.obs"
            } else {
                "athena.amazonaws.com"
            }
            .to_string(),
        );
        let bools = vec!["true".to_string(), "false".to_string()];
        let w = self.who.clone();
        let account: Vec<String> = w.account.iter().cloned().collect();
        if self.hw {
            self.remember("g:ViaService", Ty::Bool, &bools);
            self.remember("g:CalledVia", Ty::Multi, &called);
            self.remember("g:CalledViaFirst", Ty::Str, &called);
            self.remember("g:CalledViaLast", Ty::Str, &called);
            if w.account.is_some() {
                self.remember("g:PrincipalUrn", Ty::Str, std::slice::from_ref(&w.arn));
                self.remember("g:PrincipalAccount", Ty::Str, &account);
                self.remember("g:DomainId", Ty::Str, &account);
                let types = vec!["User".to_string(), "AssumedAgency".into()];
                self.remember("g:PrincipalType", Ty::Str, &types);
            }
            if let Some(u) = &w.user {
                self.remember("g:UserName", Ty::Str, std::slice::from_ref(u));
            }
        } else {
            self.remember("aws:ViaAWSService", Ty::Bool, &bools);
            self.remember("aws:PrincipalIsAWSService", Ty::Bool, &bools);
            self.remember("aws:CalledVia", Ty::Multi, &called);
            self.remember("aws:CalledViaFirst", Ty::Str, &called);
            self.remember("aws:CalledViaLast", Ty::Str, &called);
            self.remember("aws:UserAgent", Ty::Str, &vias);
            let arn = w.role_arn.clone().unwrap_or_else(|| w.arn.clone());
            if w.account.is_some() {
                self.remember("aws:PrincipalArn", Ty::Arn, &[arn]);
                self.remember("aws:PrincipalAccount", Ty::Str, &account);
                let kind = match w.kind {
                    Kind::User => "User",
                    Kind::Session | Kind::Role => "AssumedRole",
                    Kind::Federated => "FederatedUser",
                    Kind::Root => "Account",
                    _ => "Anonymous",
                };
                self.remember("aws:PrincipalType", Ty::Str, &[kind.to_string()]);
            }
            if let Some(u) = &w.user {
                self.remember("aws:username", Ty::Str, std::slice::from_ref(u));
            }
            if w.kind == Kind::Service {
                self.remember(
                    "aws:PrincipalServiceName",
                    Ty::Str,
                    std::slice::from_ref(&w.arn),
                );
            }
        }
    }

    /// The `context` member of hop `i`: keys that hop's request sets.
    fn hop_context(&mut self, i: usize) -> Map<String, Value> {
        let mut ctx = Map::new();
        let g = if self.hw { "g" } else { "aws" };
        let scale = if i == 0 { 30 } else { 100 };
        let pct = |p: u64| p * scale / 100;
        let teams: Vec<String> = self.teams.iter().map(|s| s.to_string()).collect();
        self.offer(
            &mut ctx,
            &format!("{g}:ResourceTag/team"),
            Ty::Str,
            teams,
            pct(30),
        );
        if !self.hw {
            let accts = self.accounts.clone();
            self.offer(&mut ctx, "aws:ResourceAccount", Ty::Str, accts, pct(15));
        }
        if i > 0 {
            let later = (self.now + 90).to_string();
            self.offer(
                &mut ctx,
                &format!("{g}:CurrentTime"),
                Ty::Date,
                vec![later],
                8,
            );
            let net = self.rng.pick(NETS);
            let ips: Vec<String> = net.inside.iter().map(|s| s.to_string()).collect();
            self.offer(&mut ctx, &format!("{g}:SourceIp"), Ty::Ip, ips, 5);
            let envs: Vec<String> = ENVS.iter().map(|s| s.to_string()).collect();
            self.offer(&mut ctx, &format!("{g}:RequestTag/env"), Ty::Str, envs, 8);
        }
        let prefix = self.services[self.hops[i].svc].prefix;
        if prefix == "kms" && !self.hw {
            let caller = match i {
                0 => "s3".to_string(),
                _ => self.services[self.hops[i - 1].svc].prefix.to_string(),
            };
            let via = format!("{caller}.{}.amazonaws.com", self.region());
            self.offer(&mut ctx, "kms:ViaService", Ty::Str, vec![via], pct(70));
            let accts = vec![self.accounts[0].clone()];
            self.offer(&mut ctx, "kms:CallerAccount", Ty::Str, accts, pct(50));
            let objs = vec![format!("arn:aws:s3:::{}/reports/q1.csv", self.bucket())];
            let key = "kms:EncryptionContext:aws:s3:arn";
            self.offer(&mut ctx, key, Ty::Arn, objs, pct(20));
        }
        if prefix == "dynamodb" {
            let users: Vec<String> = USERS.iter().map(|s| s.to_string()).collect();
            self.offer(&mut ctx, "dynamodb:LeadingKeys", Ty::Multi, users, pct(20));
        }
        if prefix == "kms" && self.hw {
            let vias = vec!["obs.cn-north-4.myhuaweicloud.com".to_string()];
            self.offer(&mut ctx, "kms:ViaService", Ty::Str, vias, pct(40));
        }
        ctx
    }

    fn hop_json(&mut self, i: usize, ctx: &Map<String, Value>) -> Value {
        let hop = self.hops[i].clone();
        let mut h = Map::new();
        if let Some(via) = &hop.via {
            h.insert("via".into(), json!(via));
        }
        h.insert("action".into(), json!(hop.action));
        h.insert("resource".into(), json!(hop.resource));
        if self.rng.chance(8) {
            let acct = self.some_account();
            h.insert("resource_account".into(), json!(acct));
        }
        let prefix = self.services[hop.svc].prefix;
        let needs = matches!(prefix, "kms" | "sts")
            || hop
                .resource
                .contains(&self.accounts.get(1).cloned().unwrap_or_default());
        let percent = if needs { 75 } else { 30 };
        if self.rng.chance(percent) {
            let policy = self.resource_policy(i);
            h.insert("resource_policy".into(), policy);
        }
        if self.rng.chance(10) {
            h.insert(
                "resource_policy_required".into(),
                json!(self.rng.chance(50)),
            );
        }
        if self.rng.chance(3) {
            h.insert("requires_no_permission".into(), json!(true));
        }
        if !ctx.is_empty() {
            h.insert("context".into(), Value::Object(ctx.clone()));
        }
        Value::Object(h)
    }

    fn credentials(&mut self) -> Value {
        let issued = self.now - self.rng.below(7200) as i64;
        let expires = self.now + self.rng.below(4200) as i64 - 600;
        let mut c = Map::new();
        let which = self.rng.below(5);
        if which != 0 {
            let v = if self.rng.chance(20) {
                json!(issued)
            } else {
                json!(self.format_date(issued, false))
            };
            c.insert("issued".into(), v);
        }
        if which != 1 {
            c.insert("expires".into(), json!(self.format_date(expires, false)));
        }
        Value::Object(c)
    }

    // -----------------------------------------------------------------------------------
    // Policies

    fn policies(&mut self) -> Map<String, Value> {
        let mut p = Map::new();
        let n_hops = self.hops.len();
        let n_identity = self.rng.weighted(&[8, 55, 27, 10]);
        let mut identity = Vec::new();
        for i in 0..n_identity {
            let version = self.begin(Role::Identity);
            let mut statements = Vec::new();
            if i == 0 {
                for h in 0..n_hops {
                    if self.rng.chance(80) {
                        let conds = self.rng.weighted(&[65, 28, 7]);
                        statements.push(self.statement(Role::Identity, true, Some(h), conds));
                    }
                }
            }
            let extra = if statements.is_empty() {
                self.rng.between(1, 3)
            } else {
                self.rng.between(0, 2)
            };
            for _ in 0..extra {
                let allow = self.rng.chance(60);
                let target = self.some_target();
                let conds = if allow {
                    self.rng.weighted(&[50, 35, 15])
                } else {
                    self.rng.weighted(&[15, 50, 35])
                };
                statements.push(self.statement(Role::Identity, allow, target, conds));
            }
            identity.push(self.document(Role::Identity, version, statements));
        }
        if !identity.is_empty() || self.rng.chance(30) {
            p.insert("identity".into(), Value::Array(identity));
        }

        if self.rng.chance(if self.hw { 4 } else { 18 }) {
            let version = self.begin(Role::Boundary);
            let mut statements = Vec::new();
            let target = self.some_target();
            let conds = self.rng.weighted(&[70, 25, 5]);
            statements.push(self.statement(Role::Boundary, true, target, conds));
            if self.rng.chance(40) {
                let target = self.some_target();
                statements.push(self.statement(Role::Boundary, true, target, 0));
            }
            if self.rng.chance(25) {
                let target = self.some_target();
                let conds = self.rng.weighted(&[30, 50, 20]);
                statements.push(self.statement(Role::Boundary, false, target, conds));
            }
            let doc = self.document(Role::Boundary, version, statements);
            p.insert("boundary".into(), doc);
        }

        if self.rng.chance(if self.hw { 10 } else { 16 }) {
            let n = self.rng.weighted(&[15, 60, 25]);
            let mut list = Vec::new();
            for _ in 0..n {
                let version = self.begin(Role::Session);
                let mut statements = Vec::new();
                for _ in 0..self.rng.between(1, 2) {
                    let allow = self.rng.chance(85);
                    let target = self.some_target();
                    let conds = self.rng.weighted(&[65, 30, 5]);
                    statements.push(self.statement(Role::Session, allow, target, conds));
                }
                list.push(self.document(Role::Session, version, statements));
            }
            p.insert("session".into(), Value::Array(list));
        }

        if self.rng.chance(22) {
            let levels = self.levels(Role::Scp);
            p.insert("scp".into(), levels);
        }
        if self.rng.chance(if self.hw { 3 } else { 14 }) {
            let levels = self.levels(Role::Rcp);
            p.insert("rcp".into(), levels);
        }
        if self.rng.chance(if self.hw { 3 } else { 12 }) {
            let version = self.begin(Role::Vpce);
            let mut statements = Vec::new();
            for _ in 0..self.rng.between(1, 2) {
                let allow = self.rng.chance(80);
                let target = if self.rng.chance(70) { Some(0) } else { None };
                let conds = self.rng.weighted(&[50, 40, 10]);
                statements.push(self.statement(Role::Vpce, allow, target, conds));
            }
            let doc = self.document(Role::Vpce, version, statements);
            p.insert("vpce".into(), doc);
        }
        p
    }

    /// A hop to aim at (usually), or none (a statement built from the vocabulary only).
    fn some_target(&mut self) -> Option<usize> {
        if self.rng.chance(82) {
            Some(self.rng.below(self.hops.len()))
        } else {
            None
        }
    }

    /// SCP or RCP levels, root first: usually a full-access policy per level plus
    /// guardrails.
    fn levels(&mut self, role: Role) -> Value {
        let n_levels = self.rng.between(1, 3);
        let mut levels = Vec::new();
        for _ in 0..n_levels {
            let mut level = Vec::new();
            let version = self.begin(role);
            if self.rng.chance(85) {
                let st = self.full_access(role);
                level.push(self.document(role, version, vec![st]));
            } else {
                let target = self.some_target();
                let st = self.statement(role, true, target, 0);
                level.push(self.document(role, version, vec![st]));
            }
            if self.rng.chance(35) {
                let version = self.begin(role);
                let mut statements = Vec::new();
                for _ in 0..self.rng.between(1, 2) {
                    let allow = self.rng.chance(25);
                    let target = self.some_target();
                    let conds = if allow {
                        0
                    } else {
                        self.rng.weighted(&[15, 55, 30])
                    };
                    statements.push(self.statement(role, allow, target, conds));
                }
                level.push(self.document(role, version, statements));
            }
            if self.rng.chance(4) {
                level.clear(); // a level with no policies: nothing allows there
            }
            levels.push(Value::Array(level));
        }
        Value::Array(levels)
    }

    fn full_access(&mut self, role: Role) -> Value {
        let mut st = Map::new();
        if self.rng.chance(60) {
            let sid = if role == Role::Rcp {
                "RCPFullAWSAccess"
            } else {
                "FullAWSAccess"
            };
            st.insert("Sid".into(), json!(sid));
        }
        st.insert("Effect".into(), json!("Allow"));
        st.insert("Action".into(), json!("*"));
        if !self.hw || self.rng.chance(50) {
            st.insert("Resource".into(), json!("*"));
        }
        if role.has_principal() {
            st.insert("Principal".into(), json!("*"));
        }
        Value::Object(st)
    }

    fn resource_policy(&mut self, hop: usize) -> Value {
        let version = self.begin(Role::Resource);
        let mut statements = Vec::new();
        let conds = self.rng.weighted(&[65, 30, 5]);
        statements.push(self.statement(Role::Resource, true, Some(hop), conds));
        for _ in 0..self.rng.weighted(&[50, 35, 15]) {
            let allow = self.rng.chance(65);
            let target = if self.rng.chance(80) { Some(hop) } else { None };
            let conds = self.rng.weighted(&[40, 45, 15]);
            statements.push(self.statement(Role::Resource, allow, target, conds));
        }
        self.document(Role::Resource, version, statements)
    }

    /// Chooses the `Version` of the next document (before its statements are built, so
    /// that they know whether policy variables are expanded).
    fn begin(&mut self, role: Role) -> Option<&'static str> {
        let version = if self.hw {
            Some(if role != Role::Scp && self.rng.chance(10) {
                "1.1"
            } else {
                "5.0"
            })
        } else {
            [Some("2012-10-17"), Some("2008-10-17"), None][self.rng.weighted(&[70, 15, 15])]
        };
        self.vars = match version {
            Some("2012-10-17") => true,
            Some("5.0" | "1.1") => self.hw_vars,
            _ => false,
        };
        version
    }

    /// Wraps statements in a document of the role's dialect and the version from
    /// [`Generator::begin`].
    fn document(&mut self, role: Role, version: Option<&str>, statements: Vec<Value>) -> Value {
        let mut doc = Map::new();
        if let Some(v) = version {
            doc.insert("Version".into(), json!(v));
        }
        let identity_like = matches!(role, Role::Identity | Role::Boundary | Role::Session);
        if (!identity_like && self.rng.chance(10)) || (self.lenient && self.rng.chance(5)) {
            doc.insert("Id".into(), json!(format!("{}-policy", role.name())));
        }
        if self.lenient && self.rng.chance(4) {
            doc.insert("Comment".into(), json!("unknown member"));
        }
        let body = if self.lenient && self.rng.chance(3) {
            json!([])
        } else if statements.len() == 1 && self.rng.chance(20) {
            statements.into_iter().next().expect("one statement")
        } else {
            Value::Array(statements)
        };
        doc.insert("Statement".into(), body);
        self.counter += 1;
        if self.rng.chance(10) {
            json!({"id": format!("{}-{}", role.name(), self.counter), "document": doc})
        } else {
            Value::Object(doc)
        }
    }

    // -----------------------------------------------------------------------------------
    // Statements

    fn statement(&mut self, role: Role, allow: bool, target: Option<usize>, conds: usize) -> Value {
        let mut st = Map::new();
        self.counter += 1;
        if self.rng.chance(35) {
            st.insert("Sid".into(), json!(format!("S{}", self.counter)));
        } else if self.lenient && self.rng.chance(3) {
            st.insert("Sid".into(), json!("not alnum!"));
        }
        st.insert("Effect".into(), json!(if allow { "Allow" } else { "Deny" }));
        // R-HW-3: restrictions of Huawei SCPs (strict mode).
        let hw_scp = self.hw && role == Role::Scp && !self.lenient;
        let negated = !(hw_scp && allow) && self.rng.chance(10);
        let actions = self.action_list(target, negated, hw_scp);
        st.insert(if negated { "NotAction" } else { "Action" }.into(), actions);
        if let Some((k, v)) = self.resource_element(role, target) {
            st.insert(k.into(), v);
        }
        if role.has_principal() {
            if !(role == Role::Resource && self.lenient && self.rng.chance(5)) {
                let (k, v) = self.principal_element(role, allow);
                st.insert(k.into(), v);
            }
        } else if self.lenient && self.rng.chance(3) {
            st.insert("Principal".into(), json!("*"));
        }
        let conds = if hw_scp && allow { 0 } else { conds };
        if conds > 0 {
            let block = self.condition_block(conds);
            st.insert("Condition".into(), block);
        } else if self.rng.chance(3) {
            st.insert("Condition".into(), json!({}));
        }
        if self.lenient && self.rng.chance(3) {
            st.insert("Bogus".into(), json!(1));
        }
        Value::Object(st)
    }

    fn action_list(&mut self, target: Option<usize>, negated: bool, hw_scp: bool) -> Value {
        let n = 1 + self.rng.weighted(&[60, 28, 12]);
        let mut items: Vec<String> = Vec::new();
        let include = target.is_some() && self.rng.chance(if negated { 25 } else { 88 });
        if let (true, Some(t)) = (include, target) {
            let action = self.hops[t].action.clone();
            items.push(self.action_variant(&action, hw_scp));
        }
        while items.len() < n {
            let svc = *self.rng.pick(&self.services);
            let action = format!("{}:{}", svc.prefix, self.rng.pick(svc.actions));
            let item = if self.rng.chance(30) {
                self.action_variant(&action, hw_scp)
            } else {
                action
            };
            items.push(item);
        }
        if items.len() > 1 {
            let i = self.rng.below(items.len());
            items.swap(0, i);
        }
        if self.lenient && self.rng.chance(8) {
            let junk = if self.hw {
                ["obs:*:*:*:*", "OBS::", "x"][self.rng.below(3)]
            } else {
                ["s3GetObject", "s*:GetObject", "s3:", "s3:Get Object", "*:*"][self.rng.below(5)]
            };
            let i = self.rng.below(items.len());
            items[i] = junk.to_string();
        }
        if self.lenient && self.rng.chance(2) {
            return json!([]);
        }
        one_or_many(&mut self.rng, items)
    }

    /// A pattern that matches `action` (mostly): wildcards, `?`, case changes.
    fn action_variant(&mut self, action: &str, hw_scp: bool) -> String {
        if self.hw {
            let mut parts = action.splitn(3, ':');
            let svc = parts.next().unwrap_or_default();
            let typ = parts.next().unwrap_or_default();
            let op = parts.next().unwrap_or_default();
            if hw_scp {
                return match self.rng.below(6) {
                    0 | 1 => action.to_string(),
                    2 => format!("{svc}:{typ}:*"),
                    3 => format!("{svc}:*"),
                    4 => "*".into(),
                    _ => format!("{svc}:{typ}:{}*", prefix(op, 3)),
                };
            }
            return match self.rng.below(10) {
                0..=2 => action.to_string(),
                3 => random_case(&mut self.rng, action),
                4 => format!("{svc}:{typ}:*"),
                5 => format!("{svc}:*:{op}"),
                6 => format!("{svc}:*"),
                7 => "*".into(),
                8 => format!("{svc}:{typ}:{}*", prefix(op, 3)),
                _ => format!("{svc}:{typ}:{}", question(&mut self.rng, op)),
            };
        }
        let (svc, name) = action.split_once(':').unwrap_or((action, ""));
        match self.rng.below(11) {
            0..=2 => action.to_string(),
            3 => random_case(&mut self.rng, action),
            4 => format!("{svc}:{}*", prefix(name, 3)),
            5 => format!("{svc}:*"),
            6 => "*".into(),
            7 => format!("{svc}:{}", question(&mut self.rng, name)),
            8 => format!("{svc}:*{}", suffix(name, 4)),
            9 => format!("{}:{}", svc.to_uppercase(), name.to_lowercase()),
            _ => format!("{svc}:{}*{}", prefix(name, 1), suffix(name, 2)),
        }
    }

    fn resource_element(
        &mut self,
        role: Role,
        target: Option<usize>,
    ) -> Option<(&'static str, Value)> {
        let optional = self.hw || matches!(role, Role::Resource | Role::Vpce);
        let skip = match role {
            Role::Resource => 50,
            Role::Vpce => 40,
            _ => 25,
        };
        if optional && self.rng.chance(skip) {
            return None;
        }
        if self.hw && self.lenient && self.rng.chance(3) {
            return Some(("Resource", json!({"uri": ["/iam/agencies/x"]})));
        }
        let negated = self.rng.chance(8);
        let key = if negated { "NotResource" } else { "Resource" };
        let broad = matches!(role, Role::Scp | Role::Rcp | Role::Boundary | Role::Vpce);
        if !negated && broad && self.rng.chance(55) {
            return Some((key, json!("*")));
        }
        let n = 1 + self.rng.weighted(&[65, 25, 10]);
        let mut items: Vec<String> = Vec::new();
        let include = target.is_some() && self.rng.chance(if negated { 30 } else { 88 });
        if let (true, Some(t)) = (include, target) {
            let res = self.hops[t].resource.clone();
            items.push(self.resource_variant(&res));
        }
        while items.len() < n {
            let svc = self.rng.below(self.services.len());
            let res = self.rng.pick(&self.resources[svc]).clone();
            let item = if self.rng.chance(40) {
                self.resource_variant(&res)
            } else {
                res
            };
            items.push(item);
        }
        if items.len() > 1 {
            let i = self.rng.below(items.len());
            items.swap(0, i);
        }
        if self.lenient && self.rng.chance(8) {
            let junk = if self.hw {
                ["obs:*:*:object", "modelarts:*:*:trainingJobs"][self.rng.below(2)]
            } else {
                [
                    "arn:aws:s3",
                    "arn:aws:s*:::acme-data/*",
                    "arn:aws:s3:::${aws:username, nodefault}",
                    "arn:aws:iam::111122223333",
                ][self.rng.below(4)]
            };
            let i = self.rng.below(items.len());
            items[i] = junk.to_string();
        }
        if self.lenient && self.rng.chance(2) {
            return Some((key, json!([])));
        }
        Some((key, one_or_many(&mut self.rng, items)))
    }

    /// A pattern that matches `resource` (mostly): globs, `?`, variables, case changes.
    fn resource_variant(&mut self, res: &str) -> String {
        if res == "*" {
            return if self.rng.chance(70) {
                "*".into()
            } else if self.hw {
                "obs:*:*:object:*".into()
            } else {
                "arn:aws:s3:::*".into()
            };
        }
        if self.hw {
            return self.urn_variant(res);
        }
        let Some((head, tail)) = split_arn_head(res) else {
            return res.to_string();
        };
        let parts: Vec<&str> = head.split(':').collect(); // arn, partition, service, region, account
        let (svc, region, account) = (parts[2], parts[3], parts[4]);
        match self.rng.below(14) {
            0..=2 => res.to_string(),
            3 => format!("{head}:{}*", cut(&mut self.rng, tail)),
            4 => format!("arn:aws:{svc}:*:*:{tail}"),
            5 => format!("arn:aws:{svc}:{region}:*:{}*", cut(&mut self.rng, tail)),
            6 => format!("{head}:{}", question(&mut self.rng, tail)),
            7 => format!("arn:aws:{svc}:*:*:*"),
            8 => "*".into(),
            9 => format!("{head}:{}", random_case(&mut self.rng, tail)),
            10 => format!("arn:*:{svc}:{region}:{account}:{tail}"),
            _ => format!("{head}:{}", self.variable_tail(tail)),
        }
    }

    /// Replaces what a policy variable would resolve to with the variable.
    fn variable_tail(&mut self, tail: &str) -> String {
        if let Some(user) = self.who.user.clone() {
            if tail.contains(&user) && self.rng.chance(80) {
                let var = if self.rng.chance(80) {
                    "${aws:username}"
                } else {
                    "${aws:username, 'nobody'}"
                };
                return tail.replacen(&user, var, 1);
            }
        }
        for team in self.teams.clone() {
            let needle = format!("team-{team}");
            if tail.contains(&needle) {
                let var = match self.rng.below(3) {
                    0 => "team-${aws:PrincipalTag/team}".to_string(),
                    1 => "team-${aws:PrincipalTag/team, 'shared'}".to_string(),
                    _ => "team-${aws:ResourceTag/team}".to_string(),
                };
                return tail.replacen(&needle, &var, 1);
            }
        }
        if tail.contains("team-shared") {
            return tail.replacen("team-shared", "team-${aws:PrincipalTag/team, 'shared'}", 1);
        }
        if tail.contains('*') {
            return tail.replacen('*', "${*}", 1);
        }
        if tail.contains(&self.accounts[0]) {
            return tail.replacen(&self.accounts[0], "${aws:PrincipalAccount}", 1);
        }
        format!("{}*", cut(&mut self.rng, tail))
    }

    fn urn_variant(&mut self, res: &str) -> String {
        let parts: Vec<&str> = res.splitn(5, ':').collect();
        if parts.len() < 5 {
            return res.to_string();
        }
        let (svc, region, acct, typ, path) = (parts[0], parts[1], parts[2], parts[3], parts[4]);
        match self.rng.below(12) {
            0..=2 => res.to_string(),
            3 => format!("{svc}:*:*:{typ}:*"),
            4 => format!("{svc}:{region}:{acct}:{typ}:{}*", cut(&mut self.rng, path)),
            5 => format!("{}:*:*:{typ}:{path}", svc.to_uppercase()),
            6 => "*".into(),
            7 => format!("{svc}:*:*:{typ}:{}", question(&mut self.rng, path)),
            8 => format!("{svc}:{region}:{acct}:*:*"),
            9 => format!("{svc}:*:{acct}:{}:*", random_case(&mut self.rng, typ)),
            _ => {
                let user = self.who.user.clone().unwrap_or_else(|| "alice".into());
                if path.contains(&user) {
                    let p = path.replacen(&user, "${g:UserName}", 1);
                    format!("{svc}:*:*:{typ}:{p}")
                } else {
                    format!("{svc}:*:*:{typ}:{}*", cut(&mut self.rng, path))
                }
            }
        }
    }

    fn principal_element(&mut self, role: Role, allow: bool) -> (&'static str, Value) {
        if role == Role::Rcp {
            if self.lenient && self.rng.chance(10) {
                return ("Principal", json!({"AWS": self.accounts[0].clone()}));
            }
            return ("Principal", json!("*"));
        }
        let names = self.principal_names();
        let not_principal = (!allow && self.rng.chance(15)) || (self.lenient && self.rng.chance(6));
        if not_principal {
            // Exempt (a subset of) the requester's identities, or others.
            let mut list: Vec<String> = Vec::new();
            for n in &names {
                if self.rng.chance(70) {
                    list.push(n.clone());
                }
            }
            if list.is_empty() || self.rng.chance(30) {
                list.push(self.decoy_principal());
            }
            if self.rng.chance(5) {
                list.push("*".into());
            }
            let key = if self.hw { "IAM" } else { "AWS" };
            let mut m = Map::new();
            m.insert(key.into(), one_or_many(&mut self.rng, list));
            if self.who.kind == Kind::Service && self.rng.chance(50) {
                m.insert("Service".into(), json!(self.who.arn.clone()));
            }
            return ("NotPrincipal", Value::Object(m));
        }
        let wildcard = if role == Role::Vpce { 55 } else { 15 };
        if self.rng.chance(wildcard) {
            return ("Principal", json!("*"));
        }
        let mut m = Map::new();
        let service_first =
            self.who.kind == Kind::Service || self.who.kind == Kind::Anonymous && self.hw;
        if service_first && self.rng.chance(70) || self.rng.chance(8) {
            let svc = if self.who.kind == Kind::Service && self.rng.chance(75) {
                self.who.arn.clone()
            } else if self.hw {
                self.rng.pick(HW_VIAS).to_string()
            } else {
                self.rng.pick(AWS_SERVICE_PRINCIPALS).to_string()
            };
            m.insert("Service".into(), json!(svc));
            if self.rng.chance(70) {
                return ("Principal", Value::Object(m));
            }
        }
        let key = if self.hw {
            if self.rng.chance(15) {
                "ID"
            } else {
                "IAM"
            }
        } else {
            "AWS"
        };
        if !self.hw && self.rng.chance(5) {
            m.insert("AWS".into(), json!("*"));
            return ("Principal", Value::Object(m));
        }
        if !self.hw && self.rng.chance(4) {
            m.insert("Federated".into(), json!("cognito-identity.amazonaws.com"));
        }
        if !self.hw && self.rng.chance(2) {
            let canonical = "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be";
            m.insert("CanonicalUser".into(), json!(canonical));
        }
        let n = self.rng.between(1, 3);
        let mut list: Vec<String> = Vec::new();
        for _ in 0..n {
            if !names.is_empty() && self.rng.chance(70) {
                list.push(self.rng.pick(&names).clone());
            } else if key == "ID" && self.rng.chance(50) {
                list.push("*".into());
            } else {
                list.push(self.decoy_principal());
            }
        }
        list.dedup();
        if self.lenient && self.rng.chance(10) {
            let junk = if self.hw {
                "iam::*:user:*"
            } else {
                [
                    "arn:aws:iam::*:root",
                    "1111*",
                    "arn:aws:iam::111122223333:user/a?ice",
                ][self.rng.below(3)]
            };
            list.push(junk.into());
        }
        m.insert(key.into(), one_or_many(&mut self.rng, list));
        ("Principal", Value::Object(m))
    }

    // -----------------------------------------------------------------------------------
    // Conditions

    fn condition_block(&mut self, n: usize) -> Value {
        let mut block: Map<String, Value> = Map::new();
        for _ in 0..n {
            let (op, key, values) = self.condition();
            let entry = block.entry(op).or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(keys) = entry {
                keys.entry(key).or_insert(values);
            }
        }
        Value::Object(block)
    }

    /// One `(operator, key, values)` entry aimed at a key of the pool.
    fn condition(&mut self) -> (String, String, Value) {
        let info = self.pool[self.rng.below(self.pool.len())].clone();
        let key = self.spell_key(&info.name);
        if self.rng.chance(8) {
            let mut values = vec![if self.rng.chance(50) { "true" } else { "false" }.to_string()];
            if self.lenient && self.rng.chance(15) {
                values.push("maybe".into());
            }
            if self.rng.chance(10) {
                values.push("false".into());
            }
            let op = if self.lenient && self.rng.chance(15) {
                "ForAnyValue:Null"
            } else {
                "Null"
            };
            let values = if values == ["true"] && self.rng.chance(30) {
                json!(true)
            } else {
                one_or_many(&mut self.rng, values)
            };
            return (op.into(), key, values);
        }
        let ty = if self.rng.chance(4) {
            *self
                .rng
                .pick(&[Ty::Str, Ty::Num, Ty::Date, Ty::Bool, Ty::Ip, Ty::Arn])
        } else {
            info.ty
        };
        let (base, values) = match ty {
            Ty::Str | Ty::Multi => self.string_condition(&info),
            Ty::Num => self.numeric_condition(&info),
            Ty::Date => self.date_condition(&info),
            Ty::Bool => self.bool_condition(&info),
            Ty::Ip => self.ip_condition(&info),
            Ty::Arn => self.arn_condition(&info),
            Ty::Bin => {
                let mut vals = Vec::new();
                if !info.values.is_empty() && self.rng.chance(65) {
                    vals.push(self.rng.pick(&info.values).clone());
                }
                if vals.is_empty() || self.rng.chance(30) {
                    vals.push(self.rng.pick(BINARIES).to_string());
                }
                if self.lenient && self.rng.chance(10) {
                    vals.push("not base64!".into());
                }
                ("BinaryEquals".to_string(), vals)
            }
        };
        let qualifier = if info.ty == Ty::Multi {
            match self.rng.weighted(&[45, 40, 15]) {
                0 => "ForAnyValue:",
                1 => "ForAllValues:",
                _ => "",
            }
        } else {
            match self.rng.weighted(&[88, 6, 6]) {
                0 => "",
                1 => "ForAnyValue:",
                _ => "ForAllValues:",
            }
        };
        let if_exists = if self.rng.chance(20) { "IfExists" } else { "" };
        let mut op = format!("{qualifier}{base}{if_exists}");
        if self.rng.chance(6) {
            op = op.to_lowercase();
        }
        let values = if self.lenient && self.rng.chance(3) {
            json!([])
        } else {
            self.condition_values(ty, values)
        };
        (op, key, values)
    }

    /// Values as JSON: one bare value or an array; numbers and booleans sometimes unquoted.
    fn condition_values(&mut self, ty: Ty, values: Vec<String>) -> Value {
        let scalars: Vec<Value> = values
            .into_iter()
            .map(|v| match ty {
                Ty::Num if self.rng.chance(30) => match v.parse::<i64>() {
                    Ok(n) => json!(n),
                    Err(_) => json!(v),
                },
                Ty::Bool if self.rng.chance(40) && (v == "true" || v == "false") => {
                    json!(v == "true")
                }
                _ => json!(v),
            })
            .collect();
        if scalars.len() == 1 && self.rng.chance(55) {
            scalars.into_iter().next().expect("one value")
        } else {
            Value::Array(scalars)
        }
    }

    /// A value of the key (if it has any) or a near miss.
    fn real_or_decoy(&mut self, info: &KeyInfo) -> (String, bool) {
        if !info.values.is_empty() && self.rng.chance(70) {
            (self.rng.pick(&info.values).clone(), true)
        } else {
            let decoy = match self.rng.below(4) {
                0 => "nope".to_string(),
                1 => self.rng.pick(TEAMS).to_string(),
                2 => self.rng.pick(USERS).to_string(),
                _ => format!("{}-x", self.rng.pick(ENVS)),
            };
            (decoy, false)
        }
    }

    fn string_condition(&mut self, info: &KeyInfo) -> (String, Vec<String>) {
        let ops: &[&str] = if self.hw {
            &[
                "StringEquals",
                "StringNotEquals",
                "StringEqualsIgnoreCase",
                "StringNotEqualsIgnoreCase",
                "StringLike",
                "StringNotLike",
                "StringMatch",
                "StringNotMatch",
                "StringStartWith",
                "StringNotStartWith",
                "StringEndWith",
                "StringNotEndWith",
            ]
        } else {
            &[
                "StringEquals",
                "StringNotEquals",
                "StringEqualsIgnoreCase",
                "StringNotEqualsIgnoreCase",
                "StringLike",
                "StringNotLike",
            ]
        };
        let base = *self.rng.pick(ops);
        let n = 1 + self.rng.weighted(&[60, 30, 10]);
        let mut values = Vec::new();
        for _ in 0..n {
            let (v, _) = self.real_or_decoy(info);
            let v = if base.contains("IgnoreCase") {
                random_case(&mut self.rng, &v)
            } else if base.contains("Like") || base.contains("Match") {
                match self.rng.below(5) {
                    0 => format!("{}*", cut(&mut self.rng, &v)),
                    1 => question(&mut self.rng, &v),
                    2 => "*".into(),
                    3 => format!("*{}", suffix(&v, 2)),
                    _ => v,
                }
            } else if base.contains("StartWith") {
                cut(&mut self.rng, &v)
            } else if base.contains("EndWith") {
                suffix(&v, 3).to_string()
            } else {
                v
            };
            values.push(v);
        }
        if self.rng.chance(15) {
            values[0] = self.variable_value(info);
        }
        (base.to_string(), values)
    }

    /// `${key}` or `${key, 'default'}` for a key that often holds the same values.
    fn variable_value(&mut self, info: &KeyInfo) -> String {
        let g = if self.hw { "g" } else { "aws" };
        if self.lenient && self.rng.chance(15) {
            return format!("${{{g}:username, nodefault}}");
        }
        let lower = info.name.to_lowercase();
        let var = if lower.contains("tag/team") {
            if lower.contains("principaltag") {
                format!("{g}:ResourceTag/team")
            } else {
                format!("{g}:PrincipalTag/team")
            }
        } else if lower.ends_with("prefix") || lower.contains("username") {
            if self.hw {
                "g:UserName".to_string()
            } else {
                "aws:username".to_string()
            }
        } else if lower.contains("account") {
            format!("{g}:PrincipalAccount")
        } else {
            self.pool[self.rng.below(self.pool.len())].name.clone()
        };
        if lower.ends_with("prefix") {
            return format!("home/${{{var}}}/");
        }
        if self.rng.chance(35) && !info.values.is_empty() {
            let default = self.rng.pick(&info.values).replace('\'', "");
            format!("${{{var}, '{default}'}}")
        } else {
            format!("${{{var}}}")
        }
    }

    fn numeric_condition(&mut self, info: &KeyInfo) -> (String, Vec<String>) {
        let suffixes = [
            "Equals",
            "NotEquals",
            "LessThan",
            "LessThanEquals",
            "GreaterThan",
            "GreaterThanEquals",
        ];
        let stem = if self.hw && self.rng.chance(70) {
            "Number"
        } else {
            "Numeric"
        };
        let base = format!("{stem}{}", self.rng.pick(&suffixes));
        let n = 1 + self.rng.weighted(&[75, 25]);
        let mut values = Vec::new();
        for _ in 0..n {
            let real = if info.ty == Ty::Num && !info.values.is_empty() {
                self.rng.pick(&info.values).clone()
            } else {
                "100".to_string()
            };
            let v = match real.parse::<i64>() {
                Ok(x) => {
                    let d = *self.rng.pick(&[0i64, 0, 1, -1, 100, -100]);
                    let y = x + d;
                    match self.rng.below(6) {
                        0 => format!("{y}.0"),
                        1 if y >= 0 => format!("+{y}"),
                        2 => format!("{y}.50"),
                        _ => y.to_string(),
                    }
                }
                Err(_) => real,
            };
            values.push(v);
        }
        if self.lenient && self.rng.chance(12) {
            values.push(["ten", "1e3", " 5", "0x10", ""][self.rng.below(5)].into());
        }
        (base, values)
    }

    fn date_condition(&mut self, info: &KeyInfo) -> (String, Vec<String>) {
        let suffixes = [
            "Equals",
            "NotEquals",
            "LessThan",
            "LessThanEquals",
            "GreaterThan",
            "GreaterThanEquals",
        ];
        let base = format!("Date{}", self.rng.pick(&suffixes));
        let n = 1 + self.rng.weighted(&[80, 20]);
        let mut values = Vec::new();
        for _ in 0..n {
            let real: i64 = if info.ty == Ty::Date && !info.values.is_empty() {
                self.rng.pick(&info.values).parse().unwrap_or(self.now)
            } else {
                self.now
            };
            let d = *self
                .rng
                .pick(&[0i64, 0, 1, -1, 3600, -3600, 86_400 * 30, -86_400 * 30]);
            let v = self.format_date(real + d, true);
            values.push(v);
        }
        if self.lenient && self.rng.chance(12) {
            values.push(["2026-13-45", "soon", "2026-11-22 10:00:00"][self.rng.below(3)].into());
        }
        (base, values)
    }

    fn bool_condition(&mut self, info: &KeyInfo) -> (String, Vec<String>) {
        let mut values = Vec::new();
        let v = if !info.values.is_empty() && info.ty == Ty::Bool && self.rng.chance(50) {
            self.rng.pick(&info.values).clone()
        } else if self.rng.chance(50) {
            "true".into()
        } else {
            "false".into()
        };
        values.push(if self.rng.chance(10) {
            v.to_uppercase()
        } else {
            v
        });
        if self.rng.chance(8) {
            values.push("false".into());
        }
        if self.vars && self.rng.chance(5) {
            values.push(format!(
                "${{{}:SecureTransport}}",
                if self.hw { "g" } else { "aws" }
            ));
        }
        if self.lenient && self.rng.chance(12) {
            values.push("yes".into());
        }
        ("Bool".into(), values)
    }

    fn ip_condition(&mut self, info: &KeyInfo) -> (String, Vec<String>) {
        let base = if self.rng.chance(60) {
            "IpAddress"
        } else {
            "NotIpAddress"
        };
        let n = 1 + self.rng.weighted(&[60, 30, 10]);
        let mut values = Vec::new();
        for _ in 0..n {
            let v = match self.rng.below(5) {
                0 if info.ty == Ty::Ip && !info.values.is_empty() => {
                    let ip = self.rng.pick(&info.values).clone();
                    match ip.rsplit_once('.') {
                        Some((net, _)) if !ip.contains(':') => format!("{net}.0/24"),
                        _ => ip,
                    }
                }
                1 => "203.0.113.7/24".into(),
                _ => self.rng.pick(NETS).cidr.to_string(),
            };
            values.push(v);
        }
        if self.lenient && self.rng.chance(12) {
            values.push(
                [
                    "10.0.0.0/33",
                    "256.1.1.1",
                    "010.0.0.1/8",
                    "fe80::1%eth0",
                    "not-a-cidr",
                ][self.rng.below(5)]
                .into(),
            );
        }
        (base.into(), values)
    }

    fn arn_condition(&mut self, info: &KeyInfo) -> (String, Vec<String>) {
        let base = *self.rng.pick(&[
            "ArnEquals",
            "ArnLike",
            "ArnNotEquals",
            "ArnNotLike",
            "StringLike",
        ]);
        let n = 1 + self.rng.weighted(&[70, 30]);
        let mut values = Vec::new();
        for _ in 0..n {
            let real = if info.ty == Ty::Arn && !info.values.is_empty() && self.rng.chance(75) {
                self.rng.pick(&info.values).clone()
            } else {
                let acct = self.other_account();
                format!("arn:aws:iam::{acct}:role/{}", self.rng.pick(ROLES))
            };
            let v = match self.rng.below(6) {
                0 | 1 => real,
                2 => match split_arn_head(&real) {
                    Some((head, tail)) => format!("{head}:{}*", cut(&mut self.rng, tail)),
                    None => real,
                },
                3 => match split_arn_head(&real) {
                    Some((head, tail)) => {
                        let h: Vec<&str> = head.split(':').collect();
                        format!("arn:aws:{}:*:*:{tail}", h[2])
                    }
                    None => real,
                },
                4 => "arn:aws:iam::${aws:PrincipalAccount}:role/*".into(),
                _ => match split_arn_head(&real) {
                    Some((head, tail)) => format!("{head}:{}", question(&mut self.rng, tail)),
                    None => real,
                },
            };
            values.push(v);
        }
        if self.lenient && self.rng.chance(12) {
            values.push("arn:aws:s3".into());
        }
        (base.into(), values)
    }

    // -----------------------------------------------------------------------------------
    // Dates

    /// `t` in one of the accepted date formats (R-OPD-2). With `coarse`, date-only forms
    /// (which move the instant to midnight) are allowed too.
    fn format_date(&mut self, t: i64, coarse: bool) -> String {
        match self.rng.below(if coarse { 8 } else { 6 }) {
            0..=2 => iso(t, 0),
            3 => iso(t, 2 * 3600),
            4 => t.to_string(),
            5 => {
                let s = iso(t, 0);
                format!("{}.123Z", &s[..s.len() - 1])
            }
            6 => iso(t, 0)[..10].to_string(),
            _ => iso(t, 0)[..16].to_string() + "Z",
        }
    }
}

// ---------------------------------------------------------------------------------------
// Helpers

fn policies_have_version(p: &Map<String, Value>) -> bool {
    fn any(v: &Value) -> bool {
        match v {
            Value::Object(m) => m.iter().any(|(k, v)| {
                (k == "Version" && matches!(v.as_str(), Some("5.0" | "1.1"))) || any(v)
            }),
            Value::Array(items) => items.iter().any(any),
            _ => false,
        }
    }
    p.values().any(any)
}

/// `"arn:p:s:r:a"` and the resource part of an ARN.
fn split_arn_head(arn: &str) -> Option<(&str, &str)> {
    if !arn.starts_with("arn:") {
        return None;
    }
    let mut idx = 0;
    for _ in 0..5 {
        idx += arn[idx..].find(':')? + 1;
    }
    Some((&arn[..idx - 1], &arn[idx..]))
}

/// One value bare (sometimes) or the list.
fn one_or_many(rng: &mut Rng, items: Vec<String>) -> Value {
    if items.len() == 1 && rng.chance(60) {
        json!(items[0])
    } else {
        json!(items)
    }
}

fn prefix(s: &str, n: usize) -> &str {
    let end = s.char_indices().nth(n).map_or(s.len(), |(i, _)| i);
    &s[..end]
}

fn suffix(s: &str, n: usize) -> &str {
    let count = s.chars().count();
    if count <= n {
        return s;
    }
    let start = s.char_indices().nth(count - n).map_or(0, |(i, _)| i);
    &s[start..]
}

/// A prefix of `s` of random length.
fn cut(rng: &mut Rng, s: &str) -> String {
    let count = s.chars().count();
    prefix(s, rng.below(count + 1)).to_string()
}

/// `s` with one character replaced by `?`.
fn question(rng: &mut Rng, s: &str) -> String {
    let count = s.chars().count();
    if count == 0 {
        return "?".into();
    }
    let at = rng.below(count);
    s.chars()
        .enumerate()
        .map(|(i, c)| if i == at { '?' } else { c })
        .collect()
}

/// `s` with each ASCII letter's case flipped at random.
fn random_case(rng: &mut Rng, s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphabetic() && rng.chance(50) {
                if c.is_ascii_lowercase() {
                    c.to_ascii_uppercase()
                } else {
                    c.to_ascii_lowercase()
                }
            } else {
                c
            }
        })
        .collect()
}

/// `YYYY-MM-DDThh:mm:ss` plus `Z` (offset 0) or `±hh:mm`, for the instant `t`.
fn iso(t: i64, offset: i64) -> String {
    let local = t + offset;
    let days = local.div_euclid(86_400);
    let secs = local.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let tz = if offset == 0 {
        "Z".to_string()
    } else {
        let sign = if offset < 0 { '-' } else { '+' };
        let o = offset.abs();
        format!("{sign}{:02}:{:02}", o / 3600, (o % 3600) / 60)
    };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}{tz}",
        secs / 3600,
        (secs % 3600) / 60,
        secs % 60
    )
}

/// Howard Hinnant's `civil_from_days`.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_formatted_as_the_parser_reads_them() {
        assert_eq!(iso(BASE_TIME, 0), "2026-11-22T10:30:00Z");
        assert_eq!(iso(BASE_TIME, 7200), "2026-11-22T12:30:00+02:00");
        assert_eq!(iso(0, 0), "1970-01-01T00:00:00Z");
    }

    #[test]
    fn the_same_seed_gives_the_same_case() {
        for seed in 0..50 {
            assert_eq!(generate_case(seed), generate_case(seed));
        }
        assert_ne!(generate_case(1), generate_case(2));
    }

    #[test]
    fn arn_heads_split_after_the_fifth_colon() {
        assert_eq!(
            split_arn_head("arn:aws:logs:us-east-1:1:log-group:a:b"),
            Some(("arn:aws:logs:us-east-1:1", "log-group:a:b"))
        );
        assert_eq!(split_arn_head("arn:aws:s3"), None);
    }
}
