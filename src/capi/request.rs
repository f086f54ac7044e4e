//! The request as C structs, and how it becomes a [`Request`] without allocating.
//!
//! A C caller describes a request with plain structs of pointer + length strings
//! ([`fastiam_request`]); nothing needs to be NUL-terminated and nothing is retained after
//! the call. The interpreter takes a [`Request`] of owned strings, so each call copies the
//! strings into a [`RequestBuilder`] that lives in the caller's scratch and keeps every
//! buffer between calls: strings are cleared and refilled, and hops, context entries,
//! value lists and strings a request does not use go to spare lists for the next. Once
//! the scratch has grown to the requests it sees, building one allocates nothing (the
//! guarantee and its limits are in `include/fastiam.h`, at `fastiam_evaluate`).
//!
//! Context keys are canonicalised (R-CTX-2) into per-position buffers, their positions
//! sorted, and the entries filled in key order, so that the same request always lands in
//! the same buffers.
//!
//! Every pointer is checked (NULL, length, alignment) and every string validated as UTF-8
//! before use; a failure names the field (`request.hops[1].context[0].values[2]`).

use std::ffi::c_char;

use super::error::{Error, Field};
use crate::policy::Dialect;
use crate::primitives::{canonical_key_into, parse_date};
use crate::request::spares::{set_text, Spares};
use crate::request::{
    default_requires_no_permission, default_resource_account_str, default_resource_policy_required,
    is_multi_valued, Context, ContextValue, Credentials, Hop, PrincipalKind, Request,
    DEFAULT_CALLED_VIA_SERVICES,
};

/// A string given by pointer and length, in UTF-8, not NUL-terminated (a terminating NUL
/// is allowed beyond `len` and ignored). `data` may be NULL only when `len` is 0; for an
/// optional field, `data == NULL` means absent, and a non-NULL `data` with `len == 0` is
/// the empty string.
///
/// In a request, fastiam reads the bytes during the call only and keeps no pointer to
/// them. Strings fastiam returns (policy ids, statement ids, key names) point into the
/// program and stay valid until `fastiam_program_free`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct fastiam_str {
    pub data: *const c_char,
    pub len: usize,
}

impl fastiam_str {
    /// Absent (NULL, 0).
    pub const NONE: fastiam_str = fastiam_str {
        data: std::ptr::null(),
        len: 0,
    };

    /// Borrows a Rust string (for Rust callers of the ABI and tests).
    pub fn new(s: &str) -> fastiam_str {
        fastiam_str {
            data: s.as_ptr().cast(),
            len: s.len(),
        }
    }

    /// Borrows an optional Rust string: `None` is absent.
    pub fn optional(s: Option<&str>) -> fastiam_str {
        s.map_or(fastiam_str::NONE, fastiam_str::new)
    }
}

/// The policy dialect of a request.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum fastiam_dialect {
    /// AWS IAM (`aws:` keys, the AWS FAS rules).
    Aws = 1,
    /// Huawei Cloud IAM (`g:` keys, the Huawei FAS rules).
    Huawei = 2,
}

/// A yes/no field whose zero value means "the documented default", so that a
/// zero-initialised struct asks for the defaults.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum fastiam_flag {
    /// The field's documented default.
    Default = 0,
    No = 1,
    Yes = 2,
}

/// The kind of a principal, to override what its ARN says.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum fastiam_principal_kind {
    /// As the ARN / URN says (the default).
    FromArn = 0,
    User = 1,
    AssumedRole = 2,
    FederatedUser = 3,
    Root = 4,
    Service = 5,
    Anonymous = 6,
}

/// Who asks. Only `arn` is required; every other field, left zero, takes what the ARN
/// says (CASES.md `principal`, string or object form).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct fastiam_principal {
    /// An IAM/STS ARN, a Huawei URN, a service principal name, or `anonymous`. Required.
    pub arn: fastiam_str,
    /// A `fastiam_principal_kind`; `FASTIAM_PRINCIPAL_KIND_FROM_ARN` (0) keeps the ARN's.
    pub kind: u32,
    /// The principal's account; absent: from the ARN.
    pub account: fastiam_str,
    /// For a role session: the role's ARN; absent: from the ARN.
    pub role_arn: fastiam_str,
    /// For a federated-user session: the IAM user that created it (R-PRIN-3); absent:
    /// unknown.
    pub parent_user_arn: fastiam_str,
    /// A `fastiam_flag`: a service-linked role session (SCPs and RCPs do not apply).
    /// Default: from the ARN.
    pub service_linked: u32,
    /// A `fastiam_flag`: a principal of the organisation's management account (SCPs do
    /// not apply). Default: no.
    pub management_account: u32,
}

