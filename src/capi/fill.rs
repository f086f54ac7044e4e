//! A C request ([`fastiam_request`]) read into a [`RequestBuilder`], every field checked.
//!
//! Both evaluation calls take their request through here: [`fastiam_evaluate`] builds it
//! in the scratch's builder, `fastiam_builder_build` in a caller-held [`fastiam_builder`];
//! both then resolve it against the program. Strings are copied into the builder's one
//! buffer; nothing of the caller's is retained.
//!
//! Every pointer is checked (NULL, length, alignment) and every string validated as UTF-8
//! before use; a failure names the field (`request.hops[1].context[0].values[2]`),
//! including a key given twice after canonicalisation (R-CTX-2), which the builder finds
//! when it sorts the keys and this module traces back to the caller's entry.
//!
//! The checks cost a C caller what they must and no more (BENCHMARKS.md, "C ABI at Rust's
//! cost"): a correct request is read once, without building field names; a wrong one is
//! read a second time, by the same generic code, to name the field ([`Place`]). Strings
//! are checked eight bytes at a time, list values once each.
//!
//! [`fastiam_evaluate`]: super::fastiam_evaluate
//! [`fastiam_builder`]: super::fastiam_builder

use super::error::{Error, Field, Place, Unplaced};
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
///
/// The request is read once, naming no field ([`Unplaced`]); only when that finds it wrong
/// is it read again, at [`Field`]s, to name the field in the error ([`Place`]).
pub(crate) fn fill(
    b: &mut RequestBuilder,
    input: Vouched<'_>,
    c: &fastiam_request,
    resource_slots: u32,
) -> Result<(), Error> {
    match fill_at(b, input, c, resource_slots, Unplaced) {
        Ok(()) => Ok(()),
        // The same code over the same bytes (unchanged during the call: `Vouched`) fails
        // the same way; its error names the field.
        Err(unplaced) => Err(fill_at(b, input, c, resource_slots, Field::root("request"))
            .err()
            .unwrap_or(unplaced)),
    }
}

fn fill_at<P: Place>(
    b: &mut RequestBuilder,
    input: Vouched<'_>,
    c: &fastiam_request,
    resource_slots: u32,
    at: P,
) -> Result<(), Error> {
    b.clear();
    let dialect = match c.dialect {
        1 => Dialect::Aws,
        2 => Dialect::Huawei,
        other => {
            return Err(Error::invalid(
                at.name("dialect").field(),
                format!("is {other}, not FASTIAM_DIALECT_AWS (1) or FASTIAM_DIALECT_HUAWEI (2)"),
            ))
        }
    };
    b.dialect(dialect);
    principal(b, input, &c.principal, at.name("principal"))?;
    let entries = input.array(c.context, c.context_len, at.name("context"))?;
    context(b, input, entries, false, at.name("context"))?;
    let hops = input.array(c.hops, c.hops_len, at.name("hops"))?;
    if hops.is_empty() {
        return Err(Error::invalid(
            at.name("hops_len").field(),
            "is 0: a request has at least one hop",
        ));
    }
    for (k, hop) in hops.iter().enumerate() {
        self::hop(b, input, hop, k, resource_slots, at.name("hops").index(k))?;
    }
    if !(c.called_via_services.is_null() && c.called_via_services_len == 0) {
        let at = at.name("called_via_services");
        let services = input.array(c.called_via_services, c.called_via_services_len, at)?;
        b.try_called_via_services(
            services
                .iter()
                .enumerate()
                .map(|(i, s)| input.text(*s, at.index(i))),
        )?;
    }
    b.preserve_source_ip(
        flag(c.preserve_source_ip, at.name("preserve_source_ip"))?.unwrap_or(true),
    );
    let cat = at.name("credentials");
    if let Some(creds) = input.optional(c.credentials, cat)? {
        b.credentials(Credentials {
            issued: date(input, creds.issued, cat.name("issued"))?,
            expires: date(input, creds.expires, cat.name("expires"))?,
        });
    }
    Ok(())
}

