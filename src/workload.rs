//! The standard benchmark workload, generated in-process.
//!
//! This is a byte-exact port of the project's benchmark generator `gen_workload.py`
//! (`python3 gen_workload.py OUT_DIR N SEED [--no-inline-policies] [--flat]`): 20 IAM
//! statements in 3 identity policies, and N cases in the CASES.md format (no `expect`) —
//! 70% direct calls (one hop), 20% two-hop and 10% three-hop FAS chains. It exists so that a
//! benchmark on a fresh clone needs nothing outside this repository (no Python, no
//! pre-generated files of hundreds of MB): for every `(n, seed)` the text produced here is
//! byte-identical to what the Python script writes, so figures stay comparable with the
//! published ones (standard figures use seed 42; N = 20,000 for quick checks, 100,000 for
//! the anchor figures).
//!
//! Exactness rests on two ports:
//! * Python's `random.Random(seed)`: MT19937 seeded with `init_by_array` from the seed's
//!   32-bit words, `random()` from two outputs (`a >> 5`, `b >> 6`), and `choice` /
//!   `randrange` through `_randbelow` (rejection sampling on `getrandbits(n.bit_length())`).
//!   These are the only sampling methods the script uses.
//! * Python's `json.dumps`: compact separators (`","`, `":"`) for the JSON lines, `indent=1`
//!   for `policies.json` (no trailing newline), insertion-ordered objects, `ensure_ascii`.
//!
//! What the files are:
//! * `policies.json` — [`policies_json`], also [`Workload::policies_json`];
//! * `requests.jsonl` — one case a line ([`generate`], [`generate_each`]); with
//!   `inline_policies` every case carries the policy set (`"policies":{"identity":[…]}`,
//!   about 4.5 kB a line), without it the member is left out (about 0.8 kB a line, not a
//!   complete CASES.md case: for a bench that loads [`policies_json`] once);
//! * `hops.jsonl` (`--flat`) — one line per hop, `{"id","principal","action","resource",
//!   "context"}`, with the hop context already derived (SEMANTICS.md R-FAS-4, for the keys
//!   this workload uses), for engines with no chain model ([`generate_each_flat`]).
//!
//! [`write_dir`] writes the same files as the script.
//!
//! ```
//! use fastiam::workload;
//!
//! // Stream the cases (100,000 inline cases are about 455 MB; nothing need be held).
//! let mut bytes = 0;
//! let shapes = workload::generate_each(1_000, 42, true, |line| bytes += line.len() + 1);
//! assert_eq!(shapes.cases(), 1_000);
//! assert!(bytes > 1_000 * 4_000);
//!
//! // Or hold them: the policy set once, and lines without the inline policies.
//! let w = workload::generate(20, 42, false);
//! assert!(w.cases[0].starts_with(r#"{"id":"w000000","dialect":"aws","#));
//! assert!(w.policies_json.starts_with("{\n \"identityPolicies\": ["));
//! assert_eq!(w.shapes.hops(), 28);
//! ```

use std::borrow::Cow;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

// ---------------------------------------------------------------------------------------
// Python's random.Random (CPython 3.x, Modules/_randommodule.c and Lib/random.py)
// ---------------------------------------------------------------------------------------

const MT_N: usize = 624;
const MT_M: usize = 397;

/// MT19937 exactly as CPython's `random.Random` uses it.
struct PyRandom {
    mt: [u32; MT_N],
    index: usize,
}

impl PyRandom {
    /// `random.Random(seed)` for a non-negative integer seed: `init_by_array` with the
    /// seed's 32-bit words, least significant first (one word for 0).
    fn new(seed: u64) -> PyRandom {
        let lo = seed as u32;
        let hi = (seed >> 32) as u32;
        let key: &[u32] = if hi == 0 { &[lo] } else { &[lo, hi] };
        let mut r = PyRandom {
            mt: [0; MT_N],
            index: MT_N,
        };
        r.init_by_array(key);
        r
    }

    fn init_genrand(&mut self, s: u32) {
        self.mt[0] = s;
        for i in 1..MT_N {
            let prev = self.mt[i - 1];
            self.mt[i] = 1_812_433_253u32
                .wrapping_mul(prev ^ (prev >> 30))
                .wrapping_add(i as u32);
        }
        self.index = MT_N;
    }

    fn init_by_array(&mut self, key: &[u32]) {
        self.init_genrand(19_650_218);
        let mt = &mut self.mt;
        let (mut i, mut j) = (1usize, 0usize);
        for _ in 0..MT_N.max(key.len()) {
            let prev = mt[i - 1];
            mt[i] = (mt[i] ^ (prev ^ (prev >> 30)).wrapping_mul(1_664_525))
                .wrapping_add(key[j])
                .wrapping_add(j as u32);
            i += 1;
            j += 1;
            if i >= MT_N {
                mt[0] = mt[MT_N - 1];
                i = 1;
            }
            if j >= key.len() {
                j = 0;
            }
        }
        for _ in 0..MT_N - 1 {
            let prev = mt[i - 1];
            mt[i] =
                (mt[i] ^ (prev ^ (prev >> 30)).wrapping_mul(1_566_083_941)).wrapping_sub(i as u32);
            i += 1;
            if i >= MT_N {
                mt[0] = mt[MT_N - 1];
                i = 1;
            }
        }
        mt[0] = 0x8000_0000;
    }

    fn next_u32(&mut self) -> u32 {
        const UPPER: u32 = 0x8000_0000;
        const LOWER: u32 = 0x7fff_ffff;
        const MATRIX_A: u32 = 0x9908_b0df;
        if self.index >= MT_N {
            let mt = &mut self.mt;
            for k in 0..MT_N {
                let y = (mt[k] & UPPER) | (mt[(k + 1) % MT_N] & LOWER);
                let mag = if y & 1 == 1 { MATRIX_A } else { 0 };
                mt[k] = mt[(k + MT_M) % MT_N] ^ (y >> 1) ^ mag;
            }
            self.index = 0;
        }
        let mut y = self.mt[self.index];
        self.index += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^ (y >> 18)
    }

    /// `random()`: 53 bits from two outputs.
    fn random(&mut self) -> f64 {
        let a = (self.next_u32() >> 5) as f64;
        let b = (self.next_u32() >> 6) as f64;
        (a * 67_108_864.0 + b) * (1.0 / 9_007_199_254_740_992.0)
    }

