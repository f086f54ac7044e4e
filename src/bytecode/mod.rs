//! The compiled program's vocabulary: record layouts and operation codes, defined once.
//!
//! A program is a handful of flat tables of fixed-size little-endian records plus one
//! UTF-8 string blob (FORMAT.md). Every record is `#[repr(C)]` plain old data, so a table
//! is a `&[Record]` cast from the file's bytes with `bytemuck` — alignment and size are
//! checked by the cast, never assumed. Every enum stored in a record is a `u32` code; the
//! only way from a code to an enum is a checked `from_code`, so a corrupt file is an error
//! at load, never a wild `match`.
//!
//! Ids are indices into their table: [`StrId`] into `strings`, [`KeyId`] into `keys`
//! (sorted by name, so key order is name order), statement ids into `statements` (sorted
//! in R-SIM-3 order: kind, level, position, index — so sorting ids sorts explanations).
//! [`NONE`] marks an absent optional id.

use bytemuck::{Pod, Zeroable};

pub mod vocabulary;

pub use vocabulary::{BaseOperator, Dialect, OperatorFamily, PolicyKind};

/// An absent optional id.
pub const NONE: u32 = u32::MAX;

/// Index into the string table.
pub type StrId = u32;
/// Index into the key table.
pub type KeyId = u32;
/// Index into the statement table.
pub type StatementId = u32;

