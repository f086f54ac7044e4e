//! The text of every statement a report can name, by the label the report names it with.
//!
//! A denial is counted under its deciding statements as `policy#Sid` (or `policy#index`
//! for a statement without a Sid, [`super::super::RecordResult::deciders`]). A reader of
//! the HTML report wants the statement itself, so [`Statements`] maps each label to JSON
//! text: the statement as written in its policy file when the caller gives the file
//! ([`Statements::add_source`]), and otherwise a re-serialisation of the parsed statement
//! from the replay's policy sets (policies from account data, the built-in allow-alls).
//! A re-serialised statement is equivalent, not identical: actions are case-folded as the
//! parser stores them, and condition entries are grouped by operator.
//!
//! ```
//! use fastiam::policy::{parse_policy, ParseOptions, PolicyKind};
//! use fastiam::replay::html::Statements;
//! let text = r#"{"Version":"2012-10-17","Statement":[{"Sid":"NoIam","Effect":"Deny","Action":"iam:*","Resource":"*"}]}"#;
//! let scp = parse_policy(text, "guard", &ParseOptions::new(PolicyKind::Scp)).unwrap();
//! let mut statements = Statements::default();
//! statements.add_policy(&scp);
//! assert!(statements.get("guard#NoIam")[0].contains(r#""Action": "iam:*""#));
//! statements.add_source("guard", text);
//! assert_eq!(statements.split("guard#NoIam"), vec![("guard#NoIam", true)]);
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use crate::json;
use crate::policy::files::{policy_files, PolicyFileError};
use crate::policy::{
    ActionPattern, Condition, ConditionValues, Effect, Pattern, Policy, PrincipalEntry,
    ResourcePattern, SetQualifier, Statement, Token,
};

use super::super::policies::ReplayPolicies;

/// Statement texts by label (`policy#Sid` or `policy#index`).
///
/// A label can stand for more than one statement: policies are named by file stem or by
/// their name in the account data, and two users' inline policies may share a name, as two
/// directories may hold files of the same name. A report cannot tell them apart either, so
/// every distinct text of a label is kept, in the order met.
#[derive(Clone, Debug, Default)]
pub struct Statements {
    texts: BTreeMap<String, Texts>,
}

/// The texts of one label, and whether they came from source files.
#[derive(Clone, Debug, Default)]
struct Texts {
    texts: Vec<String>,
    from_source: bool,
}

impl Texts {
    fn add(&mut self, text: String) {
        if !self.texts.contains(&text) {
            self.texts.push(text);
        }
    }
}

impl Statements {
    /// Every statement of every policy set of a replay, re-serialised.
    pub fn of(policies: &ReplayPolicies) -> Statements {
        let mut out = Statements::default();
        for prepared in policies.sets() {
            let set = &prepared.set;
            let levels = set.scp.iter().chain(&set.rcp).flatten();
            let lists = set.identity.iter().chain(set.session.iter().flatten());
            for policy in lists
                .chain(&set.boundary)
                .chain(levels)
                .chain(&set.vpce)
                .chain(&set.resource)
            {
                out.add_policy(policy);
            }
        }
        out
    }

    /// Adds the statements of one parsed policy, re-serialised (once for a policy shared by
    /// several sets), unless source text was given for their label.
    pub fn add_policy(&mut self, policy: &Policy) {
        for s in &policy.statements {
            let texts = self
                .texts
                .entry(label(&policy.id, s.sid.as_deref(), s.index))
                .or_default();
            if !texts.from_source {
                texts.add(pretty(&statement_json(s)));
            }
        }
    }

    /// Gives the source text of policy `policy_id`'s statements from `text`, the policy
    /// document as read from its file: it replaces their re-serialisations (another file
    /// of the same name adds its own). Text that is not a policy document with a
    /// `Statement` changes nothing.
    pub fn add_source(&mut self, policy_id: &str, text: &str) {
        let Ok(root) = json::parse(text) else {
            return;
        };
        let Some(statement) = root.get("Statement") else {
            return;
        };
        let items = match statement.as_array() {
            Some(items) => items,
            None => std::slice::from_ref(statement),
        };
        for (index, node) in items.iter().enumerate() {
            let sid = node.get("Sid").and_then(|n| n.as_str());
            let source = &text[node.span.range()];
            let column = json::line_col(text, node.span.start as usize).1;
            let texts = self.texts.entry(label(policy_id, sid, index)).or_default();
            if !texts.from_source {
                *texts = Texts {
                    texts: Vec::new(),
                    from_source: true,
                };
            }
            texts.add(dedent(source, column));
        }
    }

