//! The op array: every statement of the residual programs as one contiguous block of small
//! fixed-size ops, walked with one `match` per op.
//!
//! Before, a step read its statement's record from one table, then a range of resource
//! tests from a second and a range of condition tests from a third, each with its own
//! `match` and its own bounds. A block holds them in the order the hop tests them, so a
//! hop reads one stream: the head (participation bit, the R-SIM-3 data of the applied
//! entry, where the conditions start, where the block ends), the principal and position
//! tests of resource-policy statements, the resource clause (nothing when it is `*`; one
//! typed op for a single record; an [`Op::AnyOf`] group for several records or
//! `NotResource`), then the condition ops. A test that fails ends the statement; the
//! statement applies when the walk reaches the block's end. Blocks are per statement, not
//! per action: the 325,495 tabulated candidates of the managed policies name 9,032
//! statements, and each is laid out once (a block per candidate would copy each statement
//! 36 times on average, the tables past 20 MB). The typed forms cover what the standard
//! workload reaches; anything else keeps its general fallback op ([`Op::Plan`],
//! [`Op::Condition`]), chosen per record and per condition.
//!
//! ```text
//! {"Effect":"Allow","Action":"s3:GetObject","Resource":["arn:aws:s3:::b/*","arn:aws:s3:::c"],
//!  "Condition":{"StringEquals":{"aws:SourceVpc":"vpc-1"},"Bool":{"aws:SecureTransport":"true"}}}
//!   0 Head { part: identity, kind: Identity, deny: false, level: 0, conditions: 4, end: 6 }
//!   1 AnyOf { count: 2, not: false }
//!   2 Prefix("arn:aws:s3:::b/")
//!   3 Exact("arn:aws:s3:::c")
//!   4 Equals { key: aws:sourcevpc, literal: "vpc-1", negated: false, absent: false }
//!   5 Bool { key: aws:securetransport, on_true: true, on_false: false, absent: false }
//! ```

use crate::bytecode::PolicyKind as Kind;
use crate::bytecode::{BaseOperator, KeyId};

use super::Text;

/// One op of a statement's block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Op {
    /// A statement's first op: the participation bit of its policy kind (0: never takes
    /// part), what its applied entry records, and where its condition ops start and its
    /// block ends (indexes of the op array).
    Head {
        part: u8,
        kind: Kind,
        deny: bool,
        level: u32,
        conditions: u32,
        end: u32,
    },
    /// A resource policy's statement: the hop's resource policy must be the one at this
    /// position.
    Position(u32),
    /// A principal clause of account ids and ARNs: a range of `Residual::accounts`.
    Accounts(u32, u32),
    /// Any other principal clause: the general principal test.
    Principal,
    /// Never passes (`NotResource` naming `*`, or a statement without resources).
    Fail,
    /// The next `count` ops are resource tests: one must pass (none, when `not`).
    AnyOf { count: u32, not: bool },
    /// The resource is this text.
    Exact(Text),
    /// The resource starts with this text.
    Prefix(Text),
    /// An ARN pattern: the resource starts with `head` (its first `literal` segments, each
    /// with its `:`), and segments `literal..6` pass the `count` tests
    /// `Residual::arn_checks[checks..]` (those not `*`).
    Arn {
        head: Text,
        literal: u8,
        count: u8,
        checks: u32,
    },
    /// A glob of literals and `*`s over the whole resource: `Residual::stars[.0]`.
    Stars(u32),
    /// `literal${variable}glob` after five literal segments: `Residual::globs[.0]`.
    VariableGlob(u32),
    /// The general plan of resource record `.0`.
    Plan(u32),
    /// `StringEquals` (`StringNotEquals` when `negated`) against one literal; an absent
    /// key answers `absent`, a multi-valued one false (R-COND-8).
    Equals {
        key: KeyId,
        literal: Text,
        negated: bool,
        absent: bool,
    },
    /// `Bool` against literal booleans: what a context `true` and `false` answer.
    Bool {
        key: KeyId,
        on_true: bool,
        on_false: bool,
        absent: bool,
    },
    /// A date operator (positive form `op`) against one instant, `ValueTests::instant`:
    /// the context value parsed through the scratch's memo.
    Date {
        key: KeyId,
        op: BaseOperator,
        negated: bool,
        absent: bool,
        instant: u32,
    },
    /// `Null`: what an absent and a present key answer (R-OPX-1).
    Null {
        key: KeyId,
        on_absent: bool,
        on_present: bool,
    },
    /// `ForAllValues`/`ForAnyValue` condition record `condition`: an absent key answers
    /// `absent` (`ForAllValues` or `IfExists`, R-COND-5), a present one runs the general
    /// condition code.
    Qualified {
        key: KeyId,
        condition: u32,
        absent: bool,
    },
    /// Another resolved value test, that of condition record `condition`.
    Test {
        key: KeyId,
        condition: u32,
        absent: bool,
    },
    /// Condition record `.0` through the general condition code (qualified, `Null`,
    /// unresolved operators).
    Condition(u32),
}

