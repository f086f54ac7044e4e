//! The policies a replay evaluates records against, and their compiled programs.
//!
//! Two ways to ask the question:
//!
//! * **Account data** (`--account-data FILE`): the output of
//!   `aws iam get-account-authorization-details` — users with their inline policies, groups
//!   and attached managed policies, roles, permissions boundaries and tags. Each user and
//!   each role gets its own policy set (identity = its own and its groups' policies, the
//!   boundary, and the SCP/RCP levels and resource policies given on the command line),
//!   compiled once. A record is evaluated against the set of its identity (the user, or the
//!   role of a role session); its tags become `aws:PrincipalTag/…`.
//! * **What-if guardrails** (no account data): only SCPs and RCPs are given. Every principal
//!   is treated as allowed by its identity side and by the resource's policy (an allow-all
//!   of each), so that the only thing that can deny is a guardrail: the answer is which
//!   recorded requests the new SCP/RCP would *explicitly deny*.
//! * **What-if identity** (`--identity FILE`, no account data): the given identity
//!   policies, AWS or Huawei, apply to every principal instead of the assumed allow-all,
//!   and no resource policy is assumed: the answer is which recorded requests a new
//!   identity policy (with the guardrails) would deny. Huawei CTS traces have no account
//!   data to read, so this is how their identity side is tested.
//!
//! In what-if mode the guardrails and resource policies apply to the records of their own
//! dialect (an AWS SCP to CloudTrail records, a Huawei SCP to CTS traces): one program per
//! dialect, chosen by the identity's form (an ARN or a URN). Session policies
//! (`--session`) are no part of any log: given, they apply to every session of a role or
//! an agency (a record whose identity is a role ARN or an agency URN), in their dialect.
//!
//! In both, the SCP level also holds `FullAWSAccess` and the RCP level
//! `RCPFullAWSAccess`, the allow-alls AWS attaches by default (without them a deny-only SCP
//! would implicitly deny everything); `--exact-guardrails` leaves them out.
//!
//! Resource policies (`--resource-policy ARN=FILE`) apply to hops on that ARN (and, for an S3
//! bucket, on its objects). Key policies are not in a log: without one, a KMS key is taken to
//! have the default key policy, which delegates to the account's IAM policies.

use std::collections::HashMap;
use std::path::Path;

use serde_json::Value;

use crate::compile::compile;
use crate::policy::{parse_policy, Dialect, Mode, ParseOptions, Policy, PolicyKind};
use crate::primitives::canonical_key;
use crate::request::PolicySet;
use crate::table::{AlignedBytes, Program};

/// An allow-all identity or guardrail statement.
const ALLOW_ALL: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
/// An allow-all resource policy (every principal).
const ALLOW_ALL_RESOURCE: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}"#;

/// Why the replay's policies could not be prepared.
#[derive(Debug)]
pub enum PolicyInputError {
    Io {
        path: String,
        error: std::io::Error,
    },
    /// The account data is not the shape `get-account-authorization-details` prints.
    AccountData {
        path: String,
        pointer: String,
        expected: String,
    },
    /// A policy document failed to parse.
    Policy {
        origin: String,
        error: String,
    },
    Compile {
        identity: String,
        error: String,
    },
}

impl std::fmt::Display for PolicyInputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PolicyInputError::Io { path, error } => write!(f, "{path}: {error}"),
            PolicyInputError::AccountData {
                path,
                pointer,
                expected,
            } => {
                write!(f, "{path}: at {pointer}: expected {expected}")
            }
            PolicyInputError::Policy { origin, error } => write!(f, "{origin}: {error}"),
            PolicyInputError::Compile { identity, error } => {
                write!(f, "compiling the policies of {identity}: {error}")
            }
        }
    }
}

impl std::error::Error for PolicyInputError {}

fn parse(text: &str, id: &str, kind: PolicyKind) -> Result<Policy, PolicyInputError> {
    parse_with(text, id, kind, Mode::Strict)
}

