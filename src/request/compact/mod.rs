//! A request with its strings in one buffer and its names resolved when it is built.
//!
//! Evaluating a [`Request`](super::Request) or a [`PackedRequest`](super::PackedRequest)
//! hashes every context key into the program's key table and every hop's action into its
//! action index, on every evaluation: about a quarter of a hop's instructions on the
//! standard workload (BENCHMARKS.md, "Where the time goes"). A [`CompactRequest`] does that
//! work once, when [`RequestBuilder`] builds it:
//! - every string sits in one text buffer (as in a packed request: a dozen consecutive
//!   cache lines instead of ~35 scattered strings);
//! - context keys are canonicalised (R-CTX-2), sorted and checked for collisions, and each
//!   entry carries, when built against an evaluator ([`Resolver`]), a [`GivenKey`]: its
//!   key's id in that evaluator's key table and where its value is (a single value's span
//!   of the text, or the entry of a list), so that the interpreter points a key's slot at
//!   its value with one copy and reads a single value with one slice. (A registry of
//!   well-known keys, valid for every evaluator, was tried and removed: looked up by binary
//!   search it cost more than the lookup by name it saved, BENCHMARKS.md.)
//! - each hop's action carries its entry in that evaluator's action index;
//! - the principal's ARN is parsed once into its parts, and each hop's resource split once
//!   (the places of its colons).
//!
//! Ids from an evaluator are only valid for it: the request keeps the evaluator's
//! [`Resolver::token`], and any other evaluator ignores them and looks the keys up by name
//! ([`RequestView::given_keys`]), as are the keys of a request built without an evaluator
//! ([`RequestBuilder::finish`]: the lazy path). Forwarded hops are still derived lazily by the
//! interpreter as slot overrides of hop 0 (R-COMP-5): nothing here copies a context.
//!
//! ```
//! use fastiam::request::compact::RequestBuilder;
//! use fastiam::request::RequestView;
//! let mut b = RequestBuilder::new();
//! b.principal("arn:aws:iam::111122223333:user/alice").unwrap();
//! b.context("AWS:SourceIp", "10.0.0.1");
//! b.hop("s3:GetObject", "arn:aws:s3:::b/k");
//! b.hop_context("s3:Prefix", "k");
//! let req = b.finish().unwrap();
//! assert_eq!(req.principal_name(), Some("alice"));
//! assert_eq!(req.context_keys(0).collect::<Vec<_>>(), ["aws:sourceip"]);
//! assert_eq!(req.resource_account(0), None); // S3 ARNs name no account
//! ```

mod build_error;
mod builder;
mod fill;
mod hop_defaults;
mod layout;
pub mod prefetch;
mod resolve_keys;
mod setters;

pub use build_error::BuildError;
pub use builder::RequestBuilder;

use super::chain::Credentials;
use super::fas::{appends_to_called_via_among, DEFAULT_CALLED_VIA_SERVICES};
use super::packed::Span;
use super::principal::PrincipalKind;
use super::view::{ListRef, ReadWith, RequestView, ValueRef};
use crate::policy::Dialect;

/// "No id": the key is not registered / not in the evaluator's table, the action not in its
/// index.
pub const NO_ID: u32 = u32::MAX;

/// What a [`RequestBuilder`] resolves against: an evaluator's key table and action index
/// (implemented by [`Evaluator`](crate::eval::Evaluator)).
pub trait Resolver {
    /// Identifies the tables the ids below index, distinct for every evaluator built in
    /// this process; never 0 (0 marks a request built without a resolver).
    fn token(&self) -> u64;
    /// The id of a canonical key in the key table, [`NO_ID`] if absent.
    fn key_id(&self, canonical: &str) -> u32;
    /// How many keys the key table holds: every id [`Resolver::key_id`] answers is below
    /// it. A builder needs it to know whether a narrow "no such key" can be mistaken for a
    /// key ([`GivenKey::NO_KEY`]).
    fn key_count(&self) -> usize;
    /// The action index entry of an action as a request gives it — for an action the index
    /// does not name exactly, an entry standing for its service (the evaluator's class
    /// entries) or [`NO_ID`]. `fold` is scratch space for actions that need folding.
    fn action_entry(&self, action: &str, fold: &mut String) -> u32;
}

