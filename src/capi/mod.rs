//! The C ABI: load a compiled program and evaluate chains from C, C++, Go or anything with a
//! C FFI, in the caller's hot path, without copying the program and without allocating.
//!
//! Why a C ABI: the services that authorise requests (proxies, storage front ends, API
//! gateways) are rarely written in Rust. They compile policies ahead of time with
//! `fastiam compile`, open the program once, and evaluate every request against it.
//!
//! The conventions are rustls-ffi's:
//! - **opaque handles** with `_new`/`_free` pairs: [`fastiam_program`] (opened from a file,
//!   memory-mapped, or borrowed from the caller's bytes; verified at load; shared by any
//!   number of threads) and [`fastiam_scratch`] (one per thread);
//! - every fallible function returns a [`fastiam_result`] and writes its **out-parameters
//!   only on success**; [`fastiam_error_message`] gives the thread's last error message,
//!   naming the argument or request field (`request.hops[1].action`);
//! - **every pointer is checked** (NULL, length, alignment) and every string validated as
//!   UTF-8 before use; a hostile program file or a malformed request is an error code;
//! - **panics are caught** at every entry point and become `FASTIAM_RESULT_PANIC`.
//!
//! The header is `include/fastiam.h`, generated from this module by a pinned cbindgen
//! (`cbindgen.toml`) and checked for drift by `cargo test`; regenerate it with
//! `FASTIAM_WRITE_HEADER=1 cargo test --test integration capi::header`. Its comments say
//! who owns what and for how long. The C programs of `tests/c/` and `examples/c/` are
//! compiled and run by the integration tests, and under valgrind by `.ci/run`.
//!
//! The same calls work from Rust (the tests use them so):
//!
//! ```
//! use fastiam::capi::*;
//! let case = fastiam::request::parse_case(r#"{"id":"x","principal":"anonymous",
//!   "policies":{"identity":[{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}]},
//!   "chain":[{"action":"s3:GetObject","resource":"*"}]}"#, "doc").unwrap();
//! let bytes = fastiam::compile::compile(&case.chain.policies).unwrap().as_bytes().to_vec();
//! let aligned = fastiam::table::AlignedBytes::copy_from(&bytes);
//! let bytes: &[u8] = aligned.as_ref();
//! let mut program = std::ptr::null_mut();
//! let mut scratch = std::ptr::null_mut();
//! // SAFETY: the bytes outlive the program; the out-pointers are valid.
//! unsafe {
//!     assert_eq!(fastiam_program_from_bytes(bytes.as_ptr(), bytes.len(), &mut program), fastiam_result::Ok);
//!     assert_eq!(fastiam_scratch_new(program, &mut scratch), fastiam_result::Ok);
//! }
//! let hop = fastiam_hop {
//!     via: fastiam_str::NONE, action: fastiam_str::new("s3:GetObject"),
//!     resource: fastiam_str::new("arn:aws:s3:::b/k"), resource_account: fastiam_str::NONE,
//!     has_resource_policy: 0, resource_policy: 0, resource_policy_required: 0,
//!     requires_no_permission: 0, context: std::ptr::null(), context_len: 0,
//! };
//! let request = fastiam_request {
//!     dialect: fastiam_dialect::Aws as u32,
//!     principal: fastiam_principal { arn: fastiam_str::new("arn:aws:iam::111122223333:user/alice"),
//!         kind: 0, account: fastiam_str::NONE, role_arn: fastiam_str::NONE,
//!         parent_user_arn: fastiam_str::NONE, service_linked: 0, management_account: 0 },
//!     context: std::ptr::null(), context_len: 0, hops: &hop, hops_len: 1,
//!     called_via_services: std::ptr::null(), called_via_services_len: 0,
//!     preserve_source_ip: 0, credentials: std::ptr::null(),
//! };
//! let mut outcome = fastiam_outcome {
//!     hops: std::ptr::null_mut(), hops_capacity: 0, matched: std::ptr::null_mut(),
//!     matched_capacity: 0, missing: std::ptr::null_mut(), missing_capacity: 0,
//!     decision: 0, reason: 0, denied_at: 0, hops_len: 0, matched_len: 0, missing_len: 0,
//! };
//! // SAFETY: live handles, a request of valid pointers, an outcome without arrays.
//! unsafe {
//!     assert_eq!(fastiam_evaluate(program, scratch, &request, &mut outcome), fastiam_result::Ok);
//!     fastiam_scratch_free(scratch);
//!     fastiam_program_free(program);
//! }
//! assert_eq!(outcome.decision, fastiam_decision::Allow as u32);
//! assert_eq!((outcome.denied_at, outcome.hops_len, outcome.matched_len), (FASTIAM_NO_HOP, 1, 1));
//! ```
//!
//! How a request gets in without allocating: the C structs are read (module `fill`) into
//! a reused [`crate::request::RequestBuilder`] — the scratch's for [`fastiam_evaluate`], a
//! caller-held [`fastiam_builder`] for `fastiam_builder_build` — whose one text buffer and
//! lists keep their size from call to call; the request is resolved against the program
//! (keys and actions by id) and evaluated as a Rust caller's compact request is. Building
//! it (checking every string, canonicalising the keys, parsing the principal's ARN,
//! deriving the hop defaults) is the same work a Rust caller does from strings, and costs
//! a C caller within about 1.1× of it (BENCHMARKS.md, "C ABI at Rust's cost").

// The C names are the ABI: `fastiam_program`, not `FastiamProgram`.
#![allow(non_camel_case_types)]
// Raw pointers from C are the point of this module; every block says why it is sound.
#![allow(unsafe_code)]
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks)]

mod builder;
mod error;
mod evaluate;
mod fill;
mod program;
mod request;

pub use builder::{
    fastiam_builder, fastiam_builder_build, fastiam_builder_free, fastiam_builder_new,
    fastiam_evaluate_builder,
};
pub use error::{fastiam_error_message, fastiam_result, fastiam_result_name};
pub use evaluate::{
    fastiam_decision, fastiam_decision_name, fastiam_evaluate, fastiam_hop_outcome,
    fastiam_outcome, fastiam_reason, fastiam_reason_name, fastiam_scratch, fastiam_scratch_free,
    fastiam_scratch_new, fastiam_version, FASTIAM_NO_HOP,
};
pub use program::{
    fastiam_policy_kind, fastiam_program, fastiam_program_free, fastiam_program_from_bytes,
    fastiam_program_get_info, fastiam_program_info, fastiam_program_key_name, fastiam_program_open,
    fastiam_program_statement, fastiam_statement, FASTIAM_NO_LEVEL,
};
pub use request::{
    fastiam_context_entry, fastiam_credentials, fastiam_dialect, fastiam_flag, fastiam_hop,
    fastiam_principal, fastiam_principal_kind, fastiam_request, fastiam_str,
};
