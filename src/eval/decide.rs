//! The decision of one hop from its applicable statements (R-EVAL-2..7, R-SIM-2a, R-SIM-3).
//!
//! Explicit deny first; then the gates (RCPs and SCPs at every level, the VPC endpoint
//! policy); then the core grant: which of the resource-policy paths (direct, role, account)
//! and the identity path (with boundary and session ceilings) allow, given whether the
//! principal and resource share an account and whether the resource requires a resource
//! policy. The reason of an implicit deny names the first missing piece, and the matched
//! statements of an allow are those of the winning path, in R-SIM-3 order.
//!
//! For example, a cross-account request allowed by the bucket policy but by no identity
//! policy is an implicit deny with reason `CrossAccountNoIdentityGrant`.

use crate::bytecode::PolicyKind as Kind;
use crate::decision::{AllowPath, Decision, Reason};
use crate::request::{PrincipalKind as Who, RequestView};

use super::outcome::Applied;
use super::principal::{CAT_ACCOUNT, CAT_DIRECT, CAT_PARENT_USER, CAT_ROLE, CAT_WILDCARD};
use super::statement::Participation;
use super::{Evaluator, Scratch};

impl<'p> Evaluator<'p> {
    pub(super) fn decide<R: RequestView>(
        &self,
        req: &R,
        sc: &mut Scratch,
        hop: usize,
        part: &Participation,
    ) -> (Decision, Reason) {
        self.decide_applied(req, &sc.applied, &mut sc.matched, hop, part)
    }

    /// The decision from the hop's `applied` statements; the matched ones are pushed onto
    /// `matched`, in `applied`'s order (statement id order, which is R-SIM-3's).
    pub(super) fn decide_applied<R: RequestView>(
        &self,
        req: &R,
        applied: &[Applied],
        matched: &mut Vec<crate::bytecode::StatementId>,
        hop: usize,
        part: &Participation,
    ) -> (Decision, Reason) {
        // One pass over the applied statements for what the decision asks of them.
        let summary = Summary::of(applied);
        // R-EVAL-2: explicit deny; statement ids are in kind order, so the first is the kind.
        if summary.deny {
            let kind = applied
                .iter()
                .find(|a| a.deny)
                .map_or(Kind::Identity, |a| a.kind);
            matched.extend(applied.iter().filter(|a| a.deny).map(|a| a.statement));
            return (Decision::ExplicitDeny, Reason::ExplicitDeny(kind));
        }
        let has = |kind: Kind| summary.kinds & bit(kind) != 0;
        if part.rcp && !summary.levels_allow(applied, Kind::Rcp, self.meta.rcp_levels) {
            return (Decision::ImplicitDeny, Reason::RcpNoAllow);
        }
        if part.scp && !summary.levels_allow(applied, Kind::Scp, self.meta.scp_levels) {
            return (Decision::ImplicitDeny, Reason::ScpNoAllow);
        }
        if part.vpce && !has(Kind::VpcEndpoint) {
            return (Decision::ImplicitDeny, Reason::VpceNoAllow);
        }
        let who = req.principal_kind();
        let authenticated = !matches!(who, Who::Anonymous | Who::Service);
        // A resource naming no account is the principal's (its account, or none for both):
        // only a resource naming one compares account texts.
        // (A compact request decided it when it was built.)
        let same_account = authenticated && req.resource_in_principal_account(hop);
        let rb = |cats: u8| summary.resource_categories & cats != 0;
        let id_allow_statement = has(Kind::Identity);
        let id_allow = id_allow_statement || (who == Who::Root && same_account);
        let pb_ok = self.meta.has_boundary == 0 || !part.ceilings || has(Kind::PermissionsBoundary);
        let sp_ok = self.meta.has_session == 0 || !part.ceilings || has(Kind::Session);
        let rb_direct = rb(CAT_DIRECT | CAT_WILDCARD);
        let rb_role = rb(CAT_ROLE | CAT_PARENT_USER);
        let rb_account = rb(CAT_ACCOUNT);
        let rb_any = has(Kind::ResourceBased);
        let id_path = id_allow && pb_ok && sp_ok;
        let role_path = rb_role && pb_ok && sp_ok;
        let required = req.resource_policy_required(hop);
        let allowed = match who {
            Who::Service => rb_direct,
            Who::Anonymous => rb(CAT_WILDCARD),
            _ if same_account && required => rb_direct || role_path || (rb_account && id_path),
            _ if same_account => rb_direct || role_path || id_path,
            _ => (rb_direct || rb_role || rb_account) && id_path,
        };
        if !allowed {
            let reason = if required && !rb_any {
                Reason::ResourcePolicyRequired
            } else if !authenticated {
                Reason::NoAllow
            } else if !same_account {
                if !rb_any {
                    Reason::CrossAccountNoResourceGrant
                } else if !id_allow {
                    Reason::CrossAccountNoIdentityGrant
                } else if !pb_ok {
                    Reason::BoundaryNoAllow
                } else {
                    Reason::SessionPolicyNoAllow
                }
            } else if (id_allow || rb_role) && !pb_ok {
                Reason::BoundaryNoAllow
            } else if (id_allow || rb_role) && !sp_ok {
                Reason::SessionPolicyNoAllow
            } else {
                Reason::NoAllow
            };
            return (Decision::ImplicitDeny, reason);
        }
        // Gate allows that were required, then the winning path's statements (R-SIM-3):
        // the kinds of the path, and for resource policies the categories it grants by
        // (`None`: every resource-policy allow), taken from `applied` in its order, which
        // is R-SIM-3's.
        let ceilings = bit(Kind::PermissionsBoundary) | bit(Kind::Session);
        let resource_and_identity = !same_account || (required && !rb_direct && !role_path);
        let (kinds, categories, path) = if who == Who::Service {
            let path = AllowPath::ServicePrincipal;
            (
                bit(Kind::ResourceBased),
                Some(CAT_DIRECT | CAT_WILDCARD),
                path,
            )
        } else if who == Who::Anonymous {
            let path = AllowPath::ResourceDirect;
            (bit(Kind::ResourceBased), Some(CAT_WILDCARD), path)
        } else if resource_and_identity {
            let path = if id_allow_statement {
                AllowPath::Identity
            } else {
                AllowPath::Root
            };
            let kinds = bit(Kind::ResourceBased) | bit(Kind::Identity) | ceilings;
            (kinds, None, path)
        } else if rb_direct {
            let path = AllowPath::ResourceDirect;
            (
                bit(Kind::ResourceBased),
                Some(CAT_DIRECT | CAT_WILDCARD),
                path,
            )
        } else if role_path {
            let kinds = bit(Kind::ResourceBased) | ceilings;
            (
                kinds,
                Some(CAT_ROLE | CAT_PARENT_USER),
                AllowPath::ResourceRole,
            )
        } else if id_allow_statement {
            (bit(Kind::Identity) | ceilings, None, AllowPath::Identity)
        } else {
            (ceilings, None, AllowPath::Root)
        };
        let kinds = kinds | bit(Kind::Scp) | bit(Kind::Rcp) | bit(Kind::VpcEndpoint);
        // One capacity check for the lot, not one a statement.
        matched.reserve(applied.len());
        for a in applied {
            if kinds & bit(a.kind) != 0
                && (a.kind != Kind::ResourceBased
                    || categories.is_none_or(|c| a.categories & c != 0))
            {
                matched.push(a.statement);
            }
        }
        (Decision::Allow, Reason::Allowed(path))
    }
}

