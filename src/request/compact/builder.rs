//! [`RequestBuilder`]: builds [`CompactRequest`]s call by call, reusing every buffer.
//!
//! A builder is cleared per request and keeps its buffers: once it has seen requests of a
//! given size, building one allocates nothing (the counting-allocator test proves it). The
//! checks that need the whole request — a key given twice after canonicalisation (R-CTX-2),
//! `via` on hop 0 or missing on a later hop (R-FAS-2), no principal, no hop — are made by
//! [`RequestBuilder::finish`], which reports the first problem as a [`BuildError`].
//!
//! ```
//! use fastiam::request::compact::RequestBuilder;
//! use fastiam::request::{BuildError, RequestView};
//! let mut b = RequestBuilder::new();
//! b.principal("arn:aws:sts::111122223333:assumed-role/R/s").unwrap();
//! b.context_list("aws:TagKeys", ["a", "b"]);
//! b.hop("s3:GetObject", "arn:aws:s3:::b/k");
//! b.forwarded_hop("s3.amazonaws.com", "kms:Decrypt", "arn:aws:kms:us-east-1:444455556666:key/k");
//! let req = b.finish().unwrap();
//! assert_eq!(req.principal_role_arn(), Some("arn:aws:iam::111122223333:role/R"));
//! assert!(req.resource_policy_required(1)); // a KMS key (R-EVAL-5)
//! b.clear();
//! b.principal("anonymous").unwrap();
//! b.context("aws:SourceIp", "10.0.0.1");
//! b.context("AWS:sourceip", "10.0.0.2");
//! b.hop("s3:GetObject", "*");
//! assert!(matches!(b.finish(), Err(BuildError::KeyCollision { context: 0, .. })));
//! ```

use std::convert::Infallible;
use std::fmt;

use super::layout::Parts;
use super::{CompactHop, CompactRequest, Entry, GivenKey, Resolver, NO_ID};
use crate::policy::Dialect;
use crate::primitives::arn::{split_arn_at, split_urn_at};
use crate::primitives::canonical_key_into;
use crate::request::chain::{
    default_resource_account_split, default_resource_policy_required_split,
};
use crate::request::packed::Span;
use crate::request::{
    default_requires_no_permission, is_multi_valued, ContextValue, Credentials, Principal,
    PrincipalKind, Request, DEFAULT_CALLED_VIA_SERVICES,
};

/// Why a request could not be built.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BuildError {
    /// No principal was set.
    NoPrincipal,
    /// The principal string is not one (the message says why).
    Principal(String),
    /// No hop was added: a request has at least one.
    NoHop,
    /// A per-hop setter (`hop_context`, `resource_account`...) was called before any hop.
    BeforeFirstHop(&'static str),
    /// Hop 0 is the principal's own call and has no `via` (R-FAS-2).
    ViaOnFirstHop,
    /// Hop k ≥ 1 is forwarded and needs its `via` (R-FAS-2).
    MissingVia(usize),
    /// Two keys of context `context` (0: the request's, k + 1: hop k's) are the same key
    /// after canonicalisation (R-CTX-2).
    KeyCollision { context: usize, key: String },
    /// The request's strings exceed the 4 GiB a compact request addresses.
    TooLarge,
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BuildError::NoPrincipal => write!(f, "the request has no principal"),
            BuildError::Principal(m) => write!(f, "principal: {m}"),
            BuildError::NoHop => write!(f, "the request has no hop: it needs at least one"),
            BuildError::BeforeFirstHop(what) => {
                write!(f, "`{what}` was set before any hop was added")
            }
            BuildError::ViaOnFirstHop => write!(
                f,
                "hop 0 has a `via`: the principal's own call is not forwarded (R-FAS-2)"
            ),
            BuildError::MissingVia(k) => write!(
                f,
                "hop {k} has no `via`: every hop after the first is forwarded (R-FAS-2)"
            ),
            BuildError::KeyCollision { context, key } => {
                let at = match context {
                    0 => "the request context".to_string(),
                    k => format!("hop {}'s context", k - 1),
                };
                write!(
                    f,
                    "{at} gives key `{key}` twice after canonicalisation (R-CTX-2)"
                )
            }
            BuildError::TooLarge => write!(f, "the request's strings exceed 4 GiB"),
        }
    }
}

