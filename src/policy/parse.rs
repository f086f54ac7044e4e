//! The one policy parser: a JSON tree (with spans) into the [`ast`](super::ast), for both
//! dialects, in strict or lenient mode (R-GEN-6).
//!
//! Structural errors (not JSON, a missing `Effect`, `Action` with `NotAction`, a duplicate
//! member, an unknown operator) are errors in both modes. Invalid *values* (a partial
//! wildcard in a principal, a short ARN, an unparsable number) are errors in strict mode and
//! become never-matching or `Error` values in lenient mode, as each rule says.
//!
//! Every error carries the source name, the JSON pointer, `line:column` and what was
//! expected:
//!
//! ```
//! use fastiam::policy::{parse_policy, ParseOptions, PolicyKind};
//! let doc = "{\"Statement\": [{\"Effect\": \"allow\", \"Action\": \"*\", \"Resource\": \"*\"}]}";
//! let err = parse_policy(doc, "p.json", &ParseOptions::new(PolicyKind::Identity)).unwrap_err();
//! assert_eq!(err.location.pointer.as_str(), "/Statement/0/Effect");
//! assert!(err.to_string().contains("`Allow` or `Deny`"));
//! ```

use super::ast::*;
use crate::error::{snippet, ErrorKind, Location, ParseError};
use crate::json::{self, Member, Node, Pointer, Value};
use crate::primitives;

/// How to read a policy document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParseOptions {
    /// What the document is used as; decides which members are allowed (R-GRAM-8).
    pub kind: PolicyKind,
    pub mode: Mode,
    /// Expand `${…}` in Huawei `5.0`/`1.1` documents (R-HW-17; default off).
    pub huawei_policy_variables: bool,
}

impl ParseOptions {
    /// Strict mode, Huawei variables off.
    pub fn new(kind: PolicyKind) -> Self {
        ParseOptions {
            kind,
            mode: Mode::Strict,
            huawei_policy_variables: false,
        }
    }

    /// The same options with another mode.
    pub fn with_mode(self, mode: Mode) -> Self {
        ParseOptions { mode, ..self }
    }
}

/// Parses a standalone policy document. `id` names it in errors and explanations.
pub fn parse_policy(text: &str, id: &str, options: &ParseOptions) -> Result<Policy, ParseError> {
    let root = json::parse(text).map_err(|e| ParseError {
        location: Location {
            source: id.to_string(),
            pointer: Pointer::root(),
            line: e.line,
            column: e.column,
        },
        kind: ErrorKind::Syntax(e.expected.clone()),
    })?;
    let src = Source { text, name: id };
    parse_policy_node(&src, &root, &Pointer::root(), id, options)
}

/// Where the nodes being read came from, for error locations.
#[derive(Clone, Copy, Debug)]
pub struct Source<'t> {
    /// The whole text the nodes' spans point into.
    pub text: &'t str,
    /// The name errors give: a file, `file:line`, or a policy id.
    pub name: &'t str,
}

impl Source<'_> {
    /// An error at `node`, reached through `pointer`.
    pub fn error(&self, node: &Node<'_>, pointer: &Pointer, kind: ErrorKind) -> ParseError {
        self.error_at(node.span.start as usize, pointer, kind)
    }

    /// An error at a byte offset of the text.
    pub fn error_at(&self, offset: usize, pointer: &Pointer, kind: ErrorKind) -> ParseError {
        let (line, column) = json::line_col(self.text, offset);
        ParseError {
            location: Location {
                source: self.name.to_string(),
                pointer: pointer.clone(),
                line,
                column,
            },
            kind,
        }
    }

    /// "expected X, found Y" at `node`.
    pub fn expected(&self, node: &Node<'_>, pointer: &Pointer, expected: &str) -> ParseError {
        self.error(
            node,
            pointer,
            ErrorKind::Expected {
                expected: expected.to_string(),
                found: describe(node),
            },
        )
    }
}

/// A short description of a JSON value for "found …" messages.
pub fn describe(node: &Node<'_>) -> String {
    match &node.value {
        Value::String(s) => format!("`\"{}\"`", snippet(s)),
        Value::Number(n) => format!("number `{n}`"),
        Value::Bool(b) => format!("`{b}`"),
        Value::Null => "`null`".to_string(),
        Value::Array(_) => "an array".to_string(),
        Value::Object(_) => "an object".to_string(),
    }
}