/// One context key and its value(s).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct fastiam_context_entry {
    /// The key, in any case (`aws:PrincipalTag/Team`); canonicalised by fastiam (R-CTX-2).
    /// Required.
    pub key: fastiam_str,
    /// The values: `values_len` strings (numbers and booleans as their text). May be
    /// NULL when `values_len` is 0.
    pub values: *const fastiam_str,
    pub values_len: usize,
    /// A `fastiam_flag`: whether the value is a list (a JSON array in CASES.md).
    /// Default: a list unless `values_len` is 1. `FASTIAM_FLAG_NO` requires exactly one
    /// value. Keys registered as multi-valued (`aws:CalledVia`, `aws:TagKeys`...) are
    /// always lists (R-CTX-3); an empty list is the same as an absent key (R-CTX-4).
    pub multi: u32,
}

/// One hop of the chain: hop 0 is the principal's own call, hop k >= 1 the call that
/// service `via` makes on its behalf (R-FAS-2).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct fastiam_hop {
    /// The service principal that forwards this hop (`s3.amazonaws.com`): must be absent
    /// on hop 0 and present on every later hop.
    pub via: fastiam_str,
    /// `service:Action`. Required.
    pub action: fastiam_str,
    /// An ARN, a Huawei URN, or `*`. Required.
    pub resource: fastiam_str,
    /// The account owning the resource; absent: the ARN's / URN's account, else the
    /// principal's.
    pub resource_account: fastiam_str,
    /// A `fastiam_flag`: whether `resource_policy` names a resource policy. Default: no.
    pub has_resource_policy: u32,
    /// The resource policy's slot in the program (0-based, as `fastiam compile` numbers
    /// its `--resource` files), read only when `has_resource_policy` is yes.
    pub resource_policy: u32,
    /// A `fastiam_flag`: the resource policy must grant even within the account (R-EVAL-5).
    /// Default: yes for AWS KMS keys, `sts:AssumeRole*` on a role and Huawei
    /// `sts:agencies:assume`, else no.
    pub resource_policy_required: u32,
    /// A `fastiam_flag`: the action needs no permission (R-EVAL-7). Default: yes for the AWS
    /// action `sts:GetCallerIdentity`, else no.
    pub requires_no_permission: u32,
    /// Keys this hop's request sets, laid over the context derived from the previous hop.
    /// May be NULL when `context_len` is 0.
    pub context: *const fastiam_context_entry,
    pub context_len: usize,
}

/// A credential validity window `[issued, expires)` (R-STS-5): the request time
/// (`aws:CurrentTime` / `g:CurrentTime`) must lie inside it, else the chain's decision is
/// `FASTIAM_DECISION_INVALID_CREDENTIALS`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct fastiam_credentials {
    /// ISO 8601 or epoch seconds; absent: no lower bound.
    pub issued: fastiam_str,
    /// ISO 8601 or epoch seconds; absent: no upper bound.
    pub expires: fastiam_str,
}

/// A request: who asks, with what context, through which chain of hops. Zero-initialise
/// it, then set at least `dialect`, `principal.arn` and one hop's `action` and `resource`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct fastiam_request {
    /// A `fastiam_dialect`. Required (0 is not a dialect).
    pub dialect: u32,
    pub principal: fastiam_principal,
    /// Hop 0's context as the caller gives it, before derivations. May be NULL when
    /// `context_len` is 0.
    pub context: *const fastiam_context_entry,
    pub context_len: usize,
    /// The hops, at least one.
    pub hops: *const fastiam_hop,
    pub hops_len: usize,
    /// The services whose forwarded hops append to `aws:CalledVia` (R-FAS-6). NULL (with
    /// length 0): the default registry; non-NULL with length 0: none.
    pub called_via_services: *const fastiam_str,
    pub called_via_services_len: usize,
    /// A `fastiam_flag`: whether `aws:SourceIp` is carried to forwarded hops (R-FAS-5).
    /// Default: yes.
    pub preserve_source_ip: u32,
    /// The credential window, or NULL for none.
    pub credentials: *const fastiam_credentials,
}

