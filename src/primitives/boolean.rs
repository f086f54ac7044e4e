//! Boolean literals for the `Bool` operator (R-OPB-1).
//!
//! Policy and context values must be `true` or `false`, ASCII case-insensitive; anything else
//! (`yes`, `1`, ` true`, ...) is not a boolean and makes the comparison an `Error`
//! (R-OP-ERR-1). JSON booleans reach this function already converted to text (R-JSON-1).
//!
//! ```
//! use fastiam::primitives::boolean::parse_bool;
//! assert_eq!(parse_bool("TRUE"), Some(true));
//! assert_eq!(parse_bool("yes"), None);
//! ```

/// `true`/`false`, ASCII case-insensitive (R-OPB-1); `None` for anything else.
pub fn parse_bool(s: &str) -> Option<bool> {
    if s.eq_ignore_ascii_case("true") {
        Some(true)
    } else if s.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_table() {
        let cases: &[(&str, Option<bool>)] = &[
            ("true", Some(true)),
            ("TRUE", Some(true)),
            ("True", Some(true)),
            ("tRuE", Some(true)),
            ("false", Some(false)),
            ("FALSE", Some(false)),
            ("False", Some(false)),
            ("", None),
            ("t", None),
            ("1", None),
            ("0", None),
            ("yes", None),
            ("no", None),
            (" true", None),
            ("true ", None),
            ("truee", None),
            ("\"true\"", None),
            ("tru\u{0395}", None), // Greek capital epsilon, not ASCII E
        ];
        for (input, want) in cases {
            assert_eq!(parse_bool(input), *want, "parse_bool({input:?})");
        }
    }
}
