//! The scratch handle and the evaluation call.
//!
//! A [`fastiam_scratch`] is everything one evaluation needs that can grow: the
//! interpreter's [`Scratch`] and the [`RequestBuilder`] the C request is copied into. It
//! belongs to one thread at a time. [`fastiam_evaluate`] builds the request (resolved
//! against the program, as `fastiam_builder_build` does), runs the interpreter, and copies
//! the outcome into the caller's [`fastiam_outcome`] and arrays; the outcome is checked to fit
//! before anything is written. `fastiam_evaluate_builder` (module `builder`) evaluates a
//! request built beforehand and shares the rest ([`evaluate_and_write`]).

use std::mem::MaybeUninit;
use std::ptr::{addr_of, addr_of_mut};

use super::error::{boundary, boundary_void, Error, Field};
use super::fill::{build_error, fill};
use super::program::{fastiam_policy_kind, fastiam_program};
use super::request::{fastiam_request, Vouched};
use crate::decision::{AllowPath, Decision, Reason};
use crate::eval::{ChainOutcome, Scratch};
use crate::policy::PolicyKind;
use crate::request::{CompactRequest, RequestBuilder};

/// Per-thread evaluation state (opaque): the interpreter's working memory and the buffers
/// requests are copied into. Free with `fastiam_scratch_free`.
///
/// Thread safety: a scratch must not be used by two threads at the same time. It may
/// move between threads (make one per worker thread and keep it).
#[derive(Debug)]
pub struct fastiam_scratch {
    scratch: Scratch,
    builder: RequestBuilder,
}

impl fastiam_scratch {
    /// The interpreter's scratch.
    pub(crate) fn interpreter(&mut self) -> &mut Scratch {
        &mut self.scratch
    }
}

/// Makes a scratch sized for `program` and writes it to `*out`. A scratch may be used with
/// another program too; it then resizes itself (allocating) on first use.
///
/// # Safety
///
/// `program` is a live program; `out` is a valid pointer.
#[no_mangle]
pub unsafe extern "C" fn fastiam_scratch_new(
    program: *const fastiam_program,
    out: *mut *mut fastiam_scratch,
) -> super::fastiam_result {
    boundary("fastiam_scratch_new", || {
        // SAFETY: NULL is checked; otherwise the caller guarantees a live program.
        let program =
            unsafe { program.as_ref() }.ok_or_else(|| Error::null(Field::root("program")))?;
        if out.is_null() {
            return Err(Error::null(Field::root("out")));
        }
        let scratch = Box::new(fastiam_scratch {
            scratch: program.evaluator().scratch(),
            builder: RequestBuilder::new(),
        });
        // SAFETY: checked non-NULL; the caller guarantees it is valid.
        unsafe { out.write(Box::into_raw(scratch)) };
        Ok(())
    })
}

/// Frees a scratch. NULL is ignored.
///
/// # Safety
///
/// `scratch` is NULL or a scratch from `fastiam_scratch_new` not freed yet, that no other
/// thread is using.
#[no_mangle]
pub unsafe extern "C" fn fastiam_scratch_free(scratch: *mut fastiam_scratch) {
    boundary_void("fastiam_scratch_free", || {
        if !scratch.is_null() {
            // SAFETY: the caller hands back ownership of a pointer from `Box::into_raw`.
            drop(unsafe { Box::from_raw(scratch) });
        }
    })
}

/// A decision. 0 is not a decision, so a zeroed outcome never reads as an allow.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum fastiam_decision {
    Allow = 1,
    ExplicitDeny = 2,
    ImplicitDeny = 3,
    /// The credential window did not contain the request time; no hop was evaluated.
    InvalidCredentials = 4,
}