/// The caller's promise, made once per call, that every pointer reachable from the request
/// is NULL or valid for its length, initialised, and unchanged for `'a` (the call). With it
/// the builder reads strings and arrays in safe code; the checks that remain ours (NULL
/// with a length, alignment, size overflow, UTF-8) are made here.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Vouched<'a> {
    call: std::marker::PhantomData<&'a ()>,
}

impl<'a> Vouched<'a> {
    /// # Safety
    ///
    /// Every pointer this is used to read (strings, arrays, the structs they hold) is NULL
    /// or points to as many initialised values as its length says, unchanged for `'a`.
    pub(crate) unsafe fn new() -> Vouched<'a> {
        Vouched {
            call: std::marker::PhantomData,
        }
    }

    /// Reads an optional string: `None` when absent.
    pub(crate) fn optional_text(
        self,
        s: fastiam_str,
        field: impl Fn() -> Field + Copy,
    ) -> Result<Option<&'a str>, Error> {
        if s.data.is_null() {
            return if s.len == 0 {
                Ok(None)
            } else {
                Err(Error::null(field()))
            };
        }
        if s.len > isize::MAX as usize {
            return Err(Error::invalid(field(), format!("has length {}", s.len)));
        }
        // SAFETY: non-NULL and at most isize::MAX bytes; `Vouched` holds the promise of
        // `len` readable bytes unchanged for 'a. `u8` has no alignment requirement.
        let bytes = unsafe { std::slice::from_raw_parts(s.data.cast::<u8>(), s.len) };
        if bytes.is_ascii() {
            // The common case, checked word by word; `from_utf8`'s own ASCII path costs
            // more on the short strings of a request (measured: a fifth of the copy).
            // SAFETY: ASCII is UTF-8.
            return Ok(Some(unsafe { std::str::from_utf8_unchecked(bytes) }));
        }
        std::str::from_utf8(bytes)
            .map(Some)
            .map_err(|e| Error::utf8(field(), e.valid_up_to()))
    }

    /// Reads a required string.
    pub(crate) fn text(
        self,
        s: fastiam_str,
        field: impl Fn() -> Field + Copy,
    ) -> Result<&'a str, Error> {
        self.optional_text(s, field)?
            .ok_or_else(|| Error::null(field()))
    }

    /// Reads an array: empty when `len` is 0 (any pointer, NULL included).
    pub(crate) fn array<T>(
        self,
        ptr: *const T,
        len: usize,
        field: impl Fn() -> Field + Copy,
    ) -> Result<&'a [T], Error> {
        if len == 0 {
            return Ok(&[]);
        }
        if ptr.is_null() {
            return Err(Error::null(field()));
        }
        if !ptr.is_aligned() {
            return Err(Error::invalid(field(), "is not aligned for its type"));
        }
        if len
            .checked_mul(std::mem::size_of::<T>().max(1))
            .is_none_or(|bytes| bytes > isize::MAX as usize)
        {
            return Err(Error::invalid(field(), format!("has length {len}")));
        }
        // SAFETY: non-NULL, aligned, within isize::MAX bytes; `Vouched` holds the promise
        // of `len` initialised values unchanged for 'a.
        Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
    }

    /// Reads an optional struct: `None` for NULL.
    pub(crate) fn optional<T>(
        self,
        ptr: *const T,
        field: impl Fn() -> Field + Copy,
    ) -> Result<Option<&'a T>, Error> {
        Ok(self.array(ptr, usize::from(!ptr.is_null()), field)?.first())
    }
}

/// Decodes a `fastiam_flag` field: `Some(yes)` when set, `None` for the default.
fn flag(value: u32, field: impl Fn() -> Field) -> Result<Option<bool>, Error> {
    match value {
        0 => Ok(None),
        1 => Ok(Some(false)),
        2 => Ok(Some(true)),
        other => Err(Error::invalid(
            field(),
            format!("is {other}, not a fastiam_flag (0 default, 1 no, 2 yes)"),
        )),
    }
}

/// Builds [`Request`]s from C requests, reusing every buffer of the previous one.
#[derive(Debug)]
pub(crate) struct RequestBuilder {
    request: Request,
    spares: Spares,
    /// Canonical keys of the context being built, by the caller's position.
    keys: Vec<String>,
    /// Positions of the context being built, in key order.
    order: Vec<u32>,
    /// Whether the request's CalledVia registry is the default one (refilling the 19
    /// default names on every call would cost more than a hop's action lookup).
    default_services: bool,
}