impl std::error::Error for BuildError {}

/// A hop's account as set: the default (from the resource), absent, or given.
#[derive(Clone, Copy, Debug)]
enum Account {
    FromResource,
    Absent,
    Given(Span),
}

/// A hop as set, before its defaults are derived.
#[derive(Clone, Copy, Debug)]
struct PendingHop {
    via: Span,
    action: Span,
    resource: Span,
    account: Account,
    resource_policy: u32,
    resource_policy_required: Option<bool>,
    requires_no_permission: Option<bool>,
}

/// Builds [`CompactRequest`]s (see the module docs). Reusable: [`RequestBuilder::clear`]
/// starts the next request.
#[derive(Clone, Debug)]
pub struct RequestBuilder {
    req: CompactRequest,
    /// The request's parts as set, packed into `req`'s one buffer by `finish`.
    parts: Parts,
    /// Principals parsed from strings, one per shape of ARN ([`parse_slot`]), so that a
    /// builder seeing principals of alternating shapes keeps every field's buffer.
    parsed: [Principal; PARSE_SLOTS],
    has_principal: bool,
    /// Context entries as given: the context (0: the request's, k + 1: hop k's), the entry.
    given: Vec<(u32, Entry)>,
    hops: Vec<PendingHop>,
    /// The first error of a setter, reported by `finish`.
    deferred: Option<BuildError>,
    fold: String,
}

impl Default for RequestBuilder {
    fn default() -> Self {
        RequestBuilder::new()
    }
}

const PARSE_SLOTS: usize = 8;

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

const ACCOUNT: usize = super::ACCOUNT;
const ROLE_ARN: usize = super::ROLE_ARN;
const PARENT_USER_ARN: usize = super::PARENT_USER_ARN;
const NAME: usize = super::NAME;

impl RequestBuilder {
    pub fn new() -> RequestBuilder {
        RequestBuilder {
            req: CompactRequest::default(),
            parts: Parts::default(),
            parsed: std::array::from_fn(|_| {
                Principal::from_arn("anonymous").expect("`anonymous` is a principal")
            }),
            has_principal: false,
            given: Vec::with_capacity(16),
            hops: Vec::with_capacity(4),
            deferred: None,
            fold: String::with_capacity(64),
        }
    }

    /// Starts a new request (AWS dialect, no principal, no context, no hop), keeping every
    /// buffer.
    pub fn clear(&mut self) -> &mut Self {
        let r = &mut self.req;
        self.parts.clear();
        r.dialect = Dialect::Aws;
        r.called_via_services = None;
        r.preserve_source_ip = true;
        r.credentials = None;
        r.token = 0;
        r.context = (0, 0);
        self.has_principal = false;
        self.given.clear();
        self.hops.clear();
        self.deferred = None;
        self
    }

    /// The policy dialect (default AWS).
    pub fn dialect(&mut self, dialect: Dialect) -> &mut Self {
        self.req.dialect = dialect;
        self
    }

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
    /// registry of [`DEFAULT_CALLED_VIA_SERVICES`].
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
    /// (R-EVAL-5). Default: [`default_resource_policy_required`].
    pub fn resource_policy_required(&mut self, yes: bool) -> &mut Self {
        if let Some(hop) = self.last_hop("resource_policy_required") {
            hop.resource_policy_required = Some(yes);
        }
        self
    }

    /// Whether the last hop's action needs no permission (R-EVAL-7). Default:
    /// [`default_requires_no_permission`].
    pub fn requires_no_permission(&mut self, yes: bool) -> &mut Self {
        if let Some(hop) = self.last_hop("requires_no_permission") {
            hop.requires_no_permission = Some(yes);
        }
        self
    }

    /// Finishes the request without resolving its names: the evaluator looks its keys and
    /// actions up by name as it evaluates (the lazy path, for a request evaluated once).
    pub fn finish(&mut self) -> Result<&CompactRequest, BuildError> {
        self.complete(None)
    }

