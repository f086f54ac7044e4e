//! Reading one case (a CASES.md JSON object) into a [`Chain`].
//!
//! A case that cannot be read yields a [`CaseError`] naming the source (`file:line`), the
//! JSON pointer, the column and what was expected; the runner turns it into an `Error`
//! decision and goes on with the next line.
//!
//! Extensions to CASES.md, all optional: `options.mode` (`"strict"`/`"lenient"`,
//! R-GEN-6), `options.huawei_policy_variables` (R-HW-17), a hop's
//! `requires_no_permission` (R-EVAL-7; when absent, true for the AWS action
//! `sts:GetCallerIdentity`), a hop's `resource_policy_slot` (a resource policy
//! compiled into a program, for `fastiam eval --program`), and a principal object's
//! `parent_user_arn` (R-PRIN-3 `SessionParentUser`).

use super::chain::*;
use super::context::{Context, ContextValue};
use super::principal::{Principal, PrincipalKind};
use super::shared::{PolicySetCache, ReadOptions, SharedPolicies};
use crate::error::{ErrorKind, Location, ParseError};
use crate::json::{self, Member, Node, Pointer, Span, Value};
use crate::policy::parse::{describe, object_members};
use crate::policy::{parse_policy_node, Dialect, Mode, ParseOptions, Policy, PolicyKind, Source};
use crate::primitives;
use std::rc::Rc;

/// A case: its id, the chain it asks about, and what a correct evaluator answers.
#[derive(Clone, Debug, PartialEq)]
pub struct Case {
    pub id: String,
    pub chain: Chain,
    /// The case's `expect`, if any: used by tests and `--summary`, ignored by evaluation.
    pub expect: Option<Expectation>,
    /// Where the case's `policies` member is, when it has one (an empty `{}` included):
    /// an engine that evaluates against a compiled program refuses such a case.
    pub policies_at: Option<Location>,
}

/// CASES.md `expect`: the decision, the first denied hop and per-hop decisions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expectation {
    pub decision: String,
    pub denied_at: Option<usize>,
    /// Per-hop decisions, when given.
    pub hops: Vec<String>,
}

/// Top-level members of a case (CASES.md).
const CASE_MEMBERS: &[&str] = &[
    "id",
    "dialect",
    "principal",
    "policies",
    "context",
    "chain",
    "options",
    "credentials",
    "expect",
];

/// A case that could not be read. `id` is known when the line got that far.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseError {
    pub id: Option<String>,
    /// Boxed: errors are rare, and a small `Result` keeps the happy path cheap.
    pub error: Box<ParseError>,
}

impl std::fmt::Display for CaseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.error.fmt(f)
    }
}

impl std::error::Error for CaseError {}

/// Reads one case from `text` (one line of a JSON Lines file); `source` names it in errors.
pub fn parse_case(text: &str, source: &str) -> Result<Case, CaseError> {
    parse_case_with(text, source, None)
}

/// As [`parse_case`], with a loading mode that overrides the case's own `options.mode`
/// when given (the command line's `--mode`).
pub fn parse_case_with(text: &str, source: &str, mode: Option<Mode>) -> Result<Case, CaseError> {
    parse_case_inner(text, source, mode, None)
}

/// A case read by [`parse_case_sharing`]: its policy set lives in the cache.
#[derive(Debug)]
pub struct SharedCase {
    /// The case; `case.chain.policies` holds only the resource policies of its hops.
    pub case: Case,
    /// The case's `policies` (none: the empty set), as parsed once for every line with
    /// the same text and loading options.
    pub policies: Rc<SharedPolicies>,
    /// Where each resource policy of `case.chain.policies.resource` is in the line's text.
    pub resource_policy_spans: Vec<Span>,
}