impl RequestBuilder {
    pub(crate) fn new() -> RequestBuilder {
        RequestBuilder {
            request: Request {
                dialect: Dialect::Aws,
                principal: crate::request::Principal::from_arn("anonymous")
                    .expect("`anonymous` is a principal"),
                context: Context::new(),
                hops: Vec::with_capacity(4),
                options: Default::default(),
                credentials: None,
            },
            spares: Spares::default(),
            keys: Vec::with_capacity(16),
            order: Vec::with_capacity(16),
            default_services: true,
        }
    }

    /// Rebuilds the request from `c`, read through `input`; `resource_slots` is the
    /// program's number of resource-policy slots. On error the request is left partly
    /// built (and is rebuilt by the next call).
    pub(crate) fn build(
        &mut self,
        input: Vouched<'_>,
        c: &fastiam_request,
        resource_slots: u32,
    ) -> Result<&Request, Error> {
        let at = Field::root("request");
        let dialect = match c.dialect {
            1 => Dialect::Aws,
            2 => Dialect::Huawei,
            other => {
                return Err(Error::invalid(
                    at.name("dialect"),
                    format!(
                        "is {other}, not FASTIAM_DIALECT_AWS (1) or FASTIAM_DIALECT_HUAWEI (2)"
                    ),
                ))
            }
        };
        self.request.dialect = dialect;
        self.principal(input, &c.principal, dialect, at.name("principal"))?;
        let RequestBuilder {
            request,
            spares,
            keys,
            order,
            default_services,
        } = self;
        let mut contexts = ContextBuilder {
            input,
            spares,
            keys,
            order,
        };
        let entries = input.array(c.context, c.context_len, || at.name("context"))?;
        contexts.build(&mut request.context, entries, at.name("context"))?;

        let hops = input.array(c.hops, c.hops_len, || at.name("hops"))?;
        if hops.is_empty() {
            return Err(Error::invalid(
                at.name("hops_len"),
                "is 0: a request has at least one hop",
            ));
        }
        while request.hops.len() > hops.len() {
            contexts.spares.hops.extend(request.hops.pop());
        }
        while request.hops.len() < hops.len() {
            let hop = contexts.spares.hop();
            request.hops.push(hop);
        }
        for (k, (hop, ch)) in request.hops.iter_mut().zip(hops).enumerate() {
            let hop_at = at.name("hops").index(k);
            build_hop(hop, ch, k, dialect, resource_slots, &mut contexts, hop_at)?;
        }

        let services = if c.called_via_services.is_null() && c.called_via_services_len == 0 {
            None
        } else {
            Some(
                input.array(c.called_via_services, c.called_via_services_len, || {
                    at.name("called_via_services")
                })?,
            )
        };
        let list = &mut request.options.fas.called_via_services;
        match services {
            None if *default_services => {}
            None => {
                *default_services = true;
                list.truncate(DEFAULT_CALLED_VIA_SERVICES.len());
                for (i, s) in DEFAULT_CALLED_VIA_SERVICES.iter().enumerate() {
                    match list.get_mut(i) {
                        Some(buf) => set_text(buf, s),
                        None => list.push(s.to_string()),
                    }
                }
            }
            Some(services) => {
                *default_services = false;
                list.truncate(services.len());
                for (i, s) in services.iter().enumerate() {
                    let s = input.text(*s, || at.name("called_via_services").index(i))?;
                    match list.get_mut(i) {
                        Some(buf) => set_text(buf, s),
                        None => list.push(s.to_string()),
                    }
                }
            }
        }
        request.options.fas.preserve_source_ip =
            flag(c.preserve_source_ip, || at.name("preserve_source_ip"))?.unwrap_or(true);

        let cat = at.name("credentials");
        request.credentials = match input.optional(c.credentials, || cat)? {
            None => None,
            Some(creds) => Some(Credentials {
                issued: date(input, creds.issued, || cat.name("issued"))?,
                expires: date(input, creds.expires, || cat.name("expires"))?,
            }),
        };
        Ok(&self.request)
    }