/// Why a hop got its decision (R-SIM-2). `fastiam_reason_name` gives the CASES.md
/// spelling (`"ExplicitDeny:Identity"`, `"Allowed:ResourceDirect"`...).
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum fastiam_reason {
    ExplicitDenyScp = 1,
    ExplicitDenyRcp = 2,
    ExplicitDenyVpcEndpoint = 3,
    ExplicitDenyResourceBased = 4,
    ExplicitDenyIdentity = 5,
    ExplicitDenyPermissionsBoundary = 6,
    ExplicitDenySession = 7,
    NoPermissionRequired = 8,
    RcpNoAllow = 9,
    ScpNoAllow = 10,
    VpceNoAllow = 11,
    BoundaryNoAllow = 12,
    SessionPolicyNoAllow = 13,
    ResourcePolicyRequired = 14,
    CrossAccountNoResourceGrant = 15,
    CrossAccountNoIdentityGrant = 16,
    NoAllow = 17,
    AllowedResourceDirect = 18,
    AllowedResourceRole = 19,
    AllowedIdentity = 20,
    AllowedServicePrincipal = 21,
    AllowedRoot = 22,
    /// The chain's reason when its decision is `FASTIAM_DECISION_INVALID_CREDENTIALS`.
    ExpiredCredentials = 23,
}

/// `denied_at` of a chain that was allowed.
// Spelled so that cbindgen can translate it (`~(size_t)0`); it has no name for
// `usize::MAX`.
#[allow(clippy::unnecessary_cast)]
pub const FASTIAM_NO_HOP: usize = !(0 as usize);

/// The outcome of one hop. `matched_*` and `missing_*` are ranges of the outcome's
/// `matched` and `missing` arrays.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct fastiam_hop_outcome {
    /// A `fastiam_decision`.
    pub decision: u32,
    /// A `fastiam_reason`.
    pub reason: u32,
    /// This hop's matched statement ids are `matched[matched_start .. matched_start +
    /// matched_len]`, in R-SIM-3 order.
    pub matched_start: usize,
    pub matched_len: usize,
    /// This hop's missing key ids are `missing[missing_start .. missing_start +
    /// missing_len]`, sorted by key name (R-SIM-4).
    pub missing_start: usize,
    pub missing_len: usize,
}

/// Where `fastiam_evaluate` writes its answer. The caller sets the arrays (any may be
/// NULL with capacity 0: that part is then not copied, but its length still reported);
/// fastiam writes the rest, only when the call succeeds.
///
/// Sizes that always suffice, with `info` from `fastiam_program_get_info`:
/// `hops_capacity >= request.hops_len`, `matched_capacity >= request.hops_len *
/// info.statements`, `missing_capacity >= request.hops_len * info.keys`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct fastiam_outcome {
    /// Caller's array for the per-hop outcomes, or NULL.
    pub hops: *mut fastiam_hop_outcome,
    pub hops_capacity: usize,
    /// Caller's array for matched statement ids (see `fastiam_program_statement`), or NULL.
    pub matched: *mut u32,
    pub matched_capacity: usize,
    /// Caller's array for missing context key ids (see `fastiam_program_key_name`), or NULL.
    pub missing: *mut u32,
    pub missing_capacity: usize,
    /// Written: the chain's `fastiam_decision`: the first hop not allowed decides (R-FAS-2).
    pub decision: u32,
    /// Written: the deciding `fastiam_reason`: the denied hop's, the last hop's when
    /// allowed, `FASTIAM_REASON_EXPIRED_CREDENTIALS` for invalid credentials.
    pub reason: u32,
    /// Written: the first hop not allowed, or `FASTIAM_NO_HOP` when the chain is allowed
    /// (0 for invalid credentials).
    pub denied_at: usize,
    /// Written: hops evaluated (up to and including the denied one; 0 for invalid
    /// credentials).
    pub hops_len: usize,
    /// Written: matched statement ids over all hops.
    pub matched_len: usize,
    /// Written: missing key ids over all hops.
    pub missing_len: usize,
}

pub(crate) fn kind_code(kind: PolicyKind) -> u32 {
    (match kind {
        PolicyKind::Scp => fastiam_policy_kind::Scp,
        PolicyKind::Rcp => fastiam_policy_kind::Rcp,
        PolicyKind::VpcEndpoint => fastiam_policy_kind::VpcEndpoint,
        PolicyKind::ResourceBased => fastiam_policy_kind::ResourceBased,
        PolicyKind::Identity => fastiam_policy_kind::Identity,
        PolicyKind::PermissionsBoundary => fastiam_policy_kind::PermissionsBoundary,
        PolicyKind::Session => fastiam_policy_kind::Session,
    }) as u32
}

