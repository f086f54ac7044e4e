//! The outcome of one comparison of a context value with a policy value (R-OP-ERR-1).
//!
//! Three-valued because an unparsable value is neither a match nor a non-match: a positive
//! operator counts it as no match, but a negated operator becomes false if any comparison
//! is an `Error` (negated operators do not treat garbage as "different"). Both evaluators
//! combine outcomes with this one type.
//!
//! ```
//! use fastiam::primitives::Comparison;
//! assert_eq!(Comparison::from(true), Comparison::Match);
//! assert_eq!(Comparison::from(false), Comparison::NoMatch);
//! ```

/// One comparison's outcome (R-OP-ERR-1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Comparison {
    Match,
    NoMatch,
    /// A value could not be read as the operator's type.
    Error,
}

impl From<bool> for Comparison {
    fn from(b: bool) -> Self {
        if b {
            Comparison::Match
        } else {
            Comparison::NoMatch
        }
    }
}
