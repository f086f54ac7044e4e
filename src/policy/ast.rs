//! The policy AST: what a policy document *means*, independent of its JSON spelling.
//!
//! The reference evaluator walks this tree directly; the compiler lowers it into tables.
//! Those two share this module and the primitives in [`crate::primitives`] and nothing else
//! (SEMANTICS.md R-GEN-4, R-COMP-4), so that a bug in one cannot hide in the other.
//!
//! Everything the parser can decide once is decided here: action patterns are case-folded
//! (R-ACT-2), condition keys canonicalised (R-CTX-2), policy variables split into tokens
//! (R-COMP-2), ARN condition values split into six parts before substitution (R-OPA-2).
//! Typed condition values (numbers, dates, IPs, base64) keep their source text: each
//! evaluator parses them with the shared primitives, so a lenient-mode invalid value yields
//! `Error` at every comparison in both (R-OP-ERR-1).
//!
//! ```
//! use fastiam::policy::{parse_policy, Effect, ParseOptions, PolicyKind};
//! let doc = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:Get*","Resource":"*"}}"#;
//! let policy = parse_policy(doc, "identity[0]", &ParseOptions::new(PolicyKind::Identity)).unwrap();
//! assert_eq!(policy.statements[0].effect, Effect::Allow);
//! ```

pub use crate::bytecode::vocabulary::{BaseOperator, Dialect, OperatorFamily, PolicyKind};

/// The `Version` element (R-GRAM-2, R-HW-1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Version {
    /// `2012-10-17`: policy variables are expanded.
    V2012_10_17,
    /// `2008-10-17`: `${…}` is literal text.
    V2008_10_17,
    /// No `Version` element: treated exactly like `2008-10-17`.
    Absent,
    /// Huawei `5.0`.
    Huawei5_0,
    /// Huawei legacy `1.1`.
    Huawei1_1,
}

impl Version {
    /// The dialect this version selects.
    pub fn dialect(self) -> Dialect {
        match self {
            Version::Huawei5_0 | Version::Huawei1_1 => Dialect::Huawei,
            _ => Dialect::Aws,
        }
    }
}

/// Strict or lenient loading (R-GEN-6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Mode {
    /// Anything the spec calls invalid is an error.
    #[default]
    Strict,
    /// Invalid *values* compile to never-matching or `Error` values; structure is still checked.
    Lenient,
}

/// One parsed policy document.
#[derive(Clone, Debug, PartialEq)]
pub struct Policy {
    /// The name used in explanations: `identity[0]`, `scp[1][0]`, or the case's own id.
    pub id: String,
    pub kind: PolicyKind,
    pub version: Version,
    pub statements: Vec<Statement>,
}

impl Policy {
    /// The dialect the policy's `Version` selects.
    pub fn dialect(&self) -> Dialect {
        self.version.dialect()
    }
}

/// `Allow` or `Deny` (case-sensitive, R-GRAM-6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Effect {
    Allow,
    Deny,
}

/// One statement (R-GRAM-6).
#[derive(Clone, Debug, PartialEq)]
pub struct Statement {
    /// Position in the policy's `Statement` array (0 for a single statement object).
    pub index: usize,
    pub sid: Option<String>,
    pub effect: Effect,
    /// `None` for policy kinds without principals (identity, boundary, session, SCP).
    pub principal: Option<PrincipalClause>,
    pub action: ActionClause,
    pub resource: ResourceClause,
    /// Condition entries, one per (operator, key) pair, in source order (R-COND-4: all ANDed).
    pub conditions: Vec<Condition>,
}

/// `Action` or `NotAction` (R-ACT-5).
#[derive(Clone, Debug, PartialEq)]
pub struct ActionClause {
    /// `true` for `NotAction`.
    pub negated: bool,
    pub patterns: Vec<ActionPattern>,
}