/// Rejects duplicate member names (R-GRAM-1) and returns the object's members.
pub fn object_members<'n, 'a>(
    src: &Source<'_>,
    node: &'n Node<'a>,
    pointer: &Pointer,
    expected: &str,
) -> Result<&'n [Member<'a>], ParseError> {
    let members = node
        .as_object()
        .ok_or_else(|| src.expected(node, pointer, expected))?;
    for (i, m) in members.iter().enumerate() {
        if members[..i].iter().any(|earlier| earlier.key == m.key) {
            return Err(src.error_at(
                m.key_span.start as usize,
                &pointer.key(&m.key),
                ErrorKind::DuplicateMember(m.key.to_string()),
            ));
        }
    }
    Ok(members)
}

/// Parses a policy document that is a node of a larger JSON text (a case line).
pub fn parse_policy_node(
    src: &Source<'_>,
    node: &Node<'_>,
    pointer: &Pointer,
    id: &str,
    options: &ParseOptions,
) -> Result<Policy, ParseError> {
    let members = object_members(src, node, pointer, "a policy document (a JSON object)")?;
    let mut version = Version::Absent;
    let mut statement = None;
    for m in members {
        let p = pointer.key(&m.key);
        match m.key.as_ref() {
            "Version" => version = parse_version(src, &m.value, &p)?,
            "Statement" => statement = Some((&m.value, p)),
            "Id" => {
                if m.value.as_str().is_none() {
                    return Err(src.expected(&m.value, &p, "a string"));
                }
                let identity_like = matches!(
                    options.kind,
                    PolicyKind::Identity | PolicyKind::PermissionsBoundary | PolicyKind::Session
                );
                if identity_like && options.mode == Mode::Strict {
                    return Err(src.error(
                        &m.value,
                        &p,
                        ErrorKind::Invalid {
                            what: "member in an identity-type policy".into(),
                            value: "Id".into(),
                            rule: "R-GRAM-3",
                        },
                    ));
                }
            }
            other => unknown_member(src, m, pointer, options.mode, other)?,
        }
    }
    let Some((statement_node, statement_ptr)) = statement else {
        return Err(src.error(node, pointer, ErrorKind::Missing("Statement")));
    };
    let reader = StatementReader {
        src,
        options,
        version,
    };
    let statements = reader.statements(statement_node, &statement_ptr)?;
    Ok(Policy {
        id: id.to_string(),
        kind: options.kind,
        version,
        statements,
    })
}

fn unknown_member(
    src: &Source<'_>,
    m: &Member<'_>,
    pointer: &Pointer,
    mode: Mode,
    name: &str,
) -> Result<(), ParseError> {
    match mode {
        Mode::Strict => Err(src.error_at(
            m.key_span.start as usize,
            &pointer.key(name),
            ErrorKind::UnknownMember(name.to_string()),
        )),
        Mode::Lenient => Ok(()),
    }
}

fn parse_version(src: &Source<'_>, node: &Node<'_>, p: &Pointer) -> Result<Version, ParseError> {
    let expected = "`2012-10-17`, `2008-10-17`, `5.0` or `1.1`";
    match node.as_str() {
        Some("2012-10-17") => Ok(Version::V2012_10_17),
        Some("2008-10-17") => Ok(Version::V2008_10_17),
        Some("5.0") => Ok(Version::Huawei5_0),
        Some("1.1") => Ok(Version::Huawei1_1),
        Some(other) => Err(src.error(
            node,
            p,
            ErrorKind::Invalid {
                what: format!("Version (expected {expected})"),
                value: snippet(other),
                rule: "R-GRAM-2, R-HW-1",
            },
        )),
        None => Err(src.expected(node, p, expected)),
    }
}

/// Reads the statements of one document; knows the document's version and the options.
struct StatementReader<'s, 't> {
    src: &'s Source<'t>,
    options: &'s ParseOptions,
    version: Version,
}

impl StatementReader<'_, '_> {
    fn strict(&self) -> bool {
        self.options.mode == Mode::Strict
    }

    fn dialect(&self) -> Dialect {
        self.version.dialect()
    }

    /// Whether `${…}` is a variable in this document (R-GRAM-2, R-HW-17).
    fn variables_enabled(&self) -> bool {
        match self.version {
            Version::V2012_10_17 => true,
            Version::V2008_10_17 | Version::Absent => false,
            Version::Huawei5_0 | Version::Huawei1_1 => self.options.huawei_policy_variables,
        }
    }