/// A context entry as resolved when the request was built: its key's id in the
/// resolver's key table ([`GivenKey::NO_KEY`]: not in it) and where its value is — a single
/// value's bytes `start..start + len` of the request's text ([`RequestView::span_text`]),
/// or, when `start` is [`GivenKey::LIST`], the request's entry `len`
/// ([`RequestView::entry_value`]: a list, or a single value too long for `len`).
///
/// Eight bytes, not twelve: the evaluator reads one a given key before each chain, and at
/// twelve they were the second-largest source of cache misses out of cache (BENCHMARKS.md,
/// `diet`). The narrow fields hold only what the builder proved fits: a request with a key
/// id or entry index past `u16` (an evaluator of more than 65,535 keys, a request of more
/// than 65,535 entries) is built with no usable given keys ([`RequestView::given_keys`]
/// answers `None`), so its keys are looked up by name — never truncated.
///
/// ```
/// use fastiam::request::compact::GivenKey;
/// assert_eq!(std::mem::size_of::<GivenKey>(), 8);
/// ```
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct GivenKey {
    pub start: u32,
    pub id: u16,
    pub len: u16,
}

impl GivenKey {
    /// `start` of a value read through its entry (a list, or a single value longer than
    /// `u16::MAX` bytes).
    pub const LIST: u32 = u32::MAX;
    /// `id` of a key the resolver's table does not hold: never a slot, since a request
    /// whose resolver has more keys than this is built without usable given keys.
    pub const NO_KEY: u16 = u16::MAX;
}

/// One context entry (see `PackedRequest`).
#[repr(C)]
#[derive(Clone, Copy, Debug, bytemuck::Pod, bytemuck::Zeroable)]
struct Entry {
    key: Span,
    /// A single value's span; for a multi value (`multi` 1), `start..start + len` indexes
    /// `values`.
    value: Span,
    multi: u32,
}

/// A hop as the request holds it: 60 bytes (it was 88, BENCHMARKS.md `layout3`): the
/// flags in one byte, the resource's colons as `u16` offsets into the resource (not
/// recorded for a resource past 65,535 bytes: [`RequestView::resource_colons`] then
/// answers `None` and the interpreter finds them).
///
/// ```
/// use fastiam::request::compact::RequestBuilder;
/// use fastiam::request::RequestView;
/// let mut b = RequestBuilder::new();
/// b.principal("anonymous").unwrap();
/// b.hop("s3:GetObject", "arn:aws:s3:::b/k");
/// assert_eq!(b.finish().unwrap().resource_colons(0), Some(([3, 7, 10, 11, 12], 5)));
/// let long = format!("arn:aws:s3:::b/{}", "k".repeat(70_000));
/// b.clear().principal("anonymous").unwrap();
/// b.hop("s3:GetObject", &long);
/// assert_eq!(b.finish().unwrap().resource_colons(0), None);
/// ```
#[repr(C)]
#[derive(Clone, Copy, Debug, bytemuck::Pod, bytemuck::Zeroable)]
struct CompactHop {
    via: Span,
    action: Span,
    resource: Span,
    resource_account: Span,
    /// [`NO_ID`]: none.
    resource_policy: u32,
    /// This hop's own context: a range of `entries`.
    context: [u32; 2],
    /// The action's entry in the resolver's index, or [`NO_ID`].
    action_entry: u32,
    /// The first five colons of the resource (`find_colons`), when
    /// [`CompactHop::COLONS`] is set (a resource of at most 65,535 bytes)...
    resource_colons: [u16; 5],
    /// ... and how many there are.
    colons_found: u8,
    /// [`CompactHop::RESOURCE_POLICY_REQUIRED`] and the other bits below.
    flags: u8,
}