/// Parses the principal, then applies the overrides (CASES.md).
fn principal<P: Place>(
    b: &mut RequestBuilder,
    input: Vouched<'_>,
    c: &fastiam_principal,
    at: P,
) -> Result<(), Error> {
    let arn = input.text(c.arn, at.name("arn"))?;
    b.principal(arn).map_err(|e| {
        let BuildError::Principal(why) = e else {
            return Error::invalid(at.name("arn").field(), e.to_string());
        };
        Error::invalid(at.name("arn").field(), format!("is not a principal: {why}"))
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
                at.name("kind").field(),
                format!("is {other}, not a fastiam_principal_kind (0 to 6)"),
            ))
        }
    };
    if let Some(kind) = kind {
        b.principal_kind(kind);
    }
    if let Some(account) = input.optional_text(c.account, at.name("account"))? {
        b.principal_account(account);
    }
    if let Some(role) = input.optional_text(c.role_arn, at.name("role_arn"))? {
        b.principal_role_arn(role);
    }
    if let Some(parent) = input.optional_text(c.parent_user_arn, at.name("parent_user_arn"))? {
        b.principal_parent_user_arn(parent);
    }
    if let Some(yes) = flag(c.service_linked, at.name("service_linked"))? {
        b.service_linked(yes);
    }
    if let Some(yes) = flag(c.management_account, at.name("management_account"))? {
        b.management_account(yes);
    }
    Ok(())
}

/// Adds hop `k`.
fn hop<P: Place>(
    b: &mut RequestBuilder,
    input: Vouched<'_>,
    c: &fastiam_hop,
    k: usize,
    resource_slots: u32,
    at: P,
) -> Result<(), Error> {
    let via = input.optional_text(c.via, at.name("via"))?;
    let action = input.text(c.action, at.name("action"))?;
    let resource = input.text(c.resource, at.name("resource"))?;
    match (k, via) {
        (0, Some(_)) => {
            return Err(Error::invalid(
                at.name("via").field(),
                "is set on hop 0: the principal's own call has no `via` (R-FAS-2)",
            ))
        }
        (1.., None) => return Err(Error::null(at.name("via").field())),
        (_, Some(via)) => b.forwarded_hop(via, action, resource),
        (_, None) => b.hop(action, resource),
    };
    if let Some(account) = input.optional_text(c.resource_account, at.name("resource_account"))? {
        b.resource_account(Some(account));
    }
    match flag(c.has_resource_policy, at.name("has_resource_policy"))? {
        Some(true) if c.resource_policy < resource_slots => {
            b.resource_policy(Some(c.resource_policy));
        }
        Some(true) => {
            return Err(Error::invalid(
                at.name("resource_policy").field(),
                format!(
                    "is slot {}, but the program has {resource_slots} resource policies",
                    c.resource_policy
                ),
            ))
        }
        _ => {}
    }
    if let Some(yes) = flag(
        c.resource_policy_required,
        at.name("resource_policy_required"),
    )? {
        b.resource_policy_required(yes);
    }
    if let Some(yes) = flag(c.requires_no_permission, at.name("requires_no_permission"))? {
        b.requires_no_permission(yes);
    }
    let entries = input.array(c.context, c.context_len, at.name("context"))?;
    context(b, input, entries, true, at.name("context"))
}