/// As [`parse_case_with`], reusing the policy set of an earlier line with the same
/// `policies` text (see [`super::shared`]). The decisions and the errors are those of
/// [`parse_case_with`], for every line: a text is reused only once it parsed.
pub fn parse_case_sharing(
    text: &str,
    source: &str,
    mode: Option<Mode>,
    cache: &mut PolicySetCache,
) -> Result<SharedCase, CaseError> {
    let skipped = json::top_level_member(text, "policies")
        .filter(|span| cache.huawei(&text[span.range()]).is_some());
    let mut sharing = Sharing {
        cache,
        skipped,
        shared: None,
        resource_policy_spans: Vec::new(),
    };
    let case = parse_case_inner(text, source, mode, Some(&mut sharing))?;
    Ok(SharedCase {
        case,
        policies: sharing
            .shared
            .expect("a case read with sharing has its set"),
        resource_policy_spans: sharing.resource_policy_spans,
    })
}

/// The state of [`parse_case_sharing`] while it reads one line.
struct Sharing<'c> {
    cache: &'c mut PolicySetCache,
    /// The span of the `policies` value the JSON tree holds as an empty placeholder.
    skipped: Option<Span>,
    shared: Option<Rc<SharedPolicies>>,
    resource_policy_spans: Vec<Span>,
}

fn syntax_error(source: &str, e: json::SyntaxError) -> ParseError {
    ParseError {
        location: Location {
            source: source.to_string(),
            pointer: Pointer::root(),
            line: e.line,
            column: e.column,
        },
        kind: ErrorKind::Syntax(e.expected),
    }
}

fn parse_case_inner(
    text: &str,
    source: &str,
    mode: Option<Mode>,
    sharing: Option<&mut Sharing<'_>>,
) -> Result<Case, CaseError> {
    let skipped = sharing.as_ref().and_then(|s| s.skipped);
    let root = match skipped {
        Some(span) => json::parse_skipping(text, span),
        None => json::parse(text),
    }
    .map_err(|e| CaseError {
        id: None,
        error: Box::new(syntax_error(source, e)),
    })?;
    read_parsed_case(text, &root, source, mode, sharing)
}

/// Reads a case from a JSON tree built elsewhere — e.g. by walking a Python dict, with no
/// JSON text in between. The tree has no text, so an error's line and column say nothing
/// (1, 1): its pointer (`/chain/1/context/aws:SourceIp`) is the place.
pub fn read_case_tree(
    root: &Node<'_>,
    source: &str,
    mode: Option<Mode>,
) -> Result<Case, CaseError> {
    read_parsed_case("", root, source, mode, None)
}