impl CompactHop {
    const RESOURCE_POLICY_REQUIRED: u8 = 1;
    const REQUIRES_NO_PERMISSION: u8 = 2;
    /// The resource is in the principal's account
    /// ([`RequestView::resource_in_principal_account`]), decided when the request is
    /// finished (the principal is then known).
    const IN_PRINCIPAL_ACCOUNT: u8 = 4;
    /// This hop's `via` is appended to the CalledVia list
    /// ([`RequestView::hop_appends_to_called_via`]), decided when the request is finished.
    const APPENDS_TO_CALLED_VIA: u8 = 8;
    /// `resource_colons` holds the colons (the resource's offsets fit a `u16`); else the
    /// interpreter finds them.
    const COLONS: u8 = 16;

    #[inline]
    fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }
}

/// A request built by [`RequestBuilder`] (see the module docs). It implements
/// [`RequestView`], so every engine path reads it.
///
/// Everything but the few header fields sits in ONE buffer (module `layout`), in the order
/// evaluation reads it — hops, given keys, entries, list values, then the text — so that a
/// request out of cache is one run of consecutive lines, one allocation, one copy to clone.
#[derive(Clone, Debug)]
pub struct CompactRequest {
    /// The parts, laid out by [`layout::Packed::pack`].
    packed: layout::Packed,
    dialect: Dialect,
    kind: PrincipalKind,
    service_linked: bool,
    management_account: bool,
    /// The principal's ARN, account, role ARN, name and parent user ARN.
    principal: [Span; 5],
    /// The request context: a range of the entries.
    context: (u32, u32),
    /// A range of the list values; `None`: the default registry.
    called_via_services: Option<(u32, u32)>,
    preserve_source_ip: bool,
    credentials: Option<Credentials>,
    /// The resolver the ids were resolved against; 0: none.
    token: u64,
    /// The resolver the given keys were resolved against: `token`, or 0 when one of them
    /// did not fit [`GivenKey`]'s narrow fields (then they are looked up by name).
    key_token: u64,
    /// [`RequestView::principal_shape`], found when the request was finished.
    shape: u8,
}

const ARN: usize = 0;
const ACCOUNT: usize = 1;
const ROLE_ARN: usize = 2;
const NAME: usize = 3;
const PARENT_USER_ARN: usize = 4;

impl Default for CompactRequest {
    fn default() -> Self {
        CompactRequest {
            packed: layout::Packed::default(),
            dialect: Dialect::Aws,
            kind: PrincipalKind::Anonymous,
            service_linked: false,
            management_account: false,
            principal: [Span::NONE; 5],
            context: (0, 0),
            called_via_services: None,
            preserve_source_ip: true,
            credentials: None,
            token: 0,
            key_token: 0,
            shape: 0,
        }
    }
}

impl CompactRequest {
    /// The request with its buffer's parts found once: what the interpreter reads
    /// ([`RequestView::read_with`]), so that each read is a field and an index, as with
    /// separate vectors, instead of finding its part in the buffer again.
    #[inline]
    pub fn read(&self) -> CompactRead<'_> {
        let parts = self.packed.split();
        CompactRead {
            req: self,
            text: parts.text,
            hops: parts.hops,
            given: parts.given,
            entries: parts.entries,
            values: parts.values,
        }
    }

    /// The resolver token the ids were resolved against (0: built without one).
    pub fn token(&self) -> u64 {
        self.token
    }

    /// The bytes of the text (for measuring a request's size).
    pub fn text_len(&self) -> usize {
        self.packed.text().len()
    }

    /// The bytes of the one buffer holding the request's parts and text.
    pub fn buffer_len(&self) -> usize {
        std::mem::size_of_val(self.packed.words())
    }
}

