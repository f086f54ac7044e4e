//! The [`RequestBuilder`]'s setters: a request's parts from strings, copied into the
//! builder's one text as they are given.
//!
//! Each string is pushed once into the text and kept as a [`Span`]; context keys are
//! canonicalised as they are pushed (R-CTX-2), and a key registered as multi-valued gets a
//! one-element list (R-CTX-3). Per-hop setters apply to the last hop added; called before
//! any hop, they are remembered as an error for `finish` (setters chain, and do not fail).
//! The `try_` variants take values that may fail to read (a C caller's) and leave the
//! builder as it was on the first error.
//!
//! ```
//! use fastiam::request::compact::RequestBuilder;
//! use fastiam::request::RequestView;
//! let mut b = RequestBuilder::new();
//! b.principal("arn:aws:iam::111122223333:user/alice").unwrap();
//! b.context("AWS:SourceIp", "10.0.0.1");
//! b.hop("s3:GetObject", "arn:aws:s3:::b/k").resource_account(Some("444455556666"));
//! let r = b.try_context_list("aws:TagKeys", [Ok("a"), Err("unreadable")]);
//! assert_eq!(r.err(), Some("unreadable"));
//! let req = b.finish().unwrap();
//! assert_eq!(req.context_keys(0).collect::<Vec<_>>(), ["aws:sourceip"]);
//! assert_eq!(req.resource_account(0), Some("444455556666"));
//! ```

use std::convert::Infallible;

use super::build_error::BuildError;
use super::builder::RequestBuilder;
use super::hop_defaults::{Account, PendingHop};
use super::{Entry, ACCOUNT, NO_ID, PARENT_USER_ARN, ROLE_ARN};
use crate::policy::Dialect;
use crate::primitives::canonical_key_into;
use crate::request::packed::Span;
use crate::request::{is_multi_valued, Credentials, Principal, PrincipalKind};

pub(super) const PARSE_SLOTS: usize = 8;

/// Stands in a parse slot while its principal is parsed (allocates nothing).
const PLACEHOLDER: Principal = Principal {
    kind: PrincipalKind::Anonymous,
    dialect: Dialect::Aws,
    arn: String::new(),
    account: None,
    role_arn: None,
    name: None,
    parent_user_arn: None,
    service_linked: false,
    management_account: false,
};

/// Which of the builder's parsed principals `arn` is parsed into: one per shape, so that the
/// fields a shape sets are the ones its buffer had the last time. Only buffer reuse depends
/// on it: any slot parses any principal.
fn parse_slot(arn: &str) -> usize {
    if arn.starts_with("arn:") {
        match arn.rsplit(':').next().unwrap_or_default() {
            r if r.starts_with("assumed-role/") => 1,
            r if r.starts_with("role/") => 2,
            r if r.starts_with("user/") => 3,
            r if r.starts_with("federated-user/") => 4,
            _ => 5,
        }
    } else if arn.starts_with("iam::") {
        6
    } else if arn.starts_with("sts::") {
        7
    } else {
        0
    }
}

impl RequestBuilder {
    /// Parses the principal (an IAM/STS ARN, a Huawei URN, a service principal name or
    /// `anonymous`); the setters below, called after it, override what it says.
    pub fn principal(&mut self, arn: &str) -> Result<&mut Self, BuildError> {
        let slot = parse_slot(arn);
        let mut parsed = std::mem::replace(&mut self.parsed[slot], PLACEHOLDER);
        let result = parsed.parse_into(arn);
        if result.is_ok() {
            self.principal_from(&parsed);
        }
        self.parsed[slot] = parsed;
        result.map_err(|e| BuildError::Principal(e.0))?;
        Ok(self)
    }

    /// Copies an already-built principal.
    pub fn principal_from(&mut self, p: &Principal) -> &mut Self {
        self.req.kind = p.kind;
        self.req.service_linked = p.service_linked;
        self.req.management_account = p.management_account;
        let fields = [
            Some(p.arn.as_str()),
            p.account.as_deref(),
            p.role_arn.as_deref(),
            p.name.as_deref(),
            p.parent_user_arn.as_deref(),
        ];
        for (i, field) in fields.into_iter().enumerate() {
            self.req.principal[i] = field.map_or(Span::NONE, |f| self.push(f));
        }
        self.has_principal = true;
        self
    }

