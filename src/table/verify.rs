//! The verifier: after it accepts a program, every id the interpreter follows is in range,
//! every code decodes, every string slice lies on character boundaries, and the orders the
//! interpreter relies on (keys by name, statements by policy, the action index by name)
//! hold. The interpreter therefore indexes without re-checking, and a corrupt or hostile
//! file is a [`LoadError`] here, never a panic or a wrong answer later.

use super::{LoadError, ProgramView};
use crate::bytecode::*;
use crate::primitives;

struct Checker<'v, 'a> {
    v: &'v ProgramView<'a>,
}

fn invalid(section: &'static str, index: usize, why: impl Into<String>) -> LoadError {
    LoadError::Invalid {
        section,
        index,
        why: why.into(),
    }
}

/// `first..first+len` lies within a table of `table_len` records.
fn range_ok(first: u32, len: u32, table_len: usize) -> bool {
    (first as u64 + len as u64) <= table_len as u64
}

impl Checker<'_, '_> {
    fn str_ok(&self, id: StrId) -> bool {
        self.v.string_index.get(id as usize).is_some_and(|r| {
            let end = r.start as u64 + r.len as u64;
            end <= self.v.strings.len() as u64
                && self.v.strings.is_char_boundary(r.start as usize)
                && self.v.strings.is_char_boundary(end as usize)
        })
    }

    fn str(&self, id: StrId) -> &str {
        let r = self.v.string_index[id as usize];
        &self.v.strings[r.start as usize..(r.start + r.len) as usize]
    }

    fn need(
        &self,
        ok: bool,
        section: &'static str,
        index: usize,
        why: &str,
    ) -> Result<(), LoadError> {
        if ok {
            Ok(())
        } else {
            Err(invalid(section, index, why))
        }
    }

    fn matcher_ok(&self, id: u32) -> bool {
        let Some(m) = self.v.matchers.get(id as usize) else {
            return false;
        };
        match MatcherKind::from_code(m.kind) {
            Some(MatcherKind::Any | MatcherKind::Never) => true,
            Some(
                MatcherKind::Exact
                | MatcherKind::Prefix
                | MatcherKind::Suffix
                | MatcherKind::Glob
                | MatcherKind::GlobFolded,
            ) => self.str_ok(m.a),
            Some(MatcherKind::TokensGlob | MatcherKind::TokensText) => {
                range_ok(m.a, m.b, self.v.tokens.len())
            }
            None => false,
        }
    }
}

/// Checks every table of a program.
pub fn verify(v: &ProgramView<'_>) -> Result<(), LoadError> {
    let c = Checker { v };
    for (i, r) in v.string_index.iter().enumerate() {
        let end = r.start as u64 + r.len as u64;
        let ok = end <= v.strings.len() as u64
            && v.strings.is_char_boundary(r.start as usize)
            && v.strings.is_char_boundary(end as usize);
        c.need(
            ok,
            "string_index",
            i,
            "string outside the blob or inside a character",
        )?;
    }
    let meta = match v.meta {
        [m] => *m,
        _ => return Err(invalid("meta", 0, "expected exactly one record")),
    };
    verify_keys(&c)?;
    verify_policies(&c, &meta)?;
    verify_statements(&c)?;
    verify_records(&c)?;
    verify_index(&c)?;
    Ok(())
}

fn verify_keys(c: &Checker<'_, '_>) -> Result<(), LoadError> {
    let all = KEY_CARRIED_AWS | KEY_CARRIED_HUAWEI | KEY_SOURCE_IP;
    for (i, k) in c.v.keys.iter().enumerate() {
        c.need(c.str_ok(k.name), "keys", i, "name is not a string")?;
        c.need(k.flags & !all == 0, "keys", i, "unknown flags")?;
        if i > 0 {
            let sorted = c.str(c.v.keys[i - 1].name) < c.str(k.name);
            c.need(sorted, "keys", i, "keys are not sorted by name")?;
        }
    }
    Ok(())
}

fn verify_policies(c: &Checker<'_, '_>, meta: &MetaRec) -> Result<(), LoadError> {
    let mut next_statement = 0u64;
    for (i, p) in c.v.policies.iter().enumerate() {
        c.need(c.str_ok(p.id), "policies", i, "id is not a string")?;
        let kind =
            policy_kind_from_code(p.kind).ok_or_else(|| invalid("policies", i, "unknown kind"))?;
        let level_ok = match kind {
            PolicyKind::Scp => p.level < meta.scp_levels,
            PolicyKind::Rcp => p.level < meta.rcp_levels,
            _ => p.level == NONE,
        };
        c.need(level_ok, "policies", i, "level out of range")?;
        if kind == PolicyKind::ResourceBased {
            c.need(
                p.position < meta.resource_policies,
                "policies",
                i,
                "resource slot out of range",
            )?;
        }
        if i > 0 {
            let prev = c.v.policies[i - 1];
            let ordered = (prev.kind, prev.level.wrapping_add(1), prev.position)
                < (p.kind, p.level.wrapping_add(1), p.position);
            c.need(ordered, "policies", i, "policies are not in R-SIM-3 order")?;
        }
        c.need(
            p.statements_first as u64 == next_statement,
            "policies",
            i,
            "statements are not contiguous",
        )?;
        next_statement += p.statements_len as u64;
    }
    c.need(
        next_statement == c.v.statements.len() as u64,
        "policies",
        c.v.policies.len(),
        "statements not covered by policies",
    )
}