/// The case of `root`, parsed from `text` (empty for a tree built without text).
fn read_parsed_case(
    text: &str,
    root: &Node<'_>,
    source: &str,
    mode: Option<Mode>,
    sharing: Option<&mut Sharing<'_>>,
) -> Result<Case, CaseError> {
    let src = Source { text, name: source };
    let id = root.get("id").and_then(|n| match &n.value {
        Value::String(s) => Some(s.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    });
    read_case(&src, root, mode, sharing)
        .and_then(|chain| {
            let expect = match root.get("expect") {
                Some(node) => Some(read_expectation(
                    &src,
                    node,
                    &Pointer::root().key("expect"),
                )?),
                None => None,
            };
            let policies_at = root.get("policies").map(|node| {
                let (line, column) = json::line_col(text, node.span.start as usize);
                Location {
                    source: source.to_string(),
                    pointer: Pointer::root().key("policies"),
                    line,
                    column,
                }
            });
            Ok(Case {
                id: id.clone().unwrap_or_default(),
                chain,
                expect,
                policies_at,
            })
        })
        .map_err(|error| CaseError {
            id,
            error: Box::new(error),
        })
}

fn read_expectation(
    src: &Source<'_>,
    node: &Node<'_>,
    p: &Pointer,
) -> Result<Expectation, ParseError> {
    let decision = node
        .get("decision")
        .ok_or_else(|| src.error(node, p, ErrorKind::Missing("decision")))?;
    let decision = string(src, decision, &p.key("decision"))?;
    let denied_at = match node.get("denied_at") {
        None => None,
        Some(n) if n.is_null() => None,
        Some(n) => Some(
            n.as_number()
                .and_then(|t| t.parse::<usize>().ok())
                .ok_or_else(|| src.expected(n, &p.key("denied_at"), "a hop index or `null`"))?,
        ),
    };
    let mut hops = Vec::new();
    if let Some(list) = node.get("hops") {
        let hp = p.key("hops");
        let items = list
            .as_array()
            .ok_or_else(|| src.expected(list, &hp, "an array"))?;
        for (i, item) in items.iter().enumerate() {
            let ip = hp.index(i);
            let d = item
                .get("decision")
                .ok_or_else(|| src.error(item, &ip, ErrorKind::Missing("decision")))?;
            hops.push(string(src, d, &ip.key("decision"))?);
        }
    }
    Ok(Expectation {
        decision,
        denied_at,
        hops,
    })
}

fn read_case(
    src: &Source<'_>,
    root: &Node<'_>,
    mode: Option<Mode>,
    mut sharing: Option<&mut Sharing<'_>>,
) -> Result<Chain, ParseError> {
    let top = Pointer::root();
    let members = object_members(src, root, &top, "a case object")?;
    if let Some(m) = members
        .iter()
        .find(|m| !CASE_MEMBERS.contains(&m.key.as_ref()))
    {
        return Err(unknown(src, m, &top, &m.key));
    }
    let get = |name: &str| members.iter().find(|m| m.key == name);
    let need = |name: &'static str| {
        get(name).ok_or_else(|| src.error(root, &top, ErrorKind::Missing(name)))
    };

    let id = need("id")?;
    if !matches!(id.value.value, Value::String(_) | Value::Number(_)) {
        return Err(src.expected(&id.value, &top.key("id"), "a string"));
    }
    let mut options = match get("options") {
        Some(m) => read_options(src, &m.value, &top.key("options"))?,
        None => Options::default(),
    };
    if let Some(mode) = mode {
        options.mode = mode;
    }
    let principal = read_principal(src, &need("principal")?.value, &top.key("principal"))?;
    let policies_node = get("policies");
    // The `policies` value left out of the JSON tree, known from an earlier line.
    let skipped = policies_node.filter(|m| {
        sharing
            .as_ref()
            .is_some_and(|s| s.skipped == Some(m.value.span))
    });
    let dialect = match get("dialect") {
        Some(m) => match m.value.as_str() {
            Some("aws") => Dialect::Aws,
            Some("huawei") => Dialect::Huawei,
            _ => return Err(src.expected(&m.value, &top.key("dialect"), "`aws` or `huawei`")),
        },
        None => {
            let known = match (skipped, sharing.as_deref_mut()) {
                (Some(m), Some(s)) => s.cache.huawei(&src.text[m.value.span.range()]),
                _ => None,
            };
            guess_dialect(policies_node, get("chain"), known)
        }
    };
    let reader = PolicyReader {
        src,
        options: &options,
    };
    let mut policies = match sharing.as_deref_mut() {
        None => match policies_node {
            Some(m) => reader.policy_set(&m.value, &top.key("policies"))?,
            None => PolicySet::default(),
        },
        Some(sharing) => {
            sharing.shared = Some(reader.shared_policy_set(policies_node, skipped, sharing)?);
            PolicySet::default()
        }
    };
    let context = match get("context") {
        Some(m) => read_context(src, &m.value, &top.key("context"))?,
        None => Context::new(),
    };
    let chain_member = need("chain")?;
    let mut resource_policy_spans = Vec::new();
    let hops = reader.hops(
        &chain_member.value,
        &top.key("chain"),
        dialect,
        &mut policies.resource,
        &mut resource_policy_spans,
    )?;
    if let Some(sharing) = sharing {
        sharing.resource_policy_spans = resource_policy_spans;
    }
    let credentials = match get("credentials") {
        Some(m) => Some(read_credentials(src, &m.value, &top.key("credentials"))?),
        None => None,
    };
    let mut principal = principal;
    if principal.kind != PrincipalKind::Anonymous && principal.kind != PrincipalKind::Service {
        principal.dialect = dialect;
    }
    Ok(Chain {
        request: Request {
            dialect,
            principal,
            context,
            hops,
            options,
            credentials,
        },
        policies,
    })
}

