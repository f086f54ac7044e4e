//! The ABI called from Rust, where the differential checks are cheap: generated chains
//! (every principal kind, both dialects, options, credentials) give the same answers
//! through the ABI, with the defaults a C caller leaves zero, as through the Rust API;
//! hostile program bytes are error codes; warm evaluation allocates nothing.

use fastiam::capi::*;
use fastiam::eval::Evaluator;
use fastiam::request::{
    default_requires_no_permission, default_resource_account, default_resource_policy_required,
    Context, ContextValue, Principal, PrincipalKind, Request, DEFAULT_CALLED_VIA_SERVICES,
};
use fastiam::table::AlignedBytes;

use super::c::requests::Expected;
use crate::generator::{generate_case, Rng};

/// A C request made from a Rust one, borrowing its strings. Arrays are built first and
/// pointed to after, so no pointer is taken into a vector that still grows.
pub struct Abi {
    pub request: fastiam_request,
    _hops: Vec<fastiam_hop>,
    _entries: Vec<fastiam_context_entry>,
    _strs: Vec<fastiam_str>,
    _services: Vec<fastiam_str>,
    _credentials: Option<Box<fastiam_credentials>>,
    _dates: Vec<String>,
}

fn flag(value: Option<bool>) -> u32 {
    match value {
        None => fastiam_flag::Default as u32,
        Some(false) => fastiam_flag::No as u32,
        Some(true) => fastiam_flag::Yes as u32,
    }
}

fn kind_code(kind: PrincipalKind) -> u32 {
    (match kind {
        PrincipalKind::User => fastiam_principal_kind::User,
        PrincipalKind::AssumedRole => fastiam_principal_kind::AssumedRole,
        PrincipalKind::FederatedUser => fastiam_principal_kind::FederatedUser,
        PrincipalKind::Root => fastiam_principal_kind::Root,
        PrincipalKind::Service => fastiam_principal_kind::Service,
        PrincipalKind::Anonymous => fastiam_principal_kind::Anonymous,
    }) as u32
}