fn verify_statements(c: &Checker<'_, '_>) -> Result<(), LoadError> {
    let v = c.v;
    for (i, s) in v.statements.iter().enumerate() {
        let owner = v.policies.get(s.policy as usize);
        let inside = owner.is_some_and(|p| {
            (i as u64) >= p.statements_first as u64
                && (i as u64) < p.statements_first as u64 + p.statements_len as u64
        });
        c.need(
            inside,
            "statements",
            i,
            "policy does not contain the statement",
        )?;
        c.need(
            s.sid == NONE || c.str_ok(s.sid),
            "statements",
            i,
            "sid is not a string",
        )?;
        c.need(
            s.flags & !STMT_ALL_FLAGS == 0,
            "statements",
            i,
            "unknown flags",
        )?;
        let ranges = range_ok(s.principals_first, s.principals_len, v.principals.len())
            && range_ok(s.actions_first, s.actions_len, v.actions.len())
            && range_ok(s.resources_first, s.resources_len, v.resources.len())
            && range_ok(s.conditions_first, s.conditions_len, v.conditions.len())
            && range_ok(s.keys_first, s.keys_len, v.statement_keys.len());
        c.need(ranges, "statements", i, "a range lies outside its table")?;
    }
    for (i, k) in v.statement_keys.iter().enumerate() {
        c.need(
            (*k as usize) < v.keys.len(),
            "statement_keys",
            i,
            "unknown key",
        )?;
    }
    Ok(())
}

fn verify_records(c: &Checker<'_, '_>) -> Result<(), LoadError> {
    let v = c.v;
    for (i, p) in v.principals.iter().enumerate() {
        let ok = match PrincipalKind::from_code(p.kind) {
            Some(PrincipalKind::Wildcard | PrincipalKind::Never) => true,
            Some(_) => c.str_ok(p.value),
            None => false,
        };
        c.need(ok, "principals", i, "unknown kind or value")?;
    }
    for (i, a) in v.actions.iter().enumerate() {
        let ok = match ActionKind::from_code(a.kind) {
            Some(ActionKind::Any | ActionKind::Never) => true,
            Some(ActionKind::Aws) => c.str_ok(a.a) && c.str_ok(a.b),
            Some(ActionKind::Huawei) => c.str_ok(a.a),
            None => false,
        };
        c.need(ok, "actions", i, "unknown kind or pattern")?;
    }
    for (i, r) in v.resources.iter().enumerate() {
        let ok = match ResourceKind::from_code(r.kind) {
            Some(ResourceKind::Any | ResourceKind::Never) => true,
            Some(ResourceKind::Arn) => {
                (0..6).all(|k| c.matcher_ok(r.a.wrapping_add(k))) && r.a < u32::MAX - 6
            }
            Some(ResourceKind::Urn) => {
                (0..5).all(|k| c.matcher_ok(r.a.wrapping_add(k))) && r.a < u32::MAX - 5
            }
            Some(ResourceKind::Plain) => c.matcher_ok(r.a),
            None => false,
        };
        c.need(ok, "resources", i, "unknown kind or matcher")?;
    }
    for i in 0..v.matchers.len() {
        c.need(
            c.matcher_ok(i as u32),
            "matchers",
            i,
            "unknown kind, string or token range",
        )?;
    }
    for (i, t) in v.tokens.iter().enumerate() {
        let ok = match TokenKind::from_code(t.kind) {
            Some(TokenKind::Text | TokenKind::Literal) => c.str_ok(t.a),
            Some(TokenKind::Variable) => {
                (t.a as usize) < v.keys.len() && (t.b == NONE || c.str_ok(t.b))
            }
            Some(TokenKind::Unresolvable) => true,
            None => false,
        };
        c.need(ok, "tokens", i, "unknown kind, string or key")?;
    }
    for (i, cond) in v.conditions.iter().enumerate() {
        let base = BaseOperator::ALL
            .get(cond.base as usize)
            .ok_or_else(|| invalid("conditions", i, "unknown operator"))?;
        let ok = cond.qualifier <= 2
            && cond.if_exists <= 1
            && (cond.key as usize) < v.keys.len()
            && range_ok(cond.values_first, cond.values_len, v.values.len());
        c.need(ok, "conditions", i, "bad qualifier, key or value range")?;
        for j in cond.values_first..cond.values_first + cond.values_len {
            let value = v.values[j as usize];
            c.need(
                value_fits(c, base.family(), &value),
                "values",
                j as usize,
                "value does not fit its operator",
            )?;
        }
    }
    Ok(())
}