/// Whether a node holds a Huawei policy `Version` (`5.0` or `1.1`) at any depth.
fn any_huawei(node: &Node<'_>) -> bool {
    match &node.value {
        Value::Object(members) => members.iter().any(|m| {
            (m.key == "Version" && matches!(m.value.as_str(), Some("5.0" | "1.1")))
                || any_huawei(&m.value)
        }),
        Value::Array(items) => items.iter().any(any_huawei),
        _ => false,
    }
}

/// CASES.md: `huawei` if any policy has `Version` `5.0` or `1.1`, else `aws` (R-GEN-5).
/// `policies_huawei` is the answer for `policies` when known without its tree.
fn guess_dialect(
    policies: Option<&Member<'_>>,
    chain: Option<&Member<'_>>,
    policies_huawei: Option<bool>,
) -> Dialect {
    let huawei = policies_huawei.unwrap_or_else(|| policies.is_some_and(|m| any_huawei(&m.value)))
        || chain.is_some_and(|m| any_huawei(&m.value));
    if huawei {
        Dialect::Huawei
    } else {
        Dialect::Aws
    }
}

fn read_options(src: &Source<'_>, node: &Node<'_>, p: &Pointer) -> Result<Options, ParseError> {
    let mut options = Options::default();
    for m in object_members(src, node, p, "an options object")? {
        let mp = p.key(&m.key);
        match m.key.as_ref() {
            "called_via_services" => {
                options.fas.called_via_services = string_array(src, &m.value, &mp)?;
            }
            "preserve_source_ip" => options.fas.preserve_source_ip = boolean(src, &m.value, &mp)?,
            "huawei_policy_variables" => {
                options.huawei_policy_variables = boolean(src, &m.value, &mp)?
            }
            "mode" => {
                options.mode = match m.value.as_str() {
                    Some("strict") => Mode::Strict,
                    Some("lenient") => Mode::Lenient,
                    _ => return Err(src.expected(&m.value, &mp, "`strict` or `lenient`")),
                }
            }
            other => return Err(unknown(src, m, p, other)),
        }
    }
    Ok(options)
}

fn unknown(src: &Source<'_>, m: &Member<'_>, p: &Pointer, name: &str) -> ParseError {
    src.error_at(
        m.key_span.start as usize,
        &p.key(name),
        ErrorKind::UnknownMember(name.to_string()),
    )
}

fn boolean(src: &Source<'_>, node: &Node<'_>, p: &Pointer) -> Result<bool, ParseError> {
    match node.value {
        Value::Bool(b) => Ok(b),
        _ => Err(src.expected(node, p, "`true` or `false`")),
    }
}

fn string(src: &Source<'_>, node: &Node<'_>, p: &Pointer) -> Result<String, ParseError> {
    node.as_str()
        .map(str::to_string)
        .ok_or_else(|| src.expected(node, p, "a string"))
}

fn string_array(src: &Source<'_>, node: &Node<'_>, p: &Pointer) -> Result<Vec<String>, ParseError> {
    let items = node
        .as_array()
        .ok_or_else(|| src.expected(node, p, "an array of strings"))?;
    items
        .iter()
        .enumerate()
        .map(|(i, item)| string(src, item, &p.index(i)))
        .collect()
}

fn read_principal(src: &Source<'_>, node: &Node<'_>, p: &Pointer) -> Result<Principal, ParseError> {
    let invalid = |n: &Node<'_>, pp: &Pointer, msg: String| {
        src.error(
            n,
            pp,
            ErrorKind::Invalid {
                what: "principal".into(),
                value: msg,
                rule: "R-PRIN-3, R-CTX-6",
            },
        )
    };
    if let Some(s) = node.as_str() {
        return Principal::from_arn(s).map_err(|e| invalid(node, p, e.0));
    }
    let members = object_members(src, node, p, "a principal ARN string or object")?;
    let arn_member = members
        .iter()
        .find(|m| m.key == "arn")
        .ok_or_else(|| src.error(node, p, ErrorKind::Missing("arn")))?;
    let arn_ptr = p.key("arn");
    let arn = string(src, &arn_member.value, &arn_ptr)?;
    let mut principal =
        Principal::from_arn(&arn).map_err(|e| invalid(&arn_member.value, &arn_ptr, e.0))?;
    for m in members {
        let mp = p.key(&m.key);
        match m.key.as_ref() {
            "arn" => {}
            "account" => principal.account = Some(string(src, &m.value, &mp)?),
            "role_arn" => principal.role_arn = Some(string(src, &m.value, &mp)?),
            "parent_user_arn" => principal.parent_user_arn = Some(string(src, &m.value, &mp)?),
            "service_linked" => principal.service_linked = boolean(src, &m.value, &mp)?,
            "management_account" => principal.management_account = boolean(src, &m.value, &mp)?,
            "kind" => {
                let name = string(src, &m.value, &mp)?;
                principal.kind = PrincipalKind::from_name(&name).ok_or_else(|| {
                    src.expected(
                        &m.value,
                        &mp,
                        "`User`, `AssumedRole`, `FederatedUser`, `Root`, `Service` or `Anonymous`",
                    )
                })?;
            }
            other => return Err(unknown(src, m, p, other)),
        }
    }
    Ok(principal)
}

