//! The reference evaluator: the oracle every other engine is judged against.
//!
//! It walks the AST directly, allocates freely and favours being obviously right over being
//! fast. For each hop it finds every applicable statement of every participating policy
//! (R-STMT-1), then applies the decision procedure of SEMANTICS.md §10 in its closed form:
//! explicit deny (R-EVAL-2), the RCP / SCP / VPC-endpoint gates (R-EVAL-3), the core grant
//! (R-EVAL-4, R-EVAL-4a, R-EVAL-5, R-EVAL-6), then the reason (R-SIM-2, R-SIM-2a), the
//! matched statements (R-SIM-3) and the missing keys (R-SIM-4). A chain is allowed only if
//! every hop is (R-FAS-2).
//!
//! ```
//! use fastiam::request::parse_case;
//! use fastiam::decision::Decision;
//! let case = parse_case(r#"{"id":"x","principal":"arn:aws:iam::111122223333:user/alice",
//!   "policies":{"identity":[{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
//!   "Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}]},
//!   "chain":[{"action":"s3:GetObject","resource":"arn:aws:s3:::b/k"}]}"#, "doc").unwrap();
//! let result = fastiam::reference::evaluate_chain(&case.chain);
//! assert_eq!(result.decision, Decision::Allow);
//! ```
//!
//! Decisions taken where the spec leaves room (also listed in the closing notes):
//! - policies that do not take part in a hop are not looked at at all, not even for
//!   explicit denies or missing keys: SCPs for service principals, anonymous callers,
//!   service-linked roles and management-account principals; RCPs for service-linked
//!   roles; boundaries and session policies for the root user (R-EVAL-6, which also turns
//!   off the boundary quirk of R-PRIN-5 for root); identity, boundary and session policies
//!   for service principals and anonymous callers, who cannot have any (R-FAS-9); the
//!   VPC-endpoint policy after hop 0 (R-FAS-3);
//! - the RCP levels of a case apply to the resource of every hop;
//! - for an `Allow`, R-SIM-3's "gate Allow statements that were required" are every
//!   applicable Allow statement of the SCP, RCP and VPC-endpoint policies that were
//!   evaluated, plus the boundary and session statements when the winning path needs them.

mod matching;

use std::collections::BTreeSet;

use crate::decision::{AllowPath, ChainDecision, Decision, HopDecision, MatchedStatement, Reason};
use crate::policy::{Dialect, Effect, Policy, PolicyKind};
use crate::primitives;
use crate::request::{
    first_hop_context, hop_context, Chain, Context, ContextValue, Hop, PolicySet, PrincipalKind,
    Request,
};

pub use matching::{
    action_clause_matches, condition_holds, referenced_keys, resolve_pieces,
    resource_clause_matches, Category,
};

/// A request and the policies it is evaluated against, borrowed.
#[derive(Clone, Copy, Debug)]
struct ChainRef<'a> {
    request: &'a Request,
    policies: &'a PolicySet,
}

/// Evaluates a whole chain, hop by hop, stopping at the first hop that is not allowed.
pub fn evaluate_chain(chain: &Chain) -> ChainDecision {
    evaluate(&chain.request, &chain.policies)
}

/// Evaluates a request against a policy set (hops name resource policies by index).
pub fn evaluate(request: &Request, policies: &PolicySet) -> ChainDecision {
    evaluate_ref(ChainRef { request, policies })
}

