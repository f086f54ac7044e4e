//! Does one statement apply? Action, resource, principal and condition clauses, walked
//! straight off the AST (R-STMT-1). Allocation is allowed here; clarity is the point.

use crate::policy::*;
use crate::primitives::{self, Comparison, Piece};
use crate::request::{Context, ContextValue, Principal, PrincipalKind};

// ---------------------------------------------------------------------------------------
// Patterns and variables (R-VAR-*)

/// Resolves one variable against the context (R-VAR-6): a single value, else the default,
/// else `None` (unresolvable).
pub fn resolve_variable<'c>(var: &'c Variable, ctx: &'c Context) -> Option<&'c str> {
    match ctx.get(&var.key) {
        Some(ContextValue::Single(v)) => Some(v),
        _ => var.default.as_deref(),
    }
}

/// Glob pieces of a pattern after substitution; `None` if a variable is unresolvable.
/// `wildcards`: whether `*`/`?` in source text are wildcards at this use site.
pub fn resolve_pieces<'p>(
    pattern: &'p Pattern,
    ctx: &'p Context,
    wildcards: bool,
) -> Option<Vec<Piece<'p>>> {
    let mut out = Vec::new();
    for token in &pattern.tokens {
        match token {
            Token::Text(t) if wildcards => out.extend(primitives::parse_wildcards(t)),
            Token::Text(t) | Token::Literal(t) => out.push(Piece::Lit(t)),
            Token::Variable(v) => out.push(Piece::Lit(resolve_variable(v, ctx)?)),
            Token::Unresolvable => return None,
        }
    }
    Some(out)
}

/// The pattern's text after substitution, every character literal; `None` if unresolvable.
pub fn resolve_text(pattern: &Pattern, ctx: &Context) -> Option<String> {
    let mut out = String::new();
    for token in &pattern.tokens {
        match token {
            Token::Text(t) | Token::Literal(t) => out.push_str(t),
            Token::Variable(v) => out.push_str(resolve_variable(v, ctx)?),
            Token::Unresolvable => return None,
        }
    }
    Some(out)
}

// ---------------------------------------------------------------------------------------
// Actions (R-ACT-*, R-HW-5)

pub fn action_clause_matches(clause: &ActionClause, action: &str) -> bool {
    let any = clause.patterns.iter().any(|p| action_matches(p, action));
    any != clause.negated
}

