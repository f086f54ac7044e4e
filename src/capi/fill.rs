//! A C request ([`fastiam_request`]) read into a [`RequestBuilder`], every field checked.
//!
//! Both evaluation calls take their request through here: [`fastiam_evaluate`] builds it
//! in the scratch's builder without resolving it against the program (keys are looked up
//! by name at evaluation, only the registered ones resolved at build), and
//! `fastiam_builder_build` builds it in a caller-held [`fastiam_builder`] resolved against
//! the program, for `fastiam_evaluate_builder`. Strings are copied into the builder's one
//! buffer; nothing of the caller's is retained.
//!
//! Every pointer is checked (NULL, length, alignment) and every string validated as UTF-8
//! before use; a failure names the field (`request.hops[1].context[0].values[2]`),
//! including a key given twice after canonicalisation (R-CTX-2), which the builder finds
//! when it sorts the keys and this module traces back to the caller's entry.
//!
//! [`fastiam_evaluate`]: super::fastiam_evaluate
//! [`fastiam_builder`]: super::fastiam_builder

use super::error::{Error, Field};
use super::request::{
    date, fastiam_context_entry, fastiam_hop, fastiam_principal, fastiam_request, flag, Vouched,
};
use crate::policy::Dialect;
use crate::primitives::canonical_key;
use crate::request::compact::{BuildError, RequestBuilder};
use crate::request::{Credentials, PrincipalKind};

/// Clears `b` and sets everything `c` says; `resource_slots` is the program's number of
/// resource-policy slots. The caller then finishes `b` and maps a [`BuildError`] with
/// [`build_error`].
pub(crate) fn fill(
    b: &mut RequestBuilder,
    input: Vouched<'_>,
    c: &fastiam_request,
    resource_slots: u32,
) -> Result<(), Error> {
    let at = Field::root("request");
    b.clear();
    let dialect = match c.dialect {
        1 => Dialect::Aws,
        2 => Dialect::Huawei,
        other => {
            return Err(Error::invalid(
                at.name("dialect"),
                format!("is {other}, not FASTIAM_DIALECT_AWS (1) or FASTIAM_DIALECT_HUAWEI (2)"),
            ))
        }
    };
    b.dialect(dialect);
    principal(b, input, &c.principal, at.name("principal"))?;
    let entries = input.array(c.context, c.context_len, || at.name("context"))?;
    context(b, input, entries, None, at.name("context"))?;
    let hops = input.array(c.hops, c.hops_len, || at.name("hops"))?;
    if hops.is_empty() {
        return Err(Error::invalid(
            at.name("hops_len"),
            "is 0: a request has at least one hop",
        ));
    }
    for (k, hop) in hops.iter().enumerate() {
        self::hop(b, input, hop, k, resource_slots, at.name("hops").index(k))?;
    }
    if !(c.called_via_services.is_null() && c.called_via_services_len == 0) {
        let services = input.array(c.called_via_services, c.called_via_services_len, || {
            at.name("called_via_services")
        })?;
        for (i, s) in services.iter().enumerate() {
            input.text(*s, || at.name("called_via_services").index(i))?;
        }
        b.called_via_services(services.iter().map(|s| {
            input
                .text(*s, || at.name("called_via_services"))
                .unwrap_or_default()
        }));
    }
    b.preserve_source_ip(
        flag(c.preserve_source_ip, || at.name("preserve_source_ip"))?.unwrap_or(true),
    );
    let cat = at.name("credentials");
    if let Some(creds) = input.optional(c.credentials, || cat)? {
        b.credentials(Credentials {
            issued: date(input, creds.issued, || cat.name("issued"))?,
            expires: date(input, creds.expires, || cat.name("expires"))?,
        });
    }
    Ok(())
}

/// Parses the principal, then applies the overrides (CASES.md).
fn principal(
    b: &mut RequestBuilder,
    input: Vouched<'_>,
    c: &fastiam_principal,
    at: Field,
) -> Result<(), Error> {
    let arn = input.text(c.arn, || at.name("arn"))?;
    b.principal(arn).map_err(|e| {
        let BuildError::Principal(why) = e else {
            return Error::invalid(at.name("arn"), e.to_string());
        };
        Error::invalid(at.name("arn"), format!("is not a principal: {why}"))
    })?;
    let kind = match c.kind {
        0 => None,
        1 => Some(PrincipalKind::User),
        2 => Some(PrincipalKind::AssumedRole),
        3 => Some(PrincipalKind::FederatedUser),
        4 => Some(PrincipalKind::Root),
        5 => Some(PrincipalKind::Service),
        6 => Some(PrincipalKind::Anonymous),
        other => {
            return Err(Error::invalid(
                at.name("kind"),
                format!("is {other}, not a fastiam_principal_kind (0 to 6)"),
            ))
        }
    };
    if let Some(kind) = kind {
        b.principal_kind(kind);
    }
    if let Some(account) = input.optional_text(c.account, || at.name("account"))? {
        b.principal_account(account);
    }
    if let Some(role) = input.optional_text(c.role_arn, || at.name("role_arn"))? {
        b.principal_role_arn(role);
    }
    let parent = input.optional_text(c.parent_user_arn, || at.name("parent_user_arn"))?;
    if let Some(parent) = parent {
        b.principal_parent_user_arn(parent);
    }
    if let Some(yes) = flag(c.service_linked, || at.name("service_linked"))? {
        b.service_linked(yes);
    }
    if let Some(yes) = flag(c.management_account, || at.name("management_account"))? {
        b.management_account(yes);
    }
    Ok(())
}

