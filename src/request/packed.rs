//! A request laid out in four contiguous buffers, the compiled interpreter's input.
//!
//! A [`Request`] is some thirty separate heap strings: each context key and value, the
//! principal's parts, each hop's action and resource. Over a stream of requests that do not
//! fit in the cache, reading them costs a cache miss per string, and those misses, not the
//! instructions, set the interpreter's speed (BENCHMARKS.md, "Where the time goes"). A
//! [`PackedRequest`] holds the same request as one text buffer with every string in it, one
//! list of context entries, one list of multi-value spans and one list of hops: a request of
//! the standard workload reads about a dozen consecutive cache lines instead of ~35 scattered
//! ones, and the hardware prefetcher follows consecutive lines.
//!
//! Packing copies strings and nothing else: no key is looked up, no ARN is split, no value
//! is parsed. Everything the interpreter resolves against a program it still resolves per
//! request, so timing the interpreter over packed requests leaves none of its work out.
//! [`PackedRequest::pack`] reuses the buffers of the previous request: after a few requests
//! packing allocates nothing.
//!
//! ```
//! use fastiam::request::{parse_case, PackedRequest, RequestView};
//! let case = parse_case(r#"{"id":"x","principal":"arn:aws:iam::111122223333:user/a",
//!  "context":{"aws:SourceIp":"10.0.0.1"},
//!  "chain":[{"action":"s3:GetObject","resource":"arn:aws:s3:::b/k"}]}"#, "doc").unwrap();
//! let packed = PackedRequest::from_request(&case.chain.request);
//! assert_eq!(packed.hop_count(), 1);
//! assert_eq!(packed.action(0), "s3:GetObject");
//! assert_eq!(packed.principal_account(), Some("111122223333"));
//! assert_eq!(packed.context_key(0, 0), "aws:sourceip");
//! ```

use super::chain::{Credentials, Request};
use super::context::{Context, ContextValue};
use super::fas::appends_to_called_via_among;
use super::principal::{Principal, PrincipalKind};
use super::view::{ListRef, RequestView, ValueRef};
use crate::policy::Dialect;

/// A string of the text buffer: `start..start + len`. `start == u32::MAX` means absent.
/// Plain words (`Pod`), so that a compact request stores its spans in its one buffer.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct Span {
    start: u32,
    len: u32,
}

impl Span {
    pub(crate) const NONE: Span = Span {
        start: u32::MAX,
        len: 0,
    };

    /// `start..start + len` of a text buffer.
    pub(crate) const fn new(start: u32, len: u32) -> Span {
        Span { start, len }
    }

    pub(crate) fn start(self) -> u32 {
        self.start
    }

    pub(crate) fn len(self) -> u32 {
        self.len
    }

    pub(crate) fn is_some(self) -> bool {
        self.start != u32::MAX
    }

    /// The text of this span in `text`, the buffer it was cut from.
    #[inline]
    pub(crate) fn of(self, text: &str) -> &str {
        // Spans are made by `PackedRequest::push`, on character boundaries of this very
        // text; `get` turns any other span into an empty string instead of a panic.
        text.get(self.start as usize..self.start as usize + self.len as usize)
            .unwrap_or_default()
    }
}

/// One context entry: its canonical key and its value, a single span or a range of
/// [`PackedRequest`]'s multi-value spans.
#[derive(Clone, Copy, Debug, Default)]
struct Entry {
    key: Span,
    /// A single value's span; for a multi value, `start..start + len` indexes `values`.
    value: Span,
    multi: bool,
}

/// One hop, its strings as spans.
#[derive(Clone, Copy, Debug, Default)]
struct PackedHop {
    via: Span,
    action: Span,
    resource: Span,
    resource_account: Span,
    /// `u32::MAX`: none.
    resource_policy: u32,
    resource_policy_required: bool,
    requires_no_permission: bool,
    /// This hop's own context: a range of `entries`.
    context: (u32, u32),
}

/// A [`Request`] in contiguous buffers (see the module docs).
#[derive(Clone, Debug)]
pub struct PackedRequest {
    text: String,
    entries: Vec<Entry>,
    values: Vec<Span>,
    hops: Vec<PackedHop>,
    dialect: Dialect,
    kind: PrincipalKind,
    service_linked: bool,
    management_account: bool,
    /// The principal's ARN, account, role ARN, name and parent user ARN.
    principal: [Span; 5],
    /// The request context: a range of `entries`.
    context: (u32, u32),
    /// [`FasOptions::called_via_services`](super::FasOptions): a range of `values`.
    called_via_services: (u32, u32),
    preserve_source_ip: bool,
    credentials: Option<Credentials>,
}

