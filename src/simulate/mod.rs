//! One authorisation question asked from typed parts: `fastiam simulate`.
//!
//! "May this principal do `s3:GetObject` on this object — and may S3 then decrypt it with
//! this KMS key on their behalf?" is one [`Question`]: a principal, one or more actions
//! and resources (every pair is a cell of a matrix, as in `aws iam simulate-custom-policy`),
//! typed context entries ([`context`]) and forwarded hops. [`Question::cells`] turns it into
//! one [`Request`] per cell, with the hops of a Forward Access Session chain whose contexts
//! the evaluator derives (R-FAS-4, R-HW-13); [`simulate`] compiles the policies once and
//! evaluates every cell. The policies come from files whose statement lines are kept
//! ([`sources`]), from an account's authorisation details ([`account_data`]), or from a
//! compiled program (evaluate the cells with its [`Evaluator`]); [`report`] prints the
//! answers.
//!
//! Two things a forwarded KMS hop gets that a case file would have to spell out, because
//! AWS sets them: `kms:ViaService` (`s3.<key region>.amazonaws.com`) and
//! `kms:CallerAccount`; and a KMS key with no key policy given is taken to have the default
//! key policy, which delegates to IAM in the key's account — modelled exactly by not
//! requiring a resource-policy grant (R-EVAL-5): the same decision for callers of the key's
//! account, and a cross-account caller still needs a grant it does not have.
//!
//! ```
//! use fastiam::policy::{parse_policy, ParseOptions, PolicyKind};
//! use fastiam::simulate::{simulate, Forwarded, Question, sources::{Origin, Sources}};
//! use fastiam::decision::Decision;
//! let policy = parse_policy(r#"{"Version":"2012-10-17","Statement":[
//!     {"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::data/*"},
//!     {"Effect":"Allow","Action":"kms:Decrypt","Resource":"*",
//!      "Condition":{"StringLike":{"kms:ViaService":"s3.*.amazonaws.com"}}}]}"#,
//!     "reader", &ParseOptions::new(PolicyKind::Identity)).unwrap();
//! let mut sources = Sources::default();
//! sources.add_identity(policy, Origin::default());
//! let mut question = Question::new("arn:aws:iam::111122223333:user/alice", &sources.set).unwrap();
//! question.actions = vec!["s3:GetObject".into()];
//! question.resources = vec!["arn:aws:s3:::data/q1.csv".into()];
//! question.forwarded.push(Forwarded {
//!     via: "s3.amazonaws.com".into(),
//!     action: "kms:Decrypt".into(),
//!     resource: Some("arn:aws:kms:eu-west-1:111122223333:key/k1".into()),
//! });
//! let answers = simulate(&question, &sources).unwrap();
//! assert_eq!(answers[0].decision.decision, Decision::Allow);
//! assert_eq!(answers[0].decision.hops.len(), 2);
//! ```

pub mod account_data;
pub mod context;
pub mod report;
pub mod sources;

use std::fmt;

use crate::decision::ChainDecision;
use crate::eval::Evaluator;
use crate::policy::Dialect;
use crate::primitives::split_arn;
use crate::request::{
    default_requires_no_permission, default_resource_account, default_resource_policy_required,
    Context, Hop, Options, PolicySet, Principal, Request,
};

use context::{ContextEntry, ContextError};
use sources::Sources;

/// Why a simulation could not be asked. `Display` names the flag or file at fault.
#[derive(Debug)]
pub enum SimulateError {
    /// Flags that do not fit together (`--then` without `--via`, …).
    Usage(String),
    /// A `--context` entry.
    Context(ContextError),
    /// The `--principal`.
    Principal(String),
    /// A policy file: missing, unreadable, or not a valid policy (file, pointer, line).
    Policy(String),
    /// The account data, or the principal not in it.
    AccountData(String),
    /// The policies did not fit the program format.
    Compile(String),
}

impl fmt::Display for SimulateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SimulateError::Usage(m)
            | SimulateError::Policy(m)
            | SimulateError::AccountData(m)
            | SimulateError::Compile(m) => f.write_str(m),
            SimulateError::Context(e) => e.fmt(f),
            SimulateError::Principal(m) => write!(f, "--principal: {m}"),
        }
    }
}