    pub fn principal_kind(&mut self, kind: PrincipalKind) -> &mut Self {
        self.req.kind = kind;
        self
    }

    pub fn principal_account(&mut self, account: &str) -> &mut Self {
        self.req.principal[ACCOUNT] = self.push(account);
        self
    }

    pub fn principal_role_arn(&mut self, role_arn: &str) -> &mut Self {
        self.req.principal[ROLE_ARN] = self.push(role_arn);
        self
    }

    /// For a federated-user session: the IAM user that created it (R-PRIN-3).
    pub fn principal_parent_user_arn(&mut self, arn: &str) -> &mut Self {
        self.req.principal[PARENT_USER_ARN] = self.push(arn);
        self
    }

    /// A service-linked role session (SCPs and RCPs do not apply, R-EVAL-3).
    pub fn service_linked(&mut self, yes: bool) -> &mut Self {
        self.req.service_linked = yes;
        self
    }

    /// A principal of the organisation's management account (SCPs do not apply).
    pub fn management_account(&mut self, yes: bool) -> &mut Self {
        self.req.management_account = yes;
        self
    }

    /// The credential window (R-STS-5).
    pub fn credentials(&mut self, credentials: Credentials) -> &mut Self {
        self.req.credentials = Some(credentials);
        self
    }

    /// Whether `aws:SourceIp` is carried to forwarded hops (R-FAS-5; default yes).
    pub fn preserve_source_ip(&mut self, yes: bool) -> &mut Self {
        self.req.preserve_source_ip = yes;
        self
    }