fn action_matches(pattern: &ActionPattern, action: &str) -> bool {
    match pattern {
        ActionPattern::Any => true,
        ActionPattern::Never => false,
        ActionPattern::Huawei(p) => primitives::wildcard_match(p, &primitives::fold(action)),
        ActionPattern::Aws { service, name } => {
            let folded = primitives::fold(action);
            match folded.split_once(':') {
                Some((s, n)) => {
                    primitives::wildcard_match(service, s) && primitives::wildcard_match(name, n)
                }
                None => false,
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Resources (R-RES-*, R-HW-7)

pub fn resource_clause_matches(clause: &ResourceClause, resource: &str, ctx: &Context) -> bool {
    let any = clause
        .patterns
        .iter()
        .any(|p| resource_matches(p, resource, ctx));
    any != clause.negated
}

fn resource_matches(pattern: &ResourcePattern, resource: &str, ctx: &Context) -> bool {
    match pattern {
        ResourcePattern::Any => true,
        ResourcePattern::Never => false,
        ResourcePattern::Plain(p) => glob(p, resource, ctx),
        ResourcePattern::Arn {
            segments,
            resource: rp,
        } => {
            // R-RES-4a: the request resource must itself be a six-part ARN.
            let Some(parts) = primitives::split_arn(resource) else {
                return false;
            };
            segments
                .iter()
                .zip(parts)
                .all(|(seg, part)| primitives::wildcard_match(seg, part))
                && glob(rp, parts[5], ctx)
        }
        ResourcePattern::Urn { segments, path } => {
            let Some(parts) = primitives::split_urn(resource) else {
                return false;
            };
            primitives::wildcard_match(&segments[0], &primitives::fold(parts[0]))
                && (1..4).all(|i| primitives::wildcard_match(&segments[i], parts[i]))
                && glob(path, parts[4], ctx)
        }
    }
}

/// A wildcard pattern with variables against a text; unresolvable → no match (R-VAR-6).
fn glob(pattern: &Pattern, text: &str, ctx: &Context) -> bool {
    resolve_pieces(pattern, ctx, true).is_some_and(|pieces| primitives::glob_match(&pieces, text))
}

// ---------------------------------------------------------------------------------------
// Principals (R-PRIN-*, R-HW-8)

/// The category under which a resource-policy principal entry names the requester
/// (R-PRIN-3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Category {
    Wildcard,
    Direct,
    Role,
    SessionParentUser,
    Account,
}

/// The categories under which a principal clause names the requester; empty if it does
/// not apply. A `NotPrincipal` clause that applies yields `Wildcard`.
pub fn principal_categories(
    clause: &PrincipalClause,
    effect: Effect,
    p: &Principal,
    has_boundary: bool,
    ctx: &Context,
) -> Vec<Category> {
    if clause.negated {
        // R-PRIN-5: Deny + NotPrincipal always applies to a principal with a boundary.
        let quirk = effect == Effect::Deny && has_boundary;
        return if quirk || !exempted(&clause.entries, effect, p) {
            vec![Category::Wildcard]
        } else {
            vec![]
        };
    }
    let mut out: Vec<Category> = clause
        .entries
        .iter()
        .filter_map(|e| entry_category(e, p, ctx))
        .collect();
    out.sort();
    out.dedup();
    out
}

fn entry_category(entry: &PrincipalEntry, p: &Principal, ctx: &Context) -> Option<Category> {
    match entry {
        PrincipalEntry::Wildcard => Some(Category::Wildcard),
        PrincipalEntry::Never | PrincipalEntry::CanonicalUser(_) => None,
        PrincipalEntry::Service(s) => (p.kind == PrincipalKind::Service
            && (s == "*" || *s == p.arn))
            .then_some(Category::Direct),
        PrincipalEntry::Federated(provider) => match ctx.get("aws:federatedprovider") {
            Some(ContextValue::Single(v)) if v == provider => Some(Category::Direct),
            _ => None,
        },
        PrincipalEntry::Account(id) | PrincipalEntry::ObsId(id) => account_entry_category(id, p),
    }
}

/// An `AWS`/`IAM`/`ID` principal value against the requester (R-PRIN-3 table).
fn account_entry_category(id: &str, p: &Principal) -> Option<Category> {
    if !p.is_authenticated() {
        return None;
    }
    if names_account(id, p) {
        return Some(Category::Account);
    }
    // A role ARN names every session of the role (`Role`), also when the requester was
    // given as the role ARN itself; checked before the exact match.
    if p.kind == PrincipalKind::AssumedRole && p.role_arn.as_deref() == Some(id) {
        return Some(Category::Role);
    }
    if id == p.arn {
        return Some(Category::Direct);
    }
    if p.kind == PrincipalKind::FederatedUser && p.parent_user_arn.as_deref() == Some(id) {
        return Some(Category::SessionParentUser);
    }
    None
}

/// Whether `id` names the requester's account: the bare id or the root ARN.
fn names_account(id: &str, p: &Principal) -> bool {
    let Some(account) = p.account.as_deref() else {
        return false;
    };
    if id == account {
        return true;
    }
    match primitives::split_arn(id) {
        Some([_, _, "iam", "", acct, "root"]) => acct == account,
        _ => false,
    }
}

/// R-PRIN-4: whether the list exempts the requester from the statement. In a `Deny` the
/// requester is exempted iff **every** element of its identity set is listed; in an `Allow`
/// (lenient mode, R-PRIN-6) it is excluded from the grant iff **any** element is listed, so
/// the reading never grants a principal the list names. `"*"` exempts everyone.
fn exempted(entries: &[PrincipalEntry], effect: Effect, p: &Principal) -> bool {
    if entries.contains(&PrincipalEntry::Wildcard) {
        return true;
    }
    let listed = |s: &str| {
        entries.iter().any(|e| match e {
            PrincipalEntry::Account(id)
            | PrincipalEntry::Service(id)
            | PrincipalEntry::ObsId(id) => id == s,
            _ => false,
        })
    };
    let account_listed = |account: &str| {
        entries.iter().any(|e| match e {
            PrincipalEntry::Account(id) | PrincipalEntry::ObsId(id) => {
                id == account
                    || matches!(primitives::split_arn(id), Some([_, _, "iam", "", a, "root"]) if a == account)
            }
            _ => false,
        })
    };
    let account_ok = || p.account.as_deref().is_some_and(account_listed);
    let role_ok = || p.role_arn.as_deref().is_some_and(listed);
    let every = effect == Effect::Deny;
    match p.kind {
        PrincipalKind::Anonymous => false,
        PrincipalKind::Service => listed(&p.arn),
        PrincipalKind::Root => account_ok(),
        PrincipalKind::User | PrincipalKind::FederatedUser if every => {
            listed(&p.arn) && account_ok()
        }
        PrincipalKind::User | PrincipalKind::FederatedUser => listed(&p.arn) || account_ok(),
        PrincipalKind::AssumedRole if every => listed(&p.arn) && role_ok() && account_ok(),
        PrincipalKind::AssumedRole => listed(&p.arn) || role_ok() || account_ok(),
    }
}

// ---------------------------------------------------------------------------------------
// Conditions (§7)

/// Whether every condition entry holds (R-COND-4: AND across entries).
pub fn conditions_hold(conditions: &[Condition], ctx: &Context) -> bool {
    conditions.iter().all(|c| condition_holds(c, ctx))
}

/// One `(operator, key, values)` entry (R-COND-6..10).
pub fn condition_holds(c: &Condition, ctx: &Context) -> bool {
    let op = c.operator;
    let value = ctx.get(&c.key);
    if let ConditionValues::Null(flags) = &c.values {
        // R-COND-9: true = absent, false = present; invalid values never match.
        let present = value.is_some();
        return flags.contains(&Some(!present));
    }
    let Some(value) = value else {
        // R-COND-6 / R-COND-10: absent key.
        return match op.qualifier {
            Some(SetQualifier::ForAllValues) => true,
            Some(SetQualifier::ForAnyValue) => op.if_exists,
            None => op.if_exists || op.base.is_negated(),
        };
    };
    match (op.qualifier, value) {
        // R-COND-8: an unqualified operator on a multi-valued key is false.
        (None, ContextValue::Multi(_)) => false,
        (None, ContextValue::Single(v)) => value_matches(c, v, ctx),
        (Some(SetQualifier::ForAnyValue), v) => v.values().iter().any(|s| value_matches(c, s, ctx)),
        (Some(SetQualifier::ForAllValues), v) => {
            v.values().iter().all(|s| value_matches(c, s, ctx))
        }
    }
}

/// R-COND-7 for one context value: OR over policy values for positive operators; NOR for
/// negated ones, where any `Error` makes the result false (R-OP-ERR-1).
fn value_matches(c: &Condition, v: &str, ctx: &Context) -> bool {
    let positive = c.operator.base.positive();
    let results = compare_all(positive, &c.values, v, ctx);
    if c.operator.base.is_negated() {
        results.iter().all(|r| *r == Comparison::NoMatch)
    } else {
        results.contains(&Comparison::Match)
    }
}

fn compare_all(
    op: BaseOperator,
    values: &ConditionValues,
    v: &str,
    ctx: &Context,
) -> Vec<Comparison> {
    match values {
        ConditionValues::Patterns(patterns) => patterns
            .iter()
            .map(|p| compare_pattern(op, p, v, ctx))
            .collect(),
        ConditionValues::Arns(arns) => arns
            .iter()
            .map(|a| compare_arn(a.as_ref(), v, ctx))
            .collect(),
        ConditionValues::Typed(texts) => texts.iter().map(|t| compare_typed(op, t, v)).collect(),
        ConditionValues::Null(_) => Vec::new(),
    }
}

/// String and Bool operators; an unresolvable value never matches, which for the NOR of a
/// negated operator counts as "not matched" (R-VAR-6).
fn compare_pattern(op: BaseOperator, p: &Pattern, v: &str, ctx: &Context) -> Comparison {
    if op == BaseOperator::StringLike {
        return match resolve_pieces(p, ctx, true) {
            Some(pieces) => primitives::glob_match(&pieces, v).into(),
            None => Comparison::NoMatch,
        };
    }
    let Some(text) = resolve_text(p, ctx) else {
        return Comparison::NoMatch;
    };
    match op {
        BaseOperator::StringEquals => (v == text).into(),
        BaseOperator::StringEqualsIgnoreCase => primitives::fold_eq(v, &text).into(),
        BaseOperator::StringStartWith => v.starts_with(text.as_str()).into(),
        BaseOperator::StringEndWith => v.ends_with(text.as_str()).into(),
        BaseOperator::Bool => match (primitives::parse_bool(v), primitives::parse_bool(&text)) {
            (None, _) => Comparison::Error,
            (Some(_), None) => Comparison::NoMatch, // R-OPB-1: a non-boolean policy value never matches
            (Some(a), Some(b)) => (a == b).into(),
        },
        _ => Comparison::Error,
    }
}

/// ARN operators (R-OPA-1, R-OPA-2): six parts compared separately with wildcards.
fn compare_arn(policy: Option<&[Pattern; 6]>, v: &str, ctx: &Context) -> Comparison {
    let (Some(policy), Some(parts)) = (policy, primitives::split_arn(v)) else {
        return Comparison::Error;
    };
    let mut all = true;
    for (p, part) in policy.iter().zip(parts) {
        match resolve_pieces(p, ctx, true) {
            Some(pieces) => all &= primitives::glob_match(&pieces, part),
            None => return Comparison::NoMatch,
        }
    }
    all.into()
}

/// Numeric, Date, IP and Binary operators: both sides parsed with the shared primitives;
/// either side unparsable → `Error` (R-OP-ERR-1).
fn compare_typed(op: BaseOperator, policy: &str, v: &str) -> Comparison {
    use std::cmp::Ordering;
    let ordered = |ord: Ordering| -> Comparison {
        match op {
            BaseOperator::NumericEquals | BaseOperator::DateEquals => {
                (ord == Ordering::Equal).into()
            }
            BaseOperator::NumericLessThan | BaseOperator::DateLessThan => {
                (ord == Ordering::Less).into()
            }
            BaseOperator::NumericLessThanEquals | BaseOperator::DateLessThanEquals => {
                (ord != Ordering::Greater).into()
            }
            BaseOperator::NumericGreaterThan | BaseOperator::DateGreaterThan => {
                (ord == Ordering::Greater).into()
            }
            BaseOperator::NumericGreaterThanEquals | BaseOperator::DateGreaterThanEquals => {
                (ord != Ordering::Less).into()
            }
            _ => Comparison::Error,
        }
    };
    match op.family() {
        OperatorFamily::Numeric => match (
            primitives::parse_decimal(v),
            primitives::parse_decimal(policy),
        ) {
            (Some(a), Some(b)) => ordered(a.cmp(&b)),
            _ => Comparison::Error,
        },
        OperatorFamily::Date => match (primitives::parse_date(v), primitives::parse_date(policy)) {
            (Some(a), Some(b)) => ordered(a.cmp(&b)),
            _ => Comparison::Error,
        },
        OperatorFamily::Ip => match (primitives::parse_ip(v), primitives::parse_cidr(policy)) {
            (Some(ip), Some(net)) => primitives::cidr_contains(&net, &ip).into(),
            _ => Comparison::Error,
        },
        OperatorFamily::Binary => match (
            primitives::decode_base64(v),
            primitives::decode_base64(policy),
        ) {
            (Some(a), Some(b)) => (a == b).into(),
            _ => Comparison::Error,
        },
        _ => Comparison::Error,
    }
}

/// The keys a statement's conditions reference (keys and variable names, R-SIM-4).
pub fn referenced_keys(conditions: &[Condition]) -> Vec<&str> {
    let mut keys = Vec::new();
    for c in conditions {
        keys.push(c.key.as_str());
        keys.extend(c.values.variables().into_iter().map(|v| v.key.as_str()));
    }
    keys
}