impl std::error::Error for SimulateError {}

impl From<ContextError> for SimulateError {
    fn from(e: ContextError) -> Self {
        SimulateError::Context(e)
    }
}

/// A forwarded hop: service `via` calls `action` on `resource` on the principal's behalf
/// (R-FAS-2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Forwarded {
    /// The forwarding service principal (`s3.amazonaws.com`, Huawei `service.obs`).
    pub via: String,
    pub action: String,
    /// `None` is `*`.
    pub resource: Option<String>,
}

/// The question: who asks what, with which context, through which forwarded hops.
#[derive(Clone, Debug)]
pub struct Question {
    pub dialect: Dialect,
    pub principal: Principal,
    /// Hop 0's actions; each with each resource is one cell.
    pub actions: Vec<String>,
    /// Hop 0's resources; empty means `*`.
    pub resources: Vec<String>,
    /// Hop 0's context as given.
    pub context: Vec<ContextEntry>,
    /// Keys set unless the context gives them (canonical key, value): the principal's tags
    /// from account data.
    pub context_defaults: Vec<(String, String)>,
    /// The forwarded hops, in order, appended to every cell.
    pub forwarded: Vec<Forwarded>,
}

/// One cell of the matrix: hop 0's action and resource, and the whole request.
#[derive(Clone, Debug)]
pub struct Cell {
    pub action: String,
    pub resource: String,
    pub request: Request,
    /// What the simulator assumed on the principal's behalf (default key policy, keys a
    /// service sets), for the reader.
    pub notes: Vec<String>,
}

/// A cell and its decision.
#[derive(Clone, Debug)]
pub struct Answer {
    pub cell: Cell,
    pub decision: ChainDecision,
}

impl Question {
    /// A question for `principal` (an ARN or Huawei URN); the dialect is Huawei when a
    /// policy of `set` is a Huawei document or the principal is a URN, else AWS.
    pub fn new(principal: &str, set: &PolicySet) -> Result<Question, SimulateError> {
        let mut principal =
            Principal::from_arn(principal).map_err(|e| SimulateError::Principal(e.0))?;
        let dialect = infer_dialect(&principal, set);
        if principal.is_authenticated() {
            principal.dialect = dialect;
        }
        Ok(Question {
            dialect,
            principal,
            actions: Vec::new(),
            resources: Vec::new(),
            context: Vec::new(),
            context_defaults: Vec::new(),
            forwarded: Vec::new(),
        })
    }

    /// Hop 0's context: the entries, then the defaults not given.
    pub fn context(&self) -> Result<Context, SimulateError> {
        let mut ctx = Context::new();
        for entry in &self.context {
            ctx.insert(&entry.key, entry.value()).map_err(|c| {
                SimulateError::Usage(format!(
                    "--context: `{}` is given twice (keys are case-insensitive, R-CTX-2)",
                    c.canonical
                ))
            })?;
        }
        for (key, value) in &self.context_defaults {
            ctx.set_default(key, value);
        }
        Ok(ctx)
    }

    /// One request per (action, resource) pair, in the order actions × resources. Resource
    /// policies are looked up in `sources` (none when evaluating a compiled program).
    pub fn cells(&self, sources: Option<&Sources>) -> Result<Vec<Cell>, SimulateError> {
        if self.actions.is_empty() {
            return Err(SimulateError::Usage(
                "--action: at least one is needed".into(),
            ));
        }
        let context = self.context()?;
        let star = ["*".to_string()];
        let resources = if self.resources.is_empty() {
            &star[..]
        } else {
            &self.resources[..]
        };
        let mut cells = Vec::new();
        for action in &self.actions {
            for resource in resources {
                let mut notes = Vec::new();
                let mut hops = vec![self.hop(0, None, action, resource, sources, &mut notes)];
                for (i, f) in self.forwarded.iter().enumerate() {
                    let resource = f.resource.as_deref().unwrap_or("*");
                    let hop = self.hop(
                        i + 1,
                        Some(&f.via),
                        &f.action,
                        resource,
                        sources,
                        &mut notes,
                    );
                    hops.push(hop);
                }
                cells.push(Cell {
                    action: action.clone(),
                    resource: resource.clone(),
                    request: Request {
                        dialect: self.dialect,
                        principal: self.principal.clone(),
                        context: context.clone(),
                        hops,
                        options: Options::default(),
                        credentials: None,
                    },
                    notes,
                });
            }
        }
        Ok(cells)
    }