    /// Finishes the request, resolving every key and action against `resolver` (an
    /// [`Evaluator`](crate::eval::Evaluator)): evaluating it with that evaluator then looks
    /// nothing up by name.
    pub fn finish_for(&mut self, resolver: &dyn Resolver) -> Result<&CompactRequest, BuildError> {
        self.complete(Some(resolver))
    }

    /// The request last finished (empty before the first `finish`).
    pub fn request(&self) -> &CompactRequest {
        &self.req
    }

    /// Clears the builder and sets everything `request` says (for callers holding
    /// [`Request`]s, and for differential tests).
    pub fn fill_from(&mut self, request: &Request) -> &mut Self {
        self.clear();
        self.dialect(request.dialect);
        self.principal_from(&request.principal);
        for (key, value) in request.context.iter() {
            self.value(0, key, value);
        }
        for (k, hop) in request.hops.iter().enumerate() {
            self.push_hop(hop.via.as_deref(), &hop.action, &hop.resource);
            self.resource_account(hop.resource_account.as_deref());
            self.resource_policy(hop.resource_policy.and_then(|r| u32::try_from(r).ok()));
            self.resource_policy_required(hop.resource_policy_required);
            self.requires_no_permission(hop.requires_no_permission);
            for (key, value) in hop.context.iter() {
                self.value(k as u32 + 1, key, value);
            }
        }
        let fas = &request.options.fas;
        if fas
            .called_via_services
            .iter()
            .ne(DEFAULT_CALLED_VIA_SERVICES)
        {
            self.called_via_services(&fas.called_via_services);
        }
        self.preserve_source_ip(fas.preserve_source_ip);
        if let Some(c) = request.credentials {
            self.credentials(c);
        }
        self
    }

    // ------------------------------------------------------------------------------------

    fn value(&mut self, ctx: u32, key: &str, value: &ContextValue) {
        match value {
            ContextValue::Single(v) => self.single(ctx, key, v),
            ContextValue::Multi(vs) => self.list(ctx, key, vs),
        }
    }

    fn push(&mut self, s: &str) -> Span {
        let start = self.parts.text.len();
        self.parts.text.push_str(s);
        match u32::try_from(self.parts.text.len()) {
            Ok(_) => Span::new(start as u32, s.len() as u32),
            Err(_) => {
                self.defer(BuildError::TooLarge);
                Span::NONE
            }
        }
    }

    fn defer(&mut self, error: BuildError) {
        self.deferred.get_or_insert(error);
    }

    /// Canonicalises `key` into the text (R-CTX-2).
    fn push_key(&mut self, key: &str) -> Span {
        let start = self.parts.text.len();
        canonical_key_into(key, &mut self.parts.text);
        let len = self.parts.text.len() - start;
        match u32::try_from(self.parts.text.len()) {
            Ok(_) => Span::new(start as u32, len as u32),
            Err(_) => {
                self.defer(BuildError::TooLarge);
                Span::NONE
            }
        }
    }