impl Abi {
    /// `None` when the request cannot be said through the ABI (a principal override that
    /// clears a field, a credential time with a fraction of a second).
    pub fn new(r: &Request) -> Option<Abi> {
        let s = fastiam_str::new;
        let o = |v: Option<&String>| fastiam_str::optional(v.map(String::as_str));
        let mut strs = Vec::new();
        let mut contexts: Vec<Vec<(String, usize, usize, u32)>> = Vec::new();
        let mut add_context = |ctx: &Context, strs: &mut Vec<fastiam_str>| {
            let mut list = Vec::new();
            for (key, value) in ctx.iter() {
                let start = strs.len();
                strs.extend(value.values().iter().map(|v| s(v)));
                // Zero (the default) wherever it means the same: a one-value list is the
                // only value that needs the flag.
                let multi = match value {
                    ContextValue::Multi(vs) if vs.len() == 1 => flag(Some(true)),
                    _ => flag(None),
                };
                list.push((key.to_string(), start, value.values().len(), multi));
            }
            contexts.push(list);
        };
        add_context(&r.context, &mut strs);
        for hop in &r.hops {
            add_context(&hop.context, &mut strs);
        }
        let mut entries = Vec::new();
        let mut ranges = Vec::new();
        // Keys are taken from the Rust context (canonical); give them in another case
        // and order to exercise the canonicalisation and sort.
        let mut keys = Vec::new();
        for list in &contexts {
            let first = entries.len();
            for (key, start, len, multi) in list.iter().rev() {
                keys.push((entries.len(), key.to_uppercase_head()));
                entries.push(fastiam_context_entry {
                    key: fastiam_str::NONE,
                    // SAFETY: `start + len <= strs.len()`; `strs` does not grow any more.
                    values: unsafe { strs.as_ptr().add(*start) },
                    values_len: *len,
                    multi: *multi,
                });
            }
            ranges.push((first, list.len()));
        }
        let owned_keys: Vec<String> = keys.iter().map(|(_, k)| k.clone()).collect();
        let mut hops = Vec::new();
        for (k, hop) in r.hops.iter().enumerate() {
            let default_account = default_resource_account(&hop.resource);
            if hop.resource_account.is_none() && default_account.is_some() {
                return None;
            }
            let account = if hop.resource_account == default_account {
                fastiam_str::NONE
            } else {
                o(hop.resource_account.as_ref())
            };
            let required = default_resource_policy_required(r.dialect, &hop.action, &hop.resource);
            let (first, len) = ranges[k + 1];
            hops.push(fastiam_hop {
                via: o(hop.via.as_ref()),
                action: s(&hop.action),
                resource: s(&hop.resource),
                resource_account: account,
                has_resource_policy: flag(hop.resource_policy.map(|_| true)),
                resource_policy: hop.resource_policy.unwrap_or(0) as u32,
                resource_policy_required: if hop.resource_policy_required == required {
                    flag(None)
                } else {
                    flag(Some(hop.resource_policy_required))
                },
                requires_no_permission: flag(
                    (hop.requires_no_permission
                        != default_requires_no_permission(r.dialect, &hop.action))
                    .then_some(hop.requires_no_permission),
                ),
                // SAFETY: `first + len <= entries.len()`; `entries` does not grow any more.
                context: unsafe { entries.as_ptr().add(first) },
                context_len: len,
            });
        }
        let p = &r.principal;
        let mut parsed = Principal::from_arn(&p.arn).ok()?;
        if !matches!(
            parsed.kind,
            PrincipalKind::Anonymous | PrincipalKind::Service
        ) {
            parsed.dialect = r.dialect;
        }
        let principal = if parsed == *p {
            fastiam_principal {
                arn: s(&p.arn),
                kind: 0,
                account: fastiam_str::NONE,
                role_arn: fastiam_str::NONE,
                parent_user_arn: fastiam_str::NONE,
                service_linked: 0,
                management_account: 0,
            }
        } else {
            let clears = |a: &Option<String>, b: &Option<String>| a.is_none() && b.is_some();
            if clears(&p.account, &parsed.account) || clears(&p.role_arn, &parsed.role_arn) {
                return None;
            }
            fastiam_principal {
                arn: s(&p.arn),
                kind: kind_code(p.kind),
                account: o(p.account.as_ref()),
                role_arn: o(p.role_arn.as_ref()),
                parent_user_arn: o(p.parent_user_arn.as_ref()),
                service_linked: flag(Some(p.service_linked)),
                management_account: flag(Some(p.management_account)),
            }
        };
        let services: Vec<fastiam_str> = r
            .options
            .fas
            .called_via_services
            .iter()
            .map(|v| s(v))
            .collect();
        let default_services = r.options.fas.called_via_services == DEFAULT_CALLED_VIA_SERVICES;
        let mut dates = Vec::new();
        let credentials = match &r.credentials {
            None => None,
            Some(c) => {
                for t in [c.issued, c.expires] {
                    match t {
                        Some(t) if t.nanos != 0 => return None,
                        Some(t) => dates.push(t.secs.to_string()),
                        None => dates.push(String::new()),
                    }
                }
                let date = |t: Option<fastiam::primitives::Instant>, text: &String| {
                    t.map_or(fastiam_str::NONE, |_| s(text))
                };
                Some(Box::new(fastiam_credentials {
                    issued: date(c.issued, &dates[0]),
                    expires: date(c.expires, &dates[1]),
                }))
            }
        };
        let mut abi = Abi {
            request: fastiam_request {
                dialect: match r.dialect {
                    fastiam::policy::Dialect::Aws => fastiam_dialect::Aws as u32,
                    fastiam::policy::Dialect::Huawei => fastiam_dialect::Huawei as u32,
                },
                principal,
                context: entries.as_ptr(),
                context_len: ranges[0].1,
                hops: hops.as_ptr(),
                hops_len: hops.len(),
                called_via_services: if default_services {
                    std::ptr::null()
                } else {
                    services.as_ptr()
                },
                called_via_services_len: if default_services { 0 } else { services.len() },
                preserve_source_ip: flag((!r.options.fas.preserve_source_ip).then_some(false)),
                credentials: std::ptr::null(),
            },
            _hops: hops,
            _entries: entries,
            _strs: strs,
            _services: services,
            _credentials: credentials,
            _dates: dates,
        };
        if let Some(c) = &abi._credentials {
            abi.request.credentials = &**c;
        }
        // Keys last: they are owned strings whose buffers must not move either.
        abi._dates.extend(owned_keys);
        let first_key = abi._dates.len() - keys.len();
        for (i, (entry, _)) in keys.iter().enumerate() {
            abi._entries[*entry].key = s(&abi._dates[first_key + i]);
        }
        Some(abi)
    }
}