    fn hop(
        &self,
        index: usize,
        via: Option<&str>,
        action: &str,
        resource: &str,
        sources: Option<&Sources>,
        notes: &mut Vec<String>,
    ) -> Hop {
        let resource_policy = sources.and_then(|s| s.resource_policy_for(index, resource));
        let mut hop = Hop {
            via: via.map(str::to_string),
            action: action.to_string(),
            resource: resource.to_string(),
            resource_account: default_resource_account(resource),
            resource_policy,
            resource_policy_required: default_resource_policy_required(
                self.dialect,
                action,
                resource,
            ),
            requires_no_permission: default_requires_no_permission(self.dialect, action),
            context: Context::new(),
        };
        if self.dialect == Dialect::Aws && is_kms_key(resource) {
            if resource_policy.is_none() {
                hop.resource_policy_required = false;
                notes.push(format!(
                    "hop {index}: no key policy given for `{resource}`: the default key policy is assumed (it delegates to IAM in the key's account)"
                ));
            }
            if let Some(via) = via {
                self.kms_forwarded_keys(&mut hop, index, via, resource, notes);
            }
        }
        hop
    }

    /// The keys KMS sets on a call a service makes for the principal (R-FAS-4's example):
    /// `kms:ViaService = <service>.<key region>.amazonaws.com`, `kms:CallerAccount`.
    fn kms_forwarded_keys(
        &self,
        hop: &mut Hop,
        index: usize,
        via: &str,
        resource: &str,
        notes: &mut Vec<String>,
    ) {
        let region = split_arn(resource).map_or("", |p| p[3]);
        if let (Some(service), false) = (via.strip_suffix(".amazonaws.com"), region.is_empty()) {
            let value = format!("{service}.{region}.amazonaws.com");
            notes.push(format!("hop {index}: KMS sets kms:ViaService = {value}"));
            hop.context.set_single("kms:viaservice", &value);
        }
        if let Some(account) = &self.principal.account {
            hop.context.set_single("kms:calleraccount", account);
        }
    }
}

fn is_kms_key(resource: &str) -> bool {
    split_arn(resource).is_some_and(|p| p[2] == "kms" && p[5].starts_with("key/"))
}

/// Huawei when a policy is a Huawei document or the principal a Huawei URN (R-GEN-5).
fn infer_dialect(principal: &Principal, set: &PolicySet) -> Dialect {
    let mut policies = set
        .identity
        .iter()
        .chain(&set.boundary)
        .chain(set.session.iter().flatten())
        .chain(set.scp.iter().flatten())
        .chain(set.rcp.iter().flatten())
        .chain(&set.vpce)
        .chain(&set.resource);
    if policies.any(|p| p.dialect() == Dialect::Huawei) {
        Dialect::Huawei
    } else {
        principal.dialect
    }
}

/// Evaluates every cell with `evaluator` (compiled from the cells' policies, or loaded).
pub fn evaluate(evaluator: &Evaluator<'_>, cells: Vec<Cell>) -> Vec<Answer> {
    let mut scratch = evaluator.scratch();
    cells
        .into_iter()
        .map(|cell| {
            let outcome = evaluator.evaluate(&cell.request, &mut scratch);
            let decision = evaluator.decision(&outcome);
            Answer { cell, decision }
        })
        .collect()
}