    /// An invalid value: an error in strict mode, `Ok(())` in lenient mode (the caller then
    /// substitutes the never-matching form).
    fn invalid(
        &self,
        node: &Node<'_>,
        p: &Pointer,
        what: &str,
        value: &str,
        rule: &'static str,
    ) -> Result<(), ParseError> {
        if self.strict() {
            Err(self.src.error(
                node,
                p,
                ErrorKind::Invalid {
                    what: what.to_string(),
                    value: snippet(value),
                    rule,
                },
            ))
        } else {
            Ok(())
        }
    }

    fn statements(&self, node: &Node<'_>, p: &Pointer) -> Result<Vec<Statement>, ParseError> {
        match &node.value {
            Value::Object(_) => Ok(vec![self.statement(node, p, 0)?]),
            Value::Array(items) => {
                if items.is_empty() {
                    self.invalid(node, p, "Statement", "[]", "R-GRAM-4: empty array")?;
                }
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| self.statement(item, &p.index(i), i))
                    .collect()
            }
            _ => Err(self
                .src
                .expected(node, p, "a statement object or an array of them")),
        }
    }

    fn statement(
        &self,
        node: &Node<'_>,
        p: &Pointer,
        index: usize,
    ) -> Result<Statement, ParseError> {
        let members = object_members(self.src, node, p, "a statement object")?;
        let mut sid = None;
        let mut effect = None;
        let mut action: Option<(&Member<'_>, bool)> = None;
        let mut resource: Option<(&Member<'_>, bool)> = None;
        let mut principal: Option<(&Member<'_>, bool)> = None;
        let mut condition = None;
        for m in members {
            let mp = p.key(&m.key);
            match m.key.as_ref() {
                "Sid" => {
                    let s = m
                        .value
                        .as_str()
                        .ok_or_else(|| self.src.expected(&m.value, &mp, "a string"))?;
                    sid = Some(s.to_string());
                }
                "Effect" => effect = Some(self.effect(&m.value, &mp)?),
                "Action" | "NotAction" => {
                    if let Some((other, _)) = action {
                        return Err(conflict(self.src, m, p, &other.key));
                    }
                    action = Some((m, m.key == "NotAction"));
                }
                "Resource" | "NotResource" => {
                    if let Some((other, _)) = resource {
                        return Err(conflict(self.src, m, p, &other.key));
                    }
                    resource = Some((m, m.key == "NotResource"));
                }
                "Principal" | "NotPrincipal" => {
                    if let Some((other, _)) = principal {
                        return Err(conflict(self.src, m, p, &other.key));
                    }
                    principal = Some((m, m.key == "NotPrincipal"));
                }
                "Condition" => condition = Some((&m.value, mp)),
                other => unknown_member(self.src, m, p, self.options.mode, other)?,
            }
        }
        let Some(effect) = effect else {
            return Err(self.src.error(node, p, ErrorKind::Missing("Effect")));
        };
        let Some((action_member, action_negated)) = action else {
            return Err(self
                .src
                .error(node, p, ErrorKind::Missing("Action` or `NotAction")));
        };
        let action = self.action_clause(
            &action_member.value,
            &p.key(&action_member.key),
            action_negated,
        )?;
        let resource = match resource {
            Some((m, negated)) => self.resource_clause(&m.value, &p.key(&m.key), negated)?,
            None => self.implicit_resource(node, p)?,
        };
        let principal = self.principal_clause(node, p, principal, effect)?;
        let conditions = match condition {
            Some((c, cp)) => self.conditions(c, &cp)?,
            None => Vec::new(),
        };
        let statement = Statement {
            index,
            sid,
            effect,
            principal,
            action,
            resource,
            conditions,
        };
        self.check_huawei_scp(node, p, &statement, action_member)?;
        Ok(statement)
    }

    fn effect(&self, node: &Node<'_>, p: &Pointer) -> Result<Effect, ParseError> {
        match node.as_str() {
            Some("Allow") => Ok(Effect::Allow),
            Some("Deny") => Ok(Effect::Deny),
            _ => Err(self
                .src
                .expected(node, p, "`Allow` or `Deny` (case-sensitive)")),
        }
    }

    /// A string or a (non-empty, in strict mode) array of strings (R-GRAM-7, R-JSON-3).
    fn string_list<'n, 'a>(
        &self,
        node: &'n Node<'a>,
        p: &Pointer,
        what: &str,
    ) -> Result<Vec<(&'n Node<'a>, Pointer, String)>, ParseError> {
        match &node.value {
            Value::String(s) => Ok(vec![(node, p.clone(), s.to_string())]),
            Value::Array(items) => {
                if items.is_empty() {
                    self.invalid(node, p, what, "[]", "R-GRAM-7: empty array")?;
                }
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| {
                        let ip = p.index(i);
                        match item.as_str() {
                            Some(s) => Ok((item, ip, s.to_string())),
                            None => Err(self.src.expected(item, &ip, "a string (R-JSON-3)")),
                        }
                    })
                    .collect()
            }
            _ => Err(self
                .src
                .expected(node, p, "a string or an array of strings")),
        }
    }

    fn action_clause(
        &self,
        node: &Node<'_>,
        p: &Pointer,
        negated: bool,
    ) -> Result<ActionClause, ParseError> {
        let mut patterns = Vec::new();
        for (item, ip, text) in self.string_list(node, p, "action list")? {
            patterns.push(self.action_pattern(item, &ip, &text)?);
        }
        Ok(ActionClause { negated, patterns })
    }

    fn action_pattern(
        &self,
        node: &Node<'_>,
        p: &Pointer,
        text: &str,
    ) -> Result<ActionPattern, ParseError> {
        if text == "*" {
            return Ok(ActionPattern::Any);
        }
        let folded = primitives::fold(text);
        if self.dialect() == Dialect::Huawei {
            return Ok(ActionPattern::Huawei(folded));
        }
        let Some((service, name)) = folded.split_once(':') else {
            self.invalid(
                node,
                p,
                "action (expected `service:action`)",
                text,
                "R-ACT-4",
            )?;
            return Ok(ActionPattern::Never);
        };
        if service.contains(['*', '?']) {
            self.invalid(
                node,
                p,
                "action (wildcard in the service prefix)",
                text,
                "R-ACT-4",
            )?;
        }
        if name.is_empty() || name.chars().any(char::is_whitespace) {
            return Ok(ActionPattern::Never);
        }
        Ok(ActionPattern::Aws {
            service: service.to_string(),
            name: name.to_string(),
        })
    }

    /// A statement without `Resource`/`NotResource` (R-GRAM-6, R-HW-2).
    fn implicit_resource(
        &self,
        node: &Node<'_>,
        p: &Pointer,
    ) -> Result<ResourceClause, ParseError> {
        let optional = self.dialect() == Dialect::Huawei
            || matches!(
                self.options.kind,
                PolicyKind::ResourceBased | PolicyKind::VpcEndpoint
            );
        if optional {
            Ok(ResourceClause::implicit_any())
        } else {
            Err(self
                .src
                .error(node, p, ErrorKind::Missing("Resource` or `NotResource")))
        }
    }

    fn resource_clause(
        &self,
        node: &Node<'_>,
        p: &Pointer,
        negated: bool,
    ) -> Result<ResourceClause, ParseError> {
        if self.dialect() == Dialect::Huawei && node.as_object().is_some() {
            // 1.1 documents write `{"uri": [...]}` (R-HW-2).
            self.invalid(node, p, "Resource (an object)", "{…}", "R-HW-2")?;
            return Ok(ResourceClause {
                negated,
                patterns: vec![ResourcePattern::Never],
            });
        }
        let mut patterns = Vec::new();
        for (item, ip, text) in self.string_list(node, p, "resource list")? {
            patterns.push(self.resource_pattern(item, &ip, &text)?);
        }
        Ok(ResourceClause { negated, patterns })
    }

    fn resource_pattern(
        &self,
        node: &Node<'_>,
        p: &Pointer,
        text: &str,
    ) -> Result<ResourcePattern, ParseError> {
        if text == "*" {
            return Ok(ResourcePattern::Any);
        }
        if self.dialect() == Dialect::Huawei {
            return self.urn_pattern(node, p, text);
        }
        if !text.starts_with("arn:") {
            return Ok(ResourcePattern::Plain(self.pattern(node, p, text, true)?));
        }
        let Some(parts) = primitives::split_arn(text) else {
            self.invalid(node, p, "ARN (fewer than six parts)", text, "R-RES-3")?;
            return Ok(ResourcePattern::Never);
        };
        if parts[2].contains(['*', '?']) {
            self.invalid(
                node,
                p,
                "ARN (wildcard in the service segment)",
                text,
                "R-RES-6",
            )?;
        }
        let segments = [parts[0], parts[1], parts[2], parts[3], parts[4]].map(str::to_string);
        Ok(ResourcePattern::Arn {
            segments,
            resource: self.pattern(node, p, parts[5], true)?,
        })
    }

    fn urn_pattern(
        &self,
        node: &Node<'_>,
        p: &Pointer,
        text: &str,
    ) -> Result<ResourcePattern, ParseError> {
        let Some(parts) = primitives::split_urn(text) else {
            self.invalid(node, p, "URN (fewer than five parts)", text, "R-HW-7")?;
            return Ok(ResourcePattern::Never);
        };
        let segments = [
            primitives::fold(parts[0]),
            parts[1].into(),
            parts[2].into(),
            parts[3].into(),
        ];
        Ok(ResourcePattern::Urn {
            segments,
            path: self.pattern(node, p, parts[4], true)?,
        })
    }

    /// Splits text into tokens; `${…}` is a variable only where `variables` and the
    /// document's version allow (R-VAR-1..5).
    fn pattern(
        &self,
        node: &Node<'_>,
        p: &Pointer,
        text: &str,
        variables: bool,
    ) -> Result<Pattern, ParseError> {
        if !(variables && self.variables_enabled()) {
            return Ok(Pattern::text(text));
        }
        match tokenize_variables(text) {
            Ok(pattern) => Ok(pattern),
            Err(bad) => {
                self.invalid(node, p, "policy variable", &bad, "R-VAR-4")?;
                // Lenient: the malformed token is kept as an unresolvable variable.
                Ok(tokenize_variables_lenient(text))
            }
        }
    }

    fn principal_clause(
        &self,
        statement: &Node<'_>,
        p: &Pointer,
        principal: Option<(&Member<'_>, bool)>,
        effect: Effect,
    ) -> Result<Option<PrincipalClause>, ParseError> {
        let allowed = self.options.kind.has_principal();
        let Some((m, negated)) = principal else {
            if allowed && self.options.kind == PolicyKind::ResourceBased {
                // A resource-policy statement must name its principal (R-GRAM-6).
                self.invalid(
                    statement,
                    p,
                    "statement (no `Principal` in a resource policy)",
                    "",
                    "R-GRAM-6",
                )?;
                // Lenient: a statement with no principal applies to no one.
                return Ok(Some(PrincipalClause {
                    negated: false,
                    entries: vec![],
                }));
            }
            // VPC endpoint policies may omit it (AWS's default endpoint policy does not).
            return Ok(allowed.then(|| PrincipalClause {
                negated: false,
                entries: vec![PrincipalEntry::Wildcard],
            }));
        };
        let mp = p.key(&m.key);
        if !allowed {
            self.invalid(
                &m.value,
                &mp,
                "member in this policy kind",
                &m.key,
                "R-GRAM-6",
            )?;
            return Ok(None); // lenient: ignored
        }
        if negated && effect == Effect::Allow {
            self.invalid(
                &m.value,
                &mp,
                "`NotPrincipal` with `Allow`",
                "NotPrincipal",
                "R-PRIN-6",
            )?;
        }
        let entries = self.principal_entries(&m.value, &mp)?;
        if self.options.kind == PolicyKind::Rcp
            && (negated || entries != [PrincipalEntry::Wildcard])
        {
            self.invalid(
                &m.value,
                &mp,
                "RCP principal (must be `\"*\"`)",
                &m.key,
                "R-GRAM-8",
            )?;
        }
        Ok(Some(PrincipalClause { negated, entries }))
    }

    fn principal_entries(
        &self,
        node: &Node<'_>,
        p: &Pointer,
    ) -> Result<Vec<PrincipalEntry>, ParseError> {
        if let Some(s) = node.as_str() {
            // `"*"` is everyone; any other bare string is read as `{"AWS": s}` (Huawei:
            // `{"IAM": s}`) — a decision: R-PRIN-1 lists the map forms and is silent here.
            if s == "*" {
                return Ok(vec![PrincipalEntry::Wildcard]);
            }
            if s.contains(['*', '?']) {
                self.invalid(node, p, "principal (partial wildcard)", s, "R-PRIN-2")?;
                return Ok(vec![PrincipalEntry::Never]);
            }
            return Ok(vec![PrincipalEntry::Account(s.to_string())]);
        }
        let members = object_members(self.src, node, p, "`\"*\"` or a principal map")?;
        let mut entries = Vec::new();
        for m in members {
            let mp = p.key(&m.key);
            let make: fn(String) -> PrincipalEntry = match (self.dialect(), m.key.as_ref()) {
                (Dialect::Aws, "AWS") | (Dialect::Huawei, "IAM") => PrincipalEntry::Account,
                (_, "Service") => PrincipalEntry::Service,
                (Dialect::Aws, "Federated") => PrincipalEntry::Federated,
                (Dialect::Aws, "CanonicalUser") => PrincipalEntry::CanonicalUser,
                (Dialect::Huawei, "ID") => PrincipalEntry::ObsId,
                (_, other) => {
                    self.invalid(&m.value, &mp, "principal type", other, "R-PRIN-1, R-HW-8")?;
                    entries.push(PrincipalEntry::Never);
                    continue;
                }
            };
            let wildcard_means_everyone = matches!(m.key.as_ref(), "AWS" | "IAM" | "ID");
            for (item, ip, text) in self.string_list(&m.value, &mp, "principal list")? {
                if text == "*" && wildcard_means_everyone {
                    entries.push(PrincipalEntry::Wildcard);
                } else if text != "*" && text.contains(['*', '?']) {
                    self.invalid(item, &ip, "principal (partial wildcard)", &text, "R-PRIN-2")?;
                    entries.push(PrincipalEntry::Never);
                } else {
                    entries.push(make(text));
                }
            }
        }
        Ok(entries)
    }

    fn conditions(&self, node: &Node<'_>, p: &Pointer) -> Result<Vec<Condition>, ParseError> {
        let operators = object_members(self.src, node, p, "a condition block (a JSON object)")?;
        let mut out = Vec::new();
        for op_member in operators {
            let op_ptr = p.key(&op_member.key);
            let operator = self.operator(op_member, &op_ptr)?;
            let keys = object_members(
                self.src,
                &op_member.value,
                &op_ptr,
                "an object of condition keys",
            )?;
            for key_member in keys {
                let key_ptr = op_ptr.key(&key_member.key);
                let values = self.condition_values(operator, &key_member.value, &key_ptr)?;
                out.push(Condition {
                    operator,
                    key_written: key_member.key.to_string(),
                    key: primitives::canonical_key(&key_member.key),
                    values,
                });
            }
        }
        Ok(out)
    }

    fn operator(&self, m: &Member<'_>, p: &Pointer) -> Result<Operator, ParseError> {
        let node_err = |what: &str| {
            self.src.error_at(
                m.key_span.start as usize,
                p,
                ErrorKind::Invalid {
                    what: what.to_string(),
                    value: snippet(&m.key),
                    rule: "R-COND-1, R-COND-2",
                },
            )
        };
        let Some(operator) = parse_operator(&m.key, self.dialect()) else {
            return Err(node_err("condition operator"));
        };
        if operator.base == BaseOperator::Null {
            if operator.if_exists {
                return Err(node_err(
                    "condition operator (`Null` cannot take `IfExists`)",
                ));
            }
            if operator.qualifier.is_some() && self.strict() {
                return Err(node_err(
                    "condition operator (`Null` cannot take a set qualifier)",
                ));
            }
        }
        Ok(Operator {
            qualifier: if operator.base == BaseOperator::Null {
                None
            } else {
                operator.qualifier
            },
            ..operator
        })
    }

    fn condition_values(
        &self,
        op: Operator,
        node: &Node<'_>,
        p: &Pointer,
    ) -> Result<ConditionValues, ParseError> {
        let scalars = self.scalars(node, p)?;
        let base = op.base;
        let values = match base.family() {
            OperatorFamily::String => ConditionValues::Patterns(
                scalars
                    .iter()
                    .map(|(n, sp, t)| self.pattern(n, sp, t, true))
                    .collect::<Result<_, _>>()?,
            ),
            OperatorFamily::Bool => {
                let mut patterns = Vec::new();
                for (n, sp, t) in &scalars {
                    let pattern = self.pattern(n, sp, t, true)?;
                    if !pattern.has_variables() && primitives::parse_bool(t).is_none() {
                        self.invalid(
                            n,
                            sp,
                            "Bool value (expected `true` or `false`)",
                            t,
                            "R-OPB-1",
                        )?;
                    }
                    patterns.push(pattern);
                }
                ConditionValues::Patterns(patterns)
            }
            OperatorFamily::Arn => {
                let mut arns = Vec::new();
                for (n, sp, t) in &scalars {
                    arns.push(self.arn_value(n, sp, t)?);
                }
                ConditionValues::Arns(arns)
            }
            OperatorFamily::Null => {
                let mut flags = Vec::new();
                for (n, sp, t) in &scalars {
                    let flag = primitives::parse_bool(t);
                    if flag.is_none() {
                        self.invalid(
                            n,
                            sp,
                            "Null value (expected `true` or `false`)",
                            t,
                            "R-COND-9",
                        )?;
                    }
                    flags.push(flag);
                }
                ConditionValues::Null(flags)
            }
            family @ (OperatorFamily::Numeric
            | OperatorFamily::Date
            | OperatorFamily::Ip
            | OperatorFamily::Binary) => {
                for (n, sp, t) in &scalars {
                    if !typed_value_is_valid(family, t) {
                        let (what, rule) = typed_value_rule(family);
                        self.invalid(n, sp, what, t, rule)?;
                    }
                }
                ConditionValues::Typed(scalars.into_iter().map(|(_, _, t)| t).collect())
            }
        };
        Ok(values)
    }

    fn arn_value(
        &self,
        node: &Node<'_>,
        p: &Pointer,
        text: &str,
    ) -> Result<Option<[Pattern; 6]>, ParseError> {
        let Some(parts) = primitives::split_arn(text) else {
            self.invalid(
                node,
                p,
                "ARN condition value (fewer than six parts)",
                text,
                "R-OPA-2",
            )?;
            return Ok(None);
        };
        let mut out: [Pattern; 6] = Default::default();
        for (slot, part) in out.iter_mut().zip(parts) {
            *slot = self.pattern(node, p, part, true)?;
        }
        Ok(Some(out))
    }

    /// A scalar or a non-empty array of scalars, each normalised to text (R-JSON-1, R-JSON-2).
    fn scalars<'n, 'a>(
        &self,
        node: &'n Node<'a>,
        p: &Pointer,
    ) -> Result<Vec<(&'n Node<'a>, Pointer, String)>, ParseError> {
        let one = |n: &'n Node<'a>,
                   np: Pointer|
         -> Result<(&'n Node<'a>, Pointer, String), ParseError> {
            let text = match &n.value {
                Value::String(s) => s.to_string(),
                Value::Number(raw) => raw.to_string(),
                Value::Bool(b) => b.to_string(),
                _ => {
                    return Err(self
                        .src
                        .expected(n, &np, "a string, number or boolean (R-JSON-1)"))
                }
            };
            Ok((n, np, text))
        };
        match &node.value {
            Value::Array(items) => {
                if items.is_empty() {
                    self.invalid(node, p, "condition value list", "[]", "R-JSON-2")?;
                }
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| one(item, p.index(i)))
                    .collect()
            }
            _ => Ok(vec![one(node, p.clone())?]),
        }
    }

    /// R-HW-3, strict mode, Huawei SCPs only.
    fn check_huawei_scp(
        &self,
        node: &Node<'_>,
        p: &Pointer,
        s: &Statement,
        action: &Member<'_>,
    ) -> Result<(), ParseError> {
        if !(self.strict()
            && self.dialect() == Dialect::Huawei
            && self.options.kind == PolicyKind::Scp)
        {
            return Ok(());
        }
        if s.effect == Effect::Allow && !s.conditions.is_empty() {
            self.invalid(
                node,
                p,
                "Huawei SCP statement (`Allow` with `Condition`)",
                "Condition",
                "R-HW-3",
            )?;
        }
        if s.effect == Effect::Allow && s.action.negated {
            self.invalid(
                node,
                p,
                "Huawei SCP statement (`NotAction` in `Allow`)",
                "NotAction",
                "R-HW-3",
            )?;
        }
        let ap = p.key(&action.key);
        for (item, ip, text) in self.string_list(&action.value, &ap, "action list")? {
            let body = text.trim_end_matches(['*', '?']);
            if text != "*" && body.contains(['*', '?']) {
                self.invalid(
                    item,
                    &ip,
                    "Huawei SCP action (wildcards only alone or at the end)",
                    &text,
                    "R-HW-3",
                )?;
            }
        }
        Ok(())
    }
}

fn conflict(src: &Source<'_>, m: &Member<'_>, p: &Pointer, other: &str) -> ParseError {
    let (a, b) = match (other, m.key.as_ref()) {
        ("Action", _) | (_, "Action") => ("Action", "NotAction"),
        ("Resource", _) | (_, "Resource") => ("Resource", "NotResource"),
        _ => ("Principal", "NotPrincipal"),
    };
    src.error_at(
        m.key_span.start as usize,
        &p.key(&m.key),
        ErrorKind::Conflict(a, b),
    )
}

/// Parses `[ForAllValues:|ForAnyValue:]Base[IfExists]`, case-insensitively (R-COND-2), with
/// the Huawei spellings as aliases (R-HW-9).
pub fn parse_operator(name: &str, dialect: Dialect) -> Option<Operator> {
    let lower = name.to_ascii_lowercase();
    let (qualifier, rest) = if let Some(r) = lower.strip_prefix("forallvalues:") {
        (Some(SetQualifier::ForAllValues), r)
    } else if let Some(r) = lower.strip_prefix("foranyvalue:") {
        (Some(SetQualifier::ForAnyValue), r)
    } else {
        (None, lower.as_str())
    };
    let (base_name, if_exists) = match rest.strip_suffix("ifexists") {
        Some(b) => (b, true),
        None => (rest, false),
    };
    let base = base_operator(base_name, dialect)?;
    Some(Operator {
        qualifier,
        base,
        if_exists,
    })
}

fn base_operator(lower: &str, dialect: Dialect) -> Option<BaseOperator> {
    // Huawei names: StringMatch = StringLike, Number* = Numeric* (R-HW-9).
    let aliased;
    let name = if dialect == Dialect::Huawei {
        if let Some(rest) = lower.strip_prefix("number") {
            aliased = format!("numeric{rest}");
            aliased.as_str()
        } else {
            match lower {
                "stringmatch" => "stringlike",
                "stringnotmatch" => "stringnotlike",
                other => other,
            }
        }
    } else {
        lower
    };
    let base = BaseOperator::ALL
        .iter()
        .copied()
        .find(|b| b.name().eq_ignore_ascii_case(name))?;
    // StartWith/EndWith are Huawei operators (R-HW-9).
    let huawei_only = matches!(
        base,
        BaseOperator::StringStartWith
            | BaseOperator::StringNotStartWith
            | BaseOperator::StringEndWith
            | BaseOperator::StringNotEndWith
    );
    (!huawei_only || dialect == Dialect::Huawei).then_some(base)
}

fn typed_value_is_valid(family: OperatorFamily, text: &str) -> bool {
    match family {
        OperatorFamily::Numeric => primitives::parse_decimal(text).is_some(),
        OperatorFamily::Date => primitives::parse_date(text).is_some(),
        OperatorFamily::Ip => primitives::parse_cidr(text).is_some(),
        OperatorFamily::Binary => primitives::decode_base64(text).is_some(),
        _ => true,
    }
}

fn typed_value_rule(family: OperatorFamily) -> (&'static str, &'static str) {
    match family {
        OperatorFamily::Numeric => ("number", "R-OPN-2"),
        OperatorFamily::Date => ("date", "R-OPD-2"),
        OperatorFamily::Ip => ("IP address or CIDR", "R-OPI-2"),
        _ => ("base64 value", "R-OPB-2"),
    }
}

/// Splits `text` into [`Token`]s (R-VAR-2, R-VAR-4, R-VAR-5). `Err` carries the malformed
/// `${…}` token.
pub fn tokenize_variables(text: &str) -> Result<Pattern, String> {
    tokenize(text, false)
}

/// As [`tokenize_variables`], but a malformed `${…}` becomes [`Token::Unresolvable`].
pub fn tokenize_variables_lenient(text: &str) -> Pattern {
    tokenize(text, true).unwrap_or_default()
}

fn tokenize(text: &str, lenient: bool) -> Result<Pattern, String> {
    let mut tokens = Vec::new();
    let mut rest = text;
    let mut literal = String::new();
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            break; // R-VAR-5: no closing brace, literal text
        };
        literal.push_str(&rest[..start]);
        let inner = &after[..end];
        rest = &after[end + 1..];
        let token = match inner {
            "*" | "?" | "$" => Token::Literal(inner.to_string()),
            _ => match parse_variable(inner) {
                Some(v) => Token::Variable(v),
                None if lenient => Token::Unresolvable,
                None => return Err(format!("${{{inner}}}")),
            },
        };
        if !literal.is_empty() {
            tokens.push(Token::Text(std::mem::take(&mut literal)));
        }
        tokens.push(token);
    }
    literal.push_str(rest);
    if !literal.is_empty() {
        tokens.push(Token::Text(literal));
    }
    Ok(Pattern { tokens })
}

/// `key` or `key, 'default'` (R-VAR-4).
fn parse_variable(inner: &str) -> Option<Variable> {
    let (name, default) = match inner.split_once(", ") {
        Some((name, rest)) => {
            let quoted = rest.strip_prefix('\'')?.strip_suffix('\'')?;
            if quoted.contains('\'') {
                return None;
            }
            (name, Some(quoted.to_string()))
        }
        None => (inner, None),
    };
    let name = name.trim();
    if name.is_empty() || name.contains(['$', '{', '\'']) {
        return None;
    }
    Some(Variable {
        key: primitives::canonical_key(name),
        default,
    })
}
