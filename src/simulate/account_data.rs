//! A principal's real policies, from `aws iam get-account-authorization-details`.
//!
//! The same reader as `fastiam replay --account-data` ([`read_account_data`]): a user gets
//! its inline and attached policies and its groups', a role its own, each its permissions
//! boundary and its tags (which become `aws:PrincipalTag/…`). The principal may be named by
//! its user or role ARN, or by a role session (`arn:aws:sts::…:assumed-role/NAME/SESSION`),
//! whose role is then found by account and name — a session ARN does not carry the role's
//! path, the account data does, and `aws:PrincipalArn` must carry it.
//!
//! Each statement is located in the account-data file itself ([`origins`]): the policies
//! are found again in the file, in the order the reader takes them (own inline policies,
//! attached managed policies' default versions, then each group's), so that an answer can
//! point at the line. A document the file holds as a URL-encoded string has no lines.
//!
//! ```no_run
//! use fastiam::simulate::{account_data::load, sources::Sources, Question};
//! let mut sources = Sources::default();
//! let mut question = Question::new("arn:aws:iam::111122223333:user/alice", &sources.set).unwrap();
//! load("auth.json".as_ref(), &mut question, &mut sources).unwrap();
//! ```

use std::path::Path;

use crate::json::{self, Node};
use crate::primitives::{canonical_key, split_arn};
use crate::replay::read_account_data;
use crate::request::PrincipalKind;

use super::sources::{statement_lines_in, Origin, Sources};
use super::{Question, SimulateError};

/// Adds the identity side of `question`'s principal, read from `path`, to `sources`, sets
/// the role ARN of a role session, and the principal's tags as context defaults.
pub fn load(
    path: &Path,
    question: &mut Question,
    sources: &mut Sources,
) -> Result<(), SimulateError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| SimulateError::AccountData(format!("{shown}: {e}")))?;
    let sides =
        read_account_data(&text, &shown).map_err(|e| SimulateError::AccountData(e.to_string()))?;
    let principal = &question.principal;
    let wanted = match principal.kind {
        PrincipalKind::AssumedRole => principal.role_arn.as_deref().unwrap_or(&principal.arn),
        _ => principal.arn.as_str(),
    };
    let found = sides.iter().position(|(arn, _)| arn == wanted).or_else(|| {
        (principal.kind == PrincipalKind::AssumedRole)
            .then(|| sides.iter().position(|(arn, _)| same_role(arn, wanted)))
            .flatten()
    });
    let Some(index) = found else {
        let known: Vec<&str> = sides.iter().take(5).map(|(arn, _)| arn.as_str()).collect();
        return Err(SimulateError::AccountData(format!(
            "{shown}: no user or role `{wanted}` in /UserDetailList or /RoleDetailList ({} identities{}{})",
            sides.len(),
            if known.is_empty() { "" } else { ", e.g. " },
            known.join(", ")
        )));
    };
    let (arn, side) = &sides[index];
    if principal.kind == PrincipalKind::AssumedRole {
        question.principal.role_arn = Some(arn.clone());
    }
    let (mut identity, mut boundary) = origins(&text, &shown, arn);
    // The lines are only a help: if this walk and the reader disagree, none are shown.
    let fits = |origins: &[Origin], policies: &[&crate::policy::Policy]| {
        origins.len() == policies.len()
            && origins
                .iter()
                .zip(policies)
                .all(|(o, p)| o.lines.is_empty() || o.lines.len() == p.statements.len())
    };
    if !fits(&identity, &side.identity.iter().collect::<Vec<_>>()) {
        identity = vec![Origin::default(); side.identity.len()];
    }
    if !fits(
        boundary.as_slice(),
        &side.boundary.iter().collect::<Vec<_>>(),
    ) {
        boundary = None;
    }
    for (policy, origin) in side.identity.iter().zip(identity) {
        sources.add_identity(policy.clone(), origin);
    }
    if let Some(policy) = &side.boundary {
        sources.set_boundary(policy.clone(), boundary.unwrap_or_default());
    }
    question.context_defaults.extend(
        side.tags
            .iter()
            .map(|(k, v)| (canonical_key(&format!("aws:PrincipalTag/{k}")), v.clone())),
    );
    Ok(())
}

/// The origins of the identity policies (in the order [`read_account_data`] lists them) and
/// of the boundary of the user or role `arn`, found in the account data `text`.
pub fn origins(text: &str, path: &str, arn: &str) -> (Vec<Origin>, Option<Origin>) {
    let Ok(root) = json::parse(text) else {
        return (Vec::new(), None);
    };
    let walk = Walk {
        text,
        path,
        root: &root,
    };
    let named = |key: &str| {
        list(&root, key)
            .iter()
            .find(|e| text_of(e, "Arn") == Some(arn))
    };
    if let Some(user) = named("UserDetailList") {
        let mut identity = walk.own(user, "UserPolicyList");
        for name in list(user, "GroupList") {
            let groups = list(&root, "GroupDetailList");
            if let Some(group) = groups
                .iter()
                .find(|g| text_of(g, "GroupName") == name.as_str())
            {
                identity.extend(walk.own(group, "GroupPolicyList"));
            }
        }
        return (identity, walk.boundary(user));
    }
    match named("RoleDetailList") {
        Some(role) => (walk.own(role, "RolePolicyList"), walk.boundary(role)),
        None => (Vec::new(), None),
    }
}