fn decision_code(d: Decision) -> u32 {
    (match d {
        Decision::Allow => fastiam_decision::Allow,
        Decision::ExplicitDeny => fastiam_decision::ExplicitDeny,
        Decision::ImplicitDeny => fastiam_decision::ImplicitDeny,
        Decision::InvalidCredentials => fastiam_decision::InvalidCredentials,
    }) as u32
}

/// The CASES.md spellings of the reasons, by code - 1, NUL-terminated for C.
const REASON_NAMES: [&std::ffi::CStr; 23] = [
    c"ExplicitDeny:Scp",
    c"ExplicitDeny:Rcp",
    c"ExplicitDeny:VpcEndpoint",
    c"ExplicitDeny:ResourceBased",
    c"ExplicitDeny:Identity",
    c"ExplicitDeny:PermissionsBoundary",
    c"ExplicitDeny:Session",
    c"NoPermissionRequired",
    c"RcpNoAllow",
    c"ScpNoAllow",
    c"VpceNoAllow",
    c"BoundaryNoAllow",
    c"SessionPolicyNoAllow",
    c"ResourcePolicyRequired",
    c"CrossAccountNoResourceGrant",
    c"CrossAccountNoIdentityGrant",
    c"NoAllow",
    c"Allowed:ResourceDirect",
    c"Allowed:ResourceRole",
    c"Allowed:Identity",
    c"Allowed:ServicePrincipal",
    c"Allowed:Root",
    c"ExpiredCredentials",
];

fn reason_code(r: Reason) -> u32 {
    let kind = |k| kind_code(k);
    match r {
        Reason::ExplicitDeny(k) => kind(k),
        Reason::NoPermissionRequired => 8,
        Reason::RcpNoAllow => 9,
        Reason::ScpNoAllow => 10,
        Reason::VpceNoAllow => 11,
        Reason::BoundaryNoAllow => 12,
        Reason::SessionPolicyNoAllow => 13,
        Reason::ResourcePolicyRequired => 14,
        Reason::CrossAccountNoResourceGrant => 15,
        Reason::CrossAccountNoIdentityGrant => 16,
        Reason::NoAllow => 17,
        Reason::Allowed(AllowPath::ResourceDirect) => 18,
        Reason::Allowed(AllowPath::ResourceRole) => 19,
        Reason::Allowed(AllowPath::Identity) => 20,
        Reason::Allowed(AllowPath::ServicePrincipal) => 21,
        Reason::Allowed(AllowPath::Root) => 22,
        Reason::ExpiredCredentials => 23,
    }
}

/// The CASES.md name of a `fastiam_reason` (`"Allowed:Identity"`), a static NUL-terminated
/// string; NULL for a value that is not a reason.
#[no_mangle]
pub extern "C" fn fastiam_reason_name(reason: u32) -> *const std::ffi::c_char {
    (reason as usize)
        .checked_sub(1)
        .and_then(|i| REASON_NAMES.get(i))
        .map_or(std::ptr::null(), |name| name.as_ptr())
}

/// The CASES.md name of a `fastiam_decision` (`"Allow"`...), a static NUL-terminated
/// string; NULL for a value that is not a decision.
#[no_mangle]
pub extern "C" fn fastiam_decision_name(decision: u32) -> *const std::ffi::c_char {
    let name: &'static std::ffi::CStr = match decision {
        1 => c"Allow",
        2 => c"ExplicitDeny",
        3 => c"ImplicitDeny",
        4 => c"InvalidCredentials",
        _ => return std::ptr::null(),
    };
    name.as_ptr()
}

/// The caller's output arrays, read once from the outcome struct.
struct Arrays {
    hops: *mut fastiam_hop_outcome,
    hops_capacity: usize,
    matched: *mut u32,
    matched_capacity: usize,
    missing: *mut u32,
    missing_capacity: usize,
}

