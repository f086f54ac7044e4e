//! What the compiled interpreter reads of a request, whatever its layout.
//!
//! The interpreter takes either a [`Request`] (owned strings, as parsed from a case, a log
//! record or a C call) or a [`PackedRequest`](super::PackedRequest) (the same request in
//! four contiguous buffers, for callers that evaluate requests kept in memory). Both
//! implement [`RequestView`]; the interpreter is generic over it, so neither layout is
//! converted into the other on the way in: converting costs more than it saves for a
//! request evaluated once (BENCHMARKS.md, "Packed requests").
//!
//! Contexts are numbered as the interpreter's slots number them: 0 is the request context,
//! `k + 1` is hop `k`'s own context. Entries keep their order (canonical key order).
//!
//! ```
//! use fastiam::request::{parse_case, PackedRequest, RequestView, ValueRef};
//! let case = parse_case(r#"{"id":"x","principal":"arn:aws:iam::111122223333:user/a",
//!  "context":{"aws:SourceIp":"10.0.0.1"},
//!  "chain":[{"action":"s3:GetObject","resource":"arn:aws:s3:::b/k"}]}"#, "doc").unwrap();
//! let request = &case.chain.request;
//! let packed = PackedRequest::from_request(request);
//! assert_eq!(request.context_value(0, 0), Some(ValueRef::Single("10.0.0.1")));
//! assert_eq!(packed.context_value(0, 0), request.context_value(0, 0));
//! assert_eq!(packed.action(0), request.action(0));
//! ```

use super::chain::{Credentials, Request};
use super::context::ContextValue;
use super::fas::{appends_to_called_via, PrincipalField};
use super::principal::{principal_arn_key_of, PrincipalKind};
use crate::policy::Dialect;