trait UpperHead {
    /// The key with its prefix and name in upper case (`AWS:PRINCIPALTAG/team`): the same
    /// key once canonicalised (R-CTX-2). The tag suffix is left alone: only ASCII head
    /// case is certain to round-trip.
    fn to_uppercase_head(&self) -> String;
}

impl UpperHead for String {
    fn to_uppercase_head(&self) -> String {
        match self.split_once('/') {
            Some((head, tail)) => format!("{}/{tail}", head.to_ascii_uppercase()),
            None => self.to_ascii_uppercase(),
        }
    }
}

/// A loaded program and a scratch, freed on drop.
pub struct Loaded {
    pub program: *mut fastiam_program,
    pub scratch: *mut fastiam_scratch,
    pub builder: *mut fastiam_builder,
    _bytes: AlignedBytes,
}

impl Loaded {
    pub fn new(bytes: &[u8]) -> Loaded {
        let bytes = AlignedBytes::copy_from(bytes);
        let (mut program, mut scratch) = (std::ptr::null_mut(), std::ptr::null_mut());
        let data: &[u8] = bytes.as_ref();
        // SAFETY: `bytes` lives in the returned struct, past `fastiam_program_free`.
        let rc = unsafe { fastiam_program_from_bytes(data.as_ptr(), data.len(), &mut program) };
        assert_eq!(rc, fastiam_result::Ok, "{}", message());
        // SAFETY: a live program; a valid out-pointer.
        let rc = unsafe { fastiam_scratch_new(program, &mut scratch) };
        assert_eq!(rc, fastiam_result::Ok);
        let mut builder = std::ptr::null_mut();
        // SAFETY: a valid out-pointer.
        let rc = unsafe { fastiam_builder_new(&mut builder) };
        assert_eq!(rc, fastiam_result::Ok);
        Loaded {
            program,
            scratch,
            builder,
            _bytes: bytes,
        }
    }

    /// Evaluates through the ABI with arrays large enough for anything.
    pub fn evaluate(&self, request: &fastiam_request) -> Result<Answer, (fastiam_result, String)> {
        self.answer(request, |out| {
            // SAFETY: live handles; the request's pointers are valid (built by `Abi`); the
            // arrays are valid for their capacities.
            unsafe { fastiam_evaluate(self.program, self.scratch, request, out) }
        })
    }

    /// Builds the request in the builder handle (resolved against the program), then
    /// evaluates the builder's request, twice: the answers must be equal.
    pub fn evaluate_built(
        &self,
        request: &fastiam_request,
    ) -> Result<Answer, (fastiam_result, String)> {
        // SAFETY: live handles; the request's pointers are valid (built by `Abi`).
        let rc = unsafe { fastiam_builder_build(self.builder, self.program, request) };
        if rc != fastiam_result::Ok {
            return Err((rc, message()));
        }
        let call = |out: &mut fastiam_outcome| {
            // SAFETY: live handles; the arrays are valid for their capacities.
            unsafe { fastiam_evaluate_builder(self.program, self.scratch, self.builder, out) }
        };
        let first = self.answer(request, call)?;
        assert_eq!(self.answer(request, call)?, first, "evaluated again");
        Ok(first)
    }

