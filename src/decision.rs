//! What an evaluation returns: the decision, why, which statements decided, and which
//! context keys were missing — for every hop and for the chain (R-SIM-1..4, R-FAS-2).
//!
//! Every engine returns these types, so engines are compared by plain equality (R-GEN-4).
//! The JSON form is CASES.md's decision line:
//!
//! ```text
//! {"id":"c1","decision":"ImplicitDeny","denied_at":1,"hops":[{"decision":"Allow",
//!  "reason":"Allowed:Identity","matched":[{"policy":"identity[0]","kind":"Identity",
//!  "statement":0,"sid":"ReadData"}],"missing":[]},{"decision":"ImplicitDeny",
//!  "reason":"NoAllow","matched":[],"missing":["aws:sourcevpc"]}]}
//! ```

use std::fmt;

use serde_json::{json, Value};

use crate::policy::PolicyKind;

/// The decision for a hop or a chain (R-SIM-1, R-STS-5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Decision {
    Allow,
    ExplicitDeny,
    ImplicitDeny,
    /// The credentials were not valid at the request time; nothing was evaluated.
    InvalidCredentials,
}

impl Decision {
    pub fn name(self) -> &'static str {
        match self {
            Decision::Allow => "Allow",
            Decision::ExplicitDeny => "ExplicitDeny",
            Decision::ImplicitDeny => "ImplicitDeny",
            Decision::InvalidCredentials => "InvalidCredentials",
        }
    }
}

/// The path by which an allowed hop was allowed (R-SIM-2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AllowPath {
    ResourceDirect,
    ResourceRole,
    Identity,
    ServicePrincipal,
    Root,
}

/// Why a hop got its decision (R-SIM-2), in the order the spec ranks them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Reason {
    /// An applicable Deny; the kind is the first in R-SIM-3 order among the denying ones.
    ExplicitDeny(PolicyKind),
    NoPermissionRequired,
    RcpNoAllow,
    ScpNoAllow,
    VpceNoAllow,
    BoundaryNoAllow,
    SessionPolicyNoAllow,
    ResourcePolicyRequired,
    CrossAccountNoResourceGrant,
    CrossAccountNoIdentityGrant,
    NoAllow,
    Allowed(AllowPath),
    /// The credential window did not contain the request time (R-STS-5).
    ExpiredCredentials,
}

/// The R-SIM-3 spelling of a policy kind.
pub fn kind_name(kind: PolicyKind) -> &'static str {
    match kind {
        PolicyKind::Scp => "Scp",
        PolicyKind::Rcp => "Rcp",
        PolicyKind::VpcEndpoint => "VpcEndpoint",
        PolicyKind::ResourceBased => "ResourceBased",
        PolicyKind::Identity => "Identity",
        PolicyKind::PermissionsBoundary => "PermissionsBoundary",
        PolicyKind::Session => "Session",
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::ExplicitDeny(kind) => write!(f, "ExplicitDeny:{}", kind_name(*kind)),
            Reason::Allowed(path) => write!(f, "Allowed:{path:?}"),
            other => write!(f, "{other:?}"),
        }
    }
}

/// One statement that took part in a decision (R-SIM-3).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MatchedStatement {
    /// Sort key: the kind in R-SIM-3 order, then the order the policy was supplied in.
    pub kind: PolicyKind,
    /// For SCPs and RCPs: the level (root first).
    pub level: Option<usize>,
    /// Position of the policy among those of its kind (and level) as supplied; for
    /// resource policies, the hop index.
    pub position: usize,
    pub statement: usize,
    pub policy: String,
    pub sid: Option<String>,
}

/// The result for one hop.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HopDecision {
    pub decision: Decision,
    pub reason: Reason,
    /// Sorted per R-SIM-3.
    pub matched: Vec<MatchedStatement>,
    /// Canonical names, sorted and deduplicated (R-SIM-4).
    pub missing: Vec<String>,
}

/// The result for a chain: the first non-`Allow` hop decides (R-FAS-2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainDecision {
    pub decision: Decision,
    /// Index of the first hop not allowed; `Some(0)` for `InvalidCredentials`.
    pub denied_at: Option<usize>,
    /// One entry per evaluated hop, up to and including the first denied one.
    pub hops: Vec<HopDecision>,
}

impl ChainDecision {
    /// Builds the chain result from the hop results in order.
    pub fn from_hops(hops: Vec<HopDecision>) -> Self {
        let denied_at = hops.iter().position(|h| h.decision != Decision::Allow);
        let decision = denied_at.map_or(Decision::Allow, |i| hops[i].decision);
        ChainDecision {
            decision,
            denied_at,
            hops,
        }
    }

    /// The decision of a chain whose credentials were not valid.
    pub fn invalid_credentials() -> Self {
        ChainDecision {
            decision: Decision::InvalidCredentials,
            denied_at: Some(0),
            hops: Vec::new(),
        }
    }

    /// The CASES.md decision line for case `id`.
    pub fn to_json(&self, id: &str) -> Value {
        json!({
            "id": id,
            "decision": self.decision.name(),
            "denied_at": self.denied_at,
            "hops": self.hops.iter().map(HopDecision::to_json).collect::<Vec<_>>(),
        })
    }
}

impl HopDecision {
    pub fn to_json(&self) -> Value {
        json!({
            "decision": self.decision.name(),
            "reason": self.reason.to_string(),
            "matched": self.matched.iter().map(MatchedStatement::to_json).collect::<Vec<_>>(),
            "missing": self.missing,
        })
    }
}

impl MatchedStatement {
    pub fn to_json(&self) -> Value {
        let mut v = json!({
            "policy": self.policy,
            "kind": kind_name(self.kind),
            "statement": self.statement,
            "sid": self.sid,
        });
        if let Some(level) = self.level {
            v["level"] = json!(level);
        }
        v
    }
}

/// The CASES.md line for a case that could not be evaluated.
pub fn error_json(id: Option<&str>, message: &str) -> Value {
    json!({
        "id": id,
        "decision": "Error",
        "denied_at": null,
        "hops": [],
        "error": message,
    })
}