fn parse_with(
    text: &str,
    id: &str,
    kind: PolicyKind,
    mode: Mode,
) -> Result<Policy, PolicyInputError> {
    parse_policy(text, id, &ParseOptions::new(kind).with_mode(mode)).map_err(|e| {
        PolicyInputError::Policy {
            origin: id.to_string(),
            error: e.to_string(),
        }
    })
}

/// The guardrails and resource policies given on the command line.
#[derive(Clone, Debug, Default)]
pub struct Guardrails {
    /// Identity policies of every principal (`--identity`): in what-if mode they replace
    /// the assumed allow-all identity side (and the assumed allow-all resource side, so that
    /// their implicit denials count); with account data they are added to every user's and
    /// role's own. Either dialect.
    pub identity: Vec<Policy>,
    /// Session policies of every role and agency session (`--session`, either dialect, each
    /// applied to the sessions of its own): what the credentials were issued with, which no
    /// log records. Federated users' sessions are not recognised.
    pub session: Vec<Policy>,
    /// SCP levels, root first, as `compile` takes them: one `--scp` flag a level. Each
    /// level also holds `FullAWSAccess` unless `exact` (AWS attaches it at every level).
    pub scp: Vec<Vec<Policy>>,
    /// RCP levels, root first; each also holds `RCPFullAWSAccess` unless `exact`.
    pub rcp: Vec<Vec<Policy>>,
    /// `(resource ARN, policy)`.
    pub resource: Vec<(String, Policy)>,
    /// Leave out the default allow-alls of the SCP and RCP levels.
    pub exact: bool,
    /// How the policies of `--account-data` are loaded (R-GEN-6); the others are parsed by
    /// the caller, in the same mode.
    pub mode: Mode,
}

/// Whether the identity whose policies apply is a role's or an agency's, that is whether
/// the caller is one of its sessions (a mapped record's `identity_arn`).
fn is_session_identity(identity: &str) -> bool {
    if identity.starts_with("arn:") {
        identity.contains(":role/")
    } else {
        identity.contains(":agency:")
    }
}

impl Guardrails {
    /// The guardrails and resource policies of one dialect; the identity policies (given
    /// for every principal) all. A level left with no policy of the dialect is dropped
    /// (kept, it would hold only the default allow-all, or with `exact` deny everything).
    fn of_dialect(&self, dialect: Dialect) -> Guardrails {
        let of = |policies: &[Policy]| -> Vec<Policy> {
            policies
                .iter()
                .filter(|p| p.dialect() == dialect)
                .cloned()
                .collect()
        };
        let levels = |levels: &[Vec<Policy>]| -> Vec<Vec<Policy>> {
            levels
                .iter()
                .map(|level| of(level))
                .filter(|level| !level.is_empty())
                .collect()
        };
        Guardrails {
            identity: self.identity.clone(),
            session: of(&self.session),
            scp: levels(&self.scp),
            rcp: levels(&self.rcp),
            resource: self
                .resource
                .iter()
                .filter(|(_, p)| p.dialect() == dialect)
                .cloned()
                .collect(),
            exact: self.exact,
            mode: self.mode,
        }
    }
}

/// One principal's identity side from the account data.
#[derive(Clone, Debug, Default)]
pub struct IdentitySide {
    pub identity: Vec<Policy>,
    pub boundary: Option<Policy>,
    /// `(tag key, value)`.
    pub tags: Vec<(String, String)>,
    /// The session policies of a role's or an agency's sessions (`--session`); `None`
    /// for other identities.
    pub session: Option<Vec<Policy>>,
}

/// A compiled policy set and what a record needs besides it.
#[derive(Debug)]
pub struct Prepared {
    pub program: Program<AlignedBytes>,
    /// The policies the program was compiled from: what [`super::certainty`] reads to find
    /// the values that could change an answer.
    pub set: PolicySet,
    /// Resource ARN → index into the set's resource policies.
    pub resource_index: Vec<(String, usize)>,
    /// The index of the allow-all resource policy (what-if mode).
    pub allow_all_resource: Option<usize>,
    /// `aws:PrincipalTag/…` keys (canonical) and their values.
    pub tags: Vec<(String, String)>,
    /// Whether the principal's tags are known (account data given).
    pub tags_known: bool,
}

