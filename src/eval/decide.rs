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
        let applied = std::mem::take(&mut sc.applied);
        let result = self.decide_applied(req, sc, hop, part, &applied);
        sc.applied = applied;
        result
    }

    pub(super) fn decide_applied<R: RequestView>(
        &self,
        req: &R,
        sc: &mut Scratch,
        hop: usize,
        part: &Participation,
        applied: &[Applied],
    ) -> (Decision, Reason) {
        // R-EVAL-2: explicit deny; statement ids are in kind order, so the first is the kind.
        if let Some(first) = applied.iter().find(|a| a.deny) {
            let kind = first.kind;
            sc.matched
                .extend(applied.iter().filter(|a| a.deny).map(|a| a.statement));
            return (Decision::ExplicitDeny, Reason::ExplicitDeny(kind));
        }
        let allows = |kind: Kind| applied.iter().filter(move |a| a.kind == kind);
        let levels_allow =
            |kind: Kind, levels: u32| (0..levels).all(|l| allows(kind).any(|a| a.level == l));
        if part.rcp && !levels_allow(Kind::Rcp, self.meta.rcp_levels) {
            return (Decision::ImplicitDeny, Reason::RcpNoAllow);
        }
        if part.scp && !levels_allow(Kind::Scp, self.meta.scp_levels) {
            return (Decision::ImplicitDeny, Reason::ScpNoAllow);
        }
        if part.vpce && allows(Kind::VpcEndpoint).next().is_none() {
            return (Decision::ImplicitDeny, Reason::VpceNoAllow);
        }
        let who = req.principal_kind();
        let resource_account = req.resource_account(hop).or(req.principal_account());
        let authenticated = !matches!(who, Who::Anonymous | Who::Service);
        let same_account = authenticated && req.principal_account() == resource_account;
        let rb = |cats: u8| allows(Kind::ResourceBased).any(|a| a.categories & cats != 0);
        let id_allow_statement = allows(Kind::Identity).next().is_some();
        let id_allow = id_allow_statement || (who == Who::Root && same_account);
        let pb_ok = self.meta.has_boundary == 0
            || !part.ceilings
            || allows(Kind::PermissionsBoundary).next().is_some();
        let sp_ok =
            self.meta.has_session == 0 || !part.ceilings || allows(Kind::Session).next().is_some();
        let rb_direct = rb(CAT_DIRECT | CAT_WILDCARD);
        let rb_role = rb(CAT_ROLE | CAT_PARENT_USER);
        let rb_account = rb(CAT_ACCOUNT);
        let rb_any = allows(Kind::ResourceBased).next().is_some();
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
        // Gate allows that were required, then the winning path's statements (R-SIM-3).
        for kind in [Kind::Scp, Kind::Rcp, Kind::VpcEndpoint] {
            sc.matched.extend(allows(kind).map(|a| a.statement));
        }
        let resources =
            |cats: u8| allows(Kind::ResourceBased).filter(move |a| a.categories & cats != 0);
        let ceilings = || allows(Kind::PermissionsBoundary).chain(allows(Kind::Session));
        let resource_and_identity = !same_account || (required && !rb_direct && !role_path);
        let path = if who == Who::Service {
            sc.matched
                .extend(resources(CAT_DIRECT | CAT_WILDCARD).map(|a| a.statement));
            AllowPath::ServicePrincipal
        } else if who == Who::Anonymous {
            sc.matched
                .extend(resources(CAT_WILDCARD).map(|a| a.statement));
            AllowPath::ResourceDirect
        } else if resource_and_identity {
            sc.matched
                .extend(allows(Kind::ResourceBased).map(|a| a.statement));
            sc.matched
                .extend(allows(Kind::Identity).map(|a| a.statement));
            sc.matched.extend(ceilings().map(|a| a.statement));
            if id_allow_statement {
                AllowPath::Identity
            } else {
                AllowPath::Root
            }
        } else if rb_direct {
            sc.matched
                .extend(resources(CAT_DIRECT | CAT_WILDCARD).map(|a| a.statement));
            AllowPath::ResourceDirect
        } else if role_path {
            sc.matched
                .extend(resources(CAT_ROLE | CAT_PARENT_USER).map(|a| a.statement));
            sc.matched.extend(ceilings().map(|a| a.statement));
            AllowPath::ResourceRole
        } else if id_allow_statement {
            sc.matched
                .extend(allows(Kind::Identity).map(|a| a.statement));
            sc.matched.extend(ceilings().map(|a| a.statement));
            AllowPath::Identity
        } else {
            sc.matched.extend(ceilings().map(|a| a.statement));
            AllowPath::Root
        };
        (Decision::Allow, Reason::Allowed(path))
    }
}
