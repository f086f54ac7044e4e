//! The compiler: a [`PolicySet`] becomes the flat tables of a program (see
//! [`crate::bytecode`] and FORMAT.md), decided once so the interpreter decides nothing twice.
//!
//! What is decided here:
//! - **statement order**: statements are laid out in R-SIM-3 order (SCP levels, RCP levels,
//!   VPC endpoint, resource slots, identity, boundary, session; then position and index),
//!   so a sorted list of statement ids *is* an explanation in the order the spec wants;
//! - **keys**: every condition key, variable and key the FAS derivation touches is interned
//!   and the key table sorted by name, so a request's sorted context merges into it in one
//!   pass; each key carries whether a forwarded hop keeps it (R-FAS-4, R-HW-13);
//! - **the action index**: per folded service prefix, exact action names map to their
//!   statements and name globs are listed, so one lookup of a request's action yields the
//!   candidate statements of every policy kind; `*`, `NotAction` and service-wildcard
//!   patterns go on a short always-check list (a statement that cannot match the action
//!   is never looked at);
//! - **matchers**: each string pattern is classified once (`*`, exact, prefix, suffix,
//!   glob, tokens with variables);
//! - **typed values**: numbers, dates, CIDRs, booleans and base64 are parsed here
//!   (R-COMP-2); an invalid one (lenient mode) becomes an `Error` value (R-OP-ERR-1).
//!
//! ```
//! use fastiam::request::parse_case;
//! use fastiam::compile::compile;
//! let case = parse_case(r#"{"id":"x","principal":"arn:aws:iam::111122223333:user/a",
//!  "policies":{"identity":[{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
//!  "Action":"s3:Get*","Resource":"*"}]}]},"chain":[{"action":"s3:GetObject","resource":"*"}]}"#,
//!  "doc").unwrap();
//! let program = compile(&case.chain.policies).unwrap();
//! assert_eq!(program.view().statements.len(), 1);
//! ```

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::bytecode::*;
use crate::policy::*;
use crate::primitives;
use crate::request::{
    called_via_keys, carried_to_forwarded_hop, forwarded_hop_sets, FasOptions, PolicySet,
};
use crate::table::{Program, Sections};

/// Why a policy set could not be compiled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CompileError {
    /// A table outgrew the `u32` ids of the format.
    TooLarge(&'static str),
}

impl std::fmt::Display for CompileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CompileError::TooLarge(what) => write!(
                f,
                "the policy set has too many {what} for the program format"
            ),
        }
    }
}

impl std::error::Error for CompileError {}

/// Keys the interpreter needs whatever the policies reference: the FAS derivation's and
/// the request time's (R-STS-5).
fn built_in_keys() -> Vec<&'static str> {
    let mut keys = vec!["aws:currenttime", "g:currenttime", "aws:federatedprovider"];
    for dialect in [Dialect::Aws, Dialect::Huawei] {
        let cv = called_via_keys(dialect);
        keys.extend([cv.list, cv.first, cv.last]);
        keys.extend(forwarded_hop_sets(dialect).iter().map(|(k, _)| *k));
    }
    keys
}

/// Compiles a policy set into a program.
pub fn compile(set: &PolicySet) -> Result<Program<crate::table::AlignedBytes>, CompileError> {
    let ordered = ordered_policies(set);
    let mut c = Compiler::default();
    c.intern_keys(&ordered);
    for (policy, level, position) in &ordered {
        c.policy(policy, *level, *position)?;
    }
    c.build_index();
    c.meta = MetaRec {
        has_boundary: set.boundary.is_some() as u32,
        has_session: set.session.is_some() as u32,
        scp_levels: set.scp.len() as u32,
        rcp_levels: set.rcp.len() as u32,
        has_vpce: set.vpce.is_some() as u32,
        resource_policies: set.resource.len() as u32,
    };
    let bytes = c.sections().to_bytes();
    Ok(Program::from_bytes(bytes).expect("a compiled program always validates"))
}