/// A [`CompactRequest`] with its buffer's parts found ([`CompactRequest::read`]).
#[derive(Clone, Copy, Debug)]
pub struct CompactRead<'r> {
    req: &'r CompactRequest,
    text: &'r str,
    hops: &'r [CompactHop],
    given: &'r [GivenKey],
    entries: &'r [Entry],
    values: &'r [Span],
}

// The reads, as inherent methods whose answers borrow the request (`'r`), not the view:
// `CompactRequest`'s `RequestView` answers with them through a view made for the call.
impl<'r> CompactRead<'r> {
    #[inline]
    fn str(self, span: Span) -> &'r str {
        span.of(self.text)
    }

    #[inline]
    fn opt(self, span: Span) -> Option<&'r str> {
        span.is_some().then(|| self.str(span))
    }

    #[inline]
    fn context_range(self, ctx: usize) -> (usize, usize) {
        let (first, end) = match ctx {
            0 => self.req.context,
            k => self
                .hops
                .get(k - 1)
                .map_or((0, 0), |h| (h.context[0], h.context[1])),
        };
        (first as usize, end as usize)
    }

    #[inline]
    fn dialect(self) -> Dialect {
        self.req.dialect
    }

    #[inline]
    fn credentials(self) -> Option<Credentials> {
        self.req.credentials
    }

    #[inline]
    fn preserve_source_ip(self) -> bool {
        self.req.preserve_source_ip
    }

    #[inline]
    fn appends_to_called_via(self, via: &str) -> bool {
        appends_among(self.req, self.values, self.text, via)
    }

    #[inline]
    fn hop_appends_to_called_via(self, hop: usize) -> bool {
        match self.hops.get(hop) {
            Some(h) => h.has(CompactHop::APPENDS_TO_CALLED_VIA),
            None => self.appends_to_called_via(""),
        }
    }

    #[inline]
    fn principal_kind(self) -> PrincipalKind {
        self.req.kind
    }

    #[inline]
    fn service_linked(self) -> bool {
        self.req.service_linked
    }

    #[inline]
    fn management_account(self) -> bool {
        self.req.management_account
    }

    #[inline]
    fn principal_arn(self) -> &'r str {
        self.str(self.req.principal[ARN])
    }

    #[inline]
    fn principal_shape(self) -> usize {
        self.req.shape as usize
    }

    #[inline]
    fn principal_account(self) -> Option<&'r str> {
        self.opt(self.req.principal[ACCOUNT])
    }

    #[inline]
    fn principal_role_arn(self) -> Option<&'r str> {
        self.opt(self.req.principal[ROLE_ARN])
    }

    #[inline]
    fn principal_name(self) -> Option<&'r str> {
        self.opt(self.req.principal[NAME])
    }

    #[inline]
    fn principal_parent_user_arn(self) -> Option<&'r str> {
        self.opt(self.req.principal[PARENT_USER_ARN])
    }

    #[inline]
    fn context_keys(self, ctx: usize) -> impl Iterator<Item = &'r str> {
        let (first, end) = self.context_range(ctx);
        let entries = self.entries.get(first..end).unwrap_or_default();
        entries.iter().map(move |e| self.str(e.key))
    }

    #[inline]
    fn context_value(self, ctx: usize, entry: usize) -> Option<ValueRef<'r>> {
        let (first, end) = self.context_range(ctx);
        let i = first + entry;
        if i >= end {
            return None;
        }
        self.entry_value(i as u32)
    }

    #[inline]
    fn entry_value(self, entry: u32) -> Option<ValueRef<'r>> {
        let e = self.entries.get(entry as usize)?;
        Some(if e.multi != 0 {
            let (start, len) = (e.value.start() as usize, e.value.len() as usize);
            let spans = self.values.get(start..start + len).unwrap_or_default();
            ValueRef::Multi(ListRef::spans(self.text, spans))
        } else {
            ValueRef::Single(self.str(e.value))
        })
    }

    #[inline]
    fn hop_count(self) -> usize {
        self.hops.len()
    }

    #[inline]
    fn via(self, hop: usize) -> Option<&'r str> {
        self.hops.get(hop).and_then(|h| self.opt(h.via))
    }

    #[inline]
    fn action(self, hop: usize) -> &'r str {
        self.hops.get(hop).map_or("", |h| self.str(h.action))
    }

    #[inline]
    fn resource(self, hop: usize) -> &'r str {
        self.hops.get(hop).map_or("", |h| self.str(h.resource))
    }

    #[inline]
    fn resource_account(self, hop: usize) -> Option<&'r str> {
        self.hops
            .get(hop)
            .and_then(|h| self.opt(h.resource_account))
    }

    #[inline]
    fn resource_in_principal_account(self, hop: usize) -> bool {
        // Past the hops, as the default: no resource account, the principal's.
        self.hops
            .get(hop)
            .is_none_or(|h| h.has(CompactHop::IN_PRINCIPAL_ACCOUNT))
    }

    #[inline]
    fn resource_policy(self, hop: usize) -> Option<u32> {
        self.hops
            .get(hop)
            .map(|h| h.resource_policy)
            .filter(|r| *r != NO_ID)
    }

    #[inline]
    fn resource_policy_required(self, hop: usize) -> bool {
        self.hops
            .get(hop)
            .is_some_and(|h| h.has(CompactHop::RESOURCE_POLICY_REQUIRED))
    }

    #[inline]
    fn requires_no_permission(self, hop: usize) -> bool {
        self.hops
            .get(hop)
            .is_some_and(|h| h.has(CompactHop::REQUIRES_NO_PERMISSION))
    }

    /// The cache lines of the text, asked for up front ([`prefetch::touch_lines`]: a
    /// prefetch a line on x86-64). Not the given keys, the hops and the entries: the
    /// interpreter reads the first two at once (the given keys' loop, then the first hop),
    /// and a resolved request's entries only for a list value. With loads (main before `frame2`),
    /// leaving the entries out was slower out of cache (BENCHMARKS.md "The chain frame and
    /// value reads"); with prefetches, asking for the text alone cost 135k instructions
    /// fewer on `profile_eval 1 2000 compact` (59 a hop) than asking for all four, and was
    /// no slower out of cache, BENCHMARKS.md "The chain frame's touch (issue 17, tenth
    /// session, `frame2`)".
    #[inline]
    fn touch(self) -> u32 {
        prefetch::touch_lines(self.text.as_bytes(), |b| *b as u32)
    }

    #[inline]
    fn given_keys(self, ctx: usize, token: u64) -> Option<&'r [GivenKey]> {
        if token == 0 || token != self.req.key_token {
            return None;
        }
        let (first, end) = self.context_range(ctx);
        self.given.get(first..end)
    }

    #[inline]
    fn span_text(self, start: u32, len: u32) -> &'r str {
        let start = start as usize;
        self.text
            .get(start..start + len as usize)
            .unwrap_or_default()
    }

    #[inline]
    fn resolved_action(self, hop: usize, token: u64) -> Option<u32> {
        if token == 0 || token != self.req.token {
            return None;
        }
        self.hops.get(hop).map(|h| h.action_entry)
    }

    #[inline]
    fn resource_colons(self, hop: usize) -> Option<([u32; 5], u8)> {
        let h = self.hops.get(hop)?;
        h.has(CompactHop::COLONS)
            .then(|| (h.resource_colons.map(u32::from), h.colons_found))
    }
}