/// Whether a value record is well formed and of a kind its operator family uses.
fn value_fits(c: &Checker<'_, '_>, family: OperatorFamily, v: &ValueRec) -> bool {
    let Some(kind) = ValueKind::from_code(v.kind) else {
        return false;
    };
    match (family, kind) {
        (_, ValueKind::Error) => family != OperatorFamily::Null,
        (OperatorFamily::String, ValueKind::Matcher) => c.matcher_ok(v.a),
        (OperatorFamily::Bool, ValueKind::Bool) => v.a <= 1,
        (OperatorFamily::Bool, ValueKind::BoolMatcher) => c.matcher_ok(v.a),
        (OperatorFamily::Numeric, ValueKind::Number) => {
            c.str_ok(v.a) && primitives::parse_decimal(c.str(v.a)).is_some()
        }
        (OperatorFamily::Date, ValueKind::Date) => v.c < 1_000_000_000,
        (OperatorFamily::Ip, ValueKind::IpTable) => ip_table_ok(c, v),
        (OperatorFamily::Binary, ValueKind::Base64) => {
            c.str_ok(v.a) && primitives::decode_base64(c.str(v.a)).is_some()
        }
        (OperatorFamily::Arn, ValueKind::Arn) => {
            v.a < u32::MAX - 6 && (0..6).all(|k| c.matcher_ok(v.a + k))
        }
        (OperatorFamily::Null, ValueKind::Null) => v.a <= 1,
        (OperatorFamily::Null, ValueKind::Never) => true,
        _ => false,
    }
}

/// An IP prefix table: in range, IPv4 ranges within 32 bits, each family sorted and
/// disjoint with `lo <= hi`.
fn ip_table_ok(c: &Checker<'_, '_>, v: &ValueRec) -> bool {
    let total = v.b as u64 + v.c as u64;
    if v.d > 1 || v.a as u64 + total > c.v.ip_ranges.len() as u64 {
        return false;
    }
    let ranges = &c.v.ip_ranges[v.a as usize..(v.a as u64 + total) as usize];
    let (v4, v6) = ranges.split_at(v.b as usize);
    let sorted = |rs: &[IpRangeRec], max: u128| {
        rs.iter().enumerate().all(|(i, r)| {
            let (lo, hi) = r.bounds();
            lo <= hi && hi <= max && (i == 0 || rs[i - 1].bounds().1 < lo)
        })
    };
    sorted(v4, u32::MAX as u128) && sorted(v6, u128::MAX)
}

fn verify_index(c: &Checker<'_, '_>) -> Result<(), LoadError> {
    let v = c.v;
    let statements = v.statements.len();
    for (i, s) in v.services.iter().enumerate() {
        let ok = c.str_ok(s.name)
            && range_ok(s.exact_first, s.exact_len, v.index_exact.len())
            && range_ok(s.globs_first, s.globs_len, v.index_globs.len());
        c.need(ok, "services", i, "bad name or range")?;
        if i > 0 {
            c.need(
                c.str(v.services[i - 1].name) < c.str(s.name),
                "services",
                i,
                "not sorted by name",
            )?;
        }
        let exact = &v.index_exact[s.exact_first as usize..(s.exact_first + s.exact_len) as usize];
        for (j, e) in exact.iter().enumerate() {
            let at = s.exact_first as usize + j;
            let ok = c.str_ok(e.name)
                && range_ok(
                    e.statements_first,
                    e.statements_len,
                    v.index_statements.len(),
                );
            c.need(ok, "index_exact", at, "bad name or range")?;
            if j > 0 {
                c.need(
                    c.str(exact[j - 1].name) < c.str(e.name),
                    "index_exact",
                    at,
                    "not sorted by name",
                )?;
            }
        }
    }
    for (i, g) in v.index_globs.iter().enumerate() {
        c.need(
            c.str_ok(g.pattern) && (g.statement as usize) < statements,
            "index_globs",
            i,
            "bad pattern or statement",
        )?;
    }
    for (section, ids) in [
        ("index_statements", v.index_statements),
        ("index_always", v.index_always),
    ] {
        for (i, s) in ids.iter().enumerate() {
            c.need((*s as usize) < statements, section, i, "unknown statement")?;
        }
    }
    for (i, s) in v.index_not_action.iter().enumerate() {
        let ok = v
            .statements
            .get(*s as usize)
            .is_some_and(|st| st.flags & STMT_NOT_ACTION != 0);
        c.need(ok, "index_not_action", i, "not a NotAction statement")?;
    }
    Ok(())
}