/// The policies of a set in R-SIM-3 order, with their level and position.
fn ordered_policies(set: &PolicySet) -> Vec<(&Policy, Option<usize>, usize)> {
    let mut out = Vec::new();
    for (level, list) in set.scp.iter().enumerate() {
        out.extend(list.iter().enumerate().map(|(i, p)| (p, Some(level), i)));
    }
    for (level, list) in set.rcp.iter().enumerate() {
        out.extend(list.iter().enumerate().map(|(i, p)| (p, Some(level), i)));
    }
    out.extend(set.vpce.iter().map(|p| (p, None, 0)));
    out.extend(set.resource.iter().enumerate().map(|(i, p)| (p, None, i)));
    out.extend(set.identity.iter().enumerate().map(|(i, p)| (p, None, i)));
    out.extend(set.boundary.iter().map(|p| (p, None, 0)));
    out.extend(
        set.session
            .iter()
            .flatten()
            .enumerate()
            .map(|(i, p)| (p, None, i)),
    );
    out
}

/// The action-index entries of one service while compiling.
#[derive(Default)]
struct ServiceEntries {
    /// Exact folded action name → statements.
    exact: BTreeMap<String, Vec<StatementId>>,
    /// Folded name globs and their statement.
    globs: Vec<(String, StatementId)>,
}

#[derive(Default)]
struct Compiler {
    strings: Vec<u8>,
    string_index: Vec<StrRef>,
    string_ids: HashMap<String, StrId>,
    key_ids: BTreeMap<String, KeyId>,
    keys: Vec<KeyRec>,
    policies: Vec<PolicyRec>,
    statements: Vec<StatementRec>,
    actions: Vec<ActionRec>,
    resources: Vec<ResourceRec>,
    matchers: Vec<MatcherRec>,
    tokens: Vec<TokenRec>,
    principals: Vec<PrincipalRec>,
    conditions: Vec<ConditionRec>,
    values: Vec<ValueRec>,
    statement_keys: Vec<KeyId>,
    /// Folded service prefix → its entries.
    index: BTreeMap<String, ServiceEntries>,
    always: Vec<StatementId>,
    not_action: Vec<StatementId>,
    services: Vec<ServiceRec>,
    index_exact: Vec<ExactRec>,
    index_globs: Vec<GlobRec>,
    index_statements: Vec<StatementId>,
    ip_ranges: Vec<IpRangeRec>,
    meta: MetaRec,
}

impl Compiler {
    fn string(&mut self, s: &str) -> StrId {
        if let Some(id) = self.string_ids.get(s) {
            return *id;
        }
        let id = self.string_index.len() as StrId;
        self.string_index.push(StrRef {
            start: self.strings.len() as u32,
            len: s.len() as u32,
        });
        self.strings.extend_from_slice(s.as_bytes());
        self.string_ids.insert(s.to_string(), id);
        id
    }

    /// Pass 1: every key, sorted by name, ids assigned in that order.
    fn intern_keys(&mut self, policies: &[(&Policy, Option<usize>, usize)]) {
        let mut names: BTreeSet<String> = built_in_keys().into_iter().map(str::to_string).collect();
        for (policy, _, _) in policies {
            for st in &policy.statements {
                for c in &st.conditions {
                    names.insert(c.key.clone());
                    names.extend(c.values.variables().into_iter().map(|v| v.key.clone()));
                }
                for r in &st.resource.patterns {
                    let pattern = match r {
                        ResourcePattern::Arn { resource, .. } => resource,
                        ResourcePattern::Urn { path, .. } => path,
                        ResourcePattern::Plain(p) => p,
                        _ => continue,
                    };
                    names.extend(pattern.variables().map(|v| v.key.clone()));
                }
            }
        }
        let aws = FasOptions::default();
        for name in names {
            let mut flags = 0;
            if carried_to_forwarded_hop(&name, Dialect::Aws, &aws) {
                flags |= KEY_CARRIED_AWS;
            }
            if carried_to_forwarded_hop(&name, Dialect::Huawei, &aws) {
                flags |= KEY_CARRIED_HUAWEI;
            }
            if name == "aws:sourceip" {
                flags |= KEY_SOURCE_IP;
            }
            let id = self.string(&name);
            self.key_ids.insert(name, self.keys.len() as KeyId);
            self.keys.push(KeyRec { name: id, flags });
        }
    }