/// The members of `node`'s array `key` (none if absent or not an array).
fn list<'n, 'a>(node: &'n Node<'a>, key: &str) -> &'n [Node<'a>] {
    node.get(key).and_then(Node::as_array).unwrap_or(&[])
}

fn text_of<'n>(node: &'n Node<'_>, key: &str) -> Option<&'n str> {
    node.get(key).and_then(Node::as_str)
}

/// Finds policy documents in parsed account data.
struct Walk<'w, 'a> {
    text: &'w str,
    path: &'w str,
    root: &'w Node<'a>,
}

impl Walk<'_, '_> {
    fn origin(&self, document: Option<&Node<'_>>) -> Origin {
        Origin {
            file: Some(self.path.to_string()),
            lines: document
                .filter(|d| d.as_object().is_some())
                .map_or_else(Vec::new, |d| statement_lines_in(self.text, d)),
        }
    }

    /// A managed policy's default version.
    fn managed(&self, policy_arn: Option<&str>) -> Origin {
        let document = list(self.root, "Policies")
            .iter()
            .find(|p| text_of(p, "Arn") == policy_arn)
            .and_then(|p| {
                list(p, "PolicyVersionList")
                    .iter()
                    .find(|v| v.get("IsDefaultVersion").and_then(Node::as_bool) == Some(true))
            })
            .and_then(|v| v.get("Document"));
        self.origin(document)
    }

    /// An entity's inline policies, then its attached managed policies.
    fn own(&self, entity: &Node<'_>, inline_key: &str) -> Vec<Origin> {
        let inline = list(entity, inline_key)
            .iter()
            .map(|p| self.origin(p.get("PolicyDocument")));
        let attached = list(entity, "AttachedManagedPolicies")
            .iter()
            .map(|a| self.managed(text_of(a, "PolicyArn")));
        inline.chain(attached).collect()
    }

    fn boundary(&self, entity: &Node<'_>) -> Option<Origin> {
        let arn = entity
            .get("PermissionsBoundary")
            .and_then(|b| text_of(b, "PermissionsBoundaryArn"))?;
        Some(self.managed(Some(arn)))
    }
}

/// Whether role ARN `full` (possibly with a path) is the role `short` (without one).
fn same_role(full: &str, short: &str) -> bool {
    match (split_arn(full), split_arn(short)) {
        (Some(a), Some(b)) => {
            a[2] == "iam"
                && a[4] == b[4]
                && a[5].starts_with("role/")
                && a[5].rsplit('/').next() == b[5].rsplit('/').next()
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Own inline, own attached, then each group's: the reader's order; a URL-encoded
    /// document has no lines, and the boundary is found too.
    #[test]
    fn origins_follow_the_readers_order() {
        let text = r#"{
"UserDetailList":[{"Arn":"arn:aws:iam::1:user/u","GroupList":["g"],
  "UserPolicyList":[{"PolicyName":"enc","PolicyDocument":"%7B%7D"}],
  "AttachedManagedPolicies":[{"PolicyArn":"arn:aws:iam::1:policy/m"}],
  "PermissionsBoundary":{"PermissionsBoundaryArn":"arn:aws:iam::1:policy/m"}}],
"GroupDetailList":[{"GroupName":"g","GroupPolicyList":[{"PolicyName":"gp","PolicyDocument":
  {"Statement":[
    {"Effect":"Allow"},
    {"Effect":"Deny"}]}}]}],
"Policies":[{"Arn":"arn:aws:iam::1:policy/m","PolicyVersionList":[
  {"IsDefaultVersion":false,"Document":{"Statement":{"Effect":"Deny"}}},
  {"IsDefaultVersion":true,"Document":{"Statement":
    {"Effect":"Allow"}}}]}]}"#;
        let (identity, boundary) = origins(text, "auth.json", "arn:aws:iam::1:user/u");
        let lines: Vec<Vec<u32>> = identity.iter().map(|o| o.lines.clone()).collect();
        assert_eq!(lines, vec![vec![], vec![13], vec![8, 9]]);
        assert_eq!(boundary.map(|b| b.lines), Some(vec![13]));
        assert!(identity
            .iter()
            .all(|o| o.file.as_deref() == Some("auth.json")));
        assert_eq!(
            origins(text, "auth.json", "arn:aws:iam::1:role/r"),
            (vec![], None)
        );
    }

    #[test]
    fn a_session_finds_its_role_through_a_path() {
        assert!(same_role(
            "arn:aws:iam::1:role/team/reader",
            "arn:aws:iam::1:role/reader"
        ));
        assert!(!same_role(
            "arn:aws:iam::2:role/team/reader",
            "arn:aws:iam::1:role/reader"
        ));
        assert!(!same_role(
            "arn:aws:iam::1:user/reader",
            "arn:aws:iam::1:role/reader"
        ));
    }
}
