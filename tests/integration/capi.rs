//! The C ABI (`src/capi/`, `include/fastiam.h`): the header matches what the pinned cbindgen
//! generates; C programs compiled with the `cc` crate evaluate the conformance corpus and
//! the standard workload through the ABI (from many threads) and exercise the error paths;
//! and from Rust: hostile program bytes, field-naming errors, out-parameters untouched on
//! failure, no allocation once warm.

mod c;
mod header;
mod rust;
