//! fastiam decides, exactly and fast, whether cloud IAM policies (AWS IAM JSON and Huawei
//! Cloud IAM 5.0) allow a request — or a whole chain of forwarded requests (Forward Access
//! Sessions, where service A calls service B on the principal's behalf) — and why.
//!
//! The contract is SEMANTICS.md (rule ids `R-…` in the docs cite it). The pipeline:
//!
//! ```text
//! JSON policy ──parse──▶ AST ──▶ reference evaluator (the oracle: a direct tree walk)
//!                         └────▶ compiler ─▶ bytecode ─▶ zero-allocation interpreter
//! ```
//!
//! The reference evaluator and the compiler share the AST ([`policy`]), the request model
//! ([`request`]) and the matching primitives ([`primitives`]) and nothing else, so that a
//! bug in one cannot hide in the other; differential tests compare them.
//!
//! ```
//! use fastiam::{request::parse_case, reference, decision::Decision};
//! let line = r#"{"id":"fas-1","principal":"arn:aws:sts::111122223333:assumed-role/reader/s",
//!  "policies":{"identity":[{"Version":"2012-10-17","Statement":[
//!    {"Effect":"Allow","Action":"s3:GetObject","Resource":"*"},
//!    {"Effect":"Allow","Action":"kms:Decrypt","Resource":"*",
//!     "Condition":{"Bool":{"aws:ViaAWSService":"true"}}}]}]},
//!  "chain":[{"action":"s3:GetObject","resource":"arn:aws:s3:::b/k"},
//!           {"via":"s3.amazonaws.com","action":"kms:Decrypt","resource":"*"}]}"#;
//! let case = parse_case(line, "example").unwrap();
//! let result = reference::evaluate_chain(&case.chain);
//! assert_eq!(result.decision, Decision::Allow);
//! assert_eq!(result.hops.len(), 2);
//! ```
//!
//! Trust model: policies and cases are untrusted input. Reading them never panics; every
//! error names the source, the JSON pointer, the line and column, and what was expected.

#![deny(unsafe_code)]

pub mod benchmark;
pub mod bounded_cache;
pub mod bytecode;
pub mod capi;
pub mod compile;
pub mod decision;
pub mod error;
pub mod eval;
pub mod json;
pub mod policy;
pub mod primitives;
pub mod reference;
pub mod replay;
pub mod request;
pub mod runner;
pub mod simulate;
pub mod table;
pub mod workload;

mod test_rng;
