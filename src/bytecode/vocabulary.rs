//! The words the run time shares with the policy language: dialect, policy kind, operator.
//!
//! The interpreter and the table verifier need a few of the policy AST's enums — which cloud
//! a request speaks ([`Dialect`]), which kind of policy a statement is in ([`PolicyKind`],
//! whose order is R-SIM-3's), and the condition operators with their families and negations
//! ([`BaseOperator`], stored in a program as an index into [`BaseOperator::ALL`]). They are
//! defined here, once, so that the run-time side (`eval/`, `table/`, `bytecode/`) needs
//! nothing from `policy/` or `compile/`; `policy::ast` re-exports them, so the parser, the
//! reference evaluator and the compiler spell them as before.
//!
//! ```
//! use fastiam::bytecode::{BaseOperator, OperatorFamily};
//! assert_eq!(BaseOperator::NotIpAddress.positive(), BaseOperator::IpAddress);
//! assert_eq!(BaseOperator::NotIpAddress.family(), OperatorFamily::Ip);
//! // The same type as the policy AST's.
//! let parsed: fastiam::policy::BaseOperator = BaseOperator::Null;
//! assert!(!parsed.is_negated());
//! ```

/// Which cloud's policy language a document is written in (R-GEN-5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// AWS IAM JSON (`2012-10-17`, `2008-10-17` or no `Version`).
    Aws,
    /// Huawei Cloud IAM (`5.0`, legacy `1.1`), §14.
    Huawei,
}

impl Dialect {
    /// The prefix of this dialect's global condition keys (`aws:` / `g:`).
    pub fn global_prefix(self) -> &'static str {
        match self {
            Dialect::Aws => "aws:",
            Dialect::Huawei => "g:",
        }
    }

    /// The name used in case files (`aws` / `huawei`).
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Aws => "aws",
            Dialect::Huawei => "huawei",
        }
    }
}

/// The kinds of policy the evaluator accepts (R-GRAM-8, R-EVAL-0).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PolicyKind {
    /// Service control policy (principal side, per organisation level).
    Scp,
    /// Resource control policy (resource side, per organisation level).
    Rcp,
    /// VPC endpoint policy of the endpoint hop 0 went through.
    VpcEndpoint,
    /// Resource-based policy (bucket policy, key policy, role trust policy, ...).
    ResourceBased,
    /// Identity policy of the user (with its groups) or role.
    Identity,
    /// Permissions boundary.
    PermissionsBoundary,
    /// Session policy passed when temporary credentials were made.
    Session,
}

impl PolicyKind {
    /// Whether statements of this kind carry a `Principal`/`NotPrincipal` (R-GRAM-8).
    pub fn has_principal(self) -> bool {
        matches!(
            self,
            PolicyKind::ResourceBased | PolicyKind::Rcp | PolicyKind::VpcEndpoint
        )
    }

    /// Lower-case name used in policy ids and explanations (`identity`, `scp`, ...).
    pub fn name(self) -> &'static str {
        match self {
            PolicyKind::Scp => "scp",
            PolicyKind::Rcp => "rcp",
            PolicyKind::VpcEndpoint => "vpce",
            PolicyKind::ResourceBased => "resource",
            PolicyKind::Identity => "identity",
            PolicyKind::PermissionsBoundary => "boundary",
            PolicyKind::Session => "session",
        }
    }
}

/// The type family of an operator: decides how policy and context values are compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OperatorFamily {
    String,
    Numeric,
    Date,
    Bool,
    Binary,
    Ip,
    Arn,
    Null,
}

macro_rules! base_operators {
    ($( $variant:ident = $aws:literal, $family:ident, $negated:literal, $positive:ident; )*) => {
        /// Base condition operators (§7, R-HW-9). Negated ones combine values with NOR
        /// (R-COND-4) and have a positive counterpart (R-COND-7).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum BaseOperator { $( $variant, )* }

        impl BaseOperator {
            /// Every base operator, in declaration order.
            pub const ALL: &'static [BaseOperator] = &[ $( BaseOperator::$variant, )* ];

            /// The canonical AWS spelling (Huawei spellings are aliases, R-HW-9).
            pub fn name(self) -> &'static str {
                match self { $( BaseOperator::$variant => $aws, )* }
            }

            /// The type family.
            pub fn family(self) -> OperatorFamily {
                match self { $( BaseOperator::$variant => OperatorFamily::$family, )* }
            }

            /// Whether this is one of the negated operators (R-COND-5).
            pub fn is_negated(self) -> bool {
                match self { $( BaseOperator::$variant => $negated, )* }
            }

            /// The positive counterpart used for one comparison (R-COND-7); itself if positive.
            pub fn positive(self) -> BaseOperator {
                match self { $( BaseOperator::$variant => BaseOperator::$positive, )* }
            }
        }
    };
}

base_operators! {
    StringEquals = "StringEquals", String, false, StringEquals;
    StringNotEquals = "StringNotEquals", String, true, StringEquals;
    StringEqualsIgnoreCase = "StringEqualsIgnoreCase", String, false, StringEqualsIgnoreCase;
    StringNotEqualsIgnoreCase = "StringNotEqualsIgnoreCase", String, true, StringEqualsIgnoreCase;
    StringLike = "StringLike", String, false, StringLike;
    StringNotLike = "StringNotLike", String, true, StringLike;
    StringStartWith = "StringStartWith", String, false, StringStartWith;
    StringNotStartWith = "StringNotStartWith", String, true, StringStartWith;
    StringEndWith = "StringEndWith", String, false, StringEndWith;
    StringNotEndWith = "StringNotEndWith", String, true, StringEndWith;
    NumericEquals = "NumericEquals", Numeric, false, NumericEquals;
    NumericNotEquals = "NumericNotEquals", Numeric, true, NumericEquals;
    NumericLessThan = "NumericLessThan", Numeric, false, NumericLessThan;
    NumericLessThanEquals = "NumericLessThanEquals", Numeric, false, NumericLessThanEquals;
    NumericGreaterThan = "NumericGreaterThan", Numeric, false, NumericGreaterThan;
    NumericGreaterThanEquals = "NumericGreaterThanEquals", Numeric, false, NumericGreaterThanEquals;
    DateEquals = "DateEquals", Date, false, DateEquals;
    DateNotEquals = "DateNotEquals", Date, true, DateEquals;
    DateLessThan = "DateLessThan", Date, false, DateLessThan;
    DateLessThanEquals = "DateLessThanEquals", Date, false, DateLessThanEquals;
    DateGreaterThan = "DateGreaterThan", Date, false, DateGreaterThan;
    DateGreaterThanEquals = "DateGreaterThanEquals", Date, false, DateGreaterThanEquals;
    Bool = "Bool", Bool, false, Bool;
    BinaryEquals = "BinaryEquals", Binary, false, BinaryEquals;
    IpAddress = "IpAddress", Ip, false, IpAddress;
    NotIpAddress = "NotIpAddress", Ip, true, IpAddress;
    ArnEquals = "ArnEquals", Arn, false, ArnLike;
    ArnLike = "ArnLike", Arn, false, ArnLike;
    ArnNotEquals = "ArnNotEquals", Arn, true, ArnLike;
    ArnNotLike = "ArnNotLike", Arn, true, ArnLike;
    Null = "Null", Null, false, Null;
}

impl BaseOperator {
    /// Whether policy values of this operator may contain variables (R-VAR-3).
    pub fn allows_variables(self) -> bool {
        matches!(
            self.family(),
            OperatorFamily::String | OperatorFamily::Arn | OperatorFamily::Bool
        )
    }
}