/// Checks that `len` items fit the caller's array `ptr` of `capacity` (a NULL array takes
/// nothing and always fits), and returns it as a slice of maybe-uninitialised slots.
/// `name` is its field of `outcome`, made a [`Field`] only on error.
///
/// # Safety
///
/// `ptr` is NULL or points to `capacity` writable `T`s, not aliased during the call.
unsafe fn output<'a, T>(
    ptr: *mut T,
    capacity: usize,
    len: usize,
    name: &'static str,
) -> Result<Option<&'a mut [MaybeUninit<T>]>, Error> {
    let field = || Field::root("outcome").name(name);
    if ptr.is_null() {
        return Ok(None);
    }
    if len > capacity {
        return Err(Error::size(field(), len, capacity));
    }
    if !ptr.is_aligned() {
        return Err(Error::invalid(field(), "is not aligned for its type"));
    }
    // SAFETY: non-NULL, aligned, and the caller guarantees `capacity >= len` writable
    // slots not aliased during the call; `MaybeUninit` makes no claim on their contents.
    Ok(Some(unsafe {
        std::slice::from_raw_parts_mut(ptr.cast::<MaybeUninit<T>>(), len)
    }))
}

/// Copies an outcome into the caller's arrays and struct; checks every size first, so
/// that nothing is written unless everything fits.
///
/// # Safety
///
/// `out` and the arrays in `arrays` are valid as `fastiam_evaluate` documents.
unsafe fn write_outcome(
    outcome: &ChainOutcome<'_>,
    arrays: &Arrays,
    out: *mut fastiam_outcome,
) -> Result<(), Error> {
    let matched_len: usize = outcome.hops.iter().map(|h| outcome.matched(h).len()).sum();
    let missing_len: usize = outcome.hops.iter().map(|h| outcome.missing(h).len()).sum();
    // SAFETY: the caller guarantees each array is NULL or valid for its capacity.
    let mut hops = unsafe {
        output(
            arrays.hops,
            arrays.hops_capacity,
            outcome.hops.len(),
            "hops",
        )
    }?;
    // SAFETY: as for `hops`.
    let mut matched = unsafe {
        output(
            arrays.matched,
            arrays.matched_capacity,
            matched_len,
            "matched",
        )
    }?;
    // SAFETY: as for `hops`.
    let mut missing = unsafe {
        output(
            arrays.missing,
            arrays.missing_capacity,
            missing_len,
            "missing",
        )
    }?;
    // Nothing can fail from here on.
    let (mut m, mut k) = (0, 0);
    for (i, h) in outcome.hops.iter().enumerate() {
        let (hop_matched, hop_missing) = (outcome.matched(h), outcome.missing(h));
        if let Some(hops) = &mut hops {
            hops[i].write(fastiam_hop_outcome {
                decision: decision_code(h.decision),
                reason: reason_code(h.reason),
                matched_start: m,
                matched_len: hop_matched.len(),
                missing_start: k,
                missing_len: hop_missing.len(),
            });
        }
        if let Some(matched) = &mut matched {
            for (slot, id) in matched[m..].iter_mut().zip(hop_matched) {
                slot.write(*id);
            }
        }
        if let Some(missing) = &mut missing {
            for (slot, id) in missing[k..].iter_mut().zip(hop_missing) {
                slot.write(*id);
            }
        }
        m += hop_matched.len();
        k += hop_missing.len();
    }
    let reason = match (outcome.denied_at, outcome.decision) {
        (_, Decision::InvalidCredentials) => Reason::ExpiredCredentials,
        (Some(i), _) => outcome.hops.get(i).map_or(Reason::NoAllow, |h| h.reason),
        (None, _) => outcome.hops.last().map_or(Reason::NoAllow, |h| h.reason),
    };
    // SAFETY: `out` is valid for writes (checked non-NULL by the caller of this function,
    // validity guaranteed by ours); each write goes to one field, no reference to the
    // possibly uninitialised struct is made.
    unsafe {
        addr_of_mut!((*out).decision).write(decision_code(outcome.decision));
        addr_of_mut!((*out).reason).write(reason_code(reason));
        addr_of_mut!((*out).denied_at).write(outcome.denied_at.unwrap_or(FASTIAM_NO_HOP));
        addr_of_mut!((*out).hops_len).write(outcome.hops.len());
        addr_of_mut!((*out).matched_len).write(matched_len);
        addr_of_mut!((*out).missing_len).write(missing_len);
    }
    Ok(())
}