/// A context object: keys to a string, number, boolean, or an array of them (CASES.md).
pub fn read_context(src: &Source<'_>, node: &Node<'_>, p: &Pointer) -> Result<Context, ParseError> {
    let mut ctx = Context::new();
    for m in object_members(src, node, p, "a context object")? {
        let mp = p.key(&m.key);
        let value = match &m.value.value {
            Value::Array(items) => ContextValue::Multi(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| scalar_text(src, item, &mp.index(i)))
                    .collect::<Result<_, _>>()?,
            ),
            _ => ContextValue::Single(scalar_text(src, &m.value, &mp)?),
        };
        ctx.insert(&m.key, value).map_err(|c| {
            src.error_at(
                m.key_span.start as usize,
                &mp,
                ErrorKind::Invalid {
                    what: "context key (same as another after canonicalisation)".into(),
                    value: c.canonical,
                    rule: "R-CTX-2",
                },
            )
        })?;
    }
    Ok(ctx)
}

/// A scalar as text (R-JSON-1): strings as is, numbers verbatim, booleans `true`/`false`.
fn scalar_text(src: &Source<'_>, node: &Node<'_>, p: &Pointer) -> Result<String, ParseError> {
    match &node.value {
        Value::String(s) => Ok(s.to_string()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        _ => Err(src.error(
            node,
            p,
            ErrorKind::Expected {
                expected: "a string, number or boolean".into(),
                found: describe(node),
            },
        )),
    }
}

fn read_credentials(
    src: &Source<'_>,
    node: &Node<'_>,
    p: &Pointer,
) -> Result<Credentials, ParseError> {
    let mut creds = Credentials {
        issued: None,
        expires: None,
    };
    for m in object_members(src, node, p, "a credentials object")? {
        let mp = p.key(&m.key);
        let slot = match m.key.as_ref() {
            "issued" => &mut creds.issued,
            "expires" => &mut creds.expires,
            other => return Err(unknown(src, m, p, other)),
        };
        let text = scalar_text(src, &m.value, &mp)?;
        *slot = Some(primitives::parse_date(&text).ok_or_else(|| {
            src.expected(&m.value, &mp, "a date (ISO 8601 or epoch seconds, R-OPD-2)")
        })?);
    }
    Ok(creds)
}

/// Reads the policies of a case with the case's mode.
struct PolicyReader<'s, 't> {
    src: &'s Source<'t>,
    options: &'s Options,
}

impl PolicyReader<'_, '_> {
    fn parse_options(&self, kind: PolicyKind) -> ParseOptions {
        ParseOptions {
            kind,
            mode: self.options.mode,
            huawei_policy_variables: self.options.huawei_policy_variables,
        }
    }

    /// A bare document, or `{"id": NAME, "document": {…}}` (CASES.md).
    fn policy(
        &self,
        node: &Node<'_>,
        p: &Pointer,
        default_id: String,
        kind: PolicyKind,
    ) -> Result<Policy, ParseError> {
        let wrapped = node.get("document").is_some() && node.get("Statement").is_none();
        if !wrapped {
            return parse_policy_node(self.src, node, p, &default_id, &self.parse_options(kind));
        }
        let mut id = default_id;
        let mut document = None;
        for m in object_members(self.src, node, p, "a policy")? {
            let mp = p.key(&m.key);
            match m.key.as_ref() {
                "id" => id = string(self.src, &m.value, &mp)?,
                "document" => document = Some((&m.value, mp)),
                other => return Err(unknown(self.src, m, p, other)),
            }
        }
        let (doc, dp) = document.expect("checked above");
        parse_policy_node(self.src, doc, &dp, &id, &self.parse_options(kind))
    }

    fn policy_list(
        &self,
        node: &Node<'_>,
        p: &Pointer,
        prefix: &str,
        kind: PolicyKind,
    ) -> Result<Vec<Policy>, ParseError> {
        let items = node
            .as_array()
            .ok_or_else(|| self.src.expected(node, p, "an array of policies"))?;
        items
            .iter()
            .enumerate()
            .map(|(i, item)| self.policy(item, &p.index(i), format!("{prefix}[{i}]"), kind))
            .collect()
    }

    fn levels(
        &self,
        node: &Node<'_>,
        p: &Pointer,
        name: &str,
        kind: PolicyKind,
    ) -> Result<Vec<Vec<Policy>>, ParseError> {
        let levels = node.as_array().ok_or_else(|| {
            self.src
                .expected(node, p, "an array of levels (arrays of policies)")
        })?;
        levels
            .iter()
            .enumerate()
            .map(|(i, level)| self.policy_list(level, &p.index(i), &format!("{name}[{i}]"), kind))
            .collect()
    }

    fn policy_set(&self, node: &Node<'_>, p: &Pointer) -> Result<PolicySet, ParseError> {
        let mut set = PolicySet::default();
        for m in object_members(self.src, node, p, "a policies object")? {
            let mp = p.key(&m.key);
            match m.key.as_ref() {
                "identity" => {
                    set.identity =
                        self.policy_list(&m.value, &mp, "identity", PolicyKind::Identity)?
                }
                "boundary" => {
                    set.boundary = Some(self.policy(
                        &m.value,
                        &mp,
                        "boundary".into(),
                        PolicyKind::PermissionsBoundary,
                    )?)
                }
                "session" => {
                    set.session =
                        Some(self.policy_list(&m.value, &mp, "session", PolicyKind::Session)?)
                }
                "scp" => set.scp = self.levels(&m.value, &mp, "scp", PolicyKind::Scp)?,
                "rcp" => set.rcp = self.levels(&m.value, &mp, "rcp", PolicyKind::Rcp)?,
                "vpce" => {
                    set.vpce =
                        Some(self.policy(&m.value, &mp, "vpce".into(), PolicyKind::VpcEndpoint)?)
                }
                other => return Err(unknown(self.src, m, p, other)),
            }
        }
        Ok(set)
    }

    /// The case's set from the cache, or parsed and kept there (the text of `policies`,
    /// the empty text when there is none, under the case's loading options).
    fn shared_policy_set(
        &self,
        member: Option<&Member<'_>>,
        skipped: Option<&Member<'_>>,
        sharing: &mut Sharing<'_>,
    ) -> Result<Rc<SharedPolicies>, ParseError> {
        let text = member.map_or("", |m| &self.src.text[m.value.span.range()]);
        let options = ReadOptions {
            mode: self.options.mode,
            huawei_policy_variables: self.options.huawei_policy_variables,
        };
        if let Some(shared) = sharing.cache.get(text, options) {
            return Ok(shared);
        }
        let reparsed;
        let node = match (member, skipped) {
            (None, _) => None,
            (Some(m), Some(_)) => {
                reparsed = json::parse_value_at(self.src.text, m.value.span)
                    .map_err(|e| syntax_error(self.src.name, e))?;
                Some(&reparsed)
            }
            (Some(m), None) => Some(&m.value),
        };
        let (set, huawei) = match node {
            Some(node) => (
                self.policy_set(node, &Pointer::root().key("policies"))?,
                any_huawei(node),
            ),
            None => (PolicySet::default(), false),
        };
        Ok(sharing.cache.insert(text, options, set, huawei))
    }

    fn hops(
        &self,
        node: &Node<'_>,
        p: &Pointer,
        dialect: Dialect,
        resource: &mut Vec<Policy>,
        resource_spans: &mut Vec<Span>,
    ) -> Result<Vec<Hop>, ParseError> {
        let items = node
            .as_array()
            .ok_or_else(|| self.src.expected(node, p, "an array of hops"))?;
        if items.is_empty() {
            return Err(self.src.expected(node, p, "at least one hop"));
        }
        items
            .iter()
            .enumerate()
            .map(|(i, item)| self.hop(item, &p.index(i), i, dialect, resource, resource_spans))
            .collect()
    }

    fn hop(
        &self,
        node: &Node<'_>,
        p: &Pointer,
        index: usize,
        dialect: Dialect,
        resource_policies: &mut Vec<Policy>,
        resource_spans: &mut Vec<Span>,
    ) -> Result<Hop, ParseError> {
        let members = object_members(self.src, node, p, "a hop object")?;
        let mut via = None;
        let mut action = None;
        let mut resource = None;
        let mut resource_account = None;
        let mut resource_policy = None;
        let mut required = None;
        let mut no_permission = None;
        let mut context = Context::new();
        for m in members {
            let mp = p.key(&m.key);
            match m.key.as_ref() {
                "via" => via = Some(string(self.src, &m.value, &mp)?),
                "action" => action = Some(string(self.src, &m.value, &mp)?),
                "resource" => resource = Some(string(self.src, &m.value, &mp)?),
                "resource_account" => resource_account = Some(string(self.src, &m.value, &mp)?),
                "resource_policy" if resource_policy.is_some() => {
                    return Err(self.src.error_at(
                        m.key_span.start as usize,
                        &mp,
                        ErrorKind::Conflict("resource_policy", "resource_policy_slot"),
                    ));
                }
                "resource_policy" => {
                    let policy = self.policy(
                        &m.value,
                        &mp,
                        format!("resource[{index}]"),
                        PolicyKind::ResourceBased,
                    )?;
                    resource_policy = Some(resource_policies.len());
                    resource_policies.push(policy);
                    resource_spans.push(m.value.span);
                }
                "resource_policy_required" => required = Some(boolean(self.src, &m.value, &mp)?),
                "requires_no_permission" => no_permission = Some(boolean(self.src, &m.value, &mp)?),
                "resource_policy_slot" => {
                    if resource_policy.is_some() {
                        return Err(self.src.error_at(
                            m.key_span.start as usize,
                            &mp,
                            ErrorKind::Conflict("resource_policy", "resource_policy_slot"),
                        ));
                    }
                    let slot = m.value.as_number().and_then(|t| t.parse::<usize>().ok());
                    resource_policy = Some(slot.ok_or_else(|| {
                        self.src
                            .expected(&m.value, &mp, "a resource-policy slot number")
                    })?);
                }
                "context" => context = read_context(self.src, &m.value, &mp)?,
                other => return Err(unknown(self.src, m, p, other)),
            }
        }
        let missing = |name| self.src.error(node, p, ErrorKind::Missing(name));
        let action = action.ok_or_else(|| missing("action"))?;
        let resource = resource.ok_or_else(|| missing("resource"))?;
        if index > 0 && via.is_none() {
            return Err(missing("via"));
        }
        if index == 0 && via.is_some() {
            let v = node.get("via").expect("seen above");
            return Err(self.src.error(
                v,
                &p.key("via"),
                ErrorKind::Invalid {
                    what: "member of hop 0 (the principal's own call has no `via`)".into(),
                    value: "via".into(),
                    rule: "R-FAS-2",
                },
            ));
        }
        let requires_no_permission =
            no_permission.unwrap_or_else(|| default_requires_no_permission(dialect, &action));
        Ok(Hop {
            resource_policy_required: required
                .unwrap_or_else(|| default_resource_policy_required(dialect, &action, &resource)),
            resource_account: resource_account.or_else(|| default_resource_account(&resource)),
            via,
            action,
            resource,
            resource_policy,
            requires_no_permission,
            context,
        })
    }
}
