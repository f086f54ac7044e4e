//! Principal clauses of resource-side statements (R-PRIN-3..6).
//!
//! A `Principal` element matches the requester under one or more categories (direct, role,
//! parent user, account, wildcard, as bits): the decision needs them to tell which allow
//! path a resource-policy grant opens (R-EVAL-4). A `NotPrincipal` element is answered by
//! whether the list exempts the requester (R-PRIN-4).
//!
//! Written again here rather than shared with `reference::matching`: the two engines share
//! the AST and the primitives only, so that a mistake in one principal-matching
//! implementation shows up as a differential-test disagreement instead of in both.
//!
//! For example, `"Principal": {"AWS": "111122223333"}` matches a user of that account as
//! [`CAT_ACCOUNT`] (an identity policy must allow too), and
//! `"Principal": {"AWS": "arn:aws:iam::111122223333:user/a"}` matches that user as
//! [`CAT_DIRECT`] (the grant suffices in the same account).

use crate::bytecode::*;
use crate::primitives;
use crate::request::{PrincipalKind as Who, RequestView};

use super::residual::bytes::same;
use super::slots::Value;
use super::statement::Participation;
use super::{Evaluator, Scratch};

/// Statement categories of a resource-policy principal match (R-PRIN-3), as bits.
pub(super) const CAT_WILDCARD: u8 = 1;
pub(super) const CAT_DIRECT: u8 = 2;
pub(super) const CAT_ROLE: u8 = 4;
pub(super) const CAT_PARENT_USER: u8 = 8;
pub(super) const CAT_ACCOUNT: u8 = 16;

impl<'p> Evaluator<'p> {
    pub(super) fn principal_categories<R: RequestView>(
        &self,
        st: &StatementRec,
        req: &R,
        sc: &Scratch,
        part: &Participation,
    ) -> u8 {
        let entries = &self.v.principals
            [st.principals_first as usize..(st.principals_first + st.principals_len) as usize];
        if st.flags & STMT_NOT_PRINCIPAL != 0 {
            let quirk = st.flags & STMT_DENY != 0 && self.meta.has_boundary != 0 && part.ceilings;
            return if quirk || !self.exempted(entries, st.flags & STMT_DENY != 0, req) {
                CAT_WILDCARD
            } else {
                0
            };
        }
        let mut cats = 0;
        for e in entries {
            cats |= match PrincipalKind::from_code(e.kind) {
                Some(PrincipalKind::Wildcard) => CAT_WILDCARD,
                Some(PrincipalKind::Service) => {
                    let v = self.s(e.value);
                    if req.principal_kind() == Who::Service
                        && (v == "*" || v == req.principal_arn())
                    {
                        CAT_DIRECT
                    } else {
                        0
                    }
                }
                Some(PrincipalKind::Federated) => {
                    let provider = self
                        .special
                        .federated_provider
                        .map(|k| self.value(req, sc, k));
                    match provider {
                        Some(Value::Single(v)) if v == self.s(e.value) => CAT_DIRECT,
                        _ => 0,
                    }
                }
                Some(PrincipalKind::Account | PrincipalKind::ObsId) => {
                    account_category(self.s(e.value), req)
                }
                Some(PrincipalKind::CanonicalUser | PrincipalKind::Never) | None => 0,
            };
        }
        cats
    }

    /// R-PRIN-4: whether the list exempts the requester. A `Deny` exempts it iff **every**
    /// element of its identity set is listed; an `Allow` (lenient, R-PRIN-6) excludes it
    /// from the grant iff **any** element is listed.
    pub(super) fn exempted<R: RequestView>(
        &self,
        entries: &[PrincipalRec],
        every: bool,
        p: &R,
    ) -> bool {
        let listed = |s: &str| {
            entries.iter().any(|e| {
                matches!(
                    PrincipalKind::from_code(e.kind),
                    Some(PrincipalKind::Account | PrincipalKind::Service | PrincipalKind::ObsId)
                ) && self.s(e.value) == s
            })
        };
        if entries
            .iter()
            .any(|e| e.kind == PrincipalKind::Wildcard.code())
        {
            return true;
        }
        let account_listed = || {
            p.principal_account().is_some_and(|a| {
                entries.iter().any(|e| {
                    matches!(
                        PrincipalKind::from_code(e.kind),
                        Some(PrincipalKind::Account | PrincipalKind::ObsId)
                    ) && is_account_reference(self.s(e.value), a)
                })
            })
        };
        let role_listed = || p.principal_role_arn().is_some_and(listed);
        match p.principal_kind() {
            Who::Anonymous => false,
            Who::Service => listed(p.principal_arn()),
            Who::Root => account_listed(),
            Who::User | Who::FederatedUser if every => {
                listed(p.principal_arn()) && account_listed()
            }
            Who::User | Who::FederatedUser => listed(p.principal_arn()) || account_listed(),
            Who::AssumedRole if every => {
                listed(p.principal_arn()) && role_listed() && account_listed()
            }
            Who::AssumedRole => listed(p.principal_arn()) || role_listed() || account_listed(),
        }
    }
}

/// Whether `id` (an account id or `arn:…:iam::<acct>:root`) names account `account`.
pub(super) fn is_account_reference(id: &str, account: &str) -> bool {
    id == account
        || matches!(primitives::split_arn(id), Some([_, _, "iam", "", a, "root"]) if a == account)
}

/// The category under which an `AWS`/`IAM`/`ID` value names the requester (R-PRIN-3).
pub(super) fn account_category<R: RequestView>(id: &str, p: &R) -> u8 {
    let root_of = match primitives::split_arn(id) {
        Some([_, _, "iam", "", a, "root"]) => Some(a),
        _ => None,
    };
    account_category_of(id, root_of, p)
}

/// [`account_category`] with the account of `id` when it is a root ARN (`root_of`)
/// already found (the residual programs find it when they are built).
///
/// The texts are compared with `bytes::same` (inline word compares) rather than `==`
/// (a `memcmp` call each): a hop's own resource policy asks this of every account
/// principal (BENCHMARKS.md, tenth session).
pub(super) fn account_category_of<R: RequestView>(id: &str, root_of: Option<&str>, p: &R) -> u8 {
    let is = |text: &str| same(text.as_bytes(), id.as_bytes());
    let who = p.principal_kind();
    if matches!(who, Who::Anonymous | Who::Service) {
        return 0;
    }
    if p.principal_account()
        .is_some_and(|a| is(a) || root_of.is_some_and(|r| same(r.as_bytes(), a.as_bytes())))
    {
        return CAT_ACCOUNT;
    }
    if who == Who::AssumedRole && p.principal_role_arn().is_some_and(is) {
        return CAT_ROLE;
    }
    if is(p.principal_arn()) {
        return CAT_DIRECT;
    }
    if who == Who::FederatedUser && p.principal_parent_user_arn().is_some_and(is) {
        return CAT_PARENT_USER;
    }
    0
}