    /// Parses the principal into the request's, then applies the overrides and the case
    /// reader's dialect rule (CASES.md).
    fn principal(
        &mut self,
        input: Vouched<'_>,
        c: &fastiam_principal,
        dialect: Dialect,
        at: Field,
    ) -> Result<(), Error> {
        let RequestBuilder {
            request, spares, ..
        } = self;
        let p = &mut request.principal;
        let arn = input.text(c.arn, || at.name("arn"))?;
        p.parse_into(arn)
            .map_err(|e| Error::invalid(at.name("arn"), format!("is not a principal: {}", e.0)))?;
        p.kind = match c.kind {
            0 => p.kind,
            1 => PrincipalKind::User,
            2 => PrincipalKind::AssumedRole,
            3 => PrincipalKind::FederatedUser,
            4 => PrincipalKind::Root,
            5 => PrincipalKind::Service,
            6 => PrincipalKind::Anonymous,
            other => {
                return Err(Error::invalid(
                    at.name("kind"),
                    format!("is {other}, not a fastiam_principal_kind (0 to 6)"),
                ))
            }
        };
        if let Some(account) = input.optional_text(c.account, || at.name("account"))? {
            spares.set_optional(&mut p.account, Some(account));
        }
        if let Some(role) = input.optional_text(c.role_arn, || at.name("role_arn"))? {
            spares.set_optional(&mut p.role_arn, Some(role));
        }
        let parent = input.optional_text(c.parent_user_arn, || at.name("parent_user_arn"))?;
        if let Some(parent) = parent {
            spares.set_optional(&mut p.parent_user_arn, Some(parent));
        }
        if let Some(yes) = flag(c.service_linked, || at.name("service_linked"))? {
            p.service_linked = yes;
        }
        if let Some(yes) = flag(c.management_account, || at.name("management_account"))? {
            p.management_account = yes;
        }
        if !matches!(p.kind, PrincipalKind::Anonymous | PrincipalKind::Service) {
            p.dialect = dialect;
        }
        Ok(())
    }
}

/// Fills one hop.
fn build_hop(
    hop: &mut Hop,
    c: &fastiam_hop,
    k: usize,
    dialect: Dialect,
    resource_slots: u32,
    contexts: &mut ContextBuilder<'_>,
    at: Field,
) -> Result<(), Error> {
    let input = contexts.input;
    let via = input.optional_text(c.via, || at.name("via"))?;
    match (k, via) {
        (0, Some(_)) => {
            return Err(Error::invalid(
                at.name("via"),
                "is set on hop 0: the principal's own call has no `via` (R-FAS-2)",
            ))
        }
        (1.., None) => return Err(Error::null(at.name("via"))),
        _ => contexts.spares.set_optional(&mut hop.via, via),
    }
    let action = input.text(c.action, || at.name("action"))?;
    let resource = input.text(c.resource, || at.name("resource"))?;
    set_text(&mut hop.action, action);
    set_text(&mut hop.resource, resource);
    let account = input.optional_text(c.resource_account, || at.name("resource_account"))?;
    contexts.spares.set_optional(
        &mut hop.resource_account,
        account.or_else(|| default_resource_account_str(resource)),
    );
    hop.resource_policy = match flag(c.has_resource_policy, || at.name("has_resource_policy"))? {
        Some(true) if c.resource_policy < resource_slots => Some(c.resource_policy as usize),
        Some(true) => {
            return Err(Error::invalid(
                at.name("resource_policy"),
                format!(
                    "is slot {}, but the program has {resource_slots} resource policies",
                    c.resource_policy
                ),
            ))
        }
        _ => None,
    };
    hop.resource_policy_required = match flag(c.resource_policy_required, || {
        at.name("resource_policy_required")
    })? {
        Some(yes) => yes,
        None => default_resource_policy_required(dialect, action, resource),
    };
    hop.requires_no_permission = flag(c.requires_no_permission, || {
        at.name("requires_no_permission")
    })?
    .unwrap_or_else(|| default_requires_no_permission(dialect, action));
    let entries = input.array(c.context, c.context_len, || at.name("context"))?;
    contexts.build(&mut hop.context, entries, at.name("context"))
}

/// Reads an optional date.
fn date(
    input: Vouched<'_>,
    s: fastiam_str,
    field: impl Fn() -> Field + Copy,
) -> Result<Option<crate::primitives::Instant>, Error> {
    let Some(text) = input.optional_text(s, field)? else {
        return Ok(None);
    };
    parse_date(text).map(Some).ok_or_else(|| {
        Error::invalid(
            field(),
            format!("is `{text}`, not a date (ISO 8601 or epoch seconds, R-OPD-2)"),
        )
    })
}

/// The buffers for building contexts, borrowed from the [`RequestBuilder`].
struct ContextBuilder<'b> {
    input: Vouched<'b>,
    spares: &'b mut Spares,
    keys: &'b mut Vec<String>,
    order: &'b mut Vec<u32>,
}