/// Compiles the policies of `sources` once and answers every cell of `question`.
pub fn simulate(question: &Question, sources: &Sources) -> Result<Vec<Answer>, SimulateError> {
    let cells = question.cells(Some(sources))?;
    let program =
        crate::compile::compile(&sources.set).map_err(|e| SimulateError::Compile(e.to_string()))?;
    let evaluator = Evaluator::new(&program);
    Ok(evaluate(&evaluator, cells))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decision::Decision;
    use crate::policy::{parse_policy, ParseOptions, PolicyKind};
    use crate::reference::evaluate_chain;
    use crate::request::Chain;
    use sources::Origin;

    fn sources_of(identity: &str) -> Sources {
        let policy = parse_policy(identity, "p", &ParseOptions::new(PolicyKind::Identity)).unwrap();
        let mut s = Sources::default();
        s.add_identity(policy, Origin::default());
        s
    }

    /// The matrix is actions × resources, each cell decided like the reference evaluator
    /// decides the same chain.
    #[test]
    fn matrix_cells_agree_with_the_reference() {
        let sources = sources_of(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::a/*"}]}"#,
        );
        let mut q = Question::new("arn:aws:iam::111122223333:user/u", &sources.set).unwrap();
        q.actions = vec!["s3:GetObject".into(), "s3:PutObject".into()];
        q.resources = vec!["arn:aws:s3:::a/k".into(), "arn:aws:s3:::b/k".into()];
        let answers = simulate(&q, &sources).unwrap();
        let got: Vec<(&str, &str, Decision)> = answers
            .iter()
            .map(|a| {
                (
                    a.cell.action.as_str(),
                    a.cell.resource.as_str(),
                    a.decision.decision,
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("s3:GetObject", "arn:aws:s3:::a/k", Decision::Allow),
                ("s3:GetObject", "arn:aws:s3:::b/k", Decision::ImplicitDeny),
                ("s3:PutObject", "arn:aws:s3:::a/k", Decision::ImplicitDeny),
                ("s3:PutObject", "arn:aws:s3:::b/k", Decision::ImplicitDeny),
            ]
        );
        for a in &answers {
            let chain = Chain {
                request: a.cell.request.clone(),
                policies: sources.set.clone(),
            };
            assert_eq!(a.decision, evaluate_chain(&chain));
        }
    }

    /// A forwarded KMS hop carries the keys KMS sets, and a key with no key policy needs
    /// no resource-policy grant in its own account.
    #[test]
    fn forwarded_kms_hop_gets_via_service_and_the_default_key_policy() {
        let sources = sources_of(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#,
        );
        let mut q = Question::new("arn:aws:iam::111122223333:user/u", &sources.set).unwrap();
        q.actions = vec!["s3:GetObject".into()];
        q.forwarded.push(Forwarded {
            via: "s3.amazonaws.com".into(),
            action: "kms:Decrypt".into(),
            resource: Some("arn:aws:kms:eu-west-1:111122223333:key/k".into()),
        });
        let cells = q.cells(Some(&sources)).unwrap();
        let hop = &cells[0].request.hops[1];
        assert_eq!(hop.via.as_deref(), Some("s3.amazonaws.com"));
        assert!(!hop.resource_policy_required);
        assert_eq!(
            hop.context
                .get("kms:viaservice")
                .map(|v| v.values()[0].as_str()),
            Some("s3.eu-west-1.amazonaws.com")
        );
        assert_eq!(cells[0].notes.len(), 2, "{:?}", cells[0].notes);
    }

    #[test]
    fn huawei_dialect_from_policies_or_urn() {
        let hw = sources_of(
            r#"{"Version":"5.0","Statement":[{"Effect":"Allow","Action":["ecs:*:*"]}]}"#,
        );
        let q = Question::new("iam::0a1b:user:alice", &hw.set).unwrap();
        assert_eq!(q.dialect, Dialect::Huawei);
        let q = Question::new("iam::0a1b:user:alice", &PolicySet::default()).unwrap();
        assert_eq!(q.dialect, Dialect::Huawei);
        let q = Question::new("arn:aws:iam::1:user/a", &PolicySet::default()).unwrap();
        assert_eq!(q.dialect, Dialect::Aws);
        let err = Question::new("alice", &PolicySet::default()).unwrap_err();
        assert!(err.to_string().starts_with("--principal: `alice`"), "{err}");
    }
}
