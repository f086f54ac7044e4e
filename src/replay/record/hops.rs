//! The hops of a mapped request: the recorded call, and for a forwarded call the principal's
//! own call to the forwarding service, rewritten in place for every record.
//!
//! **Why a module.** The CloudTrail and the CTS mappers both write their hops here, so a
//! logged call and an unlogged origin hop are the same for both dialects; every write keeps
//! the hop's buffers ([`Spares`]), so mapping a record allocates nothing once warm.
//!
//! ```text
//! kms:Decrypt via ssm.amazonaws.com → hop 0: ssm:* on *, needing no permission
//!                                     hop 1: kms:Decrypt on the key, via ssm.amazonaws.com
//! ```

use crate::request::spares::{set_text, Spares};
use crate::request::{default_resource_account_str, Context, Hop};

/// Empties the contexts of the previous record and leaves `len` hops, buffers kept.
pub(in crate::replay) fn reuse_hops(
    context: &mut Context,
    hops: &mut Vec<Hop>,
    len: usize,
    spares: &mut Spares,
) {
    spares.recycle(context);
    for h in hops.iter_mut() {
        spares.recycle(&mut h.context);
    }
    while hops.len() > len {
        spares.hops.extend(hops.pop());
    }
    while hops.len() < len {
        hops.push(spares.hop());
    }
}

/// The recorded call, its resource already set.
pub(super) fn set_recorded_hop(
    hop: &mut Hop,
    action: &str,
    via: Option<&str>,
    account: &str,
    spares: &mut Spares,
) {
    let resource = hop.resource.as_str();
    let owner = default_resource_account_str(resource)
        .or_else(|| (!account.is_empty() && resource != "*").then_some(account));
    spares.set_optional(&mut hop.resource_account, owner);
    set_logged_hop(hop, action, via, spares);
}

/// The logged call of a record (CloudTrail or CTS), its resource and the resource's
/// account already set by the caller. Key policies are not in the log: a resource policy is
/// required only when the replay was given one for this resource (see `super::policies`).
pub(in crate::replay) fn set_logged_hop(
    hop: &mut Hop,
    action: &str,
    via: Option<&str>,
    spares: &mut Spares,
) {
    set_text(&mut hop.action, action);
    spares.set_optional(&mut hop.via, via);
    hop.resource_policy = None;
    hop.resource_policy_required = false;
    hop.requires_no_permission = false;
}

/// The principal's own call to the forwarding service of a forwarded record: not in the
/// log, and needing no permission.
pub(super) fn set_origin_hop(hop: &mut Hop, service: &str, spares: &mut Spares) {
    set_unlogged_origin_hop(
        hop,
        service.split('.').next().unwrap_or("aws"),
        ":*",
        spares,
    );
}

/// The principal's own call to a forwarding service, which no log holds: `prefix` and
/// `wildcard` make its action (`ssm` + `:*`; Huawei's `obs` + `:*:*`), on `*`, needing no
/// permission.
pub(in crate::replay) fn set_unlogged_origin_hop(
    hop: &mut Hop,
    prefix: &str,
    wildcard: &str,
    spares: &mut Spares,
) {
    spares.set_optional(&mut hop.via, None);
    hop.action.clear();
    hop.action.push_str(prefix);
    hop.action.make_ascii_lowercase();
    hop.action.push_str(wildcard);
    set_text(&mut hop.resource, "*");
    spares.set_optional(&mut hop.resource_account, None);
    hop.resource_policy = None;
    hop.resource_policy_required = false;
    hop.requires_no_permission = true;
}
