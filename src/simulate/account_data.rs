//! A principal's real policies, from `aws iam get-account-authorization-details`.
//!
//! The same reader as `fastiam replay --account-data` ([`read_account_data`]): a user gets
//! its inline and attached policies and its groups', a role its own, each its permissions
//! boundary and its tags (which become `aws:PrincipalTag/…`). The principal may be named by
//! its user or role ARN, or by a role session (`arn:aws:sts::…:assumed-role/NAME/SESSION`),
//! whose role is then found by account and name — a session ARN does not carry the role's
//! path, the account data does, and `aws:PrincipalArn` must carry it.
//!
//! ```no_run
//! use fastiam::simulate::{account_data::load, sources::Sources, Question};
//! let mut sources = Sources::default();
//! let mut question = Question::new("arn:aws:iam::111122223333:user/alice", &sources.set).unwrap();
//! load("auth.json".as_ref(), &mut question, &mut sources).unwrap();
//! ```

use std::path::Path;

use crate::primitives::{canonical_key, split_arn};
use crate::replay::read_account_data;
use crate::request::PrincipalKind;

use super::sources::{Origin, Sources};
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
    let origin = Origin {
        file: None,
        lines: Vec::new(),
    };
    for policy in &side.identity {
        sources.add_identity(policy.clone(), origin.clone());
    }
    if let Some(boundary) = &side.boundary {
        sources.set_boundary(boundary.clone(), origin);
    }
    question.context_defaults.extend(
        side.tags
            .iter()
            .map(|(k, v)| (canonical_key(&format!("aws:PrincipalTag/{k}")), v.clone())),
    );
    Ok(())
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