    /// Makes an outcome with arrays large enough for anything, calls `call` with it, and
    /// reads the answer.
    fn answer(
        &self,
        request: &fastiam_request,
        call: impl Fn(&mut fastiam_outcome) -> fastiam_result,
    ) -> Result<Answer, (fastiam_result, String)> {
        let mut info = fastiam_program_info::default();
        // SAFETY: a live program; a valid out-pointer.
        unsafe { fastiam_program_get_info(self.program, &mut info) };
        let n = request.hops_len.max(1);
        let mut hops = vec![fastiam_hop_outcome::default(); n];
        let mut matched = vec![0u32; n * info.statements as usize];
        let mut missing = vec![0u32; n * info.keys as usize];
        let mut out = fastiam_outcome {
            hops: hops.as_mut_ptr(),
            hops_capacity: hops.len(),
            matched: matched.as_mut_ptr(),
            matched_capacity: matched.len(),
            missing: missing.as_mut_ptr(),
            missing_capacity: missing.len(),
            decision: 0,
            reason: 0,
            denied_at: 0,
            hops_len: 0,
            matched_len: 0,
            missing_len: 0,
        };
        let rc = call(&mut out);
        if rc != fastiam_result::Ok {
            return Err((rc, message()));
        }
        let name = |p: *const std::ffi::c_char| {
            // SAFETY: the name functions return static NUL-terminated strings.
            unsafe { std::ffi::CStr::from_ptr(p) }
                .to_str()
                .unwrap()
                .to_string()
        };
        let hops = hops[..out.hops_len]
            .iter()
            .map(|h| {
                (
                    name(fastiam_decision_name(h.decision)),
                    name(fastiam_reason_name(h.reason)),
                    matched[h.matched_start..h.matched_start + h.matched_len].to_vec(),
                    missing[h.missing_start..h.missing_start + h.missing_len].to_vec(),
                )
            })
            .collect();
        Ok(Answer {
            decision: name(fastiam_decision_name(out.decision)),
            reason: name(fastiam_reason_name(out.reason)),
            denied_at: (out.denied_at != FASTIAM_NO_HOP).then_some(out.denied_at),
            hops,
        })
    }
}

impl Drop for Loaded {
    fn drop(&mut self) {
        // SAFETY: handles made in `new`, freed once.
        unsafe {
            fastiam_builder_free(self.builder);
            fastiam_scratch_free(self.scratch);
            fastiam_program_free(self.program);
        }
    }
}

/// An answer read back from the ABI, comparable with [`Expected`].
#[derive(Debug, PartialEq, Eq)]
pub struct Answer {
    decision: String,
    reason: String,
    denied_at: Option<usize>,
    hops: Vec<(String, String, Vec<u32>, Vec<u32>)>,
}

impl Answer {
    fn matches(&self, e: &Expected) -> bool {
        self.decision == e.decision
            && self.reason == e.reason
            && self.denied_at == e.denied_at
            && self.hops.len() == e.hops.len()
            && self
                .hops
                .iter()
                .zip(&e.hops)
                .all(|(a, b)| a.0 == b.0 && a.1 == b.1 && a.2 == b.2 && a.3 == b.3)
    }
}

pub fn message() -> String {
    let mut buf = vec![0u8; 1024];
    // SAFETY: `buf` has `buf.len()` bytes.
    let n = unsafe { fastiam_error_message(buf.as_mut_ptr().cast(), buf.len()) };
    String::from_utf8_lossy(&buf[..n.min(1023)]).into_owned()
}

fn str_of(s: fastiam_str) -> Option<String> {
    if s.data.is_null() {
        return None;
    }
    // SAFETY: strings from the program point into it and are valid while it lives.
    let bytes = unsafe { std::slice::from_raw_parts(s.data.cast::<u8>(), s.len) };
    Some(String::from_utf8(bytes.to_vec()).unwrap())
}