/// All the programs of a replay.
#[derive(Debug)]
pub struct ReplayPolicies {
    /// Identity ARN → index into `sets`; in what-if mode the one entry is under `""`, and
    /// in account-data mode `""` is the set of callers with no identity policies.
    by_identity: HashMap<String, usize>,
    sets: Vec<Prepared>,
    /// Whether the identity and resource side is assumed to allow (what-if mode without
    /// `--identity`): then only the guardrails can deny.
    pub what_if: bool,
    /// What-if mode (with or without `--identity`): set 0 for AWS identities, set 1 for
    /// Huawei ones (URNs), each with the guardrails of its dialect.
    by_dialect: bool,
    /// In what-if mode, the sets of AWS and Huawei sessions, when `--session` gave
    /// session policies of that dialect.
    session_sets: [Option<usize>; 2],
}

impl ReplayPolicies {
    /// What-if mode: guardrails only, or with [`Guardrails::identity`] the given identity
    /// policies for every principal. In the latter the identity side is no longer assumed,
    /// so [`ReplayPolicies::what_if`] is false and the report compares every decision with
    /// the log's outcome.
    pub fn what_if(guardrails: &Guardrails) -> Result<ReplayPolicies, PolicyInputError> {
        let assumed = guardrails.identity.is_empty();
        let identity = if assumed {
            vec![parse(
                ALLOW_ALL,
                "assumed-identity-allow-all",
                PolicyKind::Identity,
            )?]
        } else {
            guardrails.identity.clone()
        };
        let side = IdentitySide {
            identity,
            ..IdentitySide::default()
        };
        // One set per dialect: an AWS SCP governs AWS accounts, a Huawei SCP Huawei ones,
        // so a directory of CloudTrail and CTS records mixed is judged by the guardrails of
        // each record's own cloud.
        let aws = guardrails.of_dialect(Dialect::Aws);
        let huawei = guardrails.of_dialect(Dialect::Huawei);
        let mut sets = vec![
            prepare("what-if", &side, &aws, assumed, false)?,
            prepare("what-if (Huawei)", &side, &huawei, assumed, false)?,
        ];
        // Sessions of each dialect with their session policies, when some were given.
        let mut session_sets = [None, None];
        for (d, (name, g)) in [
            ("what-if sessions", &aws),
            ("what-if sessions (Huawei)", &huawei),
        ]
        .into_iter()
        .enumerate()
        {
            if !g.session.is_empty() {
                let side = IdentitySide {
                    session: Some(g.session.clone()),
                    ..side.clone()
                };
                session_sets[d] = Some(sets.len());
                sets.push(prepare(name, &side, g, assumed, false)?);
            }
        }
        let mut by_identity = HashMap::new();
        by_identity.insert(String::new(), 0);
        Ok(ReplayPolicies {
            by_identity,
            sets,
            what_if: assumed,
            by_dialect: true,
            session_sets,
        })
    }

    /// Account-data mode.
    pub fn from_account_data(
        path: &Path,
        guardrails: &Guardrails,
    ) -> Result<ReplayPolicies, PolicyInputError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|error| PolicyInputError::Io {
            path: shown.clone(),
            error,
        })?;
        let sides = read_account_data_with(&text, &shown, guardrails.mode)?;
        let mut by_identity = HashMap::new();
        let mut sets = Vec::new();
        let session = guardrails.of_dialect(Dialect::Aws).session;
        for (arn, mut side) in sides {
            side.identity.extend(guardrails.identity.iter().cloned());
            if is_session_identity(&arn) && !session.is_empty() {
                side.session = Some(session.clone());
            }
            by_identity.insert(arn.clone(), sets.len());
            sets.push(prepare(&arn, &side, guardrails, false, true)?);
        }
        // Callers with no identity policies of their own (services, anonymous).
        by_identity.insert(String::new(), sets.len());
        sets.push(prepare(
            "no-identity",
            &IdentitySide::default(),
            guardrails,
            false,
            true,
        )?);
        Ok(ReplayPolicies {
            by_identity,
            sets,
            what_if: false,
            by_dialect: false,
            session_sets: [None, None],
        })
    }

    /// The prepared set for a record's identity; `None` when the account data does not
    /// have it.
    pub fn index_for(&self, identity: Option<&str>) -> Option<usize> {
        if self.by_dialect {
            let huawei = identity.is_some_and(|i| i.starts_with("iam::") || i.starts_with("sts::"));
            let dialect = usize::from(huawei);
            let session = identity
                .filter(|i| is_session_identity(i))
                .and(self.session_sets[dialect]);
            return Some(session.unwrap_or(dialect));
        }
        self.by_identity.get(identity.unwrap_or("")).copied()
    }

    /// Every prepared set, by index.
    pub fn sets(&self) -> &[Prepared] {
        &self.sets
    }
}