    /// The services whose forwarded hops append to CalledVia (R-FAS-6); default: the
    /// registry of
    /// [`DEFAULT_CALLED_VIA_SERVICES`](crate::request::DEFAULT_CALLED_VIA_SERVICES).
    pub fn called_via_services<I, S>(&mut self, services: I) -> &mut Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let Ok(b) = self.try_called_via_services(services.into_iter().map(Ok::<S, Infallible>));
        b
    }

    /// [`called_via_services`](Self::called_via_services) from strings that may fail to
    /// read (a C caller's, checked as they are copied): the first error is returned, and the
    /// builder is as before the call.
    pub fn try_called_via_services<I, S, E>(&mut self, services: I) -> Result<&mut Self, E>
    where
        I: IntoIterator<Item = Result<S, E>>,
        S: AsRef<str>,
    {
        let text = self.parts.text.len();
        self.req.called_via_services = Some(self.try_push_values(text, services)?);
        Ok(self)
    }

    /// A single-valued entry of the request context (hop 0's, before derivations). Keys
    /// registered as multi-valued become one-element lists (R-CTX-3).
    pub fn context(&mut self, key: &str, value: &str) -> &mut Self {
        self.single(0, key, value);
        self
    }

    /// A multi-valued entry of the request context; an empty list is no entry (R-CTX-4).
    pub fn context_list<I, S>(&mut self, key: &str, values: I) -> &mut Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.list(0, key, values);
        self
    }

    /// [`context_list`](Self::context_list) from values that may fail to read (a C
    /// caller's, checked as they are copied): the first error is returned, and the builder
    /// is as before the call.
    pub fn try_context_list<I, S, E>(&mut self, key: &str, values: I) -> Result<&mut Self, E>
    where
        I: IntoIterator<Item = Result<S, E>>,
        S: AsRef<str>,
    {
        self.try_list(0, key, values)?;
        Ok(self)
    }

    /// Adds hop 0, the principal's own call.
    pub fn hop(&mut self, action: &str, resource: &str) -> &mut Self {
        self.push_hop(None, action, resource)
    }

    /// Adds a hop that service `via` makes on the principal's behalf (R-FAS-2).
    pub fn forwarded_hop(&mut self, via: &str, action: &str, resource: &str) -> &mut Self {
        self.push_hop(Some(via), action, resource)
    }

    /// A single-valued key the last hop's request sets (laid over its derived context).
    pub fn hop_context(&mut self, key: &str, value: &str) -> &mut Self {
        if let Some(ctx) = self.last_hop_context("hop_context") {
            self.single(ctx, key, value);
        }
        self
    }

    /// A multi-valued key the last hop's request sets.
    pub fn hop_context_list<I, S>(&mut self, key: &str, values: I) -> &mut Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        if let Some(ctx) = self.last_hop_context("hop_context_list") {
            self.list(ctx, key, values);
        }
        self
    }

    /// [`hop_context_list`](Self::hop_context_list) from values that may fail to read, as
    /// [`try_context_list`](Self::try_context_list).
    pub fn try_hop_context_list<I, S, E>(&mut self, key: &str, values: I) -> Result<&mut Self, E>
    where
        I: IntoIterator<Item = Result<S, E>>,
        S: AsRef<str>,
    {
        if let Some(ctx) = self.last_hop_context("hop_context_list") {
            self.try_list(ctx, key, values)?;
        }
        Ok(self)
    }

    /// The account owning the last hop's resource; `None`: the principal's. Default: the
    /// resource ARN's / URN's account (CASES.md).
    pub fn resource_account(&mut self, account: Option<&str>) -> &mut Self {
        let account = match account {
            Some(a) => Account::Given(self.push(a)),
            None => Account::Absent,
        };
        if let Some(hop) = self.last_hop("resource_account") {
            hop.account = account;
        }
        self
    }

    /// The last hop's resource policy: a slot of the program's resource policies.
    pub fn resource_policy(&mut self, slot: Option<u32>) -> &mut Self {
        if let Some(hop) = self.last_hop("resource_policy") {
            hop.resource_policy = slot.unwrap_or(NO_ID);
        }
        self
    }

    /// Whether the last hop's resource policy must grant even within the account
    /// (R-EVAL-5). Default:
    /// [`default_resource_policy_required`](crate::request::chain::default_resource_policy_required).
    pub fn resource_policy_required(&mut self, yes: bool) -> &mut Self {
        if let Some(hop) = self.last_hop("resource_policy_required") {
            hop.resource_policy_required = Some(yes);
        }
        self
    }

    /// Whether the last hop's action needs no permission (R-EVAL-7). Default:
    /// [`default_requires_no_permission`](crate::request::default_requires_no_permission).
    pub fn requires_no_permission(&mut self, yes: bool) -> &mut Self {
        if let Some(hop) = self.last_hop("requires_no_permission") {
            hop.requires_no_permission = Some(yes);
        }
        self
    }

    pub(super) fn push(&mut self, s: &str) -> Span {
        let start = self.parts.text.len();
        self.parts.text.push_str(s);
        self.pushed_span(start, s.len())
    }

    pub(super) fn defer(&mut self, error: BuildError) {
        self.deferred.get_or_insert(error);
    }

    /// Canonicalises `key` into the key names (R-CTX-2); the span is of `parts.keys`
    /// until `finish` shifts it past the text.
    fn push_key(&mut self, key: &str) -> Span {
        let start = self.parts.keys.len();
        canonical_key_into(key, &mut self.parts.keys);
        let end = self.parts.keys.len();
        self.span_within(start, end - start, end)
    }

    /// The span of the `len` bytes just pushed at `start`; [`Span::NONE`] (and the request
    /// too large, reported by `finish`) once the text passes the 4 GiB a span addresses.
    fn pushed_span(&mut self, start: usize, len: usize) -> Span {
        self.span_within(start, len, self.parts.text.len())
    }

    /// `start..start + len` of a string now `end` bytes long, as [`pushed_span`](Self::pushed_span).
    fn span_within(&mut self, start: usize, len: usize, end: usize) -> Span {
        match u32::try_from(end) {
            Ok(_) => Span::new(start as u32, len as u32),
            Err(_) => {
                self.defer(BuildError::TooLarge);
                Span::NONE
            }
        }
    }

    pub(super) fn single(&mut self, ctx: u32, key: &str, value: &str) {
        let key = self.push_key(key);
        let value = self.push(value);
        let entry = if is_multi_valued(key.of(&self.parts.keys)) {
            let start = self.parts.values.len() as u32;
            self.parts.values.push(value);
            Entry {
                key,
                value: Span::new(start, 1),
                multi: 1,
            }
        } else {
            Entry {
                key,
                value,
                multi: 0,
            }
        };
        self.given.push((ctx, entry));
    }

    pub(super) fn list<I, S>(&mut self, ctx: u32, key: &str, values: I)
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let Ok(()) = self.try_list(ctx, key, values.into_iter().map(Ok::<S, Infallible>));
    }

    /// A list entry from values that may fail to read; on failure nothing is added.
    pub(super) fn try_list<I, S, E>(&mut self, ctx: u32, key: &str, values: I) -> Result<(), E>
    where
        I: IntoIterator<Item = Result<S, E>>,
        S: AsRef<str>,
    {
        let (text, keys) = (self.parts.text.len(), self.parts.keys.len());
        let key = self.push_key(key);
        let (start, end) = self
            .try_push_values(text, values)
            .inspect_err(|_| self.parts.keys.truncate(keys))?;
        let len = end - start;
        if len > 0 {
            let value = Span::new(start, len);
            self.given.push((
                ctx,
                Entry {
                    key,
                    value,
                    multi: 1,
                },
            ));
        }
        Ok(())
    }

    /// Pushes each value into the text and its span into `values`, and returns the range
    /// of `values` they took; on the first error, takes the text back to `text` bytes and
    /// `values` to what it was, and returns the error.
    fn try_push_values<I, S, E>(&mut self, text: usize, values: I) -> Result<(u32, u32), E>
    where
        I: IntoIterator<Item = Result<S, E>>,
        S: AsRef<str>,
    {
        let start = self.parts.values.len();
        for v in values {
            match v {
                Ok(v) => {
                    let span = self.push(v.as_ref());
                    self.parts.values.push(span);
                }
                Err(e) => {
                    self.parts.values.truncate(start);
                    self.parts.text.truncate(text);
                    return Err(e);
                }
            }
        }
        Ok((start as u32, self.parts.values.len() as u32))
    }

    pub(super) fn push_hop(
        &mut self,
        via: Option<&str>,
        action: &str,
        resource: &str,
    ) -> &mut Self {
        let via = via.map_or(Span::NONE, |v| self.push(v));
        let action = self.push(action);
        let resource = self.push(resource);
        self.hops.push(PendingHop {
            via,
            action,
            resource,
            account: Account::FromResource,
            resource_policy: NO_ID,
            resource_policy_required: None,
            requires_no_permission: None,
        });
        self
    }

    /// The last hop, for a per-hop setter `what`; before any hop, `None`, and the error
    /// kept for `finish`.
    fn last_hop(&mut self, what: &'static str) -> Option<&mut PendingHop> {
        if self.hops.is_empty() {
            self.defer(BuildError::BeforeFirstHop(what));
        }
        self.hops.last_mut()
    }

    /// The context of the last hop (k + 1 for hop k), as [`last_hop`](Self::last_hop).
    fn last_hop_context(&mut self, what: &'static str) -> Option<u32> {
        let found = self.last_hop(what).is_some();
        found.then_some(self.hops.len() as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::RequestView;

    /// The key names are laid after every value, in key order, whatever order the setters
    /// were called in; a list that failed to read leaves neither its values nor its key
    /// name behind (the buffer is as if it had not been given).
    #[test]
    fn key_names_follow_the_values_and_a_failed_list_leaves_none() {
        let mut b = RequestBuilder::new();
        let build = |b: &mut RequestBuilder, fail: bool| {
            b.clear().principal("anonymous").unwrap();
            b.context("S3:Prefix", "p/")
                .context("aws:SourceIp", "10.0.0.1");
            if fail {
                let r = b.try_context_list("aws:TagKeys", [Ok("t"), Err(())]);
                assert!(r.is_err());
            }
            b.hop("s3:GetObject", "arn:aws:s3:::b/k");
            b.hop_context("s3:x", "v");
            let req = b.finish().unwrap();
            (req.packed.text().to_string(), req.buffer_len())
        };
        let (text, len) = build(&mut b, false);
        assert!(text.ends_with("s3:prefixaws:sourceips3:x"), "{text}");
        assert!(!text[..text.len() - 25].contains("prefix"), "{text}");
        assert_eq!(build(&mut b, true), (text, len));
        let req = b.request();
        assert_eq!(
            req.context_keys(0).collect::<Vec<_>>(),
            ["aws:sourceip", "s3:prefix"]
        );
        assert_eq!(req.context_keys(1).collect::<Vec<_>>(), ["s3:x"]);
    }
}