fn evaluate_ref(chain: ChainRef<'_>) -> ChainDecision {
    let mut ctx = first_hop_context(chain.request);
    if let Some(creds) = &chain.request.credentials {
        // R-STS-5: authentication before authorisation. A window that cannot be checked
        // (no parsable current time) is not valid.
        let now = current_time(&ctx, chain.request.dialect);
        if !now.is_some_and(|now| creds.valid_at(now)) {
            return ChainDecision::invalid_credentials();
        }
    }
    let mut hops = Vec::with_capacity(chain.request.hops.len());
    for (index, hop) in chain.request.hops.iter().enumerate() {
        if index > 0 {
            let via = hop.via.as_deref().unwrap_or_default();
            ctx = hop_context(
                &ctx,
                via,
                &hop.context,
                chain.request.dialect,
                &chain.request.options.fas,
            );
        }
        let result = evaluate_hop_ref(chain, index, &ctx);
        let allowed = result.decision == Decision::Allow;
        hops.push(result);
        if !allowed {
            break;
        }
    }
    ChainDecision::from_hops(hops)
}

/// The request time of a context: `aws:CurrentTime` / `g:CurrentTime`.
pub fn current_time(ctx: &Context, dialect: Dialect) -> Option<primitives::Instant> {
    let key = match dialect {
        Dialect::Aws => "aws:currenttime",
        Dialect::Huawei => "g:currenttime",
    };
    match ctx.get(key) {
        Some(ContextValue::Single(v)) => primitives::parse_date(v),
        _ => None,
    }
}

/// An applicable statement, with where it came from.
struct Applied<'a> {
    kind: PolicyKind,
    level: Option<usize>,
    position: usize,
    policy: &'a Policy,
    statement: usize,
    effect: Effect,
    categories: Vec<Category>,
}

impl Applied<'_> {
    fn to_matched(&self) -> MatchedStatement {
        MatchedStatement {
            kind: self.kind,
            level: self.level,
            position: self.position,
            statement: self.statement,
            policy: self.policy.id.clone(),
            sid: self.policy.statements[self.statement].sid.clone(),
        }
    }
}

/// The walk over one hop's policies.
struct HopWalk<'a> {
    chain: ChainRef<'a>,
    hop: &'a Hop,
    ctx: &'a Context,
    applied: Vec<Applied<'a>>,
    missing: BTreeSet<String>,
}

impl<'a> HopWalk<'a> {
    /// Records every applicable statement of `policy` and the missing keys of every
    /// statement whose principal, action and resource clauses matched (R-SIM-4).
    fn visit(
        &mut self,
        policy: &'a Policy,
        kind: PolicyKind,
        level: Option<usize>,
        position: usize,
    ) {
        let principal = &self.chain.request.principal;
        let has_boundary = self.chain.policies.boundary.is_some() && has_ceilings(principal.kind);
        for st in &policy.statements {
            let categories = match &st.principal {
                Some(clause) => {
                    let c = matching::principal_categories(
                        clause,
                        st.effect,
                        principal,
                        has_boundary,
                        self.ctx,
                    );
                    if c.is_empty() {
                        continue;
                    }
                    c
                }
                None => Vec::new(),
            };
            if !matching::action_clause_matches(&st.action, &self.hop.action)
                || !matching::resource_clause_matches(&st.resource, &self.hop.resource, self.ctx)
            {
                continue;
            }
            for key in matching::referenced_keys(&st.conditions) {
                if !self.ctx.contains(key) {
                    self.missing.insert(key.to_string());
                }
            }
            if matching::conditions_hold(&st.conditions, self.ctx) {
                self.applied.push(Applied {
                    kind,
                    level,
                    position,
                    policy,
                    statement: st.index,
                    effect: st.effect,
                    categories,
                });
            }
        }
    }

    fn allows<'s>(&'s self, kind: PolicyKind) -> impl Iterator<Item = &'s Applied<'a>> + 's {
        self.applied
            .iter()
            .filter(move |a| a.kind == kind && a.effect == Effect::Allow)
    }

    fn any_allow(&self, kind: PolicyKind) -> bool {
        self.allows(kind).next().is_some()
    }

    /// Every level has an applicable Allow (R-EVAL-0a).
    fn levels_allow(&self, kind: PolicyKind, levels: usize) -> bool {
        (0..levels).all(|l| self.allows(kind).any(|a| a.level == Some(l)))
    }
}