impl Prepared {
    /// The resource policy of a hop's resource, if one was given.
    pub fn resource_policy(&self, resource: &str) -> Option<usize> {
        if let Some(i) = self.allow_all_resource {
            return Some(i);
        }
        self.resource_index.iter().find_map(|(arn, i)| {
            let bucket_object = arn.starts_with("arn:aws:s3:::")
                && !arn.contains('/')
                && resource
                    .strip_prefix(arn.as_str())
                    .is_some_and(|r| r.starts_with('/'));
            (arn == resource || bucket_object).then_some(*i)
        })
    }
}

fn prepare(
    name: &str,
    side: &IdentitySide,
    guardrails: &Guardrails,
    assume_resource: bool,
    tags_known: bool,
) -> Result<Prepared, PolicyInputError> {
    let mut scp = guardrails.scp.clone();
    let mut rcp = guardrails.rcp.clone();
    if !guardrails.exact {
        for level in &mut scp {
            level.push(parse(ALLOW_ALL, "FullAWSAccess", PolicyKind::Scp)?);
        }
        for level in &mut rcp {
            level.push(parse(
                ALLOW_ALL_RESOURCE,
                "RCPFullAWSAccess",
                PolicyKind::Rcp,
            )?);
        }
    }
    let mut resource: Vec<Policy> = guardrails.resource.iter().map(|(_, p)| p.clone()).collect();
    let resource_index = guardrails
        .resource
        .iter()
        .enumerate()
        .map(|(i, (arn, _))| (arn.clone(), i))
        .collect();
    let allow_all_resource = if assume_resource {
        resource.push(parse(
            ALLOW_ALL_RESOURCE,
            "assumed-resource-allow-all",
            PolicyKind::ResourceBased,
        )?);
        Some(resource.len() - 1)
    } else {
        None
    };
    let set = PolicySet {
        identity: side.identity.clone(),
        boundary: side.boundary.clone(),
        session: side.session.clone(),
        scp,
        rcp,
        vpce: None,
        resource,
    };
    let program = compile(&set).map_err(|e| PolicyInputError::Compile {
        identity: name.to_string(),
        error: e.to_string(),
    })?;
    Ok(Prepared {
        program,
        set,
        resource_index,
        allow_all_resource,
        tags: side
            .tags
            .iter()
            .map(|(k, v)| (canonical_key(&format!("aws:PrincipalTag/{k}")), v.clone()))
            .collect(),
        tags_known,
    })
}

/// Reads `get-account-authorization-details` output: identity ARN → identity side.
pub fn read_account_data(
    text: &str,
    path: &str,
) -> Result<Vec<(String, IdentitySide)>, PolicyInputError> {
    read_account_data_with(text, path, Mode::Strict)
}