/// Adds hop `k`.
fn hop(
    b: &mut RequestBuilder,
    input: Vouched<'_>,
    c: &fastiam_hop,
    k: usize,
    resource_slots: u32,
    at: Field,
) -> Result<(), Error> {
    let via = input.optional_text(c.via, || at.name("via"))?;
    let action = input.text(c.action, || at.name("action"))?;
    let resource = input.text(c.resource, || at.name("resource"))?;
    match (k, via) {
        (0, Some(_)) => {
            return Err(Error::invalid(
                at.name("via"),
                "is set on hop 0: the principal's own call has no `via` (R-FAS-2)",
            ))
        }
        (1.., None) => return Err(Error::null(at.name("via"))),
        (_, Some(via)) => b.forwarded_hop(via, action, resource),
        (_, None) => b.hop(action, resource),
    };
    if let Some(account) =
        input.optional_text(c.resource_account, || at.name("resource_account"))?
    {
        b.resource_account(Some(account));
    }
    match flag(c.has_resource_policy, || at.name("has_resource_policy"))? {
        Some(true) if c.resource_policy < resource_slots => {
            b.resource_policy(Some(c.resource_policy));
        }
        Some(true) => {
            return Err(Error::invalid(
                at.name("resource_policy"),
                format!(
                    "is slot {}, but the program has {resource_slots} resource policies",
                    c.resource_policy
                ),
            ))
        }
        _ => {}
    }
    let required = flag(c.resource_policy_required, || {
        at.name("resource_policy_required")
    })?;
    if let Some(yes) = required {
        b.resource_policy_required(yes);
    }
    let no_permission = flag(c.requires_no_permission, || {
        at.name("requires_no_permission")
    })?;
    if let Some(yes) = no_permission {
        b.requires_no_permission(yes);
    }
    let entries = input.array(c.context, c.context_len, || at.name("context"))?;
    context(b, input, entries, Some(k), at.name("context"))
}

/// Adds the entries of the request context (`hop` None) or of a hop's.
fn context(
    b: &mut RequestBuilder,
    input: Vouched<'_>,
    entries: &[fastiam_context_entry],
    hop: Option<usize>,
    at: Field,
) -> Result<(), Error> {
    for (i, entry) in entries.iter().enumerate() {
        let at = at.index(i);
        let key = input.text(entry.key, || at.name("key"))?;
        let values = input.array(entry.values, entry.values_len, || at.name("values"))?;
        let multi = match flag(entry.multi, || at.name("multi"))? {
            None => values.len() != 1,
            Some(true) => true,
            Some(false) if values.len() == 1 => false,
            Some(false) => {
                return Err(Error::invalid(
                    at.name("values_len"),
                    format!(
                        "is {}: `multi` is no, so exactly one value is needed",
                        values.len()
                    ),
                ))
            }
        };
        if !multi {
            // One value: read (and checked) once.
            let value = input.text(values[0], || at.name("values").index(0))?;
            match hop {
                None => b.context(key, value),
                Some(_) => b.hop_context(key, value),
            };
            continue;
        }
        for (j, v) in values.iter().enumerate() {
            input.text(*v, || at.name("values").index(j))?;
        }
        // Checked just above: every value reads.
        let text = |j: usize| input.text(values[j], || at).unwrap_or_default();
        match hop {
            None => b.context_list(key, (0..values.len()).map(text)),
            Some(_) => b.hop_context_list(key, (0..values.len()).map(text)),
        };
    }
    Ok(())
}

/// The C error of a request `fill` accepted but the builder did not: a key given twice is
/// traced back to the caller's two entries.
pub(crate) fn build_error(e: BuildError, input: Vouched<'_>, c: &fastiam_request) -> Error {
    let at = Field::root("request");
    let BuildError::KeyCollision { context, key } = e else {
        return Error::invalid(at, e.to_string());
    };
    let (entries, at) = match context {
        0 => (
            input.array(c.context, c.context_len, || at),
            at.name("context"),
        ),
        k => {
            let hop = input
                .array(c.hops, c.hops_len, || at)
                .ok()
                .and_then(|hops| hops.get(k - 1).copied());
            let entries = hop.map_or(Ok(&[][..]), |h| {
                input.array(h.context, h.context_len, || at)
            });
            (entries, at.name("hops").index(k - 1).name("context"))
        }
    };
    // Error path: canonicalising each key again (allocating) is fine.
    let same: Vec<usize> = entries
        .unwrap_or_default()
        .iter()
        .enumerate()
        .filter(|(_, e)| {
            input
                .text(e.key, || at)
                .is_ok_and(|k| canonical_key(k) == key)
        })
        .map(|(i, _)| i)
        .collect();
    let (first, second) = match same[..] {
        [a, b, ..] => (a, b),
        _ => (0, 0),
    };
    Error::invalid(
        at.index(second).name("key"),
        format!(
            "is `{key}` after canonicalisation, as `{}` (R-CTX-2)",
            at.index(first).name("key")
        ),
    )
}