impl Default for PackedRequest {
    fn default() -> Self {
        PackedRequest {
            text: String::new(),
            entries: Vec::new(),
            values: Vec::new(),
            hops: Vec::new(),
            dialect: Dialect::Aws,
            kind: PrincipalKind::Anonymous,
            service_linked: false,
            management_account: false,
            principal: [Span::NONE; 5],
            context: (0, 0),
            called_via_services: (0, 0),
            preserve_source_ip: true,
            credentials: None,
        }
    }
}

const ARN: usize = 0;
const ACCOUNT: usize = 1;
const ROLE_ARN: usize = 2;
const NAME: usize = 3;
const PARENT_USER_ARN: usize = 4;

impl PackedRequest {
    /// Packs a request into new buffers.
    pub fn from_request(req: &Request) -> PackedRequest {
        let mut packed = PackedRequest::default();
        packed.pack(req);
        packed
    }

    /// Overwrites `self` with `req`, reusing the buffers.
    pub fn pack(&mut self, req: &Request) {
        self.text.clear();
        self.entries.clear();
        self.values.clear();
        self.hops.clear();
        let p = &req.principal;
        self.dialect = req.dialect;
        self.kind = p.kind;
        self.service_linked = p.service_linked;
        self.management_account = p.management_account;
        self.principal[ARN] = self.push(&p.arn);
        self.principal[ACCOUNT] = self.push_opt(p.account.as_deref());
        self.principal[ROLE_ARN] = self.push_opt(p.role_arn.as_deref());
        self.principal[NAME] = self.push_opt(p.name.as_deref());
        self.principal[PARENT_USER_ARN] = self.push_opt(p.parent_user_arn.as_deref());
        self.context = self.push_context(&req.context);
        for hop in &req.hops {
            let packed = PackedHop {
                via: self.push_opt(hop.via.as_deref()),
                action: self.push(&hop.action),
                resource: self.push(&hop.resource),
                resource_account: self.push_opt(hop.resource_account.as_deref()),
                resource_policy: hop
                    .resource_policy
                    .and_then(|r| u32::try_from(r).ok())
                    .unwrap_or(u32::MAX),
                resource_policy_required: hop.resource_policy_required,
                requires_no_permission: hop.requires_no_permission,
                context: self.push_context(&hop.context),
            };
            self.hops.push(packed);
        }
        let first = self.values.len() as u32;
        for service in &req.options.fas.called_via_services {
            let span = self.push(service);
            self.values.push(span);
        }
        self.called_via_services = (first, self.values.len() as u32);
        self.preserve_source_ip = req.options.fas.preserve_source_ip;
        self.credentials = req.credentials;
    }

    fn push(&mut self, s: &str) -> Span {
        let start = self.text.len() as u32;
        self.text.push_str(s);
        Span {
            start,
            len: s.len() as u32,
        }
    }

    fn push_opt(&mut self, s: Option<&str>) -> Span {
        s.map_or(Span::NONE, |s| self.push(s))
    }

    fn push_context(&mut self, context: &Context) -> (u32, u32) {
        let first = self.entries.len() as u32;
        for (key, value) in context.iter() {
            let key = self.push(key);
            let entry = match value {
                ContextValue::Single(v) => Entry {
                    key,
                    value: self.push(v),
                    multi: false,
                },
                ContextValue::Multi(vs) => {
                    let start = self.values.len() as u32;
                    for v in vs {
                        let span = self.push(v);
                        self.values.push(span);
                    }
                    Entry {
                        key,
                        value: Span {
                            start,
                            len: vs.len() as u32,
                        },
                        multi: true,
                    }
                }
            };
            self.entries.push(entry);
        }
        (first, self.entries.len() as u32)
    }

    #[inline]
    fn str(&self, span: Span) -> &str {
        span.of(&self.text)
    }

    #[inline]
    fn opt(&self, span: Span) -> Option<&str> {
        span.is_some().then(|| self.str(span))
    }

    fn context_range(&self, ctx: usize) -> (u32, u32) {
        match ctx {
            0 => self.context,
            k => self.hops.get(k - 1).map_or((0, 0), |h| h.context),
        }
    }

    /// The number of entries of context `ctx`.
    pub fn context_len(&self, ctx: usize) -> usize {
        let (first, end) = self.context_range(ctx);
        (end - first) as usize
    }

