//! The request as C structs.
//!
//! A C caller describes a request with plain structs of pointer + length strings
//! ([`fastiam_request`]); nothing needs to be NUL-terminated and nothing is retained after
//! the call. [`super::fill`] reads them into a
//! [`RequestBuilder`](crate::request::RequestBuilder), whose one text buffer is reused from
//! call to call: once it has grown to the requests it sees, building one allocates nothing
//! (the guarantee and its limits are in `include/fastiam.h`, at `fastiam_evaluate`).
//!
//! Here: the structs, [`Vouched`] (the caller's promise about its pointers, and the checks
//! that remain ours: NULL with a length, alignment, size overflow, UTF-8), and the decoding
//! of flags and dates.

use std::ffi::c_char;

use super::error::{Error, Place};
use crate::primitives::fold::is_ascii;
use crate::primitives::parse_date;

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
    #[inline(always)]
    pub(crate) fn optional_text<P: Place>(
        self,
        s: fastiam_str,
        at: P,
    ) -> Result<Option<&'a str>, Error> {
        if s.data.is_null() {
            return if s.len == 0 {
                Ok(None)
            } else {
                Err(Error::null(at.field()))
            };
        }
        if s.len > isize::MAX as usize {
            return Err(Error::invalid(at.field(), format!("has length {}", s.len)));
        }
        // SAFETY: non-NULL and at most isize::MAX bytes; `Vouched` holds the promise of
        // `len` readable bytes unchanged for 'a. `u8` has no alignment requirement.
        let bytes = unsafe { std::slice::from_raw_parts(s.data.cast::<u8>(), s.len) };
        if is_ascii(bytes) {
            // SAFETY: ASCII is UTF-8.
            return Ok(Some(unsafe { std::str::from_utf8_unchecked(bytes) }));
        }
        std::str::from_utf8(bytes)
            .map(Some)
            .map_err(|e| Error::utf8(at.field(), e.valid_up_to()))
    }

    /// Reads a required string.
    #[inline(always)]
    pub(crate) fn text<P: Place>(self, s: fastiam_str, at: P) -> Result<&'a str, Error> {
        self.optional_text(s, at)?
            .ok_or_else(|| Error::null(at.field()))
    }

    /// Reads an array: empty when `len` is 0 (any pointer, NULL included).
    #[inline(always)]
    pub(crate) fn array<T, P: Place>(
        self,
        ptr: *const T,
        len: usize,
        at: P,
    ) -> Result<&'a [T], Error> {
        if len == 0 {
            return Ok(&[]);
        }
        if ptr.is_null() {
            return Err(Error::null(at.field()));
        }
        if !ptr.is_aligned() {
            return Err(Error::invalid(at.field(), "is not aligned for its type"));
        }
        if len
            .checked_mul(std::mem::size_of::<T>().max(1))
            .is_none_or(|bytes| bytes > isize::MAX as usize)
        {
            return Err(Error::invalid(at.field(), format!("has length {len}")));
        }
        // SAFETY: non-NULL, aligned, within isize::MAX bytes; `Vouched` holds the promise
        // of `len` initialised values unchanged for 'a.
        Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
    }

    /// Reads an optional struct: `None` for NULL.
    #[inline]
    pub(crate) fn optional<T, P: Place>(
        self,
        ptr: *const T,
        at: P,
    ) -> Result<Option<&'a T>, Error> {
        Ok(self.array(ptr, usize::from(!ptr.is_null()), at)?.first())
    }
}

/// Decodes a `fastiam_flag` field: `Some(yes)` when set, `None` for the default.
#[inline(always)]
pub(crate) fn flag<P: Place>(value: u32, at: P) -> Result<Option<bool>, Error> {
    match value {
        0 => Ok(None),
        1 => Ok(Some(false)),
        2 => Ok(Some(true)),
        other => Err(Error::invalid(
            at.field(),
            format!("is {other}, not a fastiam_flag (0 default, 1 no, 2 yes)"),
        )),
    }
}

/// Reads an optional date.
pub(crate) fn date<P: Place>(
    input: Vouched<'_>,
    s: fastiam_str,
    at: P,
) -> Result<Option<crate::primitives::Instant>, Error> {
    let Some(text) = input.optional_text(s, at)? else {
        return Ok(None);
    };
    parse_date(text).map(Some).ok_or_else(|| {
        Error::invalid(
            at.field(),
            format!("is `{text}`, not a date (ISO 8601 or epoch seconds, R-OPD-2)"),
        )
    })
}