/// One action pattern, already case-folded (R-ACT-2, R-OPS-3).
#[derive(Clone, Debug, PartialEq)]
pub enum ActionPattern {
    /// `"*"`: every action.
    Any,
    /// AWS `service:name` (R-ACT-1, R-ACT-4). `service` is glob-matched only in lenient
    /// mode, where a wildcard inside it is allowed; in strict mode it has no wildcard, so a
    /// glob match is the same as literal comparison.
    Aws { service: String, name: String },
    /// Huawei: a whole-string glob where `*` also crosses `:` (R-HW-5).
    Huawei(String),
    /// An invalid pattern kept in lenient mode: matches nothing (R-ACT-4).
    Never,
}

/// `Resource` or `NotResource` (R-RES-8), or the implicit resource of a resource policy.
#[derive(Clone, Debug, PartialEq)]
pub struct ResourceClause {
    /// `true` for `NotResource`.
    pub negated: bool,
    pub patterns: Vec<ResourcePattern>,
}

impl ResourceClause {
    /// The clause of a resource-policy statement without `Resource`/`NotResource`: it applies
    /// to the resource the policy is attached to (R-GRAM-6), and of a Huawei statement
    /// without `Resource`, which means all resources (R-HW-2). Both are modelled as `"*"`.
    pub fn implicit_any() -> Self {
        ResourceClause {
            negated: false,
            patterns: vec![ResourcePattern::Any],
        }
    }
}

/// One resource pattern (R-RES-1..8, R-HW-7).
#[derive(Clone, Debug, PartialEq)]
pub enum ResourcePattern {
    /// `"*"`: every resource, including the request resource `*`.
    Any,
    /// An ARN pattern: five segments glob-matched separately (never expanded, R-VAR-3)
    /// and the resource part, which may hold variables.
    Arn {
        segments: [String; 5],
        resource: Pattern,
    },
    /// A Huawei URN pattern: four segments (the first compared case-insensitively,
    /// R-HW-7; stored folded) and the path, which may hold variables when enabled.
    Urn {
        segments: [String; 4],
        path: Pattern,
    },
    /// A non-ARN AWS resource string: a case-sensitive whole-string glob (R-RES-3).
    Plain(Pattern),
    /// An invalid pattern kept in lenient mode: matches nothing (R-RES-3).
    Never,
}

/// A string in a policy that may contain policy variables (R-VAR-*, R-COMP-2).
///
/// Whether `*` and `?` inside [`Token::Text`] are wildcards depends on where the pattern is
/// used (Resource, `StringLike`, ARN operators: yes; `StringEquals`: no). Text that came
/// from an escape (`${*}`) or from a substituted variable is never a wildcard (R-VAR-2).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Pattern {
    pub tokens: Vec<Token>,
}

impl Pattern {
    /// A pattern of plain source text with no variables.
    pub fn text(s: &str) -> Self {
        if s.is_empty() {
            return Pattern::default();
        }
        Pattern {
            tokens: vec![Token::Text(s.to_string())],
        }
    }

    /// Whether the pattern references any policy variable.
    pub fn has_variables(&self) -> bool {
        self.tokens.iter().any(|t| matches!(t, Token::Variable(_)))
    }

    /// The canonical names of the variables the pattern references.
    pub fn variables(&self) -> impl Iterator<Item = &Variable> {
        self.tokens.iter().filter_map(|t| match t {
            Token::Variable(v) => Some(v),
            _ => None,
        })
    }
}

/// One token of a [`Pattern`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Token {
    /// Source text; `*`/`?` in it are wildcards where the use site globs.
    Text(String),
    /// Literal text from `${*}`, `${?}`, `${$}`: never a wildcard.
    Literal(String),
    /// `${key}` or `${key, 'default'}`.
    Variable(Variable),
    /// A malformed `${…}` kept in lenient mode: the value can never be resolved (R-VAR-4).
    Unresolvable,
}