    fn key(&self, name: &str) -> KeyId {
        self.key_ids[name]
    }

    fn policy(
        &mut self,
        policy: &Policy,
        level: Option<usize>,
        position: usize,
    ) -> Result<(), CompileError> {
        let index = self.policies.len() as u32;
        let first = self.statements.len() as u32;
        let id = self.string(&policy.id);
        for st in &policy.statements {
            self.statement(index, st)?;
        }
        if self.statements.len() > (u32::MAX / 2) as usize {
            return Err(CompileError::TooLarge("statements"));
        }
        self.policies.push(PolicyRec {
            id,
            kind: policy_kind_code(policy.kind),
            level: level.map_or(NONE, |l| l as u32),
            position: position as u32,
            statements_first: first,
            statements_len: policy.statements.len() as u32,
        });
        Ok(())
    }

    fn statement(&mut self, policy: u32, st: &Statement) -> Result<(), CompileError> {
        let id = self.statements.len() as StatementId;
        let mut flags = 0;
        if st.effect == Effect::Deny {
            flags |= STMT_DENY;
        }
        let principals_first = self.principals.len() as u32;
        if let Some(p) = &st.principal {
            flags |= STMT_HAS_PRINCIPAL;
            if p.negated {
                flags |= STMT_NOT_PRINCIPAL;
            }
            for e in &p.entries {
                let rec = self.principal(e);
                self.principals.push(rec);
            }
        }
        if st.action.negated {
            flags |= STMT_NOT_ACTION;
        }
        if st.resource.negated {
            flags |= STMT_NOT_RESOURCE;
        }
        let actions_first = self.actions.len() as u32;
        for a in &st.action.patterns {
            let rec = self.action(a);
            self.actions.push(rec);
        }
        if st.action.negated {
            self.index_not_action(id, &st.action.patterns);
        } else {
            for a in &st.action.patterns {
                self.index_action(id, a);
            }
        }
        let resources_first = self.resources.len() as u32;
        for r in &st.resource.patterns {
            let rec = self.resource(r);
            self.resources.push(rec);
        }
        let conditions_first = self.conditions.len() as u32;
        for c in &st.conditions {
            let rec = self.condition(c);
            self.conditions.push(rec);
        }
        let mut referenced: Vec<KeyId> = Vec::new();
        for c in &st.conditions {
            referenced.push(self.key(&c.key));
            for v in c.values.variables() {
                referenced.push(self.key(&v.key));
            }
        }
        referenced.sort_unstable();
        referenced.dedup();
        let keys_first = self.statement_keys.len() as u32;
        self.statement_keys.extend(&referenced);
        let sid = match &st.sid {
            Some(s) => self.string(s),
            None => NONE,
        };
        self.statements.push(StatementRec {
            policy,
            index: st.index as u32,
            sid,
            flags,
            principals_first,
            principals_len: self.principals.len() as u32 - principals_first,
            actions_first,
            actions_len: st.action.patterns.len() as u32,
            resources_first,
            resources_len: st.resource.patterns.len() as u32,
            conditions_first,
            conditions_len: st.conditions.len() as u32,
            keys_first,
            keys_len: referenced.len() as u32,
        });
        Ok(())
    }