/// Whether identity policies take part: a service principal or an anonymous caller has
/// none (R-FAS-9); policies a case supplies for them are not evaluated.
fn has_identity(kind: PrincipalKind) -> bool {
    !matches!(kind, PrincipalKind::Service | PrincipalKind::Anonymous)
}

/// Whether a boundary and session policies take part: not for principals without
/// identity policies, nor for the root user (R-EVAL-6). This also turns off the
/// boundary quirk of R-PRIN-5 for them.
fn has_ceilings(kind: PrincipalKind) -> bool {
    has_identity(kind) && kind != PrincipalKind::Root
}

/// Whether the SCP gate applies to this principal (R-EVAL-3).
fn scp_applies(chain: ChainRef<'_>) -> bool {
    let p = &chain.request.principal;
    !chain.policies.scp.is_empty()
        && !matches!(p.kind, PrincipalKind::Service | PrincipalKind::Anonymous)
        && !p.service_linked
        && !p.management_account
}

/// Whether the RCP gate applies (R-EVAL-3).
fn rcp_applies(chain: ChainRef<'_>) -> bool {
    !chain.policies.rcp.is_empty() && !chain.request.principal.service_linked
}

/// Evaluates hop `index` of `chain` in the already-derived context `ctx`.
pub fn evaluate_hop(chain: &Chain, index: usize, ctx: &Context) -> HopDecision {
    evaluate_hop_ref(
        ChainRef {
            request: &chain.request,
            policies: &chain.policies,
        },
        index,
        ctx,
    )
}

fn evaluate_hop_ref(chain: ChainRef<'_>, index: usize, ctx: &Context) -> HopDecision {
    let hop = &chain.request.hops[index];
    if hop.requires_no_permission {
        // R-EVAL-7: authorised without evaluation.
        return HopDecision {
            decision: Decision::Allow,
            reason: Reason::NoPermissionRequired,
            matched: Vec::new(),
            missing: Vec::new(),
        };
    }
    let policies = &chain.policies;
    let kind = chain.request.principal.kind;
    let mut walk = HopWalk {
        chain,
        hop,
        ctx,
        applied: Vec::new(),
        missing: BTreeSet::new(),
    };
    let scp = scp_applies(chain);
    let rcp = rcp_applies(chain);
    if scp {
        for (level, list) in policies.scp.iter().enumerate() {
            for (i, p) in list.iter().enumerate() {
                walk.visit(p, PolicyKind::Scp, Some(level), i);
            }
        }
    }
    if rcp {
        for (level, list) in policies.rcp.iter().enumerate() {
            for (i, p) in list.iter().enumerate() {
                walk.visit(p, PolicyKind::Rcp, Some(level), i);
            }
        }
    }
    let vpce = if index == 0 {
        policies.vpce.as_ref()
    } else {
        None
    };
    if let Some(p) = vpce {
        walk.visit(p, PolicyKind::VpcEndpoint, None, 0);
    }
    if let Some(p) = hop.resource_policy.and_then(|i| policies.resource.get(i)) {
        walk.visit(p, PolicyKind::ResourceBased, None, index);
    }
    let identity: &[Policy] = if has_identity(kind) {
        &policies.identity
    } else {
        &[]
    };
    for (i, p) in identity.iter().enumerate() {
        walk.visit(p, PolicyKind::Identity, None, i);
    }
    let boundary = policies.boundary.as_ref().filter(|_| has_ceilings(kind));
    if let Some(p) = boundary {
        walk.visit(p, PolicyKind::PermissionsBoundary, None, 0);
    }
    let session = policies.session.as_ref().filter(|_| has_ceilings(kind));
    for (i, p) in session.into_iter().flatten().enumerate() {
        walk.visit(p, PolicyKind::Session, None, i);
    }

    let missing: Vec<String> = walk.missing.iter().cloned().collect();
    let decide = |decision, reason, mut matched: Vec<MatchedStatement>| {
        matched.sort();
        HopDecision {
            decision,
            reason,
            matched,
            missing: missing.clone(),
        }
    };

    // R-EVAL-2: explicit deny first.
    let denies: Vec<MatchedStatement> = walk
        .applied
        .iter()
        .filter(|a| a.effect == Effect::Deny)
        .map(Applied::to_matched)
        .collect();
    if let Some(first) = denies.iter().map(|m| m.kind).min() {
        return decide(Decision::ExplicitDeny, Reason::ExplicitDeny(first), denies);
    }

    // R-EVAL-3: gates, in the order the reason must use.
    if rcp && !walk.levels_allow(PolicyKind::Rcp, policies.rcp.len()) {
        return decide(Decision::ImplicitDeny, Reason::RcpNoAllow, vec![]);
    }
    if scp && !walk.levels_allow(PolicyKind::Scp, policies.scp.len()) {
        return decide(Decision::ImplicitDeny, Reason::ScpNoAllow, vec![]);
    }
    if vpce.is_some() && !walk.any_allow(PolicyKind::VpcEndpoint) {
        return decide(Decision::ImplicitDeny, Reason::VpceNoAllow, vec![]);
    }
    let gate_allows: Vec<MatchedStatement> =
        [PolicyKind::Scp, PolicyKind::Rcp, PolicyKind::VpcEndpoint]
            .into_iter()
            .flat_map(|k| walk.allows(k).map(Applied::to_matched).collect::<Vec<_>>())
            .collect();

    let (decision, reason, matched) =
        core_grant(chain, hop, &walk, boundary.is_some(), session.is_some());
    let matched = match decision {
        Decision::Allow => gate_allows.into_iter().chain(matched).collect(),
        _ => matched,
    };
    decide(decision, reason, matched)
}