    /// `getrandbits(k)` for `1 <= k <= 64`: 32-bit words least significant first, the last
    /// word shifted right to drop its surplus low bits.
    fn getrandbits(&mut self, k: u32) -> u64 {
        debug_assert!((1..=64).contains(&k));
        if k <= 32 {
            return u64::from(self.next_u32() >> (32 - k));
        }
        let low = u64::from(self.next_u32());
        let high = u64::from(self.next_u32() >> (64 - k));
        low | (high << 32)
    }

    /// `_randbelow(n)` (`_randbelow_with_getrandbits`), hence `randrange(n)`; `n > 0`.
    fn randbelow(&mut self, n: u64) -> u64 {
        let k = u64::BITS - n.leading_zeros(); // n.bit_length(), not (n - 1)'s
        loop {
            let r = self.getrandbits(k);
            if r < n {
                return r;
            }
        }
    }

    /// `choice(seq)` on a non-empty slice.
    fn choice<T: Copy>(&mut self, seq: &[T]) -> T {
        seq[self.randbelow(seq.len() as u64) as usize]
    }
}

// ---------------------------------------------------------------------------------------
// JSON text, formatted as Python's json.dumps formats it
// ---------------------------------------------------------------------------------------

/// A JSON string literal with `ensure_ascii=True` escaping.
fn push_json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{u:04x}"));
                }
            }
        }
    }
    out.push('"');
}