/// A policy kind's bit in [`Summary::kinds`].
#[inline]
fn bit(kind: Kind) -> u8 {
    1 << kind as u8
}

/// What the decision asks of a hop's applied statements, gathered in one pass: whether one
/// denies, which kinds allow, the categories resource-policy allows grant by, and which
/// SCP and RCP levels allow.
struct Summary {
    deny: bool,
    kinds: u8,
    resource_categories: u8,
    scp_levels: u64,
    rcp_levels: u64,
}

impl Summary {
    #[inline]
    fn of(applied: &[Applied]) -> Summary {
        let mut s = Summary {
            deny: false,
            kinds: 0,
            resource_categories: 0,
            scp_levels: 0,
            rcp_levels: 0,
        };
        let level = |a: &Applied| 1u64.checked_shl(a.level).unwrap_or(0);
        for a in applied {
            s.deny |= a.deny;
            s.kinds |= bit(a.kind);
            match a.kind {
                Kind::ResourceBased => s.resource_categories |= a.categories,
                Kind::Scp => s.scp_levels |= level(a),
                Kind::Rcp => s.rcp_levels |= level(a),
                _ => {}
            }
        }
        s
    }

    /// Whether an allow of `kind` applies at each of its `levels` (R-EVAL-3); more than
    /// 64 levels are looked up in `applied`.
    fn levels_allow(&self, applied: &[Applied], kind: Kind, levels: u32) -> bool {
        let mask = match kind {
            Kind::Scp => self.scp_levels,
            _ => self.rcp_levels,
        };
        match levels {
            0 => true,
            1..=64 => {
                let all = u64::MAX >> (64 - levels);
                mask & all == all
            }
            _ => (0..levels).all(|l| applied.iter().any(|a| a.kind == kind && a.level == l)),
        }
    }
}