/// [`RequestView::appends_to_called_via`] of a request whose list values and text are
/// `values` and `text` (the builder's parts, or the buffer's).
fn appends_among(req: &CompactRequest, values: &[Span], text: &str, via: &str) -> bool {
    match req.called_via_services {
        None => appends_to_called_via_among(
            req.dialect,
            via,
            DEFAULT_CALLED_VIA_SERVICES.iter().copied(),
        ),
        Some((first, end)) => {
            let services = values.get(first as usize..end as usize);
            let services = services.unwrap_or_default().iter();
            appends_to_called_via_among(req.dialect, via, services.map(|s| s.of(text)))
        }
    }
}

/// The [`RequestView`] methods, each answered by `CompactRead`'s inherent method of the
/// name on the view `$read` (an expression of `$s`, the receiver).
macro_rules! read_through {
    ($s:ident => $read:expr) => {
        #[inline]
        fn dialect(&$s) -> Dialect {
            $read.dialect()
        }
        #[inline]
        fn credentials(&$s) -> Option<Credentials> {
            $read.credentials()
        }
        #[inline]
        fn preserve_source_ip(&$s) -> bool {
            $read.preserve_source_ip()
        }
        #[inline]
        fn appends_to_called_via(&$s, via: &str) -> bool {
            $read.appends_to_called_via(via)
        }
        #[inline]
        fn hop_appends_to_called_via(&$s, hop: usize) -> bool {
            $read.hop_appends_to_called_via(hop)
        }
        #[inline]
        fn principal_kind(&$s) -> PrincipalKind {
            $read.principal_kind()
        }
        #[inline]
        fn service_linked(&$s) -> bool {
            $read.service_linked()
        }
        #[inline]
        fn management_account(&$s) -> bool {
            $read.management_account()
        }
        #[inline]
        fn principal_arn(&$s) -> &str {
            $read.principal_arn()
        }
        #[inline]
        fn principal_shape(&$s) -> usize {
            $read.principal_shape()
        }
        #[inline]
        fn principal_account(&$s) -> Option<&str> {
            $read.principal_account()
        }
        #[inline]
        fn principal_role_arn(&$s) -> Option<&str> {
            $read.principal_role_arn()
        }
        #[inline]
        fn principal_name(&$s) -> Option<&str> {
            $read.principal_name()
        }
        #[inline]
        fn principal_parent_user_arn(&$s) -> Option<&str> {
            $read.principal_parent_user_arn()
        }
        #[inline]
        fn context_keys(&$s, ctx: usize) -> impl Iterator<Item = &str> {
            $read.context_keys(ctx)
        }
        #[inline]
        fn context_value(&$s, ctx: usize, entry: usize) -> Option<ValueRef<'_>> {
            $read.context_value(ctx, entry)
        }
        #[inline]
        fn entry_value(&$s, entry: u32) -> Option<ValueRef<'_>> {
            $read.entry_value(entry)
        }
        #[inline]
        fn hop_count(&$s) -> usize {
            $read.hop_count()
        }
        #[inline]
        fn via(&$s, hop: usize) -> Option<&str> {
            $read.via(hop)
        }
        #[inline]
        fn action(&$s, hop: usize) -> &str {
            $read.action(hop)
        }
        #[inline]
        fn resource(&$s, hop: usize) -> &str {
            $read.resource(hop)
        }
        #[inline]
        fn resource_account(&$s, hop: usize) -> Option<&str> {
            $read.resource_account(hop)
        }
        #[inline]
        fn resource_in_principal_account(&$s, hop: usize) -> bool {
            $read.resource_in_principal_account(hop)
        }
        #[inline]
        fn resource_policy(&$s, hop: usize) -> Option<u32> {
            $read.resource_policy(hop)
        }
        #[inline]
        fn resource_policy_required(&$s, hop: usize) -> bool {
            $read.resource_policy_required(hop)
        }
        #[inline]
        fn requires_no_permission(&$s, hop: usize) -> bool {
            $read.requires_no_permission(hop)
        }
        #[inline]
        fn touch(&$s) -> u32 {
            $read.touch()
        }
        #[inline]
        fn given_keys(&$s, ctx: usize, token: u64) -> Option<&[GivenKey]> {
            $read.given_keys(ctx, token)
        }
        #[inline]
        fn span_text(&$s, start: u32, len: u32) -> &str {
            $read.span_text(start, len)
        }
        #[inline]
        fn resolved_action(&$s, hop: usize, token: u64) -> Option<u32> {
            $read.resolved_action(hop, token)
        }
        #[inline]
        fn resource_colons(&$s, hop: usize) -> Option<([u32; 5], u8)> {
            $read.resource_colons(hop)
        }
    };
}