#[test]
fn generated_chains_agree_with_the_rust_api() {
    let (mut compared, mut skipped) = (0, 0);
    for seed in 0..600u64 {
        let line = generate_case(seed);
        let Ok(case) = fastiam::request::parse_case(&line, "generated") else {
            continue;
        };
        let Some(abi) = Abi::new(&case.chain.request) else {
            skipped += 1;
            continue;
        };
        let program = fastiam::compile::compile(&case.chain.policies).unwrap();
        let evaluator = Evaluator::new(&program);
        let mut scratch = evaluator.scratch();
        let outcome = evaluator.evaluate(&case.chain.request, &mut scratch);
        let expected = Expected::of(&outcome);
        let decision = evaluator.decision(&outcome);
        let loaded = Loaded::new(program.as_bytes());
        let answer = loaded
            .evaluate(&abi.request)
            .unwrap_or_else(|e| panic!("seed {seed}: {e:?}\n{line}"));
        assert!(
            answer.matches(&expected),
            "seed {seed}: the ABI answers {answer:?}, the Rust API {expected:?}\n{line}"
        );
        let built = loaded
            .evaluate_built(&abi.request)
            .unwrap_or_else(|e| panic!("seed {seed}: {e:?}\n{line}"));
        assert_eq!(
            built, answer,
            "seed {seed}: through the builder handle\n{line}"
        );
        // Matched ids and missing ids name what the Rust API's owned decision names.
        for (h, hop) in decision.hops.iter().enumerate() {
            for (id, m) in answer.hops[h].2.iter().zip(&hop.matched) {
                let mut st = std::mem::MaybeUninit::<fastiam_statement>::uninit();
                // SAFETY: a live program; a valid out-pointer.
                let rc = unsafe { fastiam_program_statement(loaded.program, *id, st.as_mut_ptr()) };
                assert_eq!(rc, fastiam_result::Ok);
                // SAFETY: written on success.
                let st = unsafe { st.assume_init() };
                assert_eq!(str_of(st.policy).as_deref(), Some(m.policy.as_str()));
                assert_eq!(str_of(st.sid), m.sid);
                assert_eq!(st.index as usize, m.statement);
                assert_eq!(
                    (st.level != FASTIAM_NO_LEVEL).then_some(st.level as usize),
                    m.level
                );
            }
            for (id, name) in answer.hops[h].3.iter().zip(&hop.missing) {
                let mut key = fastiam_str::NONE;
                // SAFETY: a live program; a valid out-pointer.
                let rc = unsafe { fastiam_program_key_name(loaded.program, *id, &mut key) };
                assert_eq!(rc, fastiam_result::Ok);
                assert_eq!(str_of(key).as_deref(), Some(name.as_str()));
            }
        }
        compared += 1;
    }
    assert!(compared >= 500, "{compared} compared, {skipped} skipped");
}