    fn principal(&mut self, e: &PrincipalEntry) -> PrincipalRec {
        let (kind, value) = match e {
            PrincipalEntry::Wildcard => (PrincipalKind::Wildcard, NONE),
            PrincipalEntry::Never => (PrincipalKind::Never, NONE),
            PrincipalEntry::Account(s) => (PrincipalKind::Account, self.string(s)),
            PrincipalEntry::Service(s) => (PrincipalKind::Service, self.string(s)),
            PrincipalEntry::Federated(s) => (PrincipalKind::Federated, self.string(s)),
            PrincipalEntry::CanonicalUser(s) => (PrincipalKind::CanonicalUser, self.string(s)),
            PrincipalEntry::ObsId(s) => (PrincipalKind::ObsId, self.string(s)),
        };
        PrincipalRec {
            kind: kind.code(),
            value,
        }
    }

    fn action(&mut self, a: &ActionPattern) -> ActionRec {
        let (kind, x, y) = match a {
            ActionPattern::Any => (ActionKind::Any, NONE, NONE),
            ActionPattern::Never => (ActionKind::Never, NONE, NONE),
            ActionPattern::Aws { service, name } => {
                (ActionKind::Aws, self.string(service), self.string(name))
            }
            ActionPattern::Huawei(p) => (ActionKind::Huawei, self.string(p), NONE),
        };
        ActionRec {
            kind: kind.code(),
            a: x,
            b: y,
        }
    }

    /// A `NotAction` statement: its patterns go into the same index, where a hit means
    /// "excluded", and the statement onto the `NotAction` list, from which it is a
    /// candidate for every action none of its patterns matched. `NotAction: "*"` excludes
    /// every action: never a candidate. A pattern the index cannot hold (a wildcard in the
    /// service prefix, lenient mode) puts the statement on the always-check list instead.
    fn index_not_action(&mut self, id: StatementId, patterns: &[ActionPattern]) {
        if patterns.contains(&ActionPattern::Any) {
            return;
        }
        if patterns
            .iter()
            .any(|a| split_action(a).is_none() && *a != ActionPattern::Never)
        {
            self.always.push(id);
            return;
        }
        for a in patterns {
            if let Some((service, name)) = split_action(a) {
                self.index_entry(id, service, name);
            }
        }
        self.not_action.push(id);
    }

    /// Puts one action pattern of statement `id` into the action index.
    fn index_action(&mut self, id: StatementId, a: &ActionPattern) {
        match (a, split_action(a)) {
            (ActionPattern::Never, _) => {}
            (_, Some((service, name))) => self.index_entry(id, service, name),
            (_, None) => self.always.push(id),
        }
    }

    fn index_entry(&mut self, id: StatementId, service: &str, name: &str) {
        let entry = self.index.entry(service.to_string()).or_default();
        if primitives::has_wildcard(name) {
            entry.globs.push((name.to_string(), id));
        } else {
            entry.exact.entry(name.to_string()).or_default().push(id);
        }
    }

    fn build_index(&mut self) {
        let index = std::mem::take(&mut self.index);
        for (service, ServiceEntries { exact, globs }) in index {
            let name = self.string(&service);
            let exact_first = self.index_exact.len() as u32;
            for (action, mut statements) in exact {
                statements.dedup();
                let action_id = self.string(&action);
                self.index_exact.push(ExactRec {
                    name: action_id,
                    statements_first: self.index_statements.len() as u32,
                    statements_len: statements.len() as u32,
                });
                self.index_statements.extend(statements);
            }
            let globs_first = self.index_globs.len() as u32;
            for (pattern, statement) in globs {
                let pattern = self.string(&pattern);
                self.index_globs.push(GlobRec { pattern, statement });
            }
            self.services.push(ServiceRec {
                name,
                exact_first,
                exact_len: self.index_exact.len() as u32 - exact_first,
                globs_first,
                globs_len: self.index_globs.len() as u32 - globs_first,
            });
        }
        self.always.dedup();
        // Exact entries of one service must be sorted by name for binary search; the
        // BTreeMap iteration gave that order. Services likewise.
    }