/// A policy variable reference (R-VAR-1, R-VAR-4).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Variable {
    /// Canonical key name (R-CTX-2).
    pub key: String,
    /// The default used when the key is absent or multi-valued (R-VAR-6).
    pub default: Option<String>,
}

/// `Principal` or `NotPrincipal` (R-PRIN-*, R-HW-8).
#[derive(Clone, Debug, PartialEq)]
pub struct PrincipalClause {
    /// `true` for `NotPrincipal`.
    pub negated: bool,
    pub entries: Vec<PrincipalEntry>,
}

/// One principal named by a resource policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PrincipalEntry {
    /// `"*"`, `{"AWS": "*"}`, Huawei `{"IAM": "*"}` / `{"ID": "*"}`: everyone (R-PRIN-1).
    Wildcard,
    /// `{"AWS": id}` (AWS) or `{"IAM": id}` (Huawei): an account id, root ARN, user, role,
    /// session or federated-user ARN / URN.
    Account(String),
    /// `{"Service": name}`; `"*"` names every service principal.
    Service(String),
    /// `{"Federated": provider}`.
    Federated(String),
    /// `{"CanonicalUser": id}`.
    CanonicalUser(String),
    /// Huawei OBS `{"ID": id}`.
    ObsId(String),
    /// An invalid entry kept in lenient mode (a partial wildcard, R-PRIN-2): matches nothing.
    Never,
}

/// One `(operator, key, values)` entry of a `Condition` block (R-COND-1).
#[derive(Clone, Debug, PartialEq)]
pub struct Condition {
    pub operator: Operator,
    /// The key as written, for explanations.
    pub key_written: String,
    /// The canonical key (R-CTX-2).
    pub key: String,
    pub values: ConditionValues,
}

/// The policy values of a condition entry, in the form the operator needs.
#[derive(Clone, Debug, PartialEq)]
pub enum ConditionValues {
    /// String, Bool operators: text patterns, with variables where the version allows.
    Patterns(Vec<Pattern>),
    /// ARN operators: each value split into six parts before substitution (R-OPA-2);
    /// `None` for a value with fewer than six parts (lenient mode: `Error`).
    Arns(Vec<Option<[Pattern; 6]>>),
    /// Numeric, Date, IP, Binary operators: source text, parsed by each evaluator with the
    /// shared primitives; an unparsable text (lenient mode only) yields `Error`.
    Typed(Vec<String>),
    /// `Null`: `Some(true)` = key absent, `Some(false)` = key present, `None` = invalid
    /// (lenient mode: never matches) (R-COND-9).
    Null(Vec<Option<bool>>),
}

impl ConditionValues {
    /// How many policy values the entry has (R-JSON-2: zero only in lenient mode).
    pub fn len(&self) -> usize {
        match self {
            ConditionValues::Patterns(v) => v.len(),
            ConditionValues::Arns(v) => v.len(),
            ConditionValues::Typed(v) => v.len(),
            ConditionValues::Null(v) => v.len(),
        }
    }

    /// Whether the entry has no policy values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every policy variable referenced by the values (R-SIM-4, R-COMP-3).
    pub fn variables(&self) -> Vec<&Variable> {
        match self {
            ConditionValues::Patterns(v) => v.iter().flat_map(|p| p.variables()).collect(),
            ConditionValues::Arns(v) => v
                .iter()
                .flatten()
                .flat_map(|parts| parts.iter().flat_map(|p| p.variables()))
                .collect(),
            ConditionValues::Typed(_) | ConditionValues::Null(_) => Vec::new(),
        }
    }
}

/// A condition operator: `[ForAllValues:|ForAnyValue:]Base[IfExists]` (R-COND-1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Operator {
    pub qualifier: Option<SetQualifier>,
    pub base: BaseOperator,
    pub if_exists: bool,
}

/// `ForAllValues:` / `ForAnyValue:` (R-COND-10).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SetQualifier {
    ForAllValues,
    ForAnyValue,
}
