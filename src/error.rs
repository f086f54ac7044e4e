//! Errors, one type per phase.
//!
//! Every error names *where* (the source — a file, or `file:line` for a case line — the JSON
//! pointer and `line:column`) and *what was expected*, with the offending input in
//! backticks. Evaluation itself never fails: it returns a decision (R-SIM-1).

use std::fmt;

use crate::json::Pointer;

/// A place in a JSON source: which source, which JSON pointer, which line and column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    /// A file name, `file:line` for a line of a JSON Lines file, or a policy id.
    pub source: String,
    /// RFC 6901 pointer to the offending value.
    pub pointer: Pointer,
    /// 1-based line within the source text.
    pub line: u32,
    /// 1-based column (in characters) within that line.
    pub column: u32,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: at {} (line {}, column {})",
            self.source, self.pointer, self.line, self.column
        )
    }
}

/// What is wrong with a policy document or a case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The text is not JSON.
    Syntax(String),
    /// A value of the wrong JSON type or shape; `expected` says what would have been right.
    Expected { expected: String, found: String },
    /// A required member is missing.
    Missing(&'static str),
    /// The same member name twice in one object (R-GRAM-1).
    DuplicateMember(String),
    /// A member this position does not allow (strict mode, R-GRAM-5).
    UnknownMember(String),
    /// Two members that exclude each other (`Action` with `NotAction`, ...).
    Conflict(&'static str, &'static str),
    /// A value that is well-formed JSON but invalid for the spec; `rule` cites it.
    Invalid {
        what: String,
        value: String,
        rule: &'static str,
    },
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::Syntax(msg) => write!(f, "invalid JSON: {msg}"),
            ErrorKind::Expected { expected, found } => {
                write!(f, "expected {expected}, found {found}")
            }
            ErrorKind::Missing(member) => write!(f, "missing required member `{member}`"),
            ErrorKind::DuplicateMember(m) => {
                write!(f, "duplicate member `{m}` (R-GRAM-1)")
            }
            ErrorKind::UnknownMember(m) => {
                write!(f, "unknown member `{m}` (strict mode, R-GRAM-5)")
            }
            ErrorKind::Conflict(a, b) => write!(f, "`{a}` and `{b}` cannot both be present"),
            ErrorKind::Invalid { what, value, rule } => {
                write!(f, "invalid {what} `{value}` ({rule})")
            }
        }
    }
}

/// An error while reading a policy document or a case: where, and what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    pub location: Location,
    pub kind: ErrorKind,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.kind)
    }
}

impl std::error::Error for ParseError {}

/// Shortens an input fragment for an error message, keeping it on one line.
pub(crate) fn snippet(s: &str) -> String {
    const MAX: usize = 60;
    let mut out: String = s.chars().take(MAX).collect();
    if s.chars().count() > MAX {
        out.push('…');
    }
    out.replace('\n', "\\n")
}
