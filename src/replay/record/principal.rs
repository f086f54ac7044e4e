//! The principal of a CloudTrail record's `userIdentity`, and the IAM identity whose
//! policies apply to it.
//!
//! **Why a module.** The identity types map differently (a role session's policies are its
//! role's, a federated user's its issuer's, a service has none), and a principal is parsed
//! only when it changes: consecutive records mostly come from one caller.
//!
//! ```text
//! {"type": "AssumedRole", "arn": "arn:aws:sts::1:assumed-role/r/s", "sessionContext": …}
//!   → principal arn:aws:sts::1:assumed-role/r/s, identity arn:aws:iam::1:role/r
//! ```

use crate::request::spares::Spares;
use crate::request::Principal;

use super::event::Event;
use super::{unmappable, Unmappable};

/// Parses `s` into `principal`, keeping its buffers. Consecutive records mostly come from
/// one caller: a principal already parsed from `s` is kept, which is the same because the
/// mapper changes a principal only by parsing into it and by setting `parent_user_arn`
/// (reset here, as `parse_into` does).
pub(super) fn parse_principal(
    principal: &mut Principal,
    s: &str,
    spares: &mut Spares,
) -> Result<(), Unmappable> {
    if principal.arn == s {
        spares.set_optional(&mut principal.parent_user_arn, None);
        return Ok(());
    }
    principal
        .parse_into(s)
        .map_err(|e| unmappable("unknown-principal", e.0))
}

/// The principal of a `userIdentity` into `principal`, and the IAM identity whose policies
/// apply into `identity_arn`.
pub(super) fn principal_into(
    event: &Event<'_, '_>,
    principal: &mut Principal,
    identity_arn: &mut Option<String>,
    spares: &mut Spares,
) -> Result<(), Unmappable> {
    let identity = &event.identity;
    let identity_type = identity.kind;
    let arn = identity.arn;
    match identity_type {
        "IAMUser" | "Root" => {
            let arn = arn.ok_or_else(|| unmappable("unknown-principal", format!("{identity_type} identity without `arn`")))?;
            parse_principal(principal, arn, spares)?;
            spares.set_optional(identity_arn, Some(arn));
        }
        "AssumedRole" => {
            let arn = arn.ok_or_else(|| unmappable("unknown-principal", "AssumedRole identity without `arn`"))?;
            parse_principal(principal, arn, spares)?;
            spares.set_optional(
                identity_arn,
                identity.issuer().or(principal.role_arn.as_deref()),
            );
        }
        "FederatedUser" => {
            let arn = arn.ok_or_else(|| unmappable("unknown-principal", "FederatedUser identity without `arn`"))?;
            parse_principal(principal, arn, spares)?;
            spares.set_optional(&mut principal.parent_user_arn, identity.issuer());
            spares.set_optional(identity_arn, identity.issuer());
        }
        "AWSService" => {
            let service = identity.invoked_by.ok_or_else(|| unmappable("unknown-principal", "AWSService identity without `invokedBy`"))?;
            parse_principal(principal, service, spares)?;
            spares.set_optional(identity_arn, None);
        }
        // S3 logs an anonymous caller as an `AWSAccount` whose account is `anonymous`.
        "AWSAccount" | "Anonymous"
            if arn.is_none()
                && (identity.account_id == Some("anonymous")
                    || identity_type == "Anonymous") =>
        {
            parse_principal(principal, "anonymous", spares)?;
            spares.set_optional(identity_arn, None);
        }
        other => return Err(unmappable(
            "unknown-principal",
            format!("userIdentity type `{other}` is not mapped (users, roles, federated users, root, services and anonymous are)"),
        )),
    }
    Ok(())
}