// An op stays small: a hop reads them in a stream.
const _: () = assert!(std::mem::size_of::<Op>() <= 16);

/// Every op shape, data-driven: a table of statements, each with the op its block must
/// hold, decided on a grid of resources and contexts (absent, matching, not matching,
/// multi-valued, unparsable) by the residual program, by the general path and by the
/// reference evaluator, which must agree.
#[cfg(test)]
mod tests {
    use crate::eval::Evaluator;

    /// A statement (its `Resource`/`NotResource` and `Condition` members) and the op its block
    /// must hold (the op's name, as `Debug` writes it).
    const STATEMENTS: &[(&str, &str)] = &[
        (r#""Resource":"arn:aws:s3:::b/k""#, "Exact"),
        (r#""Resource":"arn:aws:s3:::b/*""#, "Prefix"),
        (
            r#""Resource":["arn:aws:s3:::b/*","arn:aws:s3:::c"]"#,
            "AnyOf",
        ),
        (r#""NotResource":"arn:aws:s3:::b/*""#, "AnyOf"),
        (r#""NotResource":["arn:aws:s3:::c","*"]"#, "Fail"),
        (r#""Resource":"arn:aws:s3:::data-*/*""#, "Arn"),
        (r#""Resource":"arn:aws:s3:*:*:b/*""#, "Arn"),
        (r#""Resource":"d*-x""#, "Stars"),
        (
            r#""Resource":"arn:aws:s3:::home/${aws:username}/*""#,
            "VariableGlob",
        ),
        (r#""Resource":"arn:aws:s3:::${aws:username}/x""#, "Plan"),
        (
            r#""Resource":"*","Condition":{"StringEquals":{"aws:SourceVpc":"vpc-1"}}"#,
            "Equals",
        ),
        (
            r#""Resource":"*","Condition":{"StringNotEquals":{"aws:SourceVpc":"vpc-1"}}"#,
            "Equals",
        ),
        (
            r#""Resource":"*","Condition":{"StringEqualsIfExists":{"aws:SourceVpc":"vpc-1"}}"#,
            "Equals",
        ),
        (
            r#""Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"true"}}"#,
            "Bool",
        ),
        (
            r#""Resource":"*","Condition":{"BoolIfExists":{"aws:SecureTransport":"false"}}"#,
            "Bool",
        ),
        (
            r#""Resource":"*","Condition":{"DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"}}"#,
            "Date",
        ),
        (
            r#""Resource":"*","Condition":{"DateNotEquals":{"aws:CurrentTime":"2025-01-01T00:00:00Z"}}"#,
            "Date",
        ),
        (
            r#""Resource":"*","Condition":{"Null":{"aws:SourceVpc":"true"}}"#,
            "Null",
        ),
        (
            r#""Resource":"*","Condition":{"Null":{"aws:TagKeys":"false"}}"#,
            "Null",
        ),
        (
            r#""Resource":"*","Condition":{"ForAnyValue:StringLike":{"aws:TagKeys":"a*"}}"#,
            "Qualified",
        ),
        (
            r#""Resource":"*","Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":["a","b"]}}"#,
            "Qualified",
        ),
        (
            r#""Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#,
            "Test",
        ),
        (
            r#""Resource":"*","Condition":{"StringEquals":{"aws:SourceVpc":["vpc-1","vpc-2"]}}"#,
            "Test",
        ),
        (
            r#""Resource":"*","Condition":{"StringLike":{"aws:SourceVpc":"vpc-*"}}"#,
            "Test",
        ),
        (
            r#""Resource":"*","Condition":{"ArnNotLike":{"aws:SourceArn":"arn:aws:s3:::b*"}}"#,
            "Test",
        ),
        (
            r#""Resource":"*","Condition":{"StringEqualsIgnoreCase":{"aws:SourceVpc":"VPC-1"}}"#,
            "Condition",
        ),
    ];

    const RESOURCES: &[&str] = &[
        "arn:aws:s3:::b/k",
        "arn:aws:s3:::c",
        "arn:aws:s3:::data-1/x",
        "arn:aws:s3:us-east-1:1:b/k",
        "data-x",
        "arn:aws:s3:::home/a/k",
        "arn:aws:s3:::a/x",
    ];

    const CONTEXTS: &[&str] = &[
        "{}",
        r#"{"aws:SourceVpc":"vpc-1","aws:SecureTransport":"true","aws:CurrentTime":"2025-01-01T00:00:00Z",
            "aws:TagKeys":["a","b"],"aws:SourceIp":"10.1.2.3"}"#,
        r#"{"aws:SourceVpc":"vpc-2","aws:SecureTransport":"FALSE","aws:CurrentTime":"2035-01-01T00:00:00Z",
            "aws:TagKeys":["a","c"],"aws:SourceIp":"192.0.2.1"}"#,
        r#"{"aws:SourceVpc":["vpc-1"],"aws:SecureTransport":"yes","aws:CurrentTime":"not a date",
            "aws:TagKeys":"b","aws:SourceIp":"not an address"}"#,
    ];

    #[test]
    fn every_op_shape_decides_as_the_reference() {
        for (members, op) in STATEMENTS {
            let statement = format!(r#"{{"Effect":"Allow","Action":"s3:GetObject",{members}}}"#);
            for context in CONTEXTS {
                let text = format!(
                    r#"{{"id":"t","principal":"arn:aws:iam::111122223333:user/a",
                    "options":{{"mode":"lenient"}},"context":{context},
                    "policies":{{"identity":[{{"Version":"2012-10-17","Statement":[{statement}]}}]}},
                    "chain":[{{"action":"s3:GetObject","resource":"*"}}]}}"#
                );
                let mut case = crate::request::parse_case(&text, "test").unwrap();
                let program = crate::compile::compile(&case.chain.policies).unwrap();
                let evaluator = Evaluator::new(&program);
                let general = Evaluator::general(&program);
                let r = &evaluator.residual;
                let block = &r.ops[r.starts[0] as usize..];
                let Some(super::Op::Head { end, .. }) = block.first() else {
                    panic!("{members}: the block starts with its head");
                };
                let names: Vec<String> = block[1..*end as usize - r.starts[0] as usize]
                    .iter()
                    .map(|o| format!("{o:?}"))
                    .collect();
                assert!(
                    names.iter().any(|n| n.starts_with(op)),
                    "{members}: {op} in {names:?}"
                );
                assert!(evaluator.takes_residual_path("s3:GetObject"));
                let mut scratch = evaluator.scratch();
                for resource in RESOURCES {
                    case.chain.request.hops[0].resource = (*resource).into();
                    let expected = crate::reference::evaluate_chain(&case.chain);
                    for e in [&evaluator, &general] {
                        let outcome = e.evaluate(&case.chain.request, &mut scratch);
                        assert_eq!(
                            e.decision(&outcome),
                            expected,
                            "{members} on {resource} with {context}"
                        );
                    }
                }
            }
        }
    }
}