/// Adds the entries of the request context (`hop` false) or of the last hop's.
fn context<P: Place>(
    b: &mut RequestBuilder,
    input: Vouched<'_>,
    entries: &[fastiam_context_entry],
    hop: bool,
    at: P,
) -> Result<(), Error> {
    for (i, entry) in entries.iter().enumerate() {
        let at = at.index(i);
        let key = input.text(entry.key, at.name("key"))?;
        let values = input.array(entry.values, entry.values_len, at.name("values"))?;
        let multi = match flag(entry.multi, at.name("multi"))? {
            None => values.len() != 1,
            Some(true) => true,
            Some(false) if values.len() == 1 => false,
            Some(false) => {
                return Err(Error::invalid(
                    at.name("values_len").field(),
                    format!(
                        "is {}: `multi` is no, so exactly one value is needed",
                        values.len()
                    ),
                ))
            }
        };
        if !multi {
            let value = input.text(values[0], at.name("values").index(0))?;
            match hop {
                false => b.context(key, value),
                true => b.hop_context(key, value),
            };
            continue;
        }
        // Each value read (and checked) once, as the builder copies it.
        let at = at.name("values");
        let values = values
            .iter()
            .enumerate()
            .map(|(j, v)| input.text(*v, at.index(j)));
        match hop {
            false => b.try_context_list(key, values)?,
            true => b.try_hop_context_list(key, values)?,
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
            input.array(c.context, c.context_len, at),
            at.name("context"),
        ),
        k => {
            let hop = input
                .array(c.hops, c.hops_len, at)
                .ok()
                .and_then(|hops| hops.get(k - 1).copied());
            let entries = hop.map_or(Ok(&[][..]), |h| input.array(h.context, h.context_len, at));
            (entries, at.name("hops").index(k - 1).name("context"))
        }
    };
    // Error path: canonicalising each key again (allocating) is fine.
    let same: Vec<usize> = entries
        .unwrap_or_default()
        .iter()
        .enumerate()
        .filter(|(_, e)| input.text(e.key, at).is_ok_and(|k| canonical_key(k) == key))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capi::{fastiam_result, fastiam_str};

    const BAD: &[u8] = b"ok\xff";

    fn bad() -> fastiam_str {
        fastiam_str {
            data: BAD.as_ptr().cast(),
            len: BAD.len(),
        }
    }

    /// Reads `c` as `fastiam_builder_build` does, with `fill` and `finish`.
    fn build(b: &mut RequestBuilder, c: &fastiam_request) -> Result<usize, Error> {
        // SAFETY: every pointer of the requests below points into live Rust values.
        let input = unsafe { Vouched::new() };
        fill(b, input, c, 1)?;
        let built = b.finish().map_err(|e| build_error(e, input, c))?;
        Ok(built.text_len())
    }

    /// A wrong field found by the first, unplaced pass is named by the second; the builder
    /// then builds the next request as a fresh one would.
    #[test]
    fn errors_name_the_field_and_leave_the_builder_usable() {
        let two = [fastiam_str::new("a"), fastiam_str::new("b")];
        let entries = [fastiam_context_entry {
            key: fastiam_str::new("s3:Prefix"),
            values: two.as_ptr(),
            values_len: 2,
            multi: 0,
        }];
        let hop = fastiam_hop {
            via: fastiam_str::NONE,
            action: fastiam_str::new("s3:GetObject"),
            resource: fastiam_str::new("arn:aws:s3:::b/k"),
            resource_account: fastiam_str::NONE,
            has_resource_policy: 0,
            resource_policy: 0,
            resource_policy_required: 0,
            requires_no_permission: 0,
            context: entries.as_ptr(),
            context_len: 1,
        };
        let services = [fastiam_str::new("s3.amazonaws.com"), fastiam_str::new("x")];
        let good = fastiam_request {
            dialect: 1,
            principal: fastiam_principal {
                arn: fastiam_str::new("arn:aws:iam::111122223333:user/alice"),
                kind: 0,
                account: fastiam_str::NONE,
                role_arn: fastiam_str::NONE,
                parent_user_arn: fastiam_str::NONE,
                service_linked: 0,
                management_account: 0,
            },
            context: entries.as_ptr(),
            context_len: 1,
            hops: &hop,
            hops_len: 1,
            called_via_services: services.as_ptr(),
            called_via_services_len: 2,
            preserve_source_ip: 0,
            credentials: std::ptr::null(),
        };
        let fresh = build(&mut RequestBuilder::new(), &good).unwrap();

        let bad_list = [fastiam_str::new("a"), bad()];
        let bad_entries = [fastiam_context_entry {
            values: bad_list.as_ptr(),
            ..entries[0]
        }];
        let bad_hop = fastiam_hop {
            context: bad_entries.as_ptr(),
            ..hop
        };
        let null_key = [fastiam_context_entry {
            key: fastiam_str {
                data: std::ptr::null(),
                len: 3,
            },
            ..entries[0]
        }];
        let flag_hop = fastiam_hop {
            has_resource_policy: 7,
            ..hop
        };
        let bad_services = [services[0], bad()];
        let cases: [(fastiam_request, fastiam_result, &str); 5] = [
            (
                fastiam_request {
                    hops: &bad_hop,
                    ..good
                },
                fastiam_result::InvalidUtf8,
                "`request.hops[0].context[0].values[1]` is not valid UTF-8 (the first 2",
            ),
            (
                fastiam_request {
                    context: bad_entries.as_ptr(),
                    ..good
                },
                fastiam_result::InvalidUtf8,
                "`request.context[0].values[1]`",
            ),
            (
                fastiam_request {
                    called_via_services: bad_services.as_ptr(),
                    ..good
                },
                fastiam_result::InvalidUtf8,
                "`request.called_via_services[1]`",
            ),
            (
                fastiam_request {
                    context: null_key.as_ptr(),
                    ..good
                },
                fastiam_result::NullArgument,
                "`request.context[0].key` is NULL",
            ),
            (
                fastiam_request {
                    hops: &flag_hop,
                    ..good
                },
                fastiam_result::InvalidArgument,
                "`request.hops[0].has_resource_policy` is 7",
            ),
        ];
        let mut b = RequestBuilder::new();
        for (request, code, message) in cases {
            let e = build(&mut b, &request).unwrap_err();
            assert_eq!(e.code(), code, "{e}");
            assert!(e.to_string().starts_with(message), "{e} / {message}");
            assert_eq!(build(&mut b, &good).unwrap(), fresh);
        }
    }
}
