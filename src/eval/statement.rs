//! Whether one candidate statement applies to the hop (R-STMT-1): its policy participates,
//! its principal, action and resource clauses match, and its conditions hold.
//!
//! The checks run cheapest and most selective first, each returning early: participation
//! (which policy kinds this hop and principal bring in, [`Participation`], decided once per
//! hop), then the principal (resource-side policies only, `principal`), the action clause
//! (only for candidates the index did not verify, `candidates`), the resource patterns
//! (resolved per evaluator, `resource_plan`), the statement's referenced keys (absent ones
//! are recorded as missing, R-SIM-4, whether or not the statement then applies) and last its
//! conditions (`compare`). An applicable statement is recorded as an `Applied` for the
//! decision.
//!
//! For example, an SCP statement is skipped at once for a service principal (R-FAS-9); an
//! identity `Allow` on `arn:aws:s3:::b/${aws:username}/*` is checked against the resource
//! with the variable substituted from the principal's slot.

use crate::bytecode::PolicyKind as Kind;
use crate::bytecode::*;
use crate::request::RequestView;

use super::outcome::Applied;
use super::resource_plan::Target;
use super::slots::Slot;
use super::{Evaluator, Scratch};

/// Which policy kinds take part in deciding a hop (R-EVAL-0, R-FAS-9, R-EVAL-6), decided once
/// per hop from the principal and the request's flags.
pub(super) struct Participation {
    pub(super) scp: bool,
    pub(super) rcp: bool,
    pub(super) vpce: bool,
    pub(super) resource: Option<u32>,
    /// Identity policies (not for service principals and anonymous callers, R-FAS-9).
    pub(super) identity: bool,
    /// Boundary and session policies (not for those, nor for the root user, R-EVAL-6).
    pub(super) ceilings: bool,
}

impl<'p> Evaluator<'p> {
    /// Checks statement `id` for applicability and records it (R-STMT-1, R-SIM-4).
    pub(super) fn examine<R: RequestView>(
        &self,
        req: &R,
        sc: &mut Scratch,
        target: &Target<'_>,
        id: StatementId,
        verified: bool,
        part: &Participation,
    ) {
        let st = self.v.statements[id as usize];
        let policy = self.v.policies[st.policy as usize];
        let Some(kind) = policy_kind_from_code(policy.kind) else {
            return;
        };
        let participates = match kind {
            Kind::Scp => part.scp,
            Kind::Rcp => part.rcp,
            Kind::VpcEndpoint => part.vpce,
            Kind::ResourceBased => part.resource == Some(policy.position),
            Kind::Identity => part.identity,
            Kind::PermissionsBoundary | Kind::Session => part.ceilings,
        };
        if !participates {
            return;
        }
        let categories = if st.flags & STMT_HAS_PRINCIPAL != 0 {
            let c = self.principal_categories(&st, req, sc, part);
            if c == 0 {
                return;
            }
            c
        } else {
            0
        };
        if !verified && !self.action_clause(&st, &sc.action) {
            return;
        }
        if !self.resource_clause(&st, target, req, sc) {
            return;
        }
        let keys =
            &self.v.statement_keys[st.keys_first as usize..(st.keys_first + st.keys_len) as usize];
        for key in keys {
            if sc.slots[*key as usize] == Slot::Absent {
                sc.missing_bits[*key as usize / 64] |= 1 << (key % 64);
            }
        }
        let conditions =
            st.conditions_first as usize..(st.conditions_first + st.conditions_len) as usize;
        if conditions.into_iter().all(|c| self.condition(c, req, sc)) {
            sc.applied.push(Applied {
                statement: id,
                categories,
                kind,
                level: policy.level,
                deny: st.flags & STMT_DENY != 0,
            });
        }
    }

    pub(super) fn resource_clause<R: RequestView>(
        &self,
        st: &StatementRec,
        target: &Target<'_>,
        req: &R,
        sc: &mut Scratch,
    ) -> bool {
        let plans = &self.resource_plans
            [st.resources_first as usize..(st.resources_first + st.resources_len) as usize];
        let any = plans
            .iter()
            .any(|plan| plan.matches(target, |m, text| self.matcher(m, text, req, sc)));
        any != (st.flags & STMT_NOT_RESOURCE != 0)
    }
}