    fn resource(&mut self, r: &ResourcePattern) -> ResourceRec {
        let (kind, a) = match r {
            ResourcePattern::Any => (ResourceKind::Any, NONE),
            ResourcePattern::Never => (ResourceKind::Never, NONE),
            ResourcePattern::Arn { segments, resource } => {
                let first = self.matchers.len() as u32;
                let recs: Vec<MatcherRec> = segments
                    .iter()
                    .map(|s| self.wildcard_matcher(s, false))
                    .collect();
                self.matchers.extend(recs);
                let last = self.pattern_matcher(resource, true);
                self.matchers.push(last);
                (ResourceKind::Arn, first)
            }
            ResourcePattern::Urn { segments, path } => {
                let first = self.matchers.len() as u32;
                let recs: Vec<MatcherRec> = segments
                    .iter()
                    .enumerate()
                    .map(|(i, s)| self.wildcard_matcher(s, i == 0))
                    .collect();
                self.matchers.extend(recs);
                let last = self.pattern_matcher(path, true);
                self.matchers.push(last);
                (ResourceKind::Urn, first)
            }
            ResourcePattern::Plain(p) => {
                let m = self.pattern_matcher(p, true);
                let id = self.matchers.len() as u32;
                self.matchers.push(m);
                (ResourceKind::Plain, id)
            }
        };
        ResourceRec {
            kind: kind.code(),
            a,
        }
    }

    /// A wildcard pattern without variables, classified (`*`, exact, prefix, suffix, glob).
    fn wildcard_matcher(&mut self, text: &str, folded: bool) -> MatcherRec {
        let m = |kind: MatcherKind, a| MatcherRec {
            kind: kind.code(),
            a,
            b: NONE,
        };
        if folded {
            return m(MatcherKind::GlobFolded, self.string(text));
        }
        if text == "*" {
            return m(MatcherKind::Any, NONE);
        }
        if !primitives::has_wildcard(text) {
            return m(MatcherKind::Exact, self.string(text));
        }
        if let Some(lit) = text
            .strip_suffix('*')
            .filter(|l| !primitives::has_wildcard(l))
        {
            return m(MatcherKind::Prefix, self.string(lit));
        }
        if let Some(lit) = text
            .strip_prefix('*')
            .filter(|l| !primitives::has_wildcard(l))
        {
            return m(MatcherKind::Suffix, self.string(lit));
        }
        m(MatcherKind::Glob, self.string(text))
    }

    /// A pattern that may hold variables; `glob`: whether source `*`/`?` are wildcards.
    fn pattern_matcher(&mut self, p: &Pattern, glob: bool) -> MatcherRec {
        let only_text = p.tokens.iter().all(|t| matches!(t, Token::Text(_)));
        if only_text {
            let text: String = p
                .tokens
                .iter()
                .map(|t| match t {
                    Token::Text(s) => s.as_str(),
                    _ => "",
                })
                .collect();
            if glob {
                return self.wildcard_matcher(&text, false);
            }
            return MatcherRec {
                kind: MatcherKind::Exact.code(),
                a: self.string(&text),
                b: NONE,
            };
        }
        let first = self.tokens.len() as u32;
        for t in &p.tokens {
            let rec = match t {
                Token::Text(s) => (TokenKind::Text, self.string(s), NONE),
                Token::Literal(s) => (TokenKind::Literal, self.string(s), NONE),
                Token::Variable(v) => {
                    let default = match &v.default {
                        Some(d) => self.string(d),
                        None => NONE,
                    };
                    (TokenKind::Variable, self.key(&v.key), default)
                }
                Token::Unresolvable => (TokenKind::Unresolvable, NONE, NONE),
            };
            self.tokens.push(TokenRec {
                kind: rec.0.code(),
                a: rec.1,
                b: rec.2,
            });
        }
        let kind = if glob {
            MatcherKind::TokensGlob
        } else {
            MatcherKind::TokensText
        };
        MatcherRec {
            kind: kind.code(),
            a: first,
            b: p.tokens.len() as u32,
        }
    }