impl ContextBuilder<'_> {
    /// Rebuilds `ctx` from the caller's entries, as [`Context::insert`] would one by one:
    /// canonical keys, the multi-valued registry, empty lists dropped, a key given twice
    /// rejected. On error `ctx` holds a valid prefix of the entries.
    fn build(
        &mut self,
        ctx: &mut Context,
        entries: &[fastiam_context_entry],
        at: Field,
    ) -> Result<(), Error> {
        if self.keys.len() < entries.len() {
            self.keys.resize_with(entries.len(), String::new);
        }
        for (i, entry) in entries.iter().enumerate() {
            let key = self.input.text(entry.key, || at.index(i).name("key"))?;
            let buf = &mut self.keys[i];
            buf.clear();
            canonical_key_into(key, buf);
        }
        let keys = &self.keys[..entries.len()];
        self.order.clear();
        self.order.extend(0..entries.len() as u32);
        self.order
            .sort_unstable_by(|&a, &b| keys[a as usize].cmp(&keys[b as usize]));
        for pair in self.order.windows(2) {
            let (a, b) = (pair[0] as usize, pair[1] as usize);
            if keys[a] == keys[b] {
                return Err(Error::invalid(
                    at.index(a.max(b)).name("key"),
                    format!(
                        "is `{}` after canonicalisation, as `{}` (R-CTX-2)",
                        keys[a],
                        at.index(a.min(b)).name("key")
                    ),
                ));
            }
        }
        let mut out = ctx.take_entries();
        let mut filled = 0;
        let mut result = Ok(());
        for &i in self.order.iter() {
            let i = i as usize;
            match fill(
                self.input,
                self.spares,
                &mut out,
                filled,
                &keys[i],
                &entries[i],
                || at.index(i),
            ) {
                Ok(true) => filled += 1,
                Ok(false) => {}
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        // Entries past `filled` go back to the spares, buffers kept.
        self.spares.entries.extend(out.drain(filled..));
        *ctx = Context::from_canonical_entries(out);
        result
    }
}

/// Writes entry `key` = the caller's values into `out[at_index]` (taking a spare or a new
/// entry when `out` is that short). Returns false, writing nothing, for an empty list
/// (R-CTX-4).
fn fill(
    input: Vouched<'_>,
    spares: &mut Spares,
    out: &mut Vec<(String, ContextValue)>,
    at_index: usize,
    key: &str,
    entry: &fastiam_context_entry,
    at: impl Fn() -> Field + Copy,
) -> Result<bool, Error> {
    let values = input.array(entry.values, entry.values_len, || at().name("values"))?;
    let multi = match flag(entry.multi, || at().name("multi"))? {
        None => values.len() != 1,
        Some(true) => true,
        Some(false) if values.len() == 1 => false,
        Some(false) => {
            return Err(Error::invalid(
                at().name("values_len"),
                format!(
                    "is {}: `multi` is no, so exactly one value is needed",
                    values.len()
                ),
            ))
        }
    };
    let multi = multi || is_multi_valued(key);
    if multi && values.is_empty() {
        return Ok(false);
    }
    if out.len() == at_index {
        let entry = spares
            .entries
            .pop()
            .unwrap_or_else(|| (String::new(), ContextValue::Single(String::new())));
        out.push(entry);
    }
    let (k, v) = &mut out[at_index];
    let vat = || at().name("values");
    if multi {
        if let ContextValue::Single(_) = v {
            let list = spares.lists.pop().unwrap_or_default();
            if let ContextValue::Single(old) = std::mem::replace(v, ContextValue::Multi(list)) {
                spares.strings.push(old);
            }
        }
        let ContextValue::Multi(list) = v else {
            unreachable!("made a list just above")
        };
        while list.len() > values.len() {
            spares.strings.extend(list.pop());
        }
        for (j, value) in values.iter().enumerate() {
            // On error `out[at_index]` is left half written; the caller moves it to the
            // spares, out of the context.
            let value = input.text(*value, || vat().index(j))?;
            match list.get_mut(j) {
                Some(buf) => set_text(buf, value),
                None => list.push(spares.string(value)),
            }
        }
    } else {
        let value = input.text(values[0], || vat().index(0))?;
        match v {
            ContextValue::Single(buf) => set_text(buf, value),
            ContextValue::Multi(_) => {
                let single = ContextValue::Single(spares.string(value));
                if let ContextValue::Multi(old) = std::mem::replace(v, single) {
                    spares.keep_list(old);
                }
            }
        }
    }
    set_text(k, key);
    Ok(true)
}