#[test]
fn hostile_program_bytes_are_error_codes() {
    let golden = std::fs::read(crate::util::corpus(&format!(
        "programs/golden-v{}.fiam",
        fastiam::table::VERSION
    )))
    .unwrap();
    let mut rng = Rng::new(0xF1A5);
    let hop = fastiam_hop {
        via: fastiam_str::NONE,
        action: fastiam_str::new("s3:GetObject"),
        resource: fastiam_str::new("arn:aws:s3:::b/k"),
        resource_account: fastiam_str::NONE,
        has_resource_policy: 0,
        resource_policy: 0,
        resource_policy_required: 0,
        requires_no_permission: 0,
        context: std::ptr::null(),
        context_len: 0,
    };
    let request = fastiam_request {
        dialect: fastiam_dialect::Aws as u32,
        principal: fastiam_principal {
            arn: fastiam_str::new("arn:aws:iam::111122223333:user/alice"),
            kind: 0,
            account: fastiam_str::NONE,
            role_arn: fastiam_str::NONE,
            parent_user_arn: fastiam_str::NONE,
            service_linked: 0,
            management_account: 0,
        },
        context: std::ptr::null(),
        context_len: 0,
        hops: &hop,
        hops_len: 1,
        called_via_services: std::ptr::null(),
        called_via_services_len: 0,
        preserve_source_ip: 0,
        credentials: std::ptr::null(),
    };
    let (mut loaded, mut refused) = (0, 0);
    for round in 0..3_000 {
        let mut bytes = golden.clone();
        match rng.below(4) {
            0 => {
                let i = rng.below(bytes.len());
                bytes[i] ^= 1 << rng.below(8);
            }
            1 => {
                let i = rng.below(bytes.len() / 4) * 4;
                let v = *rng.pick(&[0u32, 1, 7, 0xFF, 0xFFFF, u32::MAX, u32::MAX - 1]);
                bytes[i..i + 4].copy_from_slice(&v.to_le_bytes());
            }
            2 => bytes.truncate(rng.below(bytes.len())),
            _ => {
                let i = rng.below(bytes.len());
                let n = rng.below(32).min(bytes.len() - i);
                for b in &mut bytes[i..i + n] {
                    *b = rng.below(256) as u8;
                }
            }
        }
        // Every other round re-sealed, to reach the verifier behind the checksum; the
        // others must all be refused (a changed byte is a checksum mismatch at least).
        let sealed = round % 2 == 1;
        if sealed {
            fastiam::table::seal(&mut bytes);
        }
        let changed = bytes != golden;
        let aligned = AlignedBytes::copy_from(&bytes);
        let data: &[u8] = aligned.as_ref();
        let mut program = std::ptr::null_mut();
        // SAFETY: `aligned` outlives the program, freed below.
        let rc = unsafe { fastiam_program_from_bytes(data.as_ptr(), data.len(), &mut program) };
        match rc {
            fastiam_result::InvalidProgram => {
                assert!(program.is_null(), "out written on failure");
                refused += 1;
            }
            fastiam_result::Ok => {
                assert!(sealed || !changed, "round {round}: changed bytes loaded");
                loaded += 1;
                let mut scratch = std::ptr::null_mut();
                let mut out = std::mem::MaybeUninit::<fastiam_outcome>::zeroed();
                // SAFETY: live handles, a valid request, an outcome without arrays.
                unsafe {
                    assert_eq!(
                        fastiam_scratch_new(program, &mut scratch),
                        fastiam_result::Ok
                    );
                    let rc = fastiam_evaluate(program, scratch, &request, out.as_mut_ptr());
                    assert_eq!(rc, fastiam_result::Ok, "{}", message());
                    fastiam_scratch_free(scratch);
                    fastiam_program_free(program);
                }
            }
            other => panic!("{other:?}: {}", message()),
        }
    }
    // One changed string byte: the C caller is told it is the checksum.
    let mut bytes = golden.clone();
    let at = bytes.len() - 9;
    bytes[at] ^= 0x20;
    let aligned = AlignedBytes::copy_from(&bytes);
    let data: &[u8] = aligned.as_ref();
    let mut program = std::ptr::null_mut();
    // SAFETY: valid bytes and out-pointer; nothing is loaded.
    let rc = unsafe { fastiam_program_from_bytes(data.as_ptr(), data.len(), &mut program) };
    assert_eq!(rc, fastiam_result::InvalidProgram);
    assert!(message().contains("checksum mismatch"), "{}", message());
    assert!(
        refused > 2_000 && loaded > 0,
        "{refused} refused, {loaded} loaded"
    );
}