    fn condition(&mut self, c: &Condition) -> ConditionRec {
        let values_first = self.values.len() as u32;
        let base = c.operator.base;
        match &c.values {
            ConditionValues::Patterns(patterns) => {
                for p in patterns {
                    let v = self.pattern_value(base, p);
                    self.values.push(v);
                }
            }
            ConditionValues::Arns(arns) => {
                for arn in arns {
                    let v = match arn {
                        Some(parts) => {
                            let first = self.matchers.len() as u32;
                            for part in parts {
                                let m = self.pattern_matcher(part, true);
                                self.matchers.push(m);
                            }
                            value(ValueKind::Arn, [first, 0, 0, 0, 0])
                        }
                        None => value(ValueKind::Error, [0; 5]),
                    };
                    self.values.push(v);
                }
            }
            ConditionValues::Typed(texts) if base.family() == OperatorFamily::Ip => {
                if let Some(v) = self.ip_table(texts) {
                    self.values.push(v);
                }
            }
            ConditionValues::Typed(texts) => {
                for t in texts {
                    let v = self.typed_value(base.family(), t);
                    self.values.push(v);
                }
            }
            ConditionValues::Null(flags) => {
                for f in flags {
                    self.values.push(match f {
                        Some(absent) => value(ValueKind::Null, [*absent as u32, 0, 0, 0, 0]),
                        None => value(ValueKind::Never, [0; 5]),
                    });
                }
            }
        }
        let base_index = BaseOperator::ALL
            .iter()
            .position(|b| *b == base)
            .expect("every operator is in ALL") as u32;
        ConditionRec {
            base: base_index,
            qualifier: match c.operator.qualifier {
                None => 0,
                Some(SetQualifier::ForAllValues) => 1,
                Some(SetQualifier::ForAnyValue) => 2,
            },
            if_exists: c.operator.if_exists as u32,
            key: self.key(&c.key),
            values_first,
            values_len: self.values.len() as u32 - values_first,
        }
    }

    fn pattern_value(&mut self, base: BaseOperator, p: &Pattern) -> ValueRec {
        if base == BaseOperator::Bool {
            if !p.has_variables() {
                let text: String = p
                    .tokens
                    .iter()
                    .map(|t| match t {
                        Token::Text(s) | Token::Literal(s) => s.as_str(),
                        _ => "",
                    })
                    .collect();
                if let Some(b) = primitives::parse_bool(&text) {
                    return value(ValueKind::Bool, [b as u32, 0, 0, 0, 0]);
                }
            }
            let m = self.pattern_matcher(p, false);
            let id = self.push_matcher(m);
            return value(ValueKind::BoolMatcher, [id, 0, 0, 0, 0]);
        }
        let glob = matches!(base.positive(), BaseOperator::StringLike);
        let m = self.pattern_matcher(p, glob);
        let id = self.push_matcher(m);
        value(ValueKind::Matcher, [id, 0, 0, 0, 0])
    }

    /// The CIDR prefix table of an IP condition (R-OPI-*): IPv4 and IPv6 ranges, each
    /// sorted and merged, so a lookup is one binary search whatever the number of CIDRs.
    /// `None` when there are no values at all (R-JSON-2: then nothing is compared).
    fn ip_table(&mut self, texts: &[String]) -> Option<ValueRec> {
        if texts.is_empty() {
            return None;
        }
        let (mut v4, mut v6, mut invalid) = (Vec::new(), Vec::new(), false);
        for t in texts {
            match primitives::parse_cidr(t) {
                Some(ipnet::IpNet::V4(n)) => v4.push((
                    u32::from(n.network()) as u128,
                    u32::from(n.broadcast()) as u128,
                )),
                Some(ipnet::IpNet::V6(n)) => {
                    v6.push((u128::from(n.network()), u128::from(n.broadcast())))
                }
                None => invalid = true,
            }
        }
        let first = self.ip_ranges.len() as u32;
        let (n4, n6) = (merge_ranges(&mut v4), merge_ranges(&mut v6));
        self.ip_ranges.extend(
            v4.iter()
                .chain(&v6)
                .map(|(lo, hi)| IpRangeRec::new(*lo, *hi)),
        );
        Some(value(
            ValueKind::IpTable,
            [first, n4, n6, invalid as u32, 0],
        ))
    }

