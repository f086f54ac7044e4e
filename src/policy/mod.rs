//! Policy documents: the AST both evaluators share, and the one parser that builds it.
//!
//! See [`ast`] for what a policy means and [`parse`] for how JSON becomes that meaning.

pub mod ast;
pub mod files;
pub mod parse;

pub use ast::*;
pub use parse::{parse_operator, parse_policy, parse_policy_node, ParseOptions, Source};