/// Evaluates `request` against `program` using `scratch`, and writes the answer to
/// `*outcome` and its arrays.
///
/// On success (`FASTIAM_RESULT_OK`) the outcome's written fields and the first
/// `hops_len` / `matched_len` / `missing_len` entries of its non-NULL arrays are set; on
/// any other code nothing of `*outcome` or its arrays is written.
///
/// Ownership: nothing passed in is retained after the call. The request and every string
/// and array it points to are only read, during the call.
///
/// The request is built in the scratch and resolved against the program (its keys and
/// actions looked up once, as `fastiam_builder_build` does; that costs no more than
/// looking them up as the chain is evaluated). A caller that evaluates a request several
/// times builds it once with a `fastiam_builder` (`fastiam_builder_build`,
/// `fastiam_evaluate_builder`).
///
/// Allocation: once the scratch is warm, this call performs no heap allocation. The
/// scratch keeps the buffers it has grown (one text buffer for all of a request's strings,
/// its entry and hop lists), so a call allocates only to grow: when the request needs more
/// text, hops, context entries or values than any request before it. Checked
/// by the tests (tests/integration/capi/rust.rs): re-evaluating any conformance case
/// allocates nothing, nor does a second pass over 2,000 standard-workload requests.
/// Exceptions: a context key whose tag suffix contains 'Σ' (U+03A3) is folded through a
/// temporary allocation; a failed call allocates its error message; a scratch used with
/// another program than the last resizes itself when their key counts differ.
///
/// Threads: `program` may be shared by any number of threads at once; `scratch` must be
/// used by one thread at a time.
///
/// # Safety
///
/// `program` is a live program, `scratch` a live scratch not used concurrently, `request`
/// points to an initialised request whose pointers are NULL or valid for their lengths and
/// unchanged during the call, and `outcome` to a struct whose array fields are set (NULL,
/// or valid for their capacities and not overlapping each other or the request).
#[no_mangle]
pub unsafe extern "C" fn fastiam_evaluate(
    program: *const fastiam_program,
    scratch: *mut fastiam_scratch,
    request: *const fastiam_request,
    outcome: *mut fastiam_outcome,
) -> super::fastiam_result {
    boundary("fastiam_evaluate", || {
        // SAFETY: NULL is checked; otherwise the caller guarantees a live program.
        let program =
            unsafe { program.as_ref() }.ok_or_else(|| Error::null(Field::root("program")))?;
        // SAFETY: NULL is checked; otherwise the caller guarantees a live scratch that no
        // other thread uses during the call.
        let scratch =
            unsafe { scratch.as_mut() }.ok_or_else(|| Error::null(Field::root("scratch")))?;
        check_aligned(&[
            (request.is_aligned(), "request"),
            (outcome.is_aligned(), "outcome"),
        ])?;
        // SAFETY: NULL and alignment are checked; otherwise the caller guarantees an
        // initialised request.
        let request =
            unsafe { request.as_ref() }.ok_or_else(|| Error::null(Field::root("request")))?;
        let fastiam_scratch { scratch, builder } = scratch;
        // SAFETY: the caller guarantees every pointer reachable from the request is NULL
        // or valid for its length and unchanged during this call.
        let input = unsafe { Vouched::new() };
        fill(builder, input, request, program.resource_slots())?;
        let built = builder
            .finish_for(program.evaluator())
            .map_err(|e| build_error(e, input, request))?;
        // SAFETY: the caller's contract on `outcome`, passed on.
        unsafe { evaluate_and_write(program, scratch, built, outcome) }
    })
}