    /// [`Statements::add_source`] for every policy file a command-line path stands for (a
    /// file, or a directory's `*.json` files), each named by its file stem as
    /// [`crate::policy::files::read_policies`] names it.
    pub fn add_files(&mut self, path: &Path) -> Result<(), PolicyFileError> {
        for file in policy_files(path)? {
            let text = std::fs::read_to_string(&file).map_err(|error| PolicyFileError::Io {
                path: file.clone(),
                error,
            })?;
            let id = file.file_stem().map_or_else(
                || file.display().to_string(),
                |s| s.to_string_lossy().into_owned(),
            );
            self.add_source(&id, &text);
        }
        Ok(())
    }

    /// The texts of the statements labelled `label` (usually one; none if unknown).
    pub fn get(&self, label: &str) -> &[String] {
        self.texts.get(label).map_or(&[], |t| &t.texts)
    }

    /// Cuts a report's `deciders` (labels joined by spaces, where a policy id may itself
    /// hold spaces) into its parts, each with whether it is a known label: the longest
    /// known label first, and unknown words one at a time.
    pub fn split<'d>(&self, deciders: &'d str) -> Vec<(&'d str, bool)> {
        let words: Vec<(usize, usize)> = word_spans(deciders);
        let mut out = Vec::new();
        let mut i = 0;
        while i < words.len() {
            let start = words[i].0;
            let known = (i + 1..=words.len())
                .rev()
                .map(|j| (j, &deciders[start..words[j - 1].1]))
                .find(|(_, candidate)| self.texts.contains_key(*candidate));
            match known {
                Some((j, label)) => {
                    out.push((label, true));
                    i = j;
                }
                None => {
                    out.push((&deciders[start..words[i].1], false));
                    i += 1;
                }
            }
        }
        out
    }
}

/// `(start, end)` of each space-separated word.
fn word_spans(s: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in s.char_indices().chain([(s.len(), ' ')]) {
        match (c == ' ', start) {
            (true, Some(st)) => {
                out.push((st, i));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    out
}

/// The label a report gives a statement.
fn label(policy: &str, sid: Option<&str>, index: usize) -> String {
    match sid {
        Some(sid) => format!("{policy}#{sid}"),
        None => format!("{policy}#{index}"),
    }
}

/// Removes up to `column - 1` leading spaces from every line after the first, so that a
/// statement cut out of an indented document reads from the left margin.
fn dedent(source: &str, column: u32) -> String {
    let strip = column.saturating_sub(1) as usize;
    let mut out = String::with_capacity(source.len());
    for (i, line) in source.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
            let spaces = line.len() - line.trim_start_matches(' ').len();
            out.push_str(&line[spaces.min(strip)..]);
        } else {
            out.push_str(line);
        }
    }
    out
}

/// A JSON value whose objects keep their members in the order written (serde_json's map
/// sorts them, which would put `Action` before `Effect`).
enum J {
    S(String),
    A(Vec<String>),
    O(Vec<(String, J)>),
}

impl J {
    /// Two-space indented JSON.
    fn pretty(&self, indent: usize, out: &mut String) {
        match self {
            J::S(s) => json::write_json_string(s, out),
            J::A(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    out.push_str(if i > 0 { ", " } else { "" });
                    json::write_json_string(item, out);
                }
                out.push(']');
            }
            J::O(members) => {
                out.push('{');
                for (i, (k, v)) in members.iter().enumerate() {
                    out.push_str(if i > 0 { ",\n" } else { "\n" });
                    out.push_str(&"  ".repeat(indent + 1));
                    json::write_json_string(k, out);
                    out.push_str(": ");
                    v.pretty(indent + 1, out);
                }
                out.push('\n');
                out.push_str(&"  ".repeat(indent));
                out.push('}');
            }
        }
    }
}

fn pretty(v: &J) -> String {
    let mut out = String::new();
    v.pretty(0, &mut out);
    out
}

/// One value or a list, as policies write them.
fn one_or_many(mut items: Vec<String>) -> J {
    if items.len() == 1 {
        J::S(items.remove(0))
    } else {
        J::A(items)
    }
}

/// A parsed statement back as a JSON object, members in the usual order.
fn statement_json(s: &Statement) -> J {
    let mut o = Vec::new();
    if let Some(sid) = &s.sid {
        o.push(("Sid".into(), J::S(sid.clone())));
    }
    let effect = match s.effect {
        Effect::Allow => "Allow",
        Effect::Deny => "Deny",
    };
    o.push(("Effect".into(), J::S(effect.into())));
    let named = |negated: bool, name: &str| {
        if negated {
            format!("Not{name}")
        } else {
            name.to_string()
        }
    };
    if let Some(p) = &s.principal {
        o.push((named(p.negated, "Principal"), principal_json(&p.entries)));
    }
    let actions = s.action.patterns.iter().map(action_text).collect();
    o.push((named(s.action.negated, "Action"), one_or_many(actions)));
    let resources = s.resource.patterns.iter().map(resource_text).collect();
    o.push((
        named(s.resource.negated, "Resource"),
        one_or_many(resources),
    ));
    if !s.conditions.is_empty() {
        o.push(("Condition".into(), conditions_json(&s.conditions)));
    }
    J::O(o)
}