impl RequestView for CompactRead<'_> {
    read_through!(self => (*self));
}

/// Read through a [`CompactRead`] made for each call; the interpreter makes one for a
/// whole evaluation ([`RequestView::read_with`]).
impl RequestView for CompactRequest {
    read_through!(self => self.read());

    // Always inlined: a frame of its own (registers saved, the view spilled) cost about
    // 17 instructions a chain, and inlined the caller's constants (`touch`) fold.
    #[inline(always)]
    fn read_with<W: ReadWith>(&self, with: W) -> W::Out {
        with.read(&self.read())
    }

    #[inline]
    fn touch_all(&self) -> u32 {
        prefetch::touch_lines(self.packed.words(), |w| *w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::RequestBuilder;

    /// The flag set when the request is built answers as comparing the texts (the
    /// default, which parsed and packed requests use), and as expected, for resources in
    /// the principal's account, in another, naming none, given explicitly, and for
    /// principals with no account — in both orders of setting the principal's account and
    /// the hops.
    #[test]
    fn resource_in_principal_account_is_decided_when_built() {
        let user = "arn:aws:iam::111122223333:user/a";
        // (principal, principal account set after the hops, resource, given resource
        // account, expected)
        type Case<'a> = (
            &'a str,
            Option<&'a str>,
            &'a str,
            Option<Option<&'a str>>,
            bool,
        );
        let cases: &[Case] = &[
            (
                user,
                None,
                "arn:aws:kms:us-east-1:111122223333:key/k",
                None,
                true,
            ),
            (
                user,
                None,
                "arn:aws:kms:us-east-1:444455556666:key/k",
                None,
                false,
            ),
            (user, None, "arn:aws:s3:::bucket/k", None, true),
            (user, None, "*", None, true),
            (
                user,
                None,
                "arn:aws:s3:::b",
                Some(Some("111122223333")),
                true,
            ),
            (
                user,
                None,
                "arn:aws:s3:::b",
                Some(Some("444455556666")),
                false,
            ),
            (
                user,
                None,
                "arn:aws:kms:us-east-1:444455556666:key/k",
                Some(None),
                true,
            ),
            (user, None, "arn:aws:s3:::b", Some(Some("")), false),
            (
                user,
                Some("444455556666"),
                "arn:aws:kms:us-east-1:444455556666:key/k",
                None,
                true,
            ),
            (
                user,
                Some("444455556666"),
                "arn:aws:kms:us-east-1:111122223333:key/k",
                None,
                false,
            ),
            (
                "anonymous",
                None,
                "arn:aws:kms:us-east-1:111122223333:key/k",
                None,
                false,
            ),
            ("anonymous", None, "arn:aws:s3:::bucket/k", None, true),
            (
                "s3.amazonaws.com",
                None,
                "arn:aws:kms:us-east-1:111122223333:key/k",
                None,
                false,
            ),
        ];
        let mut b = RequestBuilder::new();
        for &(principal, later_account, resource, given, expected) in cases {
            b.clear();
            b.principal(principal).unwrap();
            b.hop("kms:Decrypt", resource);
            if let Some(account) = given {
                b.resource_account(account);
            }
            b.forwarded_hop("s3.amazonaws.com", "kms:Decrypt", resource);
            if let Some(account) = later_account {
                b.principal_account(account);
            }
            let req = b.finish().unwrap();
            let case = (principal, later_account, resource, given);
            for k in 0..3 {
                let by_text = crate::request::view::same_account(
                    req.resource_account(k),
                    req.principal_account(),
                );
                assert_eq!(
                    req.resource_in_principal_account(k),
                    by_text,
                    "{case:?} {k}"
                );
            }
            assert_eq!(req.resource_in_principal_account(0), expected, "{case:?}");
        }
    }
}