/// Defines a `u32`-coded enum with a checked decoder and a name for the disassembler.
macro_rules! codes {
    ($(#[$meta:meta])* $name:ident { $( $(#[$vmeta:meta])* $variant:ident = $code:literal, )* }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[repr(u32)]
        pub enum $name { $( $(#[$vmeta])* $variant = $code, )* }

        impl $name {
            /// Every variant.
            pub const ALL: &'static [$name] = &[ $( $name::$variant, )* ];

            /// The checked decoder: `None` for a code no variant has.
            #[inline]
            pub fn from_code(code: u32) -> Option<Self> {
                match code {
                    $( $code => Some($name::$variant), )*
                    _ => None,
                }
            }

            /// The code stored in a record.
            #[inline]
            pub fn code(self) -> u32 {
                self as u32
            }

            /// The variant's name (disassembler, errors).
            pub fn name(self) -> &'static str {
                match self { $( $name::$variant => stringify!($variant), )* }
            }
        }
    };
}

codes! {
    /// How one string is matched (resources, ARN segments, condition values).
    MatcherKind {
        /// Matches every string.
        Any = 0,
        /// Equal to `a`.
        Exact = 1,
        /// Starts with `a` (the pattern was `a*`).
        Prefix = 2,
        /// Ends with `a` (`*a`).
        Suffix = 3,
        /// Wildcard pattern `a` (`*`, `?` active).
        Glob = 4,
        /// Wildcard pattern `a` compared with the case-folded text (Huawei URN service).
        GlobFolded = 5,
        /// Tokens `a..a+b` with policy variables, wildcards active.
        TokensGlob = 6,
        /// Tokens `a..a+b` with policy variables, compared literally.
        TokensText = 7,
        /// Never matches (an invalid value kept in lenient mode).
        Never = 8,
    }
}

codes! {
    /// One token of a pattern with variables (R-COMP-2).
    TokenKind {
        /// Source text `a`; `*`/`?` are wildcards where the use site globs.
        Text = 0,
        /// Literal text `a` from `${*}`, `${?}`, `${$}`.
        Literal = 1,
        /// Variable: key `a`, default string `b` or NONE.
        Variable = 2,
        /// A malformed variable kept in lenient mode: never resolves.
        Unresolvable = 3,
    }
}

codes! {
    /// One action pattern of a statement (R-ACT-*).
    ActionKind {
        Any = 0,
        /// AWS `service:name` globs, both folded: `a` service, `b` name.
        Aws = 1,
        /// Huawei whole-string folded glob `a`.
        Huawei = 2,
        Never = 3,
    }
}

codes! {
    /// One resource pattern (R-RES-*, R-HW-7).
    ResourceKind {
        Any = 0,
        /// ARN: matchers `a..a+5` for the five segments, `a+5` for the resource part.
        Arn = 1,
        /// URN: matchers `a..a+4` for the four segments, `a+4` for the path.
        Urn = 2,
        /// Whole-string matcher `a`.
        Plain = 3,
        Never = 4,
    }
}

codes! {
    /// One principal entry of a resource-policy statement (R-PRIN-*).
    PrincipalKind {
        Wildcard = 0,
        /// AWS `AWS` / Huawei `IAM` value `a`.
        Account = 1,
        /// Service `a` (`*` for all).
        Service = 2,
        Federated = 3,
        CanonicalUser = 4,
        /// Huawei OBS `ID` value `a`.
        ObsId = 5,
        Never = 6,
    }
}

codes! {
    /// A typed policy value of a condition (parsed at compile time).
    ValueKind {
        /// String operators: matcher `a`.
        Matcher = 0,
        /// Bool: `a` is 0 or 1.
        Bool = 1,
        /// Bool with variables: matcher `a` (a `TokensText`), parsed after substitution.
        BoolMatcher = 2,
        /// Decimal: the validated text `a` (R-OPN-2).
        Number = 3,
        /// Date: seconds `a` (low) `b` (high), nanoseconds `c`.
        Date = 4,
        /// All the CIDRs of an IP condition as a prefix table: ranges `a..a+b` (IPv4) and
        /// `a+b..a+b+c` (IPv6) of `ip_ranges`, sorted and disjoint; `d` = 1 when the
        /// condition also had invalid values (lenient mode: `Error`, R-OP-ERR-1).
        IpTable = 5,
        /// Base64 in canonical form `a` (decoding is one-to-one, so equal text = equal bytes).
        Base64 = 7,
        /// ARN: matchers `a..a+6`, one per part (R-OPA-2).
        Arn = 8,
        /// Null: `a` = 1 for "absent", 0 for "present".
        Null = 9,
        /// An invalid value kept in lenient mode: every comparison is `Error` (R-OP-ERR-1).
        Error = 10,
        /// An invalid Null value kept in lenient mode: never matches.
        Never = 11,
    }
}

/// A slice of the string blob.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
#[repr(C)]
pub struct StrRef {
    pub start: u32,
    pub len: u32,
}

/// A context key the program refers to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
#[repr(C)]
pub struct KeyRec {
    /// Canonical name (R-CTX-2); the table is sorted by it.
    pub name: StrId,
    /// `KEY_*` flags.
    pub flags: u32,
}

/// The key is carried to an AWS forwarded hop (R-FAS-4, with `preserve_source_ip`).
pub const KEY_CARRIED_AWS: u32 = 1;
/// The key is carried to a Huawei forwarded hop (R-HW-13).
pub const KEY_CARRIED_HUAWEI: u32 = 2;
/// The key is `aws:sourceip` (dropped when `preserve_source_ip` is off, R-FAS-5).
pub const KEY_SOURCE_IP: u32 = 4;

/// One policy.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
#[repr(C)]
pub struct PolicyRec {
    pub id: StrId,
    /// [`PolicyKind`] as a code (see [`policy_kind_code`]).
    pub kind: u32,
    /// SCP/RCP level, else NONE.
    pub level: u32,
    /// Position among the policies of its kind (and level); the resource-policy slot.
    pub position: u32,
    pub statements_first: u32,
    pub statements_len: u32,
}

/// One statement.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
#[repr(C)]
pub struct StatementRec {
    pub policy: u32,
    /// Index in its policy's `Statement` array.
    pub index: u32,
    pub sid: StrId,
    /// `STMT_*` flags.
    pub flags: u32,
    pub principals_first: u32,
    pub principals_len: u32,
    pub actions_first: u32,
    pub actions_len: u32,
    pub resources_first: u32,
    pub resources_len: u32,
    pub conditions_first: u32,
    pub conditions_len: u32,
    /// Referenced keys (condition keys and variables), sorted, deduplicated (R-COMP-3).
    pub keys_first: u32,
    pub keys_len: u32,
}

/// Effect is Deny.
pub const STMT_DENY: u32 = 1;
/// The statement has a principal clause.
pub const STMT_HAS_PRINCIPAL: u32 = 2;
/// `NotPrincipal`.
pub const STMT_NOT_PRINCIPAL: u32 = 4;
/// `NotAction`.
pub const STMT_NOT_ACTION: u32 = 8;
/// `NotResource`.
pub const STMT_NOT_RESOURCE: u32 = 16;
/// Every flag a valid statement may carry.
pub const STMT_ALL_FLAGS: u32 = 31;

/// One action pattern.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
#[repr(C)]
pub struct ActionRec {
    pub kind: u32,
    pub a: StrId,
    pub b: StrId,
}

/// One resource pattern.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
#[repr(C)]
pub struct ResourceRec {
    pub kind: u32,
    pub a: u32,
}

/// One string matcher.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
#[repr(C)]
pub struct MatcherRec {
    pub kind: u32,
    pub a: u32,
    pub b: u32,
}

/// One token of a pattern with variables.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
#[repr(C)]
pub struct TokenRec {
    pub kind: u32,
    pub a: u32,
    pub b: u32,
}

/// One principal entry.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
#[repr(C)]
pub struct PrincipalRec {
    pub kind: u32,
    pub value: StrId,
}

/// One condition entry: `(operator, key, values)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
#[repr(C)]
pub struct ConditionRec {
    /// Index of the base operator in [`BaseOperator::ALL`].
    pub base: u32,
    /// 0 none, 1 `ForAllValues`, 2 `ForAnyValue`.
    pub qualifier: u32,
    /// 1 for `…IfExists`.
    pub if_exists: u32,
    pub key: KeyId,
    pub values_first: u32,
    pub values_len: u32,
}

/// One typed policy value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
#[repr(C)]
pub struct ValueRec {
    pub kind: u32,
    pub a: u32,
    pub b: u32,
    pub c: u32,
    pub d: u32,
    pub e: u32,
}

/// One service of the action index: the folded service prefix and its entries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
#[repr(C)]
pub struct ServiceRec {
    pub name: StrId,
    /// Exact action names, sorted by name: `index_exact[exact_first..+exact_len]`.
    pub exact_first: u32,
    pub exact_len: u32,
    /// Name globs: `index_globs[globs_first..+globs_len]`.
    pub globs_first: u32,
    pub globs_len: u32,
}

/// An exact folded action name and the statements whose `Action` lists it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
#[repr(C)]
pub struct ExactRec {
    pub name: StrId,
    /// `index_statements[statements_first..+statements_len]`.
    pub statements_first: u32,
    pub statements_len: u32,
}

/// A folded action-name glob of one service and the statement that has it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
#[repr(C)]
pub struct GlobRec {
    pub pattern: StrId,
    pub statement: StatementId,
}

/// One address range of an IP prefix table, inclusive, as big-endian words (an IPv4
/// range uses only the last word).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
#[repr(C)]
pub struct IpRangeRec {
    pub lo: [u32; 4],
    pub hi: [u32; 4],
}

impl IpRangeRec {
    /// The range as 128-bit numbers.
    pub fn bounds(&self) -> (u128, u128) {
        let n = |w: [u32; 4]| w.iter().fold(0u128, |acc, x| acc << 32 | *x as u128);
        (n(self.lo), n(self.hi))
    }

    /// A range from 128-bit numbers.
    pub fn new(lo: u128, hi: u128) -> Self {
        let w = |x: u128| {
            [
                (x >> 96) as u32,
                (x >> 64) as u32,
                (x >> 32) as u32,
                x as u32,
            ]
        };
        IpRangeRec {
            lo: w(lo),
            hi: w(hi),
        }
    }
}

/// Program-wide facts about the policy set.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
#[repr(C)]
pub struct MetaRec {
    /// 1 when a permissions boundary is present.
    pub has_boundary: u32,
    /// 1 when session policies were passed (even none, R-STS-3).
    pub has_session: u32,
    pub scp_levels: u32,
    pub rcp_levels: u32,
    /// 1 when a VPC-endpoint policy is present.
    pub has_vpce: u32,
    /// Number of resource-policy slots.
    pub resource_policies: u32,
}

/// The code of a policy kind in [`PolicyRec::kind`]; its order is R-SIM-3's.
pub fn policy_kind_code(kind: PolicyKind) -> u32 {
    use PolicyKind as K;
    match kind {
        K::Scp => 0,
        K::Rcp => 1,
        K::VpcEndpoint => 2,
        K::ResourceBased => 3,
        K::Identity => 4,
        K::PermissionsBoundary => 5,
        K::Session => 6,
    }
}

/// The policy kind of a code; `None` for an unknown code.
pub fn policy_kind_from_code(code: u32) -> Option<PolicyKind> {
    use PolicyKind as K;
    Some(match code {
        0 => K::Scp,
        1 => K::Rcp,
        2 => K::VpcEndpoint,
        3 => K::ResourceBased,
        4 => K::Identity,
        5 => K::PermissionsBoundary,
        6 => K::Session,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The record sizes are part of the file format (FORMAT.md): a change is a new version.
    #[test]
    fn record_sizes_are_pinned() {
        assert_eq!(std::mem::size_of::<StrRef>(), 8);
        assert_eq!(std::mem::size_of::<KeyRec>(), 8);
        assert_eq!(std::mem::size_of::<PolicyRec>(), 24);
        assert_eq!(std::mem::size_of::<StatementRec>(), 56);
        assert_eq!(std::mem::size_of::<ActionRec>(), 12);
        assert_eq!(std::mem::size_of::<ResourceRec>(), 8);
        assert_eq!(std::mem::size_of::<MatcherRec>(), 12);
        assert_eq!(std::mem::size_of::<TokenRec>(), 12);
        assert_eq!(std::mem::size_of::<PrincipalRec>(), 8);
        assert_eq!(std::mem::size_of::<ConditionRec>(), 24);
        assert_eq!(std::mem::size_of::<ValueRec>(), 24);
        assert_eq!(std::mem::size_of::<ServiceRec>(), 20);
        assert_eq!(std::mem::size_of::<ExactRec>(), 12);
        assert_eq!(std::mem::size_of::<GlobRec>(), 8);
        assert_eq!(std::mem::size_of::<MetaRec>(), 24);
        assert_eq!(std::mem::size_of::<IpRangeRec>(), 32);
    }

    #[test]
    fn codes_round_trip_and_unknown_codes_are_refused() {
        for k in MatcherKind::ALL {
            assert_eq!(MatcherKind::from_code(k.code()), Some(*k));
        }
        for k in ValueKind::ALL {
            assert_eq!(ValueKind::from_code(k.code()), Some(*k));
        }
        assert_eq!(MatcherKind::from_code(MatcherKind::ALL.len() as u32), None);
        assert_eq!(ValueKind::from_code(u32::MAX), None);
        for code in 0..7 {
            assert_eq!(policy_kind_code(policy_kind_from_code(code).unwrap()), code);
        }
        assert_eq!(policy_kind_from_code(7), None);
    }
}
