//! [`BuildError`]: why a [`RequestBuilder`](super::RequestBuilder) could not build a request.
//!
//! Setters do not fail (but for parsing the principal): a problem they meet is kept and
//! reported by `finish`, along with the problems only the whole request shows, so that a
//! caller chaining setters checks one result. Each variant names the rule it enforces.
//!
//! ```
//! use fastiam::request::compact::RequestBuilder;
//! use fastiam::request::BuildError;
//! let mut b = RequestBuilder::new();
//! b.principal("anonymous").unwrap();
//! b.hop("s3:GetObject", "*").hop("kms:Decrypt", "*");
//! let e = b.finish().unwrap_err();
//! assert_eq!(e, BuildError::MissingVia(1));
//! assert!(e.to_string().contains("R-FAS-2"));
//! ```

use std::fmt;

/// Why a request could not be built.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BuildError {
    /// No principal was set.
    NoPrincipal,
    /// The principal string is not one (the message says why).
    Principal(String),
    /// No hop was added: a request has at least one.
    NoHop,
    /// A per-hop setter (`hop_context`, `resource_account`...) was called before any hop.
    BeforeFirstHop(&'static str),
    /// Hop 0 is the principal's own call and has no `via` (R-FAS-2).
    ViaOnFirstHop,
    /// Hop k ≥ 1 is forwarded and needs its `via` (R-FAS-2).
    MissingVia(usize),
    /// Two keys of context `context` (0: the request's, k + 1: hop k's) are the same key
    /// after canonicalisation (R-CTX-2).
    KeyCollision { context: usize, key: String },
    /// The request's strings exceed the 4 GiB a compact request addresses.
    TooLarge,
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BuildError::NoPrincipal => write!(f, "the request has no principal"),
            BuildError::Principal(m) => write!(f, "principal: {m}"),
            BuildError::NoHop => write!(f, "the request has no hop: it needs at least one"),
            BuildError::BeforeFirstHop(what) => {
                write!(f, "`{what}` was set before any hop was added")
            }
            BuildError::ViaOnFirstHop => write!(
                f,
                "hop 0 has a `via`: the principal's own call is not forwarded (R-FAS-2)"
            ),
            BuildError::MissingVia(k) => write!(
                f,
                "hop {k} has no `via`: every hop after the first is forwarded (R-FAS-2)"
            ),
            BuildError::KeyCollision { context, key } => {
                let at = match context {
                    0 => "the request context".to_string(),
                    k => format!("hop {}'s context", k - 1),
                };
                write!(
                    f,
                    "{at} gives key `{key}` twice after canonicalisation (R-CTX-2)"
                )
            }
            BuildError::TooLarge => write!(f, "the request's strings exceed 4 GiB"),
        }
    }
}

impl std::error::Error for BuildError {}