    fn single(&mut self, ctx: u32, key: &str, value: &str) {
        let key = self.push_key(key);
        let value = self.push(value);
        let entry = if is_multi_valued(key.of(&self.parts.text)) {
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

    fn list<I, S>(&mut self, ctx: u32, key: &str, values: I)
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let Ok(()) = self.try_list(ctx, key, values.into_iter().map(Ok::<S, Infallible>));
    }

    /// A list entry from values that may fail to read; on failure nothing is added.
    fn try_list<I, S, E>(&mut self, ctx: u32, key: &str, values: I) -> Result<(), E>
    where
        I: IntoIterator<Item = Result<S, E>>,
        S: AsRef<str>,
    {
        let text = self.parts.text.len();
        let key = self.push_key(key);
        let (start, end) = self.try_push_values(text, values)?;
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

    fn push_hop(&mut self, via: Option<&str>, action: &str, resource: &str) -> &mut Self {
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

    fn last_hop(&mut self, what: &'static str) -> Option<&mut PendingHop> {
        if self.hops.is_empty() {
            self.defer(BuildError::BeforeFirstHop(what));
        }
        self.hops.last_mut()
    }

    fn last_hop_context(&mut self, what: &'static str) -> Option<u32> {
        if self.hops.is_empty() {
            self.defer(BuildError::BeforeFirstHop(what));
            return None;
        }
        Some(self.hops.len() as u32)
    }

    fn complete(&mut self, resolver: Option<&dyn Resolver>) -> Result<&CompactRequest, BuildError> {
        if let Some(e) = self.deferred.take() {
            return Err(e);
        }
        if !self.has_principal {
            return Err(BuildError::NoPrincipal);
        }
        if self.hops.is_empty() {
            return Err(BuildError::NoHop);
        }
        if self.hops[0].via.is_some() {
            return Err(BuildError::ViaOnFirstHop);
        }
        self.parts.entries.clear();
        self.parts.given.clear();
        self.req.context = (0, 0);
        self.hops_with_defaults(resolver)?;
        self.entries_in_order(resolver)?;
        self.req.token = resolver.map_or(0, |r| r.token());
        let r = &self.req;
        let shape = crate::request::view::principal_shape(
            r.dialect,
            r.kind,
            r.principal[ACCOUNT].is_some(),
            r.principal[NAME].is_some(),
        );
        self.req.shape = shape as u8;
        if self.deferred.is_some() {
            // A string pushed above overflowed the text.
            return Err(self.deferred.take().unwrap_or(BuildError::TooLarge));
        }
        self.req
            .packed
            .pack(&self.parts)
            .map_err(|_| BuildError::TooLarge)?;
        Ok(&self.req)
    }

    /// Sorts the given entries by context and key, rejects a key given twice in a context
    /// (R-CTX-2), resolves each key and sets each context's range. The hops are built.
    fn entries_in_order(&mut self, resolver: Option<&dyn Resolver>) -> Result<(), BuildError> {
        let RequestBuilder {
            req, parts, given, ..
        } = self;
        let text = parts.text.as_str();
        // Compared as bytes (the order of `str`), without the character-boundary checks of
        // cutting `str`s: the spans are the builder's own.
        let bytes = |s: Span| {
            let start = s.start() as usize;
            text.as_bytes()
                .get(start..start + s.len() as usize)
                .unwrap_or_default()
        };
        let order = |(ca, a): &(u32, Entry), (cb, b): &(u32, Entry)| {
            ca.cmp(cb).then_with(|| bytes(a.key).cmp(bytes(b.key)))
        };
        // Callers often give keys in order (a C caller's from a sorted map, `fill_from`'s):
        // checking costs one comparison an entry, where sorting costs several and its set-up.
        if !given.is_sorted_by(|a, b| order(a, b).is_le()) {
            given.sort_unstable_by(order);
        }
        let mut previous: Option<(u32, &str)> = None;
        let mut context = [0u32; 2];
        for (ctx, entry) in given.iter() {
            let key = entry.key.of(text);
            if previous == Some((*ctx, key)) {
                return Err(BuildError::KeyCollision {
                    context: *ctx as usize,
                    key: key.to_string(),
                });
            }
            previous = Some((*ctx, key));
            let range: &mut [u32; 2] = match *ctx {
                0 => &mut context,
                k => &mut parts.hops[k as usize - 1].context,
            };
            let at = parts.entries.len() as u32;
            if range[1] == 0 {
                *range = [at, at];
            }
            range[1] = at + 1;
            parts.entries.push(*entry);
            // A request built without a resolver has its keys looked up by name at
            // evaluation (a registry of well-known keys cost more to search here, about 280
            // instructions a key, than the lookup it saved, about 65: BENCHMARKS.md,
            // "Compact requests").
            let (start, len) = match (entry.multi != 0, entry.value.start()) {
                (true, _) => (GivenKey::LIST, at),
                // Only an empty value at the very end of a 4 GiB text starts there: the
                // empty text anywhere else reads the same.
                (false, GivenKey::LIST) => (0, 0),
                (false, start) => (start, entry.value.len()),
            };
            parts.given.push(GivenKey {
                id: resolver.map_or(NO_ID, |r| r.key_id(key)),
                start,
                len,
            });
        }
        req.context = (context[0], context[1]);
        Ok(())
    }

    /// Derives the hops' defaults (CASES.md) and resolves their actions.
    fn hops_with_defaults(&mut self, resolver: Option<&dyn Resolver>) -> Result<(), BuildError> {
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
            let hop = CompactHop {
                via: h.via,
                action: h.action,
                resource: h.resource,
                resource_account,
                resource_policy: h.resource_policy,
                resource_policy_required: h.resource_policy_required.unwrap_or_else(|| {
                    default_resource_policy_required_split(req.dialect, action, arn)
                }) as u32,
                requires_no_permission: h
                    .requires_no_permission
                    .unwrap_or_else(|| default_requires_no_permission(req.dialect, action))
                    as u32,
                context: [0, 0],
                action_entry: resolver.map_or(NO_ID, |r| r.action_entry(action, fold)),
                // A resource is shorter than the 4 GiB text, so every place fits.
                resource_colons: colons.map(|c| c as u32),
                colons_found: found as u32,
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
    use crate::request::{parse_case, RequestView, ValueRef};

    fn request(text: &str) -> Request {
        parse_case(text, "test").unwrap().chain.request
    }

    fn values(v: Option<ValueRef<'_>>) -> Option<(bool, Vec<&str>)> {
        Some(match v? {
            ValueRef::Single(s) => (false, vec![s]),
            ValueRef::Multi(l) => (true, (0..l.len()).map(|i| l.get(i).unwrap()).collect()),
        })
    }

    /// Every accessor of the view answers as the request's own.
    fn assert_reads_as(compact: &CompactRequest, req: &Request) {
        assert_eq!(compact.dialect(), req.dialect());
        assert_eq!(compact.principal_kind(), req.principal_kind());
        assert_eq!(compact.principal_arn(), req.principal_arn());
        assert_eq!(compact.principal_account(), req.principal_account());
        assert_eq!(compact.principal_role_arn(), req.principal_role_arn());
        assert_eq!(compact.principal_name(), req.principal_name());
        assert_eq!(
            compact.principal_parent_user_arn(),
            req.principal_parent_user_arn()
        );
        assert_eq!(compact.service_linked(), req.service_linked());
        assert_eq!(compact.management_account(), req.management_account());
        assert_eq!(compact.credentials(), req.credentials());
        assert_eq!(compact.preserve_source_ip(), req.preserve_source_ip());
        assert_eq!(compact.principal_shape(), req.principal_shape());
        assert_eq!(compact.hop_count(), req.hop_count());
        for k in 0..req.hop_count() + 1 {
            assert_eq!(compact.via(k), req.via(k));
            assert_eq!(compact.action(k), req.action(k));
            assert_eq!(compact.resource(k), req.resource(k));
            assert_eq!(compact.resource_account(k), req.resource_account(k));
            assert_eq!(compact.resource_policy(k), req.resource_policy(k));
            assert_eq!(
                compact.resource_policy_required(k),
                req.resource_policy_required(k)
            );
            assert_eq!(
                compact.requires_no_permission(k),
                req.requires_no_permission(k)
            );
        }
        for ctx in 0..req.hop_count() + 2 {
            let keys: Vec<&str> = compact.context_keys(ctx).collect();
            assert_eq!(keys, req.context_keys(ctx).collect::<Vec<_>>(), "{ctx}");
            for e in 0..keys.len() + 1 {
                assert_eq!(
                    values(compact.context_value(ctx, e)),
                    values(req.context_value(ctx, e))
                );
            }
        }
        for via in ["athena.amazonaws.com", "s3.amazonaws.com", "x"] {
            assert_eq!(
                compact.appends_to_called_via(via),
                req.appends_to_called_via(via)
            );
        }
    }

    #[test]
    fn a_built_request_reads_as_the_parsed_one() {
        let cases = [
            r#"{"id":"x","principal":"arn:aws:sts::111122223333:assumed-role/R/s",
            "context":{"aws:SourceIp":"10.0.0.1","aws:CalledVia":["a.amazonaws.com"],
                       "aws:PrincipalTag/Team":"red","aws:TagKeys":"k"},
            "chain":[{"action":"s3:GetObject","resource":"arn:aws:s3:::b/k","resource_policy":{"Statement":[{"Effect":"Deny","Principal":"*","Action":"*","Resource":"*"}]}},
                     {"via":"s3.amazonaws.com","action":"kms:Decrypt",
                      "resource":"arn:aws:kms:us-east-1:444455556666:key/k",
                      "context":{"kms:ViaService":"s3.us-east-1.amazonaws.com",
                                 "kms:EncryptionContextKeys":["a","b"]}},
                     {"via":"kms.amazonaws.com","action":"sts:GetCallerIdentity","resource":"*"}]}"#,
            r#"{"id":"y","principal":"s3.amazonaws.com",
            "options":{"called_via_services":["x"],"preserve_source_ip":false},
            "chain":[{"action":"sqs:SendMessage","resource":"*"}]}"#,
            r#"{"id":"z","principal":"iam::0a1b:user:alice",
            "context":{"g:SourceIp":"10.0.0.1"},
            "chain":[{"action":"obs:object:GetObject","resource":"obs:cn-north-4:0a1b:object:b/k"}]}"#,
        ];
        // The one buffer's edges: no context at all, many hops each with its own context,
        // long and multi-byte texts (the text's end falls at every offset in a word).
        let long = "é€x".repeat(700);
        let mut many = String::from(
            r#"{"id":"m","principal":"arn:aws:iam::111122223333:user/u","chain":[
            {"action":"s3:GetObject","resource":"arn:aws:s3:::b/k"}"#,
        );
        for k in 1..14 {
            many.push_str(&format!(
                r#",{{"via":"s{k}.amazonaws.com","action":"s{k}:Do{k}","resource":"arn:aws:s{k}:us-east-1:111122223333:thing/{}",
                "context":{{"s{k}:Key":"{}","s{k}:List":["{}","b"]}}}}"#,
                "r".repeat(k * 37),
                long.chars().take(k * 5).collect::<String>(),
                "v".repeat(k)
            ));
        }
        many.push_str("]}");
        let generated = [
            r#"{"id":"e","principal":"arn:aws:iam::111122223333:user/u",
            "chain":[{"action":"s3:ListBucket","resource":"arn:aws:s3:::b"}]}"#
                .to_string(),
            many,
            format!(
                r#"{{"id":"l","principal":"arn:aws:iam::111122223333:user/{long}",
                "context":{{"aws:userid":"{long}","aws:TagKeys":["{long}","{long}x"]}},
                "chain":[{{"action":"s3:GetObject","resource":"arn:aws:s3:::b/{long}"}}]}}"#
            ),
        ];
        let texts = cases
            .iter()
            .copied()
            .chain(generated.iter().map(String::as_str));
        let texts: Vec<&str> = texts.collect();
        let mut b = RequestBuilder::new();
        let mut kept = Vec::new();
        for _round in 0..2 {
            for text in &texts {
                let req = request(text);
                b.fill_from(&req);
                let built = b.finish().unwrap();
                assert_reads_as(built, &req);
                kept.push((built.clone(), req));
            }
        }
        // A clone is one copy of the buffer, independent of the builder's next requests.
        for (clone, req) in &kept {
            assert_reads_as(clone, req);
            assert!(clone.buffer_len() >= clone.text_len());
        }
    }

    /// Resolves every key to its length and every action to nothing, under token 7.
    struct Lengths;

    impl Resolver for Lengths {
        fn token(&self) -> u64 {
            7
        }
        fn key_id(&self, canonical: &str) -> u32 {
            canonical.len() as u32
        }
        fn action_entry(&self, _: &str, _: &mut String) -> u32 {
            NO_ID
        }
    }

    /// Built against a resolver, each context's given keys carry the resolver's ids and
    /// say where the values are: a single value's span reads as the entry's value, a
    /// list's entry as its list; for another token there are none.
    #[test]
    fn given_keys_place_every_value() {
        let req = request(
            r#"{"id":"x","principal":"arn:aws:iam::111122223333:user/a",
            "context":{"aws:SourceIp":"10.0.0.1","aws:TagKeys":["a","b"],"s3:x":""},
            "chain":[{"action":"s3:GetObject","resource":"*","context":{"s3:prefix":"p/"}},
                     {"via":"s3.amazonaws.com","action":"kms:Decrypt","resource":"*",
                      "context":{"kms:EncryptionContextKeys":["k"]}}]}"#,
        );
        let mut b = RequestBuilder::new();
        b.fill_from(&req);
        let compact = b.finish_for(&Lengths).unwrap();
        let (mut singles, mut lists) = (0, 0);
        for ctx in 0..req.hop_count() + 1 {
            assert!(compact.given_keys(ctx, 8).is_none());
            let given = compact.given_keys(ctx, 7).unwrap();
            let keys: Vec<&str> = compact.context_keys(ctx).collect();
            assert_eq!(given.len(), keys.len(), "{ctx}");
            for (e, (g, key)) in given.iter().zip(&keys).enumerate() {
                assert_eq!(g.id, key.len() as u32);
                let place = match g.start {
                    GivenKey::LIST => {
                        lists += 1;
                        compact.entry_value(g.len)
                    }
                    start => {
                        singles += 1;
                        Some(ValueRef::Single(compact.span_text(start, g.len)))
                    }
                };
                assert_eq!(values(place), values(req.context_value(ctx, e)), "{key}");
            }
        }
        assert_eq!((singles, lists), (3, 2));
    }

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

    #[test]
    fn malformed_requests_are_reported() {
        let mut b = RequestBuilder::new();
        b.hop("s3:GetObject", "*");
        assert_eq!(b.finish().err(), Some(BuildError::NoPrincipal));
        b.clear();
        assert!(matches!(
            b.principal("arn:nonsense"),
            Err(BuildError::Principal(_))
        ));
        b.principal("anonymous").unwrap();
        assert_eq!(b.finish().err(), Some(BuildError::NoHop));
        b.hop_context("k", "v");
        b.hop("s3:GetObject", "*");
        assert_eq!(
            b.finish().err(),
            Some(BuildError::BeforeFirstHop("hop_context"))
        );
        b.clear();
        b.principal("anonymous").unwrap();
        b.forwarded_hop("s3.amazonaws.com", "s3:GetObject", "*");
        assert_eq!(b.finish().err(), Some(BuildError::ViaOnFirstHop));
        b.clear();
        b.principal("anonymous").unwrap();
        b.hop("s3:GetObject", "*").hop("kms:Decrypt", "*");
        assert_eq!(b.finish().err(), Some(BuildError::MissingVia(1)));
        b.clear();
        b.principal("anonymous").unwrap();
        b.hop("s3:GetObject", "*")
            .hop_context("s3:prefix", "a")
            .hop_context_list("S3:Prefix", ["b"]);
        let e = b.finish().err().unwrap();
        assert_eq!(
            e,
            BuildError::KeyCollision {
                context: 1,
                key: "s3:prefix".into()
            }
        );
        assert!(e.to_string().contains("hop 0's context"), "{e}");
        // The same key in two contexts is no collision; an empty list is no entry.
        b.clear();
        b.principal("anonymous").unwrap();
        b.context("s3:prefix", "a")
            .context_list("aws:TagKeys", [""; 0])
            .context_list("AWS:tagkeys", ["t"])
            .hop("s3:GetObject", "*")
            .hop_context("s3:prefix", "b");
        let r = b.finish().unwrap();
        assert_eq!(
            r.context_keys(0).collect::<Vec<_>>(),
            ["aws:tagkeys", "s3:prefix"]
        );
        assert_eq!(r.context_keys(1).collect::<Vec<_>>(), ["s3:prefix"]);
    }
}