/// A context value, borrowed from its request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueRef<'r> {
    Single(&'r str),
    Multi(ListRef<'r>),
}

/// The strings of a multi-valued context entry, borrowed from its request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ListRef<'r>(List<'r>);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum List<'r> {
    Strings(&'r [String]),
    /// Spans of a packed request's text.
    Spans(&'r str, &'r [super::packed::Span]),
}

impl<'r> ListRef<'r> {
    /// The empty list.
    pub const EMPTY: ListRef<'static> = ListRef(List::Strings(&[]));

    pub(crate) fn strings(strings: &'r [String]) -> ListRef<'r> {
        ListRef(List::Strings(strings))
    }

    pub(crate) fn spans(text: &'r str, spans: &'r [super::packed::Span]) -> ListRef<'r> {
        ListRef(List::Spans(text, spans))
    }

    pub fn len(&self) -> usize {
        match self.0 {
            List::Strings(s) => s.len(),
            List::Spans(_, s) => s.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `i`-th string.
    #[inline]
    pub fn get(&self, i: usize) -> Option<&'r str> {
        match self.0 {
            List::Strings(s) => s.get(i).map(String::as_str),
            List::Spans(text, spans) => spans.get(i).map(|s| s.of(text)),
        }
    }
}

/// A request as the compiled interpreter reads it (see the module docs).
pub trait RequestView {
    fn dialect(&self) -> Dialect;
    fn credentials(&self) -> Option<Credentials>;
    /// [`FasOptions::preserve_source_ip`](super::FasOptions).
    fn preserve_source_ip(&self) -> bool;
    /// Whether a forwarded hop made by `via` appends to the CalledVia list (R-FAS-6).
    fn appends_to_called_via(&self, via: &str) -> bool;
    /// [`appends_to_called_via`](RequestView::appends_to_called_via) of hop `hop`'s `via`
    /// (`""` for none). A [`CompactRequest`](super::compact::CompactRequest) answers from a
    /// flag set when it was built.
    #[inline]
    fn hop_appends_to_called_via(&self, hop: usize) -> bool {
        self.appends_to_called_via(self.via(hop).unwrap_or_default())
    }

    fn principal_kind(&self) -> PrincipalKind;
    fn service_linked(&self) -> bool;
    fn management_account(&self) -> bool;
    fn principal_arn(&self) -> &str;
    fn principal_account(&self) -> Option<&str>;
    fn principal_role_arn(&self) -> Option<&str>;
    fn principal_name(&self) -> Option<&str>;
    fn principal_parent_user_arn(&self) -> Option<&str>;

    /// [`Principal::field`](super::Principal::field).
    #[inline]
    fn principal_field(&self, field: PrincipalField) -> Option<&str> {
        match field {
            PrincipalField::Arn => Some(self.principal_arn()),
            PrincipalField::PrincipalArn => principal_arn_key_of(
                self.principal_kind(),
                self.dialect(),
                self.principal_arn(),
                self.principal_role_arn(),
            ),
            PrincipalField::Account => self.principal_account(),
            PrincipalField::Name => self.principal_name(),
            PrincipalField::Fixed(text) => Some(text),
        }
    }

    /// The keys of context `ctx`, in order.
    fn context_keys(&self, ctx: usize) -> impl Iterator<Item = &str>;
    /// The value of entry `entry` of context `ctx`; `None` past the end.
    fn context_value(&self, ctx: usize, entry: usize) -> Option<ValueRef<'_>>;

    fn hop_count(&self) -> usize;
    /// The service that forwards hop `hop`; `None` for hop 0.
    fn via(&self, hop: usize) -> Option<&str>;
    fn action(&self, hop: usize) -> &str;
    fn resource(&self, hop: usize) -> &str;
    fn resource_account(&self, hop: usize) -> Option<&str>;
    fn resource_policy(&self, hop: usize) -> Option<u32>;
    fn resource_policy_required(&self, hop: usize) -> bool;
    fn requires_no_permission(&self, hop: usize) -> bool;

    /// Whether hop `hop`'s resource is in the principal's account, as the decision asks
    /// (SEMANTICS.md §10.1 `same_account`, R-EVAL-4): a resource naming no account is the principal's, one naming an account
    /// is if the principal's account is that text. A
    /// [`CompactRequest`](super::compact::CompactRequest) answers from a flag set when it
    /// was built; the default compares the texts.
    #[inline]
    fn resource_in_principal_account(&self, hop: usize) -> bool {
        same_account(self.resource_account(hop), self.principal_account())
    }

    /// Reads a little of every part of the request up front, so that the cache misses of a
    /// request not in the cache are taken together instead of one by one as the
    /// interpreter reaches each part. The value returned only keeps the reads.
    fn touch(&self) -> u32;

    /// The index of the principal's shape — dialect, kind, and whether it has an account
    /// and a name (`principal_shape`) — which decides the context keys the principal
    /// gives by default (the interpreter keeps a template of them per shape).
    #[inline]
    fn principal_shape(&self) -> usize {
        principal_shape(
            self.dialect(),
            self.principal_kind(),
            self.principal_account().is_some(),
            self.principal_name().is_some(),
        )
    }

    /// The keys of context `ctx` as resolved when the request was built against the
    /// evaluator whose token is `token`, one per entry
    /// ([`CompactRequest`](super::compact::CompactRequest)); `None`: the interpreter looks
    /// each key up by name.
    #[inline]
    fn given_keys(&self, _ctx: usize, _token: u64) -> Option<&[super::compact::GivenKey]> {
        None
    }

    /// The text of a [`GivenKey`](super::compact::GivenKey)'s single value: bytes
    /// `start..start + len` of the request's text. Only a view whose
    /// [`given_keys`](RequestView::given_keys) answers is asked; the others answer `""`.
    #[inline]
    fn span_text(&self, _start: u32, _len: u32) -> &str {
        ""
    }

    /// The value of a [`GivenKey`](super::compact::GivenKey)'s list: entry `entry` counted
    /// over all of the request's contexts. Only a view whose
    /// [`given_keys`](RequestView::given_keys) answers is asked; the others answer `None`.
    #[inline]
    fn entry_value(&self, _entry: u32) -> Option<ValueRef<'_>> {
        None
    }

    /// Hop `hop`'s action index entry, if the request was resolved against the evaluator
    /// whose token is `token` ([`NO_ID`](super::compact::NO_ID): not in its index); `None`:
    /// the interpreter looks the action up.
    #[inline]
    fn resolved_action(&self, _hop: usize, _token: u64) -> Option<u32> {
        None
    }

    /// Where the first five colons of hop `hop`'s resource are, and how many it has (up to
    /// 5), if found when the request was built
    /// ([`find_colons`](crate::primitives::find_colons)); `None`: the interpreter finds them.
    #[inline]
    fn resource_colons(&self, _hop: usize) -> Option<([u32; 5], u8)> {
        None
    }

    /// Runs `with` on the view the interpreter should read: the request itself, or one
    /// that finds the request's parts once for all the reads of an evaluation (a
    /// [`CompactRequest`](super::compact::CompactRequest)'s one buffer).
    #[inline]
    fn read_with<W: ReadWith>(&self, with: W) -> W::Out
    where
        Self: Sized,
    {
        with.read(self)
    }

    /// Asks for every cache line of the request (for a batch: the next request's, while
    /// this one is evaluated); by default as much as [`touch`](RequestView::touch).
    #[inline]
    fn touch_all(&self) -> u32 {
        self.touch()
    }
}

/// [`RequestView::resource_in_principal_account`] of a resource's account and the
/// principal's.
#[inline]
pub(crate) fn same_account(resource: Option<&str>, principal: Option<&str>) -> bool {
    resource.is_none_or(|r| principal == Some(r))
}

/// Work done on whichever view a request gives ([`RequestView::read_with`]): a generic
/// function as a value.
pub trait ReadWith {
    type Out;
    fn read<V: RequestView>(self, view: &V) -> Self::Out;
}

/// How many shapes of principal [`principal_shape`] tells apart.
pub(crate) const PRINCIPAL_SHAPES: usize = 2 * 6 * 4;

/// The index of a principal's shape (below [`PRINCIPAL_SHAPES`]): dialect, kind, and
/// whether it has an account and a name (whether it has a role ARN changes no default:
/// `aws:PrincipalArn` falls back to the ARN).
#[inline]
pub(crate) fn principal_shape(
    dialect: Dialect,
    kind: PrincipalKind,
    account: bool,
    name: bool,
) -> usize {
    let dialect = match dialect {
        Dialect::Aws => 0,
        Dialect::Huawei => 1,
    };
    let kind = match kind {
        PrincipalKind::User => 0,
        PrincipalKind::AssumedRole => 1,
        PrincipalKind::FederatedUser => 2,
        PrincipalKind::Root => 3,
        PrincipalKind::Service => 4,
        PrincipalKind::Anonymous => 5,
    };
    ((dialect * 6 + kind) * 2 + account as usize) * 2 + name as usize
}

impl Request {
    fn context_of(&self, ctx: usize) -> Option<&super::Context> {
        match ctx {
            0 => Some(&self.context),
            k => self.hops.get(k - 1).map(|h| &h.context),
        }
    }
}

impl RequestView for Request {
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
        self.options.fas.preserve_source_ip
    }

    #[inline]
    fn appends_to_called_via(&self, via: &str) -> bool {
        appends_to_called_via(self.dialect, via, &self.options.fas)
    }

    #[inline]
    fn principal_kind(&self) -> PrincipalKind {
        self.principal.kind
    }

    #[inline]
    fn service_linked(&self) -> bool {
        self.principal.service_linked
    }

    #[inline]
    fn management_account(&self) -> bool {
        self.principal.management_account
    }

    #[inline]
    fn principal_arn(&self) -> &str {
        &self.principal.arn
    }

    #[inline]
    fn principal_account(&self) -> Option<&str> {
        self.principal.account.as_deref()
    }

    #[inline]
    fn principal_role_arn(&self) -> Option<&str> {
        self.principal.role_arn.as_deref()
    }

    #[inline]
    fn principal_name(&self) -> Option<&str> {
        self.principal.name.as_deref()
    }

    #[inline]
    fn principal_parent_user_arn(&self) -> Option<&str> {
        self.principal.parent_user_arn.as_deref()
    }

    #[inline]
    fn context_keys(&self, ctx: usize) -> impl Iterator<Item = &str> {
        self.context_of(ctx)
            .into_iter()
            .flat_map(|c| c.iter().map(|(k, _)| k))
    }

    #[inline]
    fn context_value(&self, ctx: usize, entry: usize) -> Option<ValueRef<'_>> {
        Some(match self.context_of(ctx)?.entry(entry)?.1 {
            ContextValue::Single(v) => ValueRef::Single(v),
            ContextValue::Multi(vs) => ValueRef::Multi(ListRef::strings(vs)),
        })
    }

    #[inline]
    fn hop_count(&self) -> usize {
        self.hops.len()
    }

    #[inline]
    fn via(&self, hop: usize) -> Option<&str> {
        self.hops.get(hop)?.via.as_deref()
    }

    #[inline]
    fn action(&self, hop: usize) -> &str {
        self.hops.get(hop).map_or("", |h| &h.action)
    }

    #[inline]
    fn resource(&self, hop: usize) -> &str {
        self.hops.get(hop).map_or("", |h| &h.resource)
    }

    #[inline]
    fn resource_account(&self, hop: usize) -> Option<&str> {
        self.hops.get(hop)?.resource_account.as_deref()
    }

    #[inline]
    fn resource_policy(&self, hop: usize) -> Option<u32> {
        self.hops
            .get(hop)?
            .resource_policy
            .and_then(|r| u32::try_from(r).ok())
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

    /// The first byte of every string: a request is some thirty separate heap strings.
    #[inline]
    fn touch(&self) -> u32 {
        fn first(s: &str) -> u32 {
            s.as_bytes().first().map_or(0, |b| u32::from(*b))
        }
        fn context(c: &super::Context) -> u32 {
            let mut acc = 0;
            for (key, value) in c.iter() {
                acc ^= first(key) ^ value.values().first().map_or(0, |v| first(v));
            }
            acc
        }
        let p = &self.principal;
        let mut acc = context(&self.context) ^ first(&p.arn);
        for s in [&p.account, &p.role_arn, &p.name].into_iter().flatten() {
            acc ^= first(s);
        }
        for h in &self.hops {
            acc ^= context(&h.context) ^ first(&h.action) ^ first(&h.resource);
        }
        acc
    }
}