/// Refuses the first misaligned pointer of `pointers` (whether aligned, its name).
pub(crate) fn check_aligned(pointers: &[(bool, &'static str)]) -> Result<(), Error> {
    match pointers.iter().find(|(ok, _)| !ok) {
        Some((_, name)) => Err(Error::invalid(
            Field::root(name),
            "is not aligned for its type",
        )),
        None => Ok(()),
    }
}

/// Evaluates `request` and copies the outcome into `*outcome` and its arrays.
///
/// # Safety
///
/// `outcome` is NULL (an error) or points to a struct whose array fields are set (NULL, or
/// valid for their capacities and not overlapping each other or the request).
pub(crate) unsafe fn evaluate_and_write(
    program: &fastiam_program,
    scratch: &mut Scratch,
    request: &CompactRequest,
    outcome: *mut fastiam_outcome,
) -> Result<(), Error> {
    if outcome.is_null() {
        return Err(Error::null(Field::root("outcome")));
    }
    // SAFETY: `outcome` is non-NULL and the caller guarantees its array fields are
    // initialised; only those fields are read, through raw field pointers.
    let arrays = unsafe {
        Arrays {
            hops: addr_of!((*outcome).hops).read(),
            hops_capacity: addr_of!((*outcome).hops_capacity).read(),
            matched: addr_of!((*outcome).matched).read(),
            matched_capacity: addr_of!((*outcome).matched_capacity).read(),
            missing: addr_of!((*outcome).missing).read(),
            missing_capacity: addr_of!((*outcome).missing_capacity).read(),
        }
    };
    let result = program.evaluator().evaluate(request, scratch);
    // SAFETY: `outcome` checked non-NULL above; arrays per the caller's contract.
    unsafe { write_outcome(&result, &arrays, outcome) }
}

/// The version of this library (`"0.1.0"`), a static NUL-terminated string.
#[no_mangle]
pub extern "C" fn fastiam_version() -> *const std::ffi::c_char {
    const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");
    VERSION.as_ptr().cast()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every reason, in code order (code = index + 1).
    const REASONS: [Reason; 23] = [
        Reason::ExplicitDeny(PolicyKind::Scp),
        Reason::ExplicitDeny(PolicyKind::Rcp),
        Reason::ExplicitDeny(PolicyKind::VpcEndpoint),
        Reason::ExplicitDeny(PolicyKind::ResourceBased),
        Reason::ExplicitDeny(PolicyKind::Identity),
        Reason::ExplicitDeny(PolicyKind::PermissionsBoundary),
        Reason::ExplicitDeny(PolicyKind::Session),
        Reason::NoPermissionRequired,
        Reason::RcpNoAllow,
        Reason::ScpNoAllow,
        Reason::VpceNoAllow,
        Reason::BoundaryNoAllow,
        Reason::SessionPolicyNoAllow,
        Reason::ResourcePolicyRequired,
        Reason::CrossAccountNoResourceGrant,
        Reason::CrossAccountNoIdentityGrant,
        Reason::NoAllow,
        Reason::Allowed(AllowPath::ResourceDirect),
        Reason::Allowed(AllowPath::ResourceRole),
        Reason::Allowed(AllowPath::Identity),
        Reason::Allowed(AllowPath::ServicePrincipal),
        Reason::Allowed(AllowPath::Root),
        Reason::ExpiredCredentials,
    ];

    #[test]
    fn reason_codes_and_names_agree_with_the_rust_spelling() {
        for (i, reason) in REASONS.iter().enumerate() {
            let code = reason_code(*reason);
            assert_eq!(code as usize, i + 1, "{reason}");
            // SAFETY: names are static NUL-terminated strings.
            let name = unsafe { std::ffi::CStr::from_ptr(fastiam_reason_name(code)) };
            assert_eq!(name.to_str().unwrap(), reason.to_string());
        }
        assert!(fastiam_reason_name(0).is_null());
        assert!(fastiam_reason_name(24).is_null());
        for d in [
            Decision::Allow,
            Decision::ExplicitDeny,
            Decision::ImplicitDeny,
            Decision::InvalidCredentials,
        ] {
            // SAFETY: as above.
            let name = unsafe { std::ffi::CStr::from_ptr(fastiam_decision_name(decision_code(d))) };
            assert_eq!(name.to_str().unwrap(), d.name());
        }
        assert!(fastiam_decision_name(0).is_null());
    }
}
