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

use crate::bytecode::KeyId;
use crate::bytecode::PolicyKind as Kind;

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
    /// with its `:`), and segments `literal..6` pass `Residual::arn_segs[segs..]`.
    Arn { head: Text, literal: u8, segs: u32 },
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
