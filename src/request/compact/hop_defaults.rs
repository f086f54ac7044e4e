//! Each hop's defaults and per-hop decisions, derived once when the request is built.
//!
//! A hop is set as its strings and what the caller overrode ([`PendingHop`]); `finish`
//! derives the rest (CASES.md): the resource account from the resource's ARN or URN, whether
//! a resource policy must grant within the account (R-EVAL-5), whether the action needs no
//! permission (R-EVAL-7). It also decides what the interpreter would otherwise decide per
//! evaluation: whether the resource is in the principal's account (`same_account`,
//! SEMANTICS.md §10.1) and whether the hop's `via` appends to CalledVia (R-FAS-6), both
//! read as flags; and it splits the resource once and resolves the action.
//!
//! ```
//! use fastiam::request::compact::RequestBuilder;
//! use fastiam::request::RequestView;
//! let mut b = RequestBuilder::new();
//! b.principal("arn:aws:iam::111122223333:user/a").unwrap();
//! b.hop("s3:GetObject", "arn:aws:s3:::b/k");
//! let key = "arn:aws:kms:us-east-1:111122223333:key/k";
//! b.forwarded_hop("athena.amazonaws.com", "kms:Decrypt", key);
//! let req = b.finish().unwrap();
//! assert_eq!(req.resource_account(1), Some("111122223333")); // from the ARN
//! assert!(req.resource_in_principal_account(1));
//! assert!(req.hop_appends_to_called_via(1)); // athena is in the default registry (R-FAS-6)
//! ```

use super::build_error::BuildError;
use super::builder::RequestBuilder;
use super::{CompactHop, Resolver, ACCOUNT, NO_ID};
use crate::primitives::arn::{split_arn_at, split_urn_at};
use crate::request::chain::{
    default_resource_account_split, default_resource_policy_required_split,
};
use crate::request::default_requires_no_permission;
use crate::request::packed::Span;

/// A hop's account as set: the default (from the resource), absent, or given.
#[derive(Clone, Copy, Debug)]
pub(super) enum Account {
    FromResource,
    Absent,
    Given(Span),
}

/// A hop as set, before its defaults are derived.
#[derive(Clone, Copy, Debug)]
pub(super) struct PendingHop {
    pub(super) via: Span,
    pub(super) action: Span,
    pub(super) resource: Span,
    pub(super) account: Account,
    pub(super) resource_policy: u32,
    pub(super) resource_policy_required: Option<bool>,
    pub(super) requires_no_permission: Option<bool>,
}

impl RequestBuilder {
    /// Derives the hops' defaults (CASES.md) and resolves their actions.
    pub(super) fn hops_with_defaults(
        &mut self,
        resolver: Option<&dyn Resolver>,
    ) -> Result<(), BuildError> {
        let RequestBuilder {
            req,
            parts,
            hops,
            fold,
            ..
        } = self;
        for (k, h) in hops.iter().enumerate() {
            let action = h.action.of(&parts.text);
            let resource = h.resource.of(&parts.text);
            // The resource split once, for the interpreter and for every default.
            let mut colons = [0usize; 5];
            let found = crate::primitives::find_colons(resource, &mut colons);
            let arn = split_arn_at(resource, &colons, found);
            let resource_account = match h.account {
                Account::Given(span) => span,
                Account::Absent => Span::NONE,
                Account::FromResource => {
                    let urn = split_urn_at(resource, &colons, found);
                    default_resource_account_split(resource, arn, urn).map_or(Span::NONE, |a| {
                        // A slice of the resource: its span is the resource's, shifted.
                        let offset = a.as_ptr() as usize - resource.as_ptr() as usize;
                        Span::new(h.resource.start() + offset as u32, a.len() as u32)
                    })
                }
            };
            if k > 0 && !h.via.is_some() {
                return Err(BuildError::MissingVia(k));
            }
            // Decided here, where both accounts are known, so that the decision reads a
            // flag (`same_account`, SEMANTICS.md §10.1).
            let principal_account = req.principal[ACCOUNT];
            let in_principal_account = crate::request::view::same_account(
                resource_account
                    .is_some()
                    .then(|| resource_account.of(&parts.text)),
                principal_account
                    .is_some()
                    .then(|| principal_account.of(&parts.text)),
            );
            let resource_policy_required = h.resource_policy_required.unwrap_or_else(|| {
                default_resource_policy_required_split(req.dialect, action, arn)
            });
            let requires_no_permission = h
                .requires_no_permission
                .unwrap_or_else(|| default_requires_no_permission(req.dialect, action));
            let appends_to_called_via = super::appends_among(
                req,
                &parts.values,
                &parts.text,
                if h.via.is_some() {
                    h.via.of(&parts.text)
                } else {
                    ""
                },
            );
            // A resource past 65,535 bytes has its colons found by the interpreter; in a
            // shorter one every offset fits a `u16`.
            let recorded = resource.len() <= usize::from(u16::MAX);
            let flags = (u8::from(resource_policy_required) * CompactHop::RESOURCE_POLICY_REQUIRED)
                | (u8::from(requires_no_permission) * CompactHop::REQUIRES_NO_PERMISSION)
                | (u8::from(in_principal_account) * CompactHop::IN_PRINCIPAL_ACCOUNT)
                | (u8::from(appends_to_called_via) * CompactHop::APPENDS_TO_CALLED_VIA)
                | (u8::from(recorded) * CompactHop::COLONS);
            let hop = CompactHop {
                via: h.via,
                action: h.action,
                resource: h.resource,
                resource_account,
                resource_policy: h.resource_policy,
                context: [0, 0],
                action_entry: resolver.map_or(NO_ID, |r| r.action_entry(action, fold)),
                resource_colons: colons.map(|c| if recorded { c as u16 } else { 0 }),
                colons_found: found as u8,
                flags,
            };
            match parts.hops.get_mut(k) {
                Some(slot) => *slot = hop,
                None => parts.hops.push(hop),
            }
        }
        parts.hops.truncate(hops.len());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::RequestView;

    #[test]
    fn setters_derive_the_case_defaults() {
        let mut b = RequestBuilder::new();
        b.principal("arn:aws:iam::111122223333:user/a").unwrap();
        b.hop("STS:GetCallerIdentity", "*")
            .forwarded_hop(
                "x.amazonaws.com",
                "sts:AssumeRole",
                "arn:aws:iam::444455556666:role/R",
            )
            .resource_account(Some("777788889999"));
        let r = b.finish().unwrap();
        assert!(r.requires_no_permission(0));
        assert_eq!(r.resource_account(0), None);
        assert!(r.resource_policy_required(1));
        assert_eq!(r.resource_account(1), Some("777788889999"));
        assert_eq!(r.token(), 0);
    }
}