    /// The canonical key of entry `entry` of context `ctx`.
    pub fn context_key(&self, ctx: usize, entry: usize) -> &str {
        let (first, _) = self.context_range(ctx);
        self.entries
            .get(first as usize + entry)
            .map_or("", |e| self.str(e.key))
    }

    /// Builds a [`Principal`] equal to the packed one (for tests and diagnostics).
    pub fn principal(&self) -> Principal {
        Principal {
            kind: self.kind,
            dialect: self.dialect,
            arn: self.principal_arn().to_string(),
            account: self.principal_account().map(str::to_string),
            role_arn: self.principal_role_arn().map(str::to_string),
            name: self.principal_name().map(str::to_string),
            parent_user_arn: self.principal_parent_user_arn().map(str::to_string),
            service_linked: self.service_linked,
            management_account: self.management_account,
        }
    }
}

impl RequestView for PackedRequest {
    #[inline]
    fn dialect(&self) -> Dialect {
        self.dialect
    }

    #[inline]
    fn credentials(&self) -> Option<Credentials> {
        self.credentials
    }

    #[inline]
    fn preserve_source_ip(&self) -> bool {
        self.preserve_source_ip
    }

    #[inline]
    fn appends_to_called_via(&self, via: &str) -> bool {
        let (first, end) = self.called_via_services;
        let services = self.values[first as usize..end as usize].iter();
        appends_to_called_via_among(self.dialect, via, services.map(|s| self.str(*s)))
    }

    #[inline]
    fn principal_kind(&self) -> PrincipalKind {
        self.kind
    }

    #[inline]
    fn service_linked(&self) -> bool {
        self.service_linked
    }

    #[inline]
    fn management_account(&self) -> bool {
        self.management_account
    }

    #[inline]
    fn principal_arn(&self) -> &str {
        self.str(self.principal[ARN])
    }

    #[inline]
    fn principal_account(&self) -> Option<&str> {
        self.opt(self.principal[ACCOUNT])
    }

    #[inline]
    fn principal_role_arn(&self) -> Option<&str> {
        self.opt(self.principal[ROLE_ARN])
    }

    #[inline]
    fn principal_name(&self) -> Option<&str> {
        self.opt(self.principal[NAME])
    }

    #[inline]
    fn principal_parent_user_arn(&self) -> Option<&str> {
        self.opt(self.principal[PARENT_USER_ARN])
    }