/// Adds `value` under `key` of an ordered object, making the entry on first use.
fn entry<'o>(members: &'o mut Vec<(String, J)>, key: &str, empty: J) -> &'o mut J {
    let i = match members.iter().position(|(k, _)| k == key) {
        Some(i) => i,
        None => {
            members.push((key.to_string(), empty));
            members.len() - 1
        }
    };
    &mut members[i].1
}

fn principal_json(entries: &[PrincipalEntry]) -> J {
    if entries == [PrincipalEntry::Wildcard] {
        return J::S("*".into());
    }
    let mut by_kind: Vec<(String, J)> = Vec::new();
    for e in entries {
        let (kind, value) = match e {
            PrincipalEntry::Wildcard => ("AWS", "*"),
            PrincipalEntry::Account(v) => ("AWS", v.as_str()),
            PrincipalEntry::Service(v) => ("Service", v.as_str()),
            PrincipalEntry::Federated(v) => ("Federated", v.as_str()),
            PrincipalEntry::CanonicalUser(v) => ("CanonicalUser", v.as_str()),
            PrincipalEntry::ObsId(v) => ("ID", v.as_str()),
            PrincipalEntry::Never => ("AWS", "(invalid)"),
        };
        if let J::A(values) = entry(&mut by_kind, kind, J::A(Vec::new())) {
            values.push(value.to_string());
        }
    }
    J::O(by_kind.into_iter().map(|(k, v)| (k, single(v))).collect())
}

/// A one-item list as its item.
fn single(v: J) -> J {
    match v {
        J::A(items) => one_or_many(items),
        other => other,
    }
}

fn action_text(a: &ActionPattern) -> String {
    match a {
        ActionPattern::Any => "*".into(),
        ActionPattern::Aws { service, name } => format!("{service}:{name}"),
        ActionPattern::Huawei(p) => p.clone(),
        ActionPattern::Never => "(invalid)".into(),
    }
}

fn resource_text(r: &ResourcePattern) -> String {
    match r {
        ResourcePattern::Any => "*".into(),
        ResourcePattern::Arn { segments, resource } => {
            format!("{}:{}", segments.join(":"), pattern_text(resource))
        }
        ResourcePattern::Urn { segments, path } => {
            format!("{}:{}", segments.join(":"), pattern_text(path))
        }
        ResourcePattern::Plain(p) => pattern_text(p),
        ResourcePattern::Never => "(invalid)".into(),
    }
}

/// A pattern as it would be written: variables as `${key}`, literal text as `${*}`.
fn pattern_text(p: &Pattern) -> String {
    let mut out = String::new();
    for t in &p.tokens {
        match t {
            Token::Text(s) => out.push_str(s),
            Token::Literal(s) => {
                out.push_str("${");
                out.push_str(s);
                out.push('}');
            }
            Token::Variable(v) => {
                out.push_str("${");
                out.push_str(&v.key);
                if let Some(d) = &v.default {
                    out.push_str(", '");
                    out.push_str(d);
                    out.push('\'');
                }
                out.push('}');
            }
            Token::Unresolvable => out.push_str("${?invalid}"),
        }
    }
    out
}