/// A static JSON tree (the policy documents).
enum J {
    S(&'static str),
    A(Vec<J>),
    O(Vec<(&'static str, J)>),
}

impl J {
    /// `json.dumps(v, separators=(",", ":"))`.
    fn compact(&self, out: &mut String) {
        match self {
            J::S(s) => push_json_str(out, s),
            J::A(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.compact(out);
                }
                out.push(']');
            }
            J::O(members) => {
                out.push('{');
                for (i, (k, v)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    push_json_str(out, k);
                    out.push(':');
                    v.compact(out);
                }
                out.push('}');
            }
        }
    }

    /// `json.dumps(v, indent=1)` (item separator `","`, key separator `": "`).
    fn indented(&self, level: usize, out: &mut String) {
        fn newline(out: &mut String, level: usize) {
            out.push('\n');
            out.extend(std::iter::repeat_n(' ', level));
        }
        match self {
            J::S(s) => push_json_str(out, s),
            J::A(items) if items.is_empty() => out.push_str("[]"),
            J::O(members) if members.is_empty() => out.push_str("{}"),
            J::A(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    newline(out, level + 1);
                    item.indented(level + 1, out);
                }
                newline(out, level);
                out.push(']');
            }
            J::O(members) => {
                out.push('{');
                for (i, (k, v)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    newline(out, level + 1);
                    push_json_str(out, k);
                    out.push_str(": ");
                    v.indented(level + 1, out);
                }
                newline(out, level);
                out.push('}');
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// The policy set
// ---------------------------------------------------------------------------------------

macro_rules! acct {
    () => {
        "111122223333"
    };
}
const ACCT: &str = acct!();
const PRINCIPAL: &str = concat!("arn:aws:sts::", acct!(), ":assumed-role/DataRole/alice");
const V: &str = "2012-10-17";
const CORP: [&str; 2] = ["10.0.0.0/8", "192.0.2.0/24"];
/// `KEY_POLICY`, compact.
const KEY_POLICY_JSON: &str = concat!(
    r#"{"Version":"2012-10-17","Statement":[{"Sid":"EnableIAMPolicies","Effect":"Allow","#,
    r#""Principal":{"AWS":"arn:aws:iam::"#,
    acct!(),
    r#":root"},"Action":"kms:*","Resource":"*"}]}"#
);

fn s(v: &'static str) -> J {
    J::S(v)
}

fn a(v: &[&'static str]) -> J {
    J::A(v.iter().map(|x| J::S(x)).collect())
}

/// `{op: {key: value}, ...}`
fn cond(ops: Vec<(&'static str, &'static str, J)>) -> Option<J> {
    Some(J::O(
        ops.into_iter()
            .map(|(op, key, v)| (op, J::O(vec![(key, v)])))
            .collect(),
    ))
}

/// The script's `S(...)`: `Sid`, `Effect`, `[Not]Action`, `[Not]Resource`, `Condition`.
fn stmt(
    sid: &'static str,
    effect: &'static str,
    (action_key, action): (&'static str, J),
    (resource_key, resource): (&'static str, J),
    condition: Option<J>,
) -> J {
    let mut m = vec![
        ("Sid", J::S(sid)),
        ("Effect", J::S(effect)),
        (action_key, action),
        (resource_key, resource),
    ];
    if let Some(c) = condition {
        m.push(("Condition", c));
    }
    J::O(m)
}

fn act(v: J) -> (&'static str, J) {
    ("Action", v)
}

fn res(v: J) -> (&'static str, J) {
    ("Resource", v)
}

/// The 3 identity policies as `(name, policy document)`.
fn policy_documents() -> Vec<(&'static str, J)> {
    let p1 = vec![
        stmt(
            "S01ReadDataFromCorp",
            "Allow",
            act(a(&["s3:GetObject", "s3:GetObjectVersion"])),
            res(s("arn:aws:s3:::data-*/*")),
            cond(vec![("IpAddress", "aws:SourceIp", a(&CORP))]),
        ),
        stmt(
            "S02ReadDataViaAnalytics",
            "Allow",
            act(a(&["s3:GetObject"])),
            res(s("arn:aws:s3:::data-*/*")),
            cond(vec![(
                "ForAnyValue:StringEquals",
                "aws:CalledVia",
                a(&["athena.amazonaws.com", "glue.amazonaws.com"]),
            )]),
        ),
        stmt(
            "S03WriteIncoming",
            "Allow",
            act(a(&["s3:PutObject"])),
            res(s("arn:aws:s3:::data-*/incoming/*")),
            cond(vec![
                ("StringEquals", "aws:PrincipalTag/Team", s("ingest")),
                ("Bool", "aws:SecureTransport", s("true")),
            ]),
        ),
        stmt(
            "S04List",
            "Allow",
            act(s("s3:ListBucket")),
            res(s("arn:aws:s3:::data-*")),
            None,
        ),
        stmt(
            "S05Home",
            "Allow",
            act(a(&["s3:GetObject", "s3:PutObject", "s3:DeleteObject"])),
            res(s("arn:aws:s3:::home-bucket/${aws:username}/*")),
            None,
        ),
        stmt(
            "S06DenyStaleMfaDelete",
            "Deny",
            act(s("s3:DeleteObject")),
            res(s("arn:aws:s3:::data-*/*")),
            cond(vec![(
                "NumericGreaterThan",
                "aws:MultiFactorAuthAge",
                s("3600"),
            )]),
        ),
        stmt(
            "S07DenyOutsideCorp",
            "Deny",
            act(s("s3:*")),
            res(s("*")),
            cond(vec![
                ("NotIpAddress", "aws:SourceIp", a(&CORP)),
                ("Bool", "aws:ViaAWSService", s("false")),
            ]),
        ),
    ];
    let p2 = vec![
        stmt(
            "S08DdbRead",
            "Allow",
            act(a(&[
                "dynamodb:GetItem",
                "dynamodb:Query",
                "dynamodb:BatchGetItem",
            ])),
            res(s(concat!("arn:aws:dynamodb:*:", acct!(), ":table/app-*"))),
            None,
        ),
        stmt(
            "S09DdbWrite",
            "Allow",
            act(a(&["dynamodb:PutItem", "dynamodb:UpdateItem"])),
            res(s(concat!("arn:aws:dynamodb:*:", acct!(), ":table/app-*"))),
            cond(vec![(
                "StringEquals",
                "aws:RequestedRegion",
                a(&["us-east-1", "eu-west-1"]),
            )]),
        ),
        stmt(
            "S10Sqs",
            "Allow",
            act(a(&["sqs:SendMessage", "sqs:ReceiveMessage"])),
            res(s(concat!("arn:aws:sqs:*:", acct!(), ":queue-*"))),
            None,
        ),
        stmt(
            "S11Lambda",
            "Allow",
            act(s("lambda:InvokeFunction")),
            res(s(concat!("arn:aws:lambda:*:", acct!(), ":function:svc-*"))),
            cond(vec![("StringLike", "aws:PrincipalTag/Team", s("*"))]),
        ),
        stmt(
            "S12KmsViaService",
            "Allow",
            act(s("kms:Decrypt")),
            res(s(concat!("arn:aws:kms:*:", acct!(), ":key/*"))),
            cond(vec![(
                "ForAnyValue:StringLike",
                "aws:CalledVia",
                a(&["s3.amazonaws.com", "dynamodb.amazonaws.com"]),
            )]),
        ),
        stmt(
            "S13KmsDirectOnlySecurity",
            "Deny",
            act(s("kms:Decrypt")),
            res(s("*")),
            cond(vec![
                ("Null", "aws:CalledVia", s("true")),
                ("StringNotEquals", "aws:PrincipalTag/Team", s("security")),
            ]),
        ),
        stmt(
            "S14Ec2Describe",
            "Allow",
            act(a(&["ec2:DescribeInstances", "ec2:DescribeVolumes"])),
            res(s("*")),
            None,
        ),
    ];
    let p3 = vec![
        stmt(
            "S15Ec2Abac",
            "Allow",
            act(a(&["ec2:StartInstances", "ec2:StopInstances"])),
            res(s(concat!("arn:aws:ec2:*:", acct!(), ":instance/*"))),
            cond(vec![(
                "StringEquals",
                "aws:ResourceTag/Project",
                s("${aws:PrincipalTag/Project}"),
            )]),
        ),
        stmt(
            "S16RegionLock",
            "Deny",
            act(a(&["ec2:*", "dynamodb:*"])),
            res(s("*")),
            cond(vec![
                (
                    "StringNotEqualsIfExists",
                    "aws:RequestedRegion",
                    a(&["us-east-1", "eu-west-1"]),
                ),
                ("BoolIfExists", "aws:ViaAWSService", s("false")),
            ]),
        ),
        stmt(
            "S17Expiry",
            "Deny",
            act(s("*")),
            res(s("*")),
            cond(vec![(
                "DateGreaterThan",
                "aws:CurrentTime",
                s("2030-01-01T00:00:00Z"),
            )]),
        ),
        stmt(
            "S18AnalyticsNotAction",
            "Allow",
            (
                "NotAction",
                a(&[
                    "iam:*",
                    "organizations:*",
                    "account:*",
                    "s3:*",
                    "kms:*",
                    "dynamodb:*",
                    "ec2:*",
                ]),
            ),
            res(s("*")),
            cond(vec![(
                "StringEquals",
                "aws:PrincipalTag/Team",
                s("analytics"),
            )]),
        ),
        stmt(
            "S19PutOnlyKnownBuckets",
            "Deny",
            act(s("s3:PutObject")),
            (
                "NotResource",
                a(&[
                    "arn:aws:s3:::data-*",
                    "arn:aws:s3:::data-*/*",
                    "arn:aws:s3:::home-bucket/*",
                ]),
            ),
            None,
        ),
        stmt(
            "S20NoIam",
            "Deny",
            act(s("iam:*")),
            res(s("*")),
            cond(vec![(
                "ArnNotLike",
                "aws:PrincipalArn",
                s(concat!("arn:aws:iam::", acct!(), ":role/Admin*")),
            )]),
        ),
    ];
    let doc =
        |statements: Vec<J>| J::O(vec![("Version", J::S(V)), ("Statement", J::A(statements))]);
    vec![
        ("DataAccess", doc(p1)),
        ("AppServices", doc(p2)),
        ("Guardrails", doc(p3)),
    ]
}

/// The text of `policies.json` (`json.dump(policies, f, indent=1)`: no trailing newline):
/// `{"identityPolicies":[{"name","policy"}, …]}` with the 20 statements (`DataAccess` 7,
/// `AppServices` 7, `Guardrails` 6). Byte-identical to the `policies.json` shipped
/// with `gen_workload.py`.
pub fn policies_json() -> String {
    let list = policy_documents()
        .into_iter()
        .map(|(name, policy)| J::O(vec![("name", J::S(name)), ("policy", policy)]))
        .collect();
    let mut out = String::with_capacity(6_100);
    J::O(vec![("identityPolicies", J::A(list))]).indented(0, &mut out);
    out
}

/// The CASES.md `policies` member every inline case carries (compact):
/// `{"identity":[{"id":"DataAccess","document":{…}}, …]}`.
pub fn inline_policies_json() -> String {
    let list = policy_documents()
        .into_iter()
        .map(|(name, policy)| J::O(vec![("id", J::S(name)), ("document", policy)]))
        .collect();
    let mut out = String::with_capacity(3_600);
    J::O(vec![("identity", J::A(list))]).compact(&mut out);
    out
}

// ---------------------------------------------------------------------------------------
// Cases
// ---------------------------------------------------------------------------------------

/// A context value: a string, or a list of strings (`aws:CalledVia`).
#[derive(Clone)]
enum Val {
    S(Cow<'static, str>),
    L(Vec<&'static str>),
}

/// An insertion-ordered context, with Python `dict` update semantics.
#[derive(Clone, Default)]
struct Ctx(Vec<(&'static str, Val)>);

impl Ctx {
    fn get(&self, key: &str) -> Option<&Val> {
        self.0.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    /// `d[key] = v`: replaced in place if present, else appended.
    fn set(&mut self, key: &'static str, v: Val) {
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = v,
            None => self.0.push((key, v)),
        }
    }

    /// `d.setdefault(key, v)`.
    fn set_default(&mut self, key: &'static str, v: &'static str) {
        if self.get(key).is_none() {
            self.0.push((key, Val::S(Cow::Borrowed(v))));
        }
    }

    fn set_str(&mut self, key: &'static str, v: impl Into<Cow<'static, str>>) {
        self.set(key, Val::S(v.into()));
    }

    fn remove(&mut self, key: &str) {
        self.0.retain(|(k, _)| *k != key);
    }

    fn write(&self, out: &mut String) {
        out.push('{');
        for (i, (k, v)) in self.0.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            push_json_str(out, k);
            out.push(':');
            match v {
                Val::S(s) => push_json_str(out, s),
                Val::L(items) => {
                    out.push('[');
                    for (j, item) in items.iter().enumerate() {
                        if j > 0 {
                            out.push(',');
                        }
                        push_json_str(out, item);
                    }
                    out.push(']');
                }
            }
        }
        out.push('}');
    }
}

/// One hop of a chain: `{"via"?, "action", "resource", "resource_policy"?, "context"?}`.
struct Hop {
    via: Option<&'static str>,
    action: &'static str,
    resource: String,
    /// carries `KEY_POLICY` as `resource_policy`
    key_policy: bool,
    context: Ctx,
}

impl Hop {
    fn new(action: &'static str, resource: String) -> Hop {
        Hop {
            via: None,
            action,
            resource,
            key_policy: false,
            context: Ctx::default(),
        }
    }

    fn via(via: &'static str, action: &'static str, resource: String) -> Hop {
        Hop {
            via: Some(via),
            ..Hop::new(action, resource)
        }
    }

    fn write(&self, out: &mut String) {
        out.push('{');
        if let Some(via) = self.via {
            out.push_str("\"via\":");
            push_json_str(out, via);
            out.push(',');
        }
        out.push_str("\"action\":");
        push_json_str(out, self.action);
        out.push_str(",\"resource\":");
        push_json_str(out, &self.resource);
        if self.key_policy {
            out.push_str(",\"resource_policy\":");
            out.push_str(KEY_POLICY_JSON);
        }
        if !self.context.0.is_empty() {
            out.push_str(",\"context\":");
            self.context.write(out);
        }
        out.push('}');
    }
}

struct Case {
    index: usize,
    context: Ctx,
    chain: Vec<Hop>,
}

impl Case {
    fn write_id(&self, out: &mut String) {
        // f"w{i:06d}"; ids are plain ASCII, no escaping needed
        use std::fmt::Write as _;
        let _ = write!(out, "w{:06}", self.index);
    }

    /// The requests.jsonl line (no newline); `policies` is the compact `policies` member.
    fn write(&self, policies: Option<&str>, out: &mut String) {
        out.push_str("{\"id\":\"");
        self.write_id(out);
        out.push_str("\",\"dialect\":\"aws\",\"principal\":");
        push_json_str(out, PRINCIPAL);
        out.push_str(",\"context\":");
        self.context.write(out);
        out.push_str(",\"chain\":[");
        for (i, hop) in self.chain.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            hop.write(out);
        }
        out.push(']');
        if let Some(p) = policies {
            out.push_str(",\"policies\":");
            out.push_str(p);
        }
        out.push('}');
    }

    /// The script's `flat_hops`: one line per hop with the derived hop context.
    fn write_flat_hops(&self, line: &mut String, on_hop: &mut dyn FnMut(&str)) {
        let mut ctx = self.context.clone();
        ctx.set_default("aws:PrincipalAccount", ACCT);
        ctx.set_default("aws:PrincipalType", "AssumedRole");
        ctx.set_default("aws:PrincipalIsAWSService", "false");
        for (k, v) in &self.chain[0].context.0 {
            ctx.set(k, v.clone());
        }
        for (i, hop) in self.chain.iter().enumerate() {
            if i > 0 {
                ctx = derive_hop_context(&ctx, hop);
            }
            line.clear();
            line.push_str("{\"id\":\"");
            self.write_id(line);
            line.push('#');
            line.push_str(&i.to_string());
            line.push_str("\",\"principal\":");
            push_json_str(line, PRINCIPAL);
            line.push_str(",\"action\":");
            push_json_str(line, hop.action);
            line.push_str(",\"resource\":");
            push_json_str(line, &hop.resource);
            line.push_str(",\"context\":");
            ctx.write(line);
            line.push('}');
            on_hop(line);
        }
    }
}

/// The script's `derive_hop_context`: SEMANTICS.md R-FAS-4 for the keys this workload uses.
fn derive_hop_context(parent: &Ctx, hop: &Hop) -> Ctx {
    const DROPPED: [&str; 8] = [
        "aws:SourceVpc",
        "aws:SourceVpce",
        "aws:VpcSourceIp",
        "aws:CalledVia",
        "aws:CalledViaFirst",
        "aws:CalledViaLast",
        "aws:UserAgent",
        "aws:SecureTransport",
    ];
    let mut c = Ctx(parent
        .0
        .iter()
        .filter(|(k, _)| {
            !DROPPED.contains(k)
                && k.starts_with("aws:")
                && !k.starts_with("aws:ResourceTag/")
                && !k.starts_with("aws:RequestTag/")
        })
        .cloned()
        .collect());
    let mut called = match parent.get("aws:CalledVia") {
        Some(Val::L(list)) => list.clone(),
        _ => Vec::new(),
    };
    let via = hop.via.expect("forwarded hops carry `via`");
    if crate::request::DEFAULT_CALLED_VIA_SERVICES.contains(&via) {
        called.push(via);
    }
    if let (Some(&first), Some(&last)) = (called.first(), called.last()) {
        c.set("aws:CalledVia", Val::L(called));
        c.set_str("aws:CalledViaFirst", first);
        c.set_str("aws:CalledViaLast", last);
    }
    c.set_str("aws:ViaAWSService", "true");
    c.set_str("aws:PrincipalIsAWSService", "false");
    let mfa = match parent.get("aws:MultiFactorAuthPresent") {
        Some(v) => v.clone(),
        None => Val::S(Cow::Borrowed("false")),
    };
    c.set("aws:MultiFactorAuthPresent", mfa);
    c.set_str("aws:SecureTransport", "true");
    c.set_str("aws:UserAgent", via);
    for (k, v) in &hop.context.0 {
        c.set(k, v.clone());
    }
    c
}

const BUCKETS: [&str; 4] = ["data-raw", "data-curated", "home-bucket", "logs-archive"];
const REGIONS: [&str; 3] = ["us-east-1", "eu-west-1", "ap-southeast-2"];
const TABLES: [&str; 3] = ["app-orders", "app-users", "legacy"];
const QUEUES: [&str; 3] = ["queue-a", "queue-b", "dlq"];

fn s3_object(rng: &mut PyRandom, bucket: Option<&str>) -> String {
    let b = match bucket {
        Some(b) => b,
        None => rng.choice(&BUCKETS),
    };
    let prefix = rng.choice(&["incoming", "reports", "alice", "bob", "tmp"]);
    format!(
        "arn:aws:s3:::{b}/{prefix}/obj{}.parquet",
        rng.randbelow(1000)
    )
}

fn kms_key(rng: &mut PyRandom, region: &str) -> String {
    format!(
        "arn:aws:kms:{region}:{ACCT}:key/{:08x}-1111-2222-3333-444455556666",
        rng.randbelow(16)
    )
}

fn kms_hop(rng: &mut PyRandom, region: &'static str, via: &'static str, via_host: &str) -> Hop {
    let mut hop = Hop::via(via, "kms:Decrypt", kms_key(rng, region));
    hop.key_policy = true;
    hop.context.set_str(
        "kms:ViaService",
        format!("{via_host}.{region}.amazonaws.com"),
    );
    hop.context.set_str("kms:CallerAccount", ACCT);
    hop
}

fn athena_hop(region: &str) -> Hop {
    Hop::new(
        "athena:StartQueryExecution",
        format!("arn:aws:athena:{region}:{ACCT}:workgroup/primary"),
    )
}

fn ddb_table(rng: &mut PyRandom, region: &str) -> String {
    format!(
        "arn:aws:dynamodb:{region}:{ACCT}:table/{}",
        rng.choice(&TABLES)
    )
}

/// The original single-request shapes (direct calls).
fn direct_request(rng: &mut PyRandom, region: &'static str) -> Vec<Hop> {
    let kind = rng.random();
    let (action, resource) = if kind < 0.45 {
        let action = rng.choice(&[
            "s3:GetObject",
            "s3:GetObject",
            "s3:PutObject",
            "s3:DeleteObject",
            "s3:ListBucket",
            "s3:GetObjectVersion",
        ]);
        let b = rng.choice(&BUCKETS);
        let resource = if action == "s3:ListBucket" {
            format!("arn:aws:s3:::{b}")
        } else {
            s3_object(rng, Some(b))
        };
        (action, resource)
    } else if kind < 0.65 {
        let action = rng.choice(&[
            "dynamodb:GetItem",
            "dynamodb:Query",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
        ]);
        (action, ddb_table(rng, region))
    } else if kind < 0.75 {
        ("kms:Decrypt", kms_key(rng, region))
    } else if kind < 0.83 {
        let action = rng.choice(&[
            "ec2:DescribeInstances",
            "ec2:StartInstances",
            "ec2:StopInstances",
        ]);
        let resource = if action == "ec2:DescribeInstances" {
            "*".to_string()
        } else {
            format!(
                "arn:aws:ec2:{region}:{ACCT}:instance/i-{:08x}",
                rng.randbelow(1 << 32)
            )
        };
        (action, resource)
    } else if kind < 0.90 {
        let action = rng.choice(&["sqs:SendMessage", "sqs:ReceiveMessage"]);
        let q = rng.choice(&QUEUES);
        (action, format!("arn:aws:sqs:{region}:{ACCT}:{q}"))
    } else if kind < 0.96 {
        let f = rng.choice(&["svc-api", "svc-etl", "adhoc"]);
        (
            "lambda:InvokeFunction",
            format!("arn:aws:lambda:{region}:{ACCT}:function:{f}"),
        )
    } else {
        let action = rng.choice(&["iam:GetRole", "iam:PassRole"]);
        let role = rng.choice(&["AppRole", "AdminRole"]);
        (action, format!("arn:aws:iam::{ACCT}:role/{role}"))
    };
    let mut hop = Hop::new(action, resource);
    if action.starts_with("kms:") {
        hop.key_policy = true;
    }
    if action.starts_with("ec2:") && action != "ec2:DescribeInstances" {
        hop.context
            .set_str("aws:ResourceTag/Project", rng.choice(&["apollo", "gemini"]));
    }
    vec![hop]
}

fn chain2(rng: &mut PyRandom, region: &'static str) -> Vec<Hop> {
    let k = rng.random();
    if k < 0.30 {
        // Athena query reads S3
        let obj = s3_object(rng, None);
        vec![
            athena_hop(region),
            Hop::via("athena.amazonaws.com", "s3:GetObject", obj),
        ]
    } else if k < 0.60 {
        // S3 SSE-KMS
        let obj = s3_object(rng, None);
        vec![
            Hop::new("s3:GetObject", obj),
            kms_hop(rng, region, "s3.amazonaws.com", "s3"),
        ]
    } else if k < 0.85 {
        // DynamoDB table encrypted with a customer key
        let action = rng.choice(&["dynamodb:GetItem", "dynamodb:Query"]);
        let table = ddb_table(rng, region);
        vec![
            Hop::new(action, table),
            kms_hop(rng, region, "dynamodb.amazonaws.com", "dynamodb"),
        ]
    } else {
        let q = rng.choice(&QUEUES);
        vec![
            Hop::new(
                "sqs:ReceiveMessage",
                format!("arn:aws:sqs:{region}:{ACCT}:{q}"),
            ),
            kms_hop(rng, region, "sqs.amazonaws.com", "sqs"),
        ]
    }
}

fn chain3(rng: &mut PyRandom, region: &'static str) -> Vec<Hop> {
    let k = rng.random();
    if k < 0.40 {
        // Athena -> S3 -> KMS
        let obj = s3_object(rng, None);
        vec![
            athena_hop(region),
            Hop::via("athena.amazonaws.com", "s3:GetObject", obj),
            kms_hop(rng, region, "s3.amazonaws.com", "s3"),
        ]
    } else if k < 0.75 {
        // CloudFormation -> DynamoDB -> KMS
        let stack = format!(
            "arn:aws:cloudformation:{region}:{ACCT}:stack/app/{:08x}",
            rng.randbelow(1 << 32)
        );
        let table = ddb_table(rng, region);
        vec![
            Hop::new("cloudformation:CreateStack", stack),
            Hop::via("cloudformation.amazonaws.com", "dynamodb:PutItem", table),
            kms_hop(rng, region, "dynamodb.amazonaws.com", "dynamodb"),
        ]
    } else {
        // Athena -> Glue -> S3
        let obj = s3_object(rng, None);
        vec![
            athena_hop(region),
            Hop::via(
                "athena.amazonaws.com",
                "glue:GetTable",
                format!("arn:aws:glue:{region}:{ACCT}:table/sales/orders"),
            ),
            Hop::via("glue.amazonaws.com", "s3:GetObject", obj),
        ]
    }
}

fn gen_case(rng: &mut PyRandom, index: usize) -> Case {
    let region = rng.choice(&REGIONS);
    let mut ctx = Ctx::default();
    ctx.set_str("aws:username", rng.choice(&["alice", "bob"]));
    ctx.set_str(
        "aws:PrincipalArn",
        concat!("arn:aws:iam::", acct!(), ":role/DataRole"),
    );
    ctx.set_str(
        "aws:PrincipalTag/Team",
        rng.choice(&["ingest", "analytics", "security"]),
    );
    ctx.set_str(
        "aws:PrincipalTag/Project",
        rng.choice(&["apollo", "gemini"]),
    );
    ctx.set_str("aws:RequestedRegion", region);
    ctx.set_str(
        "aws:SecureTransport",
        rng.choice(&["true", "true", "true", "false"]),
    );
    ctx.set_str("aws:CurrentTime", "2026-05-01T12:00:00Z");
    ctx.set_str("aws:MultiFactorAuthAge", rng.choice(&["60", "600", "7200"]));
    ctx.set_str(
        "aws:SourceIp",
        rng.choice(&[
            "10.1.2.3",
            "10.200.0.9",
            "192.0.2.44",
            "198.51.100.7",
            "203.0.113.250",
        ]),
    );
    ctx.set_str("aws:ViaAWSService", "false");
    if rng.random() < 0.3 {
        // came through a VPC endpoint: VPC keys, no public SourceIp
        ctx.remove("aws:SourceIp");
        ctx.set_str("aws:SourceVpc", "vpc-1111");
        ctx.set_str("aws:SourceVpce", "vpce-aaaa");
        ctx.set_str("aws:VpcSourceIp", "10.1.2.3");
    }
    let shape = rng.random();
    let chain = if shape < 0.70 {
        direct_request(rng, region)
    } else if shape < 0.90 {
        chain2(rng, region)
    } else {
        chain3(rng, region)
    };
    Case {
        index,
        context: ctx,
        chain,
    }
}

// ---------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------

/// How many cases of each chain length were generated (the script's summary line).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Shapes {
    /// direct calls
    pub one_hop: usize,
    /// two-hop FAS chains
    pub two_hop: usize,
    /// three-hop FAS chains
    pub three_hop: usize,
}

impl Shapes {
    /// Number of cases.
    pub fn cases(&self) -> usize {
        self.one_hop + self.two_hop + self.three_hop
    }

    /// Number of hops (28,033 for N = 20,000, seed 42).
    pub fn hops(&self) -> usize {
        self.one_hop + 2 * self.two_hop + 3 * self.three_hop
    }

    fn count(&mut self, hops: usize) {
        match hops {
            1 => self.one_hop += 1,
            2 => self.two_hop += 1,
            _ => self.three_hop += 1,
        }
    }
}

/// A whole workload in memory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Workload {
    /// The text of `policies.json` ([`policies_json`]).
    pub policies_json: String,
    /// The lines of `requests.jsonl`, without their newlines.
    pub cases: Vec<String>,
    /// Cases by chain length.
    pub shapes: Shapes,
}

/// The workload of `gen_workload.py OUT_DIR n seed` (with `--no-inline-policies` when
/// `inline_policies` is false), held in memory. `seed` is the script's SEED (every `u64`
/// seeds exactly as Python's `random.Random(seed)`). For large `n` with inline policies
/// (about 4.5 kB a case) prefer [`generate_each`].
pub fn generate(n: usize, seed: u64, inline_policies: bool) -> Workload {
    let mut cases = Vec::with_capacity(n);
    let shapes = generate_each(n, seed, inline_policies, |line| cases.push(line.to_owned()));
    Workload {
        policies_json: policies_json(),
        cases,
        shapes,
    }
}

/// Streams the `requests.jsonl` lines of `(n, seed)` (without newlines) to `on_case`, in
/// order; the line buffer is reused, so nothing is held.
pub fn generate_each(
    n: usize,
    seed: u64,
    inline_policies: bool,
    mut on_case: impl FnMut(&str),
) -> Shapes {
    run(n, seed, inline_policies, &mut on_case, None)
}

/// As [`generate_each`], and also streams the `hops.jsonl` lines of `--flat` to `on_hop`
/// (one per hop, after the case's own line): `{"id":"w000000#0","principal","action",
/// "resource","context"}` with the hop context derived as SEMANTICS.md R-FAS-4 says.
pub fn generate_each_flat(
    n: usize,
    seed: u64,
    inline_policies: bool,
    mut on_case: impl FnMut(&str),
    mut on_hop: impl FnMut(&str),
) -> Shapes {
    run(n, seed, inline_policies, &mut on_case, Some(&mut on_hop))
}

fn run(
    n: usize,
    seed: u64,
    inline_policies: bool,
    on_case: &mut dyn FnMut(&str),
    mut on_hop: Option<&mut dyn FnMut(&str)>,
) -> Shapes {
    let mut rng = PyRandom::new(seed);
    let policies = inline_policies.then(inline_policies_json);
    let mut shapes = Shapes::default();
    let mut line = String::with_capacity(8_192);
    let mut hop_line = String::new();
    for i in 0..n {
        let case = gen_case(&mut rng, i);
        shapes.count(case.chain.len());
        line.clear();
        case.write(policies.as_deref(), &mut line);
        on_case(&line);
        if let Some(on_hop) = on_hop.as_deref_mut() {
            case.write_flat_hops(&mut hop_line, on_hop);
        }
    }
    shapes
}

/// A buffered line writer that keeps the first error (the callbacks cannot return one).
struct LineSink {
    w: BufWriter<File>,
    err: Option<io::Error>,
}

impl LineSink {
    fn create(path: &Path) -> io::Result<LineSink> {
        Ok(LineSink {
            w: BufWriter::with_capacity(1 << 20, File::create(path)?),
            err: None,
        })
    }

    fn line(&mut self, line: &str) {
        if self.err.is_none() {
            let r = self.w.write_all(line.as_bytes());
            if let Err(e) = r.and_then(|()| self.w.write_all(b"\n")) {
                self.err = Some(e);
            }
        }
    }

    fn finish(mut self) -> io::Result<()> {
        match self.err.take() {
            Some(e) => Err(e),
            None => self.w.flush(),
        }
    }
}

/// Writes what `gen_workload.py dir n seed [--no-inline-policies] [--flat]` writes:
/// `dir/policies.json`, `dir/requests.jsonl` and, with `flat`, `dir/hops.jsonl` (creating
/// `dir` if needed). The script then prints
/// `statements: 20 requests: {n} hops: {hops} (1-hop …, 2-hop …, 3-hop …) seed: {seed}`
/// from the returned [`Shapes`].
pub fn write_dir(
    dir: &Path,
    n: usize,
    seed: u64,
    inline_policies: bool,
    flat: bool,
) -> io::Result<Shapes> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("policies.json"), policies_json())?;
    let mut requests = LineSink::create(&dir.join("requests.jsonl"))?;
    let shapes = if flat {
        let mut hops = LineSink::create(&dir.join("hops.jsonl"))?;
        let shapes = generate_each_flat(
            n,
            seed,
            inline_policies,
            |l| requests.line(l),
            |l| hops.line(l),
        );
        hops.finish()?;
        shapes
    } else {
        generate_each(n, seed, inline_policies, |l| requests.line(l))
    };
    requests.finish()?;
    Ok(shapes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// FNV-1a 64 over the bytes a file would hold (each line followed by `\n`).
    fn fnv1a(h: &mut u64, bytes: &[u8]) {
        for &b in bytes {
            *h ^= u64::from(b);
            *h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

    /// (length, FNV-1a 64) of a stream of lines, as the file would hold them.
    #[derive(Debug, PartialEq, Eq)]
    struct Print(usize, u64);

    impl Print {
        fn new() -> Print {
            Print(0, FNV_OFFSET)
        }

        fn line(&mut self, line: &str) {
            self.0 += line.len() + 1;
            fnv1a(&mut self.1, line.as_bytes());
            fnv1a(&mut self.1, b"\n");
        }
    }

    // The expected values below were taken from `python3 gen_workload.py` (Python 3.11.7).

    const W000000: &str = r#"{"id":"w000000","dialect":"aws","principal":"arn:aws:sts::111122223333:assumed-role/DataRole/alice","context":{"aws:username":"alice","aws:PrincipalArn":"arn:aws:iam::111122223333:role/DataRole","aws:PrincipalTag/Team":"ingest","aws:PrincipalTag/Project":"gemini","aws:RequestedRegion":"ap-southeast-2","aws:SecureTransport":"true","aws:CurrentTime":"2026-05-01T12:00:00Z","aws:MultiFactorAuthAge":"60","aws:SourceIp":"10.200.0.9","aws:ViaAWSService":"false"},"chain":[{"action":"sqs:SendMessage","resource":"arn:aws:sqs:ap-southeast-2:111122223333:dlq"}]}"#;

    const W000019: &str = r#"{"id":"w000019","dialect":"aws","principal":"arn:aws:sts::111122223333:assumed-role/DataRole/alice","context":{"aws:username":"alice","aws:PrincipalArn":"arn:aws:iam::111122223333:role/DataRole","aws:PrincipalTag/Team":"ingest","aws:PrincipalTag/Project":"gemini","aws:RequestedRegion":"us-east-1","aws:SecureTransport":"false","aws:CurrentTime":"2026-05-01T12:00:00Z","aws:MultiFactorAuthAge":"600","aws:SourceIp":"10.200.0.9","aws:ViaAWSService":"false"},"chain":[{"action":"athena:StartQueryExecution","resource":"arn:aws:athena:us-east-1:111122223333:workgroup/primary"},{"via":"athena.amazonaws.com","action":"s3:GetObject","resource":"arn:aws:s3:::data-raw/bob/obj271.parquet"},{"via":"s3.amazonaws.com","action":"kms:Decrypt","resource":"arn:aws:kms:us-east-1:111122223333:key/0000000e-1111-2222-3333-444455556666","resource_policy":{"Version":"2012-10-17","Statement":[{"Sid":"EnableIAMPolicies","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}]},"context":{"kms:ViaService":"s3.us-east-1.amazonaws.com","kms:CallerAccount":"111122223333"}}]}"#;

    const W000019_HOP2: &str = r#"{"id":"w000019#2","principal":"arn:aws:sts::111122223333:assumed-role/DataRole/alice","action":"kms:Decrypt","resource":"arn:aws:kms:us-east-1:111122223333:key/0000000e-1111-2222-3333-444455556666","context":{"aws:username":"alice","aws:PrincipalArn":"arn:aws:iam::111122223333:role/DataRole","aws:PrincipalTag/Team":"ingest","aws:PrincipalTag/Project":"gemini","aws:RequestedRegion":"us-east-1","aws:CurrentTime":"2026-05-01T12:00:00Z","aws:MultiFactorAuthAge":"600","aws:SourceIp":"10.200.0.9","aws:ViaAWSService":"true","aws:PrincipalAccount":"111122223333","aws:PrincipalType":"AssumedRole","aws:PrincipalIsAWSService":"false","aws:MultiFactorAuthPresent":"false","aws:CalledVia":["athena.amazonaws.com"],"aws:CalledViaFirst":"athena.amazonaws.com","aws:CalledViaLast":"athena.amazonaws.com","aws:SecureTransport":"true","aws:UserAgent":"s3.amazonaws.com","kms:ViaService":"s3.us-east-1.amazonaws.com","kms:CallerAccount":"111122223333"}}"#;

    #[test]
    fn python_random_is_reproduced() {
        let mut r = PyRandom::new(42);
        assert_eq!(r.random(), 0.6394267984578837);
        assert_eq!(r.getrandbits(33), 4_402_387_665);
        assert_eq!(r.randbelow(1 << 32), 1_181_241_943);
        assert_eq!(PyRandom::new(0).random(), 0.8444218515250481);
        // a seed wider than 32 bits is two key words
        assert_eq!(PyRandom::new((1 << 40) + 5).random(), 0.5043802970418443);
    }

    #[test]
    fn first_and_last_cases_n20_seed42() {
        let w = generate(20, 42, false);
        assert_eq!(w.cases.len(), 20);
        assert_eq!(w.cases[0], W000000);
        assert_eq!(w.cases[19], W000019);
        assert_eq!(
            w.shapes,
            Shapes {
                one_hop: 15,
                two_hop: 2,
                three_hop: 3
            }
        );
        let mut hops = Vec::new();
        generate_each_flat(20, 42, false, |_| {}, |h| hops.push(h.to_owned()));
        assert_eq!(hops.len(), 28);
        assert_eq!(hops[27], W000019_HOP2);
    }

    #[test]
    fn inline_policies_are_spliced_at_the_end() {
        let pol = inline_policies_json();
        assert_eq!(pol.len(), 3_829);
        assert!(pol.starts_with(r#"{"identity":[{"id":"DataAccess","document":{"Version":"2012-10-17","Statement":[{"Sid":"S01ReadDataFromCorp","#));
        let inline = generate(1, 42, true);
        let expected = format!("{},\"policies\":{pol}}}", &W000000[..W000000.len() - 1]);
        assert_eq!(inline.cases[0], expected);
    }

    #[test]
    fn policies_json_matches_the_reference_file() {
        let p = policies_json();
        assert_eq!(p.len(), 6_028);
        assert!(p.starts_with("{\n \"identityPolicies\": [\n  {\n   \"name\": \"DataAccess\",\n"));
        assert!(p.ends_with("\n    ]\n   }\n  }\n ]\n}"));
        let mut h = FNV_OFFSET;
        fnv1a(&mut h, p.as_bytes());
        assert_eq!(h, 0xb664_a7ef_e886_27e4);
        assert_eq!(p.matches("\"Sid\": ").count(), 20);
    }

    #[test]
    fn files_of_n1000_seed7_match_python() {
        let (mut inline, mut bare, mut flat) = (Print::new(), Print::new(), Print::new());
        generate_each_flat(1_000, 7, true, |l| inline.line(l), |l| flat.line(l));
        generate_each(1_000, 7, false, |l| bare.line(l));
        assert_eq!(inline, Print(4_550_486, 0x6c40_8b65_efad_864a));
        assert_eq!(bare, Print(709_486, 0xacac_35d1_41cb_fb60));
        assert_eq!(flat, Print(1_021_712, 0x007e_d716_26b6_36b0));
    }

    #[test]
    fn shapes_match_python() {
        let s = generate_each(2_000, 42, false, |_| {});
        assert_eq!((s.one_hop, s.two_hop, s.three_hop), (1_377, 432, 191));
        // the published figure (README): 28,033 hops for N = 20,000, seed 42
        let s = generate_each(20_000, 42, false, |_| {});
        assert_eq!((s.one_hop, s.two_hop, s.three_hop), (13_976, 4_015, 2_009));
        assert_eq!(s.hops(), 28_033);
    }

    #[test]
    fn deterministic_and_seed_dependent() {
        let a = generate(200, 42, true);
        assert_eq!(a, generate(200, 42, true));
        assert_ne!(a.cases, generate(200, 43, true).cases);
        // a prefix of a longer run: cases do not depend on N
        let b = generate(50, 42, true);
        assert_eq!(b.cases[..], a.cases[..50]);
    }

    #[test]
    fn json_strings_are_escaped_like_python() {
        let mut out = String::new();
        push_json_str(&mut out, "a\"b\\c\n\u{1}é😀");
        assert_eq!(out, r#""a\"b\\c\n\u0001\u00e9\ud83d\ude00""#);
    }

    #[test]
    fn write_dir_writes_the_same_text() {
        let dir = std::env::temp_dir().join(format!("fastiam-workload-{}", std::process::id()));
        let shapes = write_dir(&dir, 30, 42, true, true).unwrap();
        let w = generate(30, 42, true);
        assert_eq!(shapes, w.shapes);
        let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap();
        assert_eq!(read("policies.json"), w.policies_json);
        assert_eq!(read("requests.jsonl"), w.cases.join("\n") + "\n");
        assert_eq!(read("hops.jsonl").lines().count(), shapes.hops());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