    fn push_matcher(&mut self, m: MatcherRec) -> u32 {
        self.matchers.push(m);
        self.matchers.len() as u32 - 1
    }

    fn typed_value(&mut self, family: OperatorFamily, text: &str) -> ValueRec {
        let error = value(ValueKind::Error, [0; 5]);
        match family {
            // Kept as validated text: re-reading a decimal is a scan of its digits, and the
            // text keeps exact precision at any length (R-OPN-2).
            OperatorFamily::Numeric => match primitives::parse_decimal(text) {
                Some(_) => value(ValueKind::Number, [self.string(text), 0, 0, 0, 0]),
                None => error,
            },
            OperatorFamily::Date => match primitives::parse_date(text) {
                Some(i) => {
                    let secs = i.secs as u64;
                    value(
                        ValueKind::Date,
                        [secs as u32, (secs >> 32) as u32, i.nanos, 0, 0],
                    )
                }
                None => error,
            },
            OperatorFamily::Binary => match primitives::decode_base64(text) {
                Some(_) => value(ValueKind::Base64, [self.string(text), 0, 0, 0, 0]),
                None => error,
            },
            _ => error,
        }
    }

    fn sections(self) -> Sections {
        Sections {
            strings_raw: self.strings,
            string_index: self.string_index,
            keys: self.keys,
            policies: self.policies,
            statements: self.statements,
            actions: self.actions,
            resources: self.resources,
            matchers: self.matchers,
            tokens: self.tokens,
            principals: self.principals,
            conditions: self.conditions,
            values: self.values,
            statement_keys: self.statement_keys,
            services: self.services,
            index_exact: self.index_exact,
            index_globs: self.index_globs,
            index_statements: self.index_statements,
            index_always: self.always,
            meta: vec![self.meta],
            ip_ranges: self.ip_ranges,
            index_not_action: self.not_action,
        }
    }
}

/// Sorts ranges and merges overlapping or adjacent ones; returns how many remain.
fn merge_ranges(ranges: &mut Vec<(u128, u128)>) -> u32 {
    ranges.sort_unstable();
    let mut merged: Vec<(u128, u128)> = Vec::with_capacity(ranges.len());
    for &(lo, hi) in ranges.iter() {
        match merged.last_mut() {
            Some(last) if lo <= last.1.saturating_add(1) => last.1 = last.1.max(hi),
            _ => merged.push((lo, hi)),
        }
    }
    *ranges = merged;
    ranges.len() as u32
}

/// A literal service prefix and a name glob: AWS patterns as parsed; Huawei whole-string
/// globs whose text before the first `:` has no wildcard (then the whole-string glob equals
/// "same service, glob on the rest", R-HW-5). `None` when the index cannot hold it.
fn split_action(a: &ActionPattern) -> Option<(&str, &str)> {
    match a {
        ActionPattern::Aws { service, name } if !primitives::has_wildcard(service) => {
            Some((service.as_str(), name.as_str()))
        }
        ActionPattern::Huawei(p) => p
            .split_once(':')
            .filter(|(service, _)| !primitives::has_wildcard(service)),
        _ => None,
    }
}

fn value(kind: ValueKind, p: [u32; 5]) -> ValueRec {
    ValueRec {
        kind: kind.code(),
        a: p[0],
        b: p[1],
        c: p[2],
        d: p[3],
        e: p[4],
    }
}
