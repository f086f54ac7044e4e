//! Shared evaluation primitives (R-COMP-4, R-GEN-4).
//!
//! The naive reference evaluator and the compiled zero-allocation evaluator MUST return
//! identical results for every input (R-GEN-4). The places where two independent
//! implementations would most easily drift apart are the low-level value semantics, so R-COMP-4
//! requires both evaluators to call the *same* functions for them, which all live here:
//!
//! | module | what | rules |
//! |---|---|---|
//! | [`fold`](mod@fold) | case folding, context-key canonicalisation | R-OPS-3, R-CTX-2, R-ACT-2 |
//! | [`glob`] | `*`/`?` matching over pieces or wildcard strings | R-OPS-4, R-ACT-3, R-RES-4, R-VAR-2 |
//! | [`number`] | exact decimal parsing and ordering | R-OPN-2 |
//! | [`date`] | epoch / W3C date parsing into instants | R-OPD-1..3 |
//! | [`ip`] | IP address and CIDR parsing, containment | R-OPI-1, R-OPI-2 |
//! | [`boolean`] | `true` / `false` | R-OPB-1 |
//! | [`binary`] | base64 decoding | R-OPB-2 |
//! | [`arn`] | ARN / URN splitting | R-RES-2, R-HW-6, R-HW-7 |
//!
//! Everything here is a pure function of its arguments (R-GEN-3). Apart from [`fold::fold`],
//! [`fold::canonical_key`] and [`binary::decode_base64`], which return owned values and are
//! meant for compile time or context building, nothing allocates, so the compiled interpreter
//! may call these per request. Parsers return `Option`: `None` is the caller's cue for a strict
//! compile error or an `Error` comparison (R-OP-ERR-1).
//!
//! ```
//! use fastiam::primitives::{fold_eq, parse_decimal, wildcard_match};
//! assert!(wildcard_match("s3:get*", "s3:getobject"));
//! assert!(fold_eq("PreProd", "preprod"));
//! assert_eq!(parse_decimal("10"), parse_decimal("10.0"));
//! ```

pub mod arn;
pub mod binary;
pub mod boolean;
pub mod date;
pub mod fold;
pub mod glob;
pub mod ip;
pub mod number;
pub mod outcome;

pub use arn::{arn_account, find_colons, split_arn, split_urn, urn_account};
pub use binary::{decode_base64, is_valid_base64};
pub use boolean::parse_bool;
pub use date::{parse_date, Instant};
pub use fold::{canonical_key, canonical_key_into, fold, fold_eq, fold_into, is_canonical_key};
pub use glob::{glob_match, has_wildcard, parse_wildcards, wildcard_match, Piece, WildcardPieces};
pub use ip::{cidr_contains, parse_cidr, parse_ip};
pub use number::{parse_decimal, Decimal};
pub use outcome::Comparison;

#[cfg(test)]
mod tests {
    use super::*;

    /// Fragments that exercise every parser's separators, digits, wildcards and multibyte text.
    const FRAGMENTS: &[&str] = &[
        "0",
        "1",
        "9",
        "24",
        "-",
        "+",
        ".",
        ":",
        "/",
        "*",
        "?",
        "T",
        "Z",
        "z",
        "=",
        "%",
        " ",
        "a",
        "f",
        "arn",
        "\u{00E9}",
        "\u{03A3}",
        "\u{0130}",
        "\u{1F600}",
        "\u{0661}",
        "::",
        "ffff",
        "2024-02-29",
        "QQ==",
    ];

    use crate::test_rng::XorShift;

    /// Every primitive accepts arbitrary text without panicking (no slicing inside a UTF-8
    /// character, no unchecked arithmetic on input-derived values).
    #[test]
    fn no_primitive_panics_on_arbitrary_text() {
        let mut rng = XorShift(0x5DEE_CE66_D1CE_5EED);
        for _ in 0..30_000 {
            let a: String = (0..rng.below(8))
                .map(|_| FRAGMENTS[rng.below(FRAGMENTS.len())])
                .collect();
            let b: String = (0..rng.below(8))
                .map(|_| FRAGMENTS[rng.below(FRAGMENTS.len())])
                .collect();
            let _ = (fold_eq(&a, &b), canonical_key(&a), is_canonical_key(&a));
            let pieces: Vec<Piece<'_>> = parse_wildcards(&a).collect();
            let _ = (
                glob_match(&pieces, &b),
                wildcard_match(&a, &b),
                has_wildcard(&a),
            );
            let _ = (
                parse_decimal(&a),
                parse_date(&a),
                parse_bool(&a),
                decode_base64(&a),
            );
            let _ = (
                split_arn(&a),
                split_urn(&a),
                arn_account(&a),
                urn_account(&a),
            );
            if let (Some(net), Some(ip)) = (parse_cidr(&a), parse_ip(&b)) {
                let _ = cidr_contains(&net, &ip);
            }
            if let (Some(x), Some(y)) = (parse_decimal(&a), parse_decimal(&b)) {
                let _ = x.cmp(&y);
            }
        }
    }
}