/// Evaluating a request the scratch has seen the shape of allocates nothing: each request
/// of the conformance corpus and of the standard workload, evaluated a second time; and
/// the whole workload, a second pass after a first.
#[test]
fn warm_evaluation_through_the_abi_does_not_allocate() {
    use crate::allocations::allocations;
    let mut chains: Vec<_> = ["conformance/hand.jsonl", "conformance/fas.jsonl"]
        .iter()
        .flat_map(|f| {
            crate::util::read_corpus(f)
                .lines()
                .map(|l| fastiam::request::parse_case(l, f).unwrap().chain)
                .collect::<Vec<_>>()
        })
        .collect();
    chains.retain(|c| Abi::new(&c.request).is_some());
    let mut repeated = 0;
    for chain in &chains {
        let program = fastiam::compile::compile(&chain.policies).unwrap();
        let loaded = Loaded::new(program.as_bytes());
        let abi = Abi::new(&chain.request).unwrap();
        let mut out = std::mem::MaybeUninit::<fastiam_outcome>::zeroed();
        // SAFETY: live handles, a valid request, an outcome without arrays.
        let first = unsafe {
            fastiam_evaluate(
                loaded.program,
                loaded.scratch,
                &abi.request,
                out.as_mut_ptr(),
            )
        };
        assert_eq!(first, fastiam_result::Ok, "{}", message());
        let before = allocations();
        // SAFETY: as above.
        let again = unsafe {
            fastiam_evaluate(
                loaded.program,
                loaded.scratch,
                &abi.request,
                out.as_mut_ptr(),
            )
        };
        let during = allocations() - before;
        assert_eq!(again, fastiam_result::Ok);
        assert_eq!(
            during, 0,
            "{during} allocations re-evaluating {:?}",
            chain.request
        );
        repeated += 1;
    }
    assert_eq!(repeated, 173);

    let prepared = fastiam::benchmark::standard(2_000, 42).unwrap();
    let program = fastiam::compile::compile(&prepared.policies).unwrap();
    let loaded = Loaded::new(program.as_bytes());
    let requests: Vec<Abi> = prepared
        .requests
        .iter()
        .map(|r| Abi::new(r).unwrap())
        .collect();
    let mut out = std::mem::MaybeUninit::<fastiam_outcome>::zeroed();
    let mut pass = || {
        let before = allocations();
        for abi in &requests {
            // SAFETY: as above; the builder is live.
            unsafe {
                let rc = fastiam_evaluate(
                    loaded.program,
                    loaded.scratch,
                    &abi.request,
                    out.as_mut_ptr(),
                );
                assert_eq!(rc, fastiam_result::Ok);
                let rc = fastiam_builder_build(loaded.builder, loaded.program, &abi.request);
                assert_eq!(rc, fastiam_result::Ok);
                let rc = fastiam_evaluate_builder(
                    loaded.program,
                    loaded.scratch,
                    loaded.builder,
                    out.as_mut_ptr(),
                );
                assert_eq!(rc, fastiam_result::Ok);
            }
        }
        allocations() - before
    };
    let first = pass();
    let second = pass();
    assert!(first > 0, "the first pass grows the scratch");
    assert_eq!(
        second, 0,
        "allocations in a second pass over 2,000 workload requests"
    );
}

/// A misaligned request or outcome pointer is refused before anything is read through it.
#[test]
fn misaligned_structs_are_refused() {
    let golden = std::fs::read(crate::util::corpus(&format!(
        "programs/golden-v{}.fiam",
        fastiam::table::VERSION
    )))
    .unwrap();
    let loaded = Loaded::new(&golden);
    let request = std::mem::MaybeUninit::<fastiam_request>::zeroed();
    let mut buf = vec![0u8; std::mem::size_of::<fastiam_outcome>() * 2 + 16];
    let misaligned_out = buf.as_mut_ptr().wrapping_add(1).cast::<fastiam_outcome>();
    let misaligned_req = (request.as_ptr() as *const u8)
        .wrapping_add(1)
        .cast::<fastiam_request>();
    let mut out = std::mem::MaybeUninit::<fastiam_outcome>::zeroed();
    // SAFETY: the pointers are checked for alignment before any read or write.
    unsafe {
        let rc = fastiam_evaluate(
            loaded.program,
            loaded.scratch,
            misaligned_req,
            out.as_mut_ptr(),
        );
        assert_eq!(rc, fastiam_result::InvalidArgument);
        assert!(
            message().contains("`request` is not aligned"),
            "{}",
            message()
        );
        let rc = fastiam_evaluate(
            loaded.program,
            loaded.scratch,
            request.as_ptr(),
            misaligned_out,
        );
        assert_eq!(rc, fastiam_result::InvalidArgument);
        assert!(
            message().contains("`outcome` is not aligned"),
            "{}",
            message()
        );
    }
}