/// [`read_account_data`], loading the policies in `mode` (R-GEN-6).
pub fn read_account_data_with(
    text: &str,
    path: &str,
    mode: Mode,
) -> Result<Vec<(String, IdentitySide)>, PolicyInputError> {
    let bad = |pointer: &str, expected: &str| PolicyInputError::AccountData {
        path: path.to_string(),
        pointer: pointer.to_string(),
        expected: expected.to_string(),
    };
    let root: Value = serde_json::from_str(text).map_err(|e| PolicyInputError::AccountData {
        path: path.to_string(),
        pointer: format!("line {}, column {}", e.line(), e.column()),
        expected: format!("JSON ({e})"),
    })?;
    let list = |key: &str| -> Result<Vec<Value>, PolicyInputError> {
        match root.get(key) {
            None => Ok(Vec::new()),
            Some(Value::Array(a)) => Ok(a.clone()),
            Some(_) => Err(bad(&format!("/{key}"), "an array")),
        }
    };
    // Managed policies: ARN → default version's document.
    let mut managed: HashMap<String, Policy> = HashMap::new();
    for (i, p) in list("Policies")?.iter().enumerate() {
        let at = format!("/Policies/{i}");
        let arn = p
            .get("Arn")
            .and_then(Value::as_str)
            .ok_or_else(|| bad(&format!("{at}/Arn"), "a string"))?;
        let versions = p
            .get("PolicyVersionList")
            .and_then(Value::as_array)
            .ok_or_else(|| {
                bad(
                    &format!("{at}/PolicyVersionList"),
                    "an array of policy versions",
                )
            })?;
        let default = versions
            .iter()
            .position(|v| v.get("IsDefaultVersion").and_then(Value::as_bool) == Some(true))
            .ok_or_else(|| {
                bad(
                    &format!("{at}/PolicyVersionList"),
                    "a version with IsDefaultVersion true",
                )
            })?;
        let doc_at = format!("{at}/PolicyVersionList/{default}/Document");
        let doc = document(&versions[default]["Document"], &doc_at, path)?;
        let name = arn.rsplit('/').next().unwrap_or(arn);
        managed.insert(
            arn.to_string(),
            parse_with(&doc, name, PolicyKind::Identity, mode)?,
        );
    }
    let attached = |entity: &Value, at: &str| -> Result<Vec<Policy>, PolicyInputError> {
        let mut out = Vec::new();
        if let Some(list) = entity
            .get("AttachedManagedPolicies")
            .and_then(Value::as_array)
        {
            for (j, a) in list.iter().enumerate() {
                let arn = a.get("PolicyArn").and_then(Value::as_str).ok_or_else(|| {
                    bad(
                        &format!("{at}/AttachedManagedPolicies/{j}/PolicyArn"),
                        "a string",
                    )
                })?;
                let policy = managed.get(arn).ok_or_else(|| {
                    bad(
                        &format!("{at}/AttachedManagedPolicies/{j}"),
                        &format!("a policy listed under /Policies (`{arn}` is not)"),
                    )
                })?;
                out.push(policy.clone());
            }
        }
        Ok(out)
    };
    let inline = |entity: &Value, key: &str, at: &str| -> Result<Vec<Policy>, PolicyInputError> {
        let mut out = Vec::new();
        if let Some(list) = entity.get(key).and_then(Value::as_array) {
            for (j, p) in list.iter().enumerate() {
                let name = p
                    .get("PolicyName")
                    .and_then(Value::as_str)
                    .unwrap_or("inline");
                let doc = document(
                    &p["PolicyDocument"],
                    &format!("{at}/{key}/{j}/PolicyDocument"),
                    path,
                )?;
                out.push(parse_with(&doc, name, PolicyKind::Identity, mode)?);
            }
        }
        Ok(out)
    };
    let boundary = |entity: &Value, at: &str| -> Result<Option<Policy>, PolicyInputError> {
        let Some(arn) = entity
            .get("PermissionsBoundary")
            .and_then(|b| b.get("PermissionsBoundaryArn"))
            .and_then(Value::as_str)
        else {
            return Ok(None);
        };
        let mut policy = managed.get(arn).cloned().ok_or_else(|| {
            bad(
                &format!("{at}/PermissionsBoundary"),
                &format!("a policy listed under /Policies (`{arn}` is not)"),
            )
        })?;
        policy.kind = PolicyKind::PermissionsBoundary;
        Ok(Some(policy))
    };
    let tags = |entity: &Value| -> Vec<(String, String)> {
        entity
            .get("Tags")
            .and_then(Value::as_array)
            .map(|list| {
                list.iter()
                    .filter_map(|t| {
                        Some((
                            t.get("Key")?.as_str()?.to_string(),
                            t.get("Value")?.as_str()?.to_string(),
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut groups: HashMap<String, Vec<Policy>> = HashMap::new();
    for (i, g) in list("GroupDetailList")?.iter().enumerate() {
        let at = format!("/GroupDetailList/{i}");
        let name = g
            .get("GroupName")
            .and_then(Value::as_str)
            .ok_or_else(|| bad(&format!("{at}/GroupName"), "a string"))?;
        let mut policies = inline(g, "GroupPolicyList", &at)?;
        policies.extend(attached(g, &at)?);
        groups.insert(name.to_string(), policies);
    }
    let mut out = Vec::new();
    for (i, u) in list("UserDetailList")?.iter().enumerate() {
        let at = format!("/UserDetailList/{i}");
        let arn = u
            .get("Arn")
            .and_then(Value::as_str)
            .ok_or_else(|| bad(&format!("{at}/Arn"), "a string"))?;
        let mut identity = inline(u, "UserPolicyList", &at)?;
        identity.extend(attached(u, &at)?);
        if let Some(names) = u.get("GroupList").and_then(Value::as_array) {
            for (j, n) in names.iter().enumerate() {
                let n = n
                    .as_str()
                    .ok_or_else(|| bad(&format!("{at}/GroupList/{j}"), "a group name"))?;
                let policies = groups.get(n).ok_or_else(|| {
                    bad(
                        &format!("{at}/GroupList/{j}"),
                        &format!("a group listed under /GroupDetailList (`{n}` is not)"),
                    )
                })?;
                identity.extend(policies.iter().cloned());
            }
        }
        out.push((
            arn.to_string(),
            IdentitySide {
                identity,
                boundary: boundary(u, &at)?,
                tags: tags(u),
                session: None,
            },
        ));
    }
    for (i, r) in list("RoleDetailList")?.iter().enumerate() {
        let at = format!("/RoleDetailList/{i}");
        let arn = r
            .get("Arn")
            .and_then(Value::as_str)
            .ok_or_else(|| bad(&format!("{at}/Arn"), "a string"))?;
        let mut identity = inline(r, "RolePolicyList", &at)?;
        identity.extend(attached(r, &at)?);
        out.push((
            arn.to_string(),
            IdentitySide {
                identity,
                boundary: boundary(r, &at)?,
                tags: tags(r),
                session: None,
            },
        ));
    }
    Ok(out)
}

/// A policy document as text: the CLI prints an object, the raw API a URL-encoded string.
fn document(v: &Value, pointer: &str, path: &str) -> Result<String, PolicyInputError> {
    match v {
        Value::Object(_) => Ok(v.to_string()),
        Value::String(s) if s.trim_start().starts_with('{') => Ok(s.clone()),
        Value::String(s) => percent_decode(s).ok_or_else(|| PolicyInputError::AccountData {
            path: path.to_string(),
            pointer: pointer.to_string(),
            expected: "a policy document (an object, or a URL-encoded JSON string)".into(),
        }),
        _ => Err(PolicyInputError::AccountData {
            path: path.to_string(),
            pointer: pointer.to_string(),
            expected: "a policy document (an object, or a URL-encoded JSON string)".into(),
        }),
    }
}

/// Decodes `%XX` escapes (and `+` as a space is *not* used by IAM's encoding).
fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_encoded_documents() {
        assert_eq!(
            percent_decode("%7B%22a%22%3A1%7D").as_deref(),
            Some(r#"{"a":1}"#)
        );
        assert_eq!(percent_decode("%7"), None);
    }

    #[test]
    fn account_data_users_groups_roles() {
        let text = r#"{
          "UserDetailList":[{"UserName":"alice","Arn":"arn:aws:iam::111122223333:user/alice",
            "GroupList":["devs"],"UserPolicyList":[{"PolicyName":"own","PolicyDocument":
            {"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}}],
            "AttachedManagedPolicies":[],"Tags":[{"Key":"team","Value":"blue"}],
            "PermissionsBoundary":{"PermissionsBoundaryType":"Policy","PermissionsBoundaryArn":"arn:aws:iam::111122223333:policy/b"}}],
          "GroupDetailList":[{"GroupName":"devs","GroupPolicyList":[],
            "AttachedManagedPolicies":[{"PolicyName":"b","PolicyArn":"arn:aws:iam::111122223333:policy/b"}]}],
          "RoleDetailList":[{"RoleName":"r","Arn":"arn:aws:iam::111122223333:role/r",
            "RolePolicyList":[{"PolicyName":"p","PolicyDocument":"%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%7B%22Effect%22%3A%22Deny%22%2C%22Action%22%3A%22*%22%2C%22Resource%22%3A%22*%22%7D%7D"}]}],
          "Policies":[{"PolicyName":"b","Arn":"arn:aws:iam::111122223333:policy/b","PolicyVersionList":[
            {"VersionId":"v1","IsDefaultVersion":false,"Document":{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}},
            {"VersionId":"v2","IsDefaultVersion":true,"Document":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}}]}]
        }"#;
        let sides = read_account_data(text, "auth.json").unwrap();
        assert_eq!(sides.len(), 2);
        let (arn, alice) = &sides[0];
        assert_eq!(arn, "arn:aws:iam::111122223333:user/alice");
        // Own inline policy + the group's managed policy (default version).
        assert_eq!(alice.identity.len(), 2);
        assert_eq!(alice.identity[1].statements.len(), 1);
        assert_eq!(
            alice.boundary.as_ref().unwrap().kind,
            PolicyKind::PermissionsBoundary
        );
        assert_eq!(alice.tags, vec![("team".to_string(), "blue".to_string())]);
        assert_eq!(sides[1].1.identity.len(), 1);
    }

    #[test]
    fn identity_policies_replace_the_assumed_side() {
        let obs = r#"{"Version":"5.0","Statement":[{"Effect":"Allow","Action":["obs:*:*"]}]}"#;
        let guardrails = Guardrails {
            identity: vec![parse(obs, "obs-only", PolicyKind::Identity).unwrap()],
            ..Guardrails::default()
        };
        let with = ReplayPolicies::what_if(&guardrails).unwrap();
        // Not assumed any more: compared with the log like account data, one set for all.
        assert!(!with.what_if);
        assert_eq!(with.index_for(Some("iam::1:user:a")), Some(1));
        assert_eq!(with.index_for(Some("arn:aws:iam::1:user/a")), Some(0));
        assert_eq!(with.index_for(None), Some(0));
        assert_eq!(with.sets()[0].allow_all_resource, None);
        assert!(!with.sets()[0].tags_known);
        let without = ReplayPolicies::what_if(&Guardrails::default()).unwrap();
        assert!(without.what_if);
        assert!(without.sets()[0].allow_all_resource.is_some());
    }

    #[test]
    fn session_policies_go_to_the_sessions_of_their_dialect() {
        let huawei = r#"{"Version":"5.0","Statement":[{"Effect":"Allow","Action":["ecs:*:*"]}]}"#;
        let guardrails = Guardrails {
            session: vec![parse(huawei, "ecs-only", PolicyKind::Session).unwrap()],
            ..Guardrails::default()
        };
        let p = ReplayPolicies::what_if(&guardrails).unwrap();
        assert_eq!(p.sets().len(), 3);
        // A Huawei agency session gets the session set; users, AWS role sessions (no AWS
        // session policy given) and anonymous callers do not.
        assert_eq!(p.index_for(Some("iam::1:agency:ops")), Some(2));
        assert_eq!(p.index_for(Some("iam::1:user:a")), Some(1));
        assert_eq!(p.index_for(Some("arn:aws:iam::1:role/r")), Some(0));
        assert_eq!(p.index_for(None), Some(0));
        assert!(is_session_identity("arn:aws:iam::1:role/r"));
        assert!(!is_session_identity("arn:aws:iam::1:user/agency:x"));
    }

    #[test]
    fn account_data_errors_name_the_place() {
        let err = read_account_data(
            r#"{"UserDetailList":[{"Arn":"arn:aws:iam::1:user/a","GroupList":["nope"]}]}"#,
            "a.json",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("a.json: at /UserDetailList/0/GroupList/0"),
            "{err}"
        );
        let err = read_account_data("{", "a.json").unwrap_err().to_string();
        assert!(err.contains("a.json") && err.contains("line 1"), "{err}");
    }
}