fn conditions_json(conditions: &[Condition]) -> J {
    let mut by_operator: Vec<(String, J)> = Vec::new();
    for c in conditions {
        let op = c.operator;
        let name = format!(
            "{}{}{}",
            match op.qualifier {
                Some(SetQualifier::ForAllValues) => "ForAllValues:",
                Some(SetQualifier::ForAnyValue) => "ForAnyValue:",
                None => "",
            },
            op.base.name(),
            if op.if_exists { "IfExists" } else { "" }
        );
        let values = match &c.values {
            ConditionValues::Patterns(v) => v.iter().map(pattern_text).collect(),
            ConditionValues::Arns(v) => v
                .iter()
                .map(|parts| match parts {
                    Some(parts) => parts.iter().map(pattern_text).collect::<Vec<_>>().join(":"),
                    None => "(invalid)".into(),
                })
                .collect(),
            ConditionValues::Typed(v) => v.clone(),
            ConditionValues::Null(v) => v
                .iter()
                .map(|b| {
                    b.map_or("(invalid)", |b| if b { "true" } else { "false" })
                        .into()
                })
                .collect(),
        };
        if let J::O(keys) = entry(&mut by_operator, &name, J::O(Vec::new())) {
            keys.push((c.key_written.clone(), one_or_many(values)));
        }
    }
    J::O(by_operator)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{parse_policy, ParseOptions, PolicyKind};

    const SCP: &str = r#"{
   "Version":"2012-10-17",
   "Statement":[
      {
         "Sid":"Perimeter",
         "Effect":"Deny",
         "NotAction":["s3:GetObject","kms:*"],
         "Resource":"arn:aws:s3:::b/${aws:username}/${*}",
         "Condition":{"StringNotEqualsIfExists":{"aws:SourceVpc":["vpc-1","vpc-2"]},
                      "Null":{"aws:PrincipalTag/team":"true"},
                      "ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:user/*"}}
      },
      {"Effect":"Allow","Action":"*","Resource":"*"}
   ]
}"#;

    fn parsed(text: &str, kind: PolicyKind) -> Policy {
        parse_policy(text, "scp one", &ParseOptions::new(kind)).unwrap()
    }

    #[test]
    fn reserialised_statements_parse_back_to_the_same_statements() {
        let policy = parsed(SCP, PolicyKind::Scp);
        let mut statements = Statements::default();
        statements.add_policy(&policy);
        let texts = [
            &statements.get("scp one#Perimeter")[0],
            &statements.get("scp one#1")[0],
        ];
        let again = format!(
            r#"{{"Version":"2012-10-17","Statement":[{},{}]}}"#,
            texts[0], texts[1]
        );
        assert_eq!(
            parsed(&again, PolicyKind::Scp).statements,
            policy.statements
        );
    }

    #[test]
    fn resource_policy_principals_reserialise() {
        let text = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["111122223333","arn:aws:iam::111122223333:role/r"],"Service":"s3.amazonaws.com"},"Action":"kms:Decrypt","Resource":"*"}]}"#;
        let policy = parsed(text, PolicyKind::ResourceBased);
        let again = format!(
            r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
            pretty(&statement_json(&policy.statements[0]))
        );
        assert_eq!(
            parsed(&again, PolicyKind::ResourceBased).statements,
            policy.statements
        );
    }

    #[test]
    fn source_text_replaces_the_reserialisation_dedented() {
        let mut statements = Statements::default();
        statements.add_policy(&parsed(SCP, PolicyKind::Scp));
        statements.add_source("scp one", SCP);
        let text = statements.get("scp one#Perimeter")[0].clone();
        assert!(text.starts_with("{\n   \"Sid\":\"Perimeter\""), "{text}");
        assert!(text.ends_with("\n}"), "{text}");
        assert_eq!(
            statements.get("scp one#1"),
            [r#"{"Effect":"Allow","Action":"*","Resource":"*"}"#]
        );
        // Not a policy: nothing changes.
        statements.add_source("scp one", "[1, 2");
        assert_eq!(
            statements.get("scp one#Perimeter"),
            std::slice::from_ref(&text)
        );
        // Re-serialisations added later do not join the source text.
        statements.add_policy(&parsed(SCP, PolicyKind::Scp));
        assert_eq!(
            statements.get("scp one#Perimeter"),
            std::slice::from_ref(&text)
        );
        // Another file of the same name adds its text.
        let other = SCP.replace("vpc-2", "vpc-3");
        statements.add_source("scp one", &other);
        assert_eq!(statements.get("scp one#Perimeter").len(), 2);
        assert!(statements.get("unknown#0").is_empty());
    }

    #[test]
    fn policies_of_the_same_name_keep_each_their_text() {
        let mut statements = Statements::default();
        let one = r#"{"Version":"2012-10-17","Statement":[{"Sid":"S","Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#;
        let two = one.replace("s3:*", "kms:*");
        for text in [one, &two, one] {
            statements.add_policy(&parsed(text, PolicyKind::Identity));
        }
        let texts = statements.get("scp one#S");
        assert_eq!(texts.len(), 2, "{texts:?}");
        assert!(texts[0].contains("s3:*") && texts[1].contains("kms:*"));
    }

    #[test]
    fn deciders_split_on_known_labels_even_with_spaces_in_ids() {
        let mut statements = Statements::default();
        statements.add_policy(&parsed(SCP, PolicyKind::Scp));
        assert_eq!(
            statements.split("scp one#Perimeter scp one#1"),
            vec![("scp one#Perimeter", true), ("scp one#1", true)]
        );
        assert_eq!(statements.split("(NoAllow)"), vec![("(NoAllow)", false)]);
        assert_eq!(
            statements.split("x scp one#1  y"),
            vec![("x", false), ("scp one#1", true), ("y", false)]
        );
        assert!(statements.split("").is_empty());
    }
}