/// A failed build names the field as `fastiam_evaluate` does and leaves the builder with no
/// request to evaluate; NULL handles are refused; a request built for another program is
/// evaluated as that program's own request would be.
#[test]
fn builder_handle_errors_and_foreign_programs() {
    let case = fastiam::request::parse_case(
        r#"{"id":"x","principal":"arn:aws:iam::111122223333:user/a",
        "context":{"aws:SourceIp":"10.1.2.3","aws:username":"a"},
        "policies":{"identity":[{"Statement":[{"Effect":"Allow","Action":"s3:GetObject",
        "Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}]},
        "chain":[{"action":"s3:GetObject","resource":"*"}]}"#,
        "test",
    )
    .unwrap();
    let other = fastiam::request::parse_case(
        r#"{"id":"y","principal":"anonymous",
        "policies":{"identity":[{"Statement":[{"Effect":"Allow","Action":"s3:*",
        "Resource":"*","Condition":{"StringEquals":{"aws:username":"a"}}}]}]},
        "chain":[{"action":"s3:GetObject","resource":"*"}]}"#,
        "test",
    )
    .unwrap();
    let loaded = Loaded::new(
        fastiam::compile::compile(&case.chain.policies)
            .unwrap()
            .as_bytes(),
    );
    let foreign = Loaded::new(
        fastiam::compile::compile(&other.chain.policies)
            .unwrap()
            .as_bytes(),
    );
    let abi = Abi::new(&case.chain.request).unwrap();
    let direct = loaded.evaluate(&abi.request).unwrap();
    assert_eq!(loaded.evaluate_built(&abi.request).unwrap(), direct);
    assert_eq!(direct.decision, "Allow");
    // Built against `loaded`'s program, evaluated against `foreign`'s.
    let mut out = std::mem::MaybeUninit::<fastiam_outcome>::zeroed();
    // SAFETY: live handles, a valid request, an outcome without arrays.
    let rc = unsafe {
        fastiam_evaluate_builder(
            foreign.program,
            foreign.scratch,
            loaded.builder,
            out.as_mut_ptr(),
        )
    };
    assert_eq!(rc, fastiam_result::Ok, "{}", message());
    let expected = foreign.evaluate(&abi.request).unwrap();
    assert_eq!(expected.decision, "Allow");
    // SAFETY: written on success.
    assert_eq!(
        unsafe { out.assume_init() }.decision,
        fastiam_decision::Allow as u32,
        "{expected:?}"
    );
    // A hop 0 with a `via`: the same message as `fastiam_evaluate`.
    let mut bad = abi.request;
    let hop = fastiam_hop {
        via: fastiam_str::new("s3.amazonaws.com"),
        // SAFETY: `abi` holds at least one hop.
        ..unsafe { *abi.request.hops }
    };
    bad.hops = &hop;
    let (rc, m) = loaded.evaluate_built(&bad).unwrap_err();
    assert_eq!(rc, fastiam_result::InvalidArgument);
    assert!(m.contains("request.hops[0].via"), "{m}");
    // SAFETY: live handles; an outcome without arrays.
    let rc = unsafe {
        fastiam_evaluate_builder(
            loaded.program,
            loaded.scratch,
            loaded.builder,
            out.as_mut_ptr(),
        )
    };
    assert_eq!(rc, fastiam_result::InvalidArgument);
    assert!(message().contains("holds no request"), "{}", message());
    // SAFETY: NULL handles are checked before use.
    unsafe {
        let rc = fastiam_builder_build(std::ptr::null_mut(), loaded.program, &abi.request);
        assert_eq!(rc, fastiam_result::NullArgument);
        let rc = fastiam_evaluate_builder(
            loaded.program,
            loaded.scratch,
            std::ptr::null(),
            out.as_mut_ptr(),
        );
        assert_eq!(rc, fastiam_result::NullArgument);
        assert_eq!(
            fastiam_builder_new(std::ptr::null_mut()),
            fastiam_result::NullArgument
        );
        fastiam_builder_free(std::ptr::null_mut());
    }
}