    /// The value of entry `entry` of context `ctx`; `None` past the end.
    #[inline]
    fn context_value(&self, ctx: usize, entry: usize) -> Option<ValueRef<'_>> {
        let (first, end) = self.context_range(ctx);
        let i = first as usize + entry;
        if i >= end as usize {
            return None;
        }
        let e = self.entries.get(i)?;
        Some(if e.multi {
            let spans = self
                .values
                .get(e.value.start as usize..e.value.start as usize + e.value.len as usize)
                .unwrap_or_default();
            ValueRef::Multi(ListRef::spans(&self.text, spans))
        } else {
            ValueRef::Single(self.str(e.value))
        })
    }

    /// The keys of context `ctx`, in order (canonical, sorted).
    #[inline]
    fn context_keys(&self, ctx: usize) -> impl Iterator<Item = &str> {
        let (first, end) = self.context_range(ctx);
        self.entries[first as usize..end as usize]
            .iter()
            .map(|e| self.str(e.key))
    }

    #[inline]
    fn hop_count(&self) -> usize {
        self.hops.len()
    }

    #[inline]
    fn via(&self, hop: usize) -> Option<&str> {
        self.hops.get(hop).and_then(|h| self.opt(h.via))
    }

    #[inline]
    fn action(&self, hop: usize) -> &str {
        self.hops.get(hop).map_or("", |h| self.str(h.action))
    }

    #[inline]
    fn resource(&self, hop: usize) -> &str {
        self.hops.get(hop).map_or("", |h| self.str(h.resource))
    }

    #[inline]
    fn resource_account(&self, hop: usize) -> Option<&str> {
        self.hops
            .get(hop)
            .and_then(|h| self.opt(h.resource_account))
    }

    #[inline]
    fn resource_policy(&self, hop: usize) -> Option<u32> {
        self.hops
            .get(hop)
            .map(|h| h.resource_policy)
            .filter(|r| *r != u32::MAX)
    }

    #[inline]
    fn resource_policy_required(&self, hop: usize) -> bool {
        self.hops
            .get(hop)
            .is_some_and(|h| h.resource_policy_required)
    }

    #[inline]
    fn requires_no_permission(&self, hop: usize) -> bool {
        self.hops.get(hop).is_some_and(|h| h.requires_no_permission)
    }

    /// Every cache line the request occupies, asked for up front
    /// ([`touch_lines`](super::compact::prefetch::touch_lines)).
    #[inline]
    fn touch(&self) -> u32 {
        use super::compact::prefetch::touch_lines;
        touch_lines(self.text.as_bytes(), |b| *b as u32)
            ^ touch_lines(&self.entries, |e| e.key.start)
            ^ touch_lines(&self.hops, |h| h.action.start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::parse_case;

    #[inline]
    fn request(text: &str) -> Request {
        parse_case(text, "test").unwrap().chain.request
    }

    #[test]
    #[inline]
    fn a_packed_request_reads_back_as_the_request() {
        let req = request(
            r#"{"id":"x","principal":"arn:aws:sts::111122223333:assumed-role/R/s",
            "context":{"aws:SourceIp":"10.0.0.1","aws:CalledVia":["a.amazonaws.com"]},
            "chain":[{"action":"s3:GetObject","resource":"arn:aws:s3:::b/k"},
                     {"via":"s3.amazonaws.com","action":"kms:Decrypt",
                      "resource":"arn:aws:kms:us-east-1:444455556666:key/k",
                      "context":{"kms:ViaService":"s3.us-east-1.amazonaws.com"}}]}"#,
        );
        let packed = PackedRequest::from_request(&req);
        assert_eq!(packed.principal(), req.principal);
        assert_eq!(packed.dialect(), req.dialect);
        assert_eq!(packed.hop_count(), 2);
        for (k, hop) in req.hops.iter().enumerate() {
            assert_eq!(packed.via(k), hop.via.as_deref());
            assert_eq!(packed.action(k), hop.action);
            assert_eq!(packed.resource(k), hop.resource);
            assert_eq!(packed.resource_account(k), hop.resource_account.as_deref());
            assert_eq!(
                packed.resource_policy(k),
                hop.resource_policy.map(|r| r as u32)
            );
            assert_eq!(
                packed.resource_policy_required(k),
                hop.resource_policy_required
            );
        }
        let contexts = std::iter::once(&req.context).chain(req.hops.iter().map(|h| &h.context));
        for (c, context) in contexts.enumerate() {
            assert_eq!(packed.context_len(c), context.len());
            for (i, (key, value)) in context.iter().enumerate() {
                assert_eq!(packed.context_key(c, i), key);
                let values: Vec<&str> = match packed.context_value(c, i).unwrap() {
                    ValueRef::Single(v) => {
                        assert!(matches!(value, ContextValue::Single(_)));
                        vec![v]
                    }
                    ValueRef::Multi(list) => {
                        assert!(matches!(value, ContextValue::Multi(_)));
                        (0..list.len()).map(|i| list.get(i).unwrap()).collect()
                    }
                };
                assert_eq!(values, value.values());
            }
            assert_eq!(packed.context_value(c, context.len()), None);
        }
        for via in [
            "athena.amazonaws.com",
            "s3.amazonaws.com",
            "kms.amazonaws.com",
            "",
        ] {
            assert_eq!(
                packed.appends_to_called_via(via),
                crate::request::appends_to_called_via(req.dialect, via, &req.options.fas),
                "{via}"
            );
        }
        assert!(packed.appends_to_called_via("athena.amazonaws.com"));
    }

    #[test]
    #[inline]
    fn repacking_reuses_the_buffers_and_forgets_the_previous_request() {
        let long = request(
            r#"{"id":"x","principal":"arn:aws:iam::111122223333:user/a",
            "context":{"aws:SourceIp":"10.0.0.1","aws:username":"a"},
            "chain":[{"action":"s3:GetObject","resource":"arn:aws:s3:::b/k"},
                     {"via":"s3.amazonaws.com","action":"kms:Decrypt","resource":"*"}]}"#,
        );
        let short = request(
            r#"{"id":"y","principal":"s3.amazonaws.com",
            "chain":[{"action":"sqs:SendMessage","resource":"*"}]}"#,
        );
        let mut packed = PackedRequest::from_request(&long);
        packed.pack(&short);
        assert_eq!(packed.hop_count(), 1);
        assert_eq!(packed.context_len(0), short.context.len());
        assert_eq!(packed.principal(), short.principal);
        assert_eq!(packed.action(0), "sqs:SendMessage");
        assert_eq!(packed.via(1), None);
    }
}