/// The grant flags of R-EVAL-4, computed once per hop.
struct Grant {
    id_allow: bool,
    id_allow_statement: bool,
    pb_ok: bool,
    sp_ok: bool,
    rb_direct: bool,
    rb_role: bool,
    rb_account: bool,
    rb_any: bool,
}

/// R-EVAL-4, R-EVAL-4a, R-EVAL-5, R-EVAL-6 and the reasons of R-SIM-2a.
fn core_grant(
    chain: ChainRef<'_>,
    hop: &Hop,
    walk: &HopWalk<'_>,
    has_boundary: bool,
    has_session: bool,
) -> (Decision, Reason, Vec<MatchedStatement>) {
    let p = &chain.request.principal;
    let resource_account = hop.resource_account.as_deref().or(p.account.as_deref());
    let same_account = p.is_authenticated() && p.account.as_deref() == resource_account;
    let rb_with = |cats: &[Category]| {
        walk.allows(PolicyKind::ResourceBased)
            .any(|a| a.categories.iter().any(|c| cats.contains(c)))
    };
    let id_allow_statement = walk.any_allow(PolicyKind::Identity);
    let g = Grant {
        id_allow_statement,
        // R-EVAL-6: the root user is allowed by its own account's resources.
        id_allow: id_allow_statement || (p.kind == PrincipalKind::Root && same_account),
        pb_ok: !has_boundary || walk.any_allow(PolicyKind::PermissionsBoundary),
        sp_ok: !has_session || walk.any_allow(PolicyKind::Session),
        rb_direct: rb_with(&[Category::Direct, Category::Wildcard]),
        rb_role: rb_with(&[Category::Role, Category::SessionParentUser]),
        rb_account: rb_with(&[Category::Account]),
        rb_any: walk.any_allow(PolicyKind::ResourceBased),
    };
    let id_path = g.id_allow && g.pb_ok && g.sp_ok;
    let role_path = g.rb_role && g.pb_ok && g.sp_ok;
    let required = hop.resource_policy_required;

    let allowed = match p.kind {
        PrincipalKind::Service => g.rb_direct,
        PrincipalKind::Anonymous => rb_with(&[Category::Wildcard]),
        _ if same_account && required => g.rb_direct || role_path || (g.rb_account && id_path),
        _ if same_account => g.rb_direct || role_path || id_path,
        _ => (g.rb_direct || g.rb_role || g.rb_account) && id_path,
    };
    if !allowed {
        return (
            Decision::ImplicitDeny,
            deny_reason(&g, p.kind, same_account, required),
            vec![],
        );
    }

    let statements = |kind, cats: Option<&[Category]>| -> Vec<MatchedStatement> {
        walk.allows(kind)
            .filter(|a| cats.is_none_or(|cats| a.categories.iter().any(|c| cats.contains(c))))
            .map(Applied::to_matched)
            .collect()
    };
    let ceilings = || {
        let mut v = statements(PolicyKind::PermissionsBoundary, None);
        v.extend(statements(PolicyKind::Session, None));
        v
    };
    let direct: &[Category] = &[Category::Direct, Category::Wildcard];
    let role: &[Category] = &[Category::Role, Category::SessionParentUser];
    let resource_and_identity = !same_account || (required && !g.rb_direct && !role_path);
    let (path, matched) = if p.kind == PrincipalKind::Service {
        (
            AllowPath::ServicePrincipal,
            statements(PolicyKind::ResourceBased, Some(direct)),
        )
    } else if p.kind == PrincipalKind::Anonymous {
        // Only a `"*"` grant lets an anonymous caller in (T-EVAL-13).
        let wildcard: &[Category] = &[Category::Wildcard];
        (
            AllowPath::ResourceDirect,
            statements(PolicyKind::ResourceBased, Some(wildcard)),
        )
    } else if resource_and_identity {
        // R-SIM-2a: cross-account and resource-policy-required allows take the identity
        // path, and the resource statements that granted are listed too.
        let mut m = statements(PolicyKind::ResourceBased, None);
        m.extend(statements(PolicyKind::Identity, None));
        m.extend(ceilings());
        let path = if g.id_allow_statement {
            AllowPath::Identity
        } else {
            AllowPath::Root
        };
        (path, m)
    } else if g.rb_direct {
        (
            AllowPath::ResourceDirect,
            statements(PolicyKind::ResourceBased, Some(direct)),
        )
    } else if role_path {
        let mut m = statements(PolicyKind::ResourceBased, Some(role));
        m.extend(ceilings());
        (AllowPath::ResourceRole, m)
    } else if g.id_allow_statement {
        let mut m = statements(PolicyKind::Identity, None);
        m.extend(ceilings());
        (AllowPath::Identity, m)
    } else {
        (AllowPath::Root, ceilings())
    };
    (Decision::Allow, Reason::Allowed(path), matched)
}

/// R-SIM-2a: the reason of a core-grant failure.
fn deny_reason(g: &Grant, kind: PrincipalKind, same_account: bool, required: bool) -> Reason {
    if required && !g.rb_any {
        return Reason::ResourcePolicyRequired;
    }
    if matches!(kind, PrincipalKind::Service | PrincipalKind::Anonymous) {
        return Reason::NoAllow;
    }
    if !same_account {
        return if !g.rb_any {
            Reason::CrossAccountNoResourceGrant
        } else if !g.id_allow {
            Reason::CrossAccountNoIdentityGrant
        } else if !g.pb_ok {
            Reason::BoundaryNoAllow
        } else {
            Reason::SessionPolicyNoAllow
        };
    }
    let granted_somewhere = g.id_allow || g.rb_role;
    if granted_somewhere && !g.pb_ok {
        Reason::BoundaryNoAllow
    } else if granted_somewhere && !g.sp_ok {
        Reason::SessionPolicyNoAllow
    } else {
        Reason::NoAllow
    }
}
