//! The policies of a simulation, and where each of their statements was written.
//!
//! An answer that says "allowed by statement 3 of `identity[0]`" sends the reader counting;
//! one that says "`ReadData` at `data-reader.json:12`" sends them to the line. So policy
//! files are read here, not through [`crate::policy::files::read_policies`]: each file's
//! text is kept long enough to find the line where each `Statement` element starts, and
//! the lines are kept beside the [`PolicySet`], in the same shape (identity list, boundary,
//! session list, SCP and RCP levels, VPC endpoint, resource list). A decision's
//! [`MatchedStatement`] is then located by its kind, level and position.
//!
//! ```
//! use fastiam::simulate::sources::statement_lines;
//! let text = "{\"Version\":\"2012-10-17\",\n \"Statement\":[\n  {\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"},\n  {\"Effect\":\"Deny\",\"Action\":\"*\",\"Resource\":\"*\"}]}";
//! assert_eq!(statement_lines(text), vec![3, 4]);
//! ```

use std::path::{Path, PathBuf};

use crate::decision::MatchedStatement;
use crate::json;
use crate::policy::files::policy_files;
use crate::policy::{parse_policy, ParseOptions, Policy, PolicyKind};
use crate::request::{Hop, PolicySet};

use super::SimulateError;

/// Where one policy came from: its file, and the 1-based line of each statement.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Origin {
    /// `None` for policies not read from a file of their own (account data).
    pub file: Option<String>,
    pub lines: Vec<u32>,
}

/// A policy set and the origin of every policy in it, in the same shape.
#[derive(Clone, Debug, Default)]
pub struct Sources {
    pub set: PolicySet,
    identity: Vec<Origin>,
    boundary: Option<Origin>,
    session: Vec<Origin>,
    scp: Vec<Vec<Origin>>,
    rcp: Vec<Vec<Origin>>,
    vpce: Option<Origin>,
    resource: Vec<Origin>,
    /// `(target, index into set.resource)`: `None` targets hop 0's resource, `Some(arn)` the
    /// hops on that ARN (and, for an S3 bucket, on its objects).
    resource_targets: Vec<(Option<String>, usize)>,
}

/// A policy file read with its origin.
struct Read {
    policy: Policy,
    origin: Origin,
}

/// The 1-based line where each element of the document's `Statement` starts (one entry for
/// a single statement object); empty if the text is not a JSON object with a `Statement`.
pub fn statement_lines(text: &str) -> Vec<u32> {
    match json::parse(text) {
        Ok(root) => statement_lines_in(text, &root),
        Err(_) => Vec::new(),
    }
}

/// As [`statement_lines`], for a policy document parsed out of `text` (which may hold more
/// than the document, e.g. account data).
pub fn statement_lines_in(text: &str, document: &json::Node<'_>) -> Vec<u32> {
    let line = |node: &json::Node<'_>| json::line_col(text, node.span.start as usize).0;
    match document.get("Statement") {
        Some(node) => match node.as_array() {
            Some(items) => items.iter().map(line).collect(),
            None => vec![line(node)],
        },
        None => Vec::new(),
    }
}

fn read_files(path: &Path, kind: PolicyKind) -> Result<Vec<Read>, SimulateError> {
    let files = policy_files(path).map_err(|e| SimulateError::Policy(e.to_string()))?;
    if files.is_empty() {
        return Err(SimulateError::Policy(format!(
            "{}: a directory with no `*.json` policy files",
            path.display()
        )));
    }
    files.iter().map(|f| read_file(f, kind)).collect()
}

fn read_file(file: &Path, kind: PolicyKind) -> Result<Read, SimulateError> {
    let shown = file.display().to_string();
    let text = std::fs::read_to_string(file)
        .map_err(|e| SimulateError::Policy(format!("{shown}: {e}")))?;
    let mut policy = parse_policy(&text, &shown, &ParseOptions::new(kind))
        .map_err(|e| SimulateError::Policy(e.to_string()))?;
    policy.id = file
        .file_stem()
        .map_or_else(|| shown.clone(), |s| s.to_string_lossy().into_owned());
    Ok(Read {
        policy,
        origin: Origin {
            file: Some(shown),
            lines: statement_lines(&text),
        },
    })
}

/// SCP or RCP levels (root first) and, in the same shape, their origins.
type Levels = (Vec<Vec<Policy>>, Vec<Vec<Origin>>);

/// Reads SCP or RCP levels.
fn read_levels(levels: &[Vec<PathBuf>], kind: PolicyKind) -> Result<Levels, SimulateError> {
    let mut policies = Vec::new();
    let mut origins = Vec::new();
    for level in levels {
        let read: Vec<Read> = level
            .iter()
            .map(|path| read_files(path, kind))
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .flatten()
            .collect();
        let (p, o) = read.into_iter().map(|r| (r.policy, r.origin)).unzip();
        policies.push(p);
        origins.push(o);
    }
    Ok((policies, origins))
}

/// The policy files of a simulation, as the command line names them.
#[derive(Clone, Debug, Default)]
pub struct PolicyFiles {
    /// Identity policies: files or directories of `*.json`.
    pub identity: Vec<PathBuf>,
    pub boundary: Option<PathBuf>,
    /// `Some` when session policies were passed (R-STS-3).
    pub session: Option<Vec<PathBuf>>,
    /// One entry per level, root first; each a list of files or directories.
    pub scp: Vec<Vec<PathBuf>>,
    pub rcp: Vec<Vec<PathBuf>>,
    pub vpce: Option<PathBuf>,
    /// `(target, file)`: `None` is hop 0's resource, `Some(arn)` every hop on that ARN.
    pub resource: Vec<(Option<String>, PathBuf)>,
}

impl Sources {
    /// Reads every file of `files`.
    pub fn read(files: &PolicyFiles) -> Result<Sources, SimulateError> {
        let mut sources = Sources::default();
        for path in &files.identity {
            for r in read_files(path, PolicyKind::Identity)? {
                sources.add_identity(r.policy, r.origin);
            }
        }
        if let Some(path) = &files.boundary {
            let r = read_file(path, PolicyKind::PermissionsBoundary)?;
            sources.set.boundary = Some(r.policy);
            sources.boundary = Some(r.origin);
        }
        if let Some(paths) = &files.session {
            let mut policies = Vec::new();
            for path in paths {
                for r in read_files(path, PolicyKind::Session)? {
                    policies.push(r.policy);
                    sources.session.push(r.origin);
                }
            }
            sources.set.session = Some(policies);
        }
        (sources.set.scp, sources.scp) = read_levels(&files.scp, PolicyKind::Scp)?;
        (sources.set.rcp, sources.rcp) = read_levels(&files.rcp, PolicyKind::Rcp)?;
        if let Some(path) = &files.vpce {
            let r = read_file(path, PolicyKind::VpcEndpoint)?;
            sources.set.vpce = Some(r.policy);
            sources.vpce = Some(r.origin);
        }
        for (target, path) in &files.resource {
            let r = read_file(path, PolicyKind::ResourceBased)?;
            sources
                .resource_targets
                .push((target.clone(), sources.set.resource.len()));
            sources.set.resource.push(r.policy);
            sources.resource.push(r.origin);
        }
        Ok(sources)
    }

    /// Adds an identity policy (account data adds them without a file).
    pub fn add_identity(&mut self, policy: Policy, origin: Origin) {
        self.set.identity.push(policy);
        self.identity.push(origin);
    }

    /// Sets the permissions boundary.
    pub fn set_boundary(&mut self, policy: Policy, origin: Origin) {
        self.set.boundary = Some(policy);
        self.boundary = Some(origin);
    }

    /// Whether any identity-side policy was given (identity, boundary or session).
    pub fn has_identity_side(&self) -> bool {
        !self.set.identity.is_empty() || self.set.boundary.is_some()
    }

    /// The resource policy (index into `set.resource`) of hop `index` on `resource`.
    pub fn resource_policy_for(&self, index: usize, resource: &str) -> Option<usize> {
        self.resource_targets
            .iter()
            .find(|(target, _)| match target {
                None => index == 0,
                Some(arn) => covers(arn, resource),
            })
            .map(|(_, i)| *i)
    }

    /// The file and line of a matched statement, given the hops of its chain (resource
    /// policies are located through the hop that used them).
    pub fn locate(&self, m: &MatchedStatement, hops: &[Hop]) -> Option<(&str, u32)> {
        let origin = match m.kind {
            PolicyKind::Identity => self.identity.get(m.position),
            PolicyKind::PermissionsBoundary => self.boundary.as_ref(),
            PolicyKind::Session => self.session.get(m.position),
            PolicyKind::Scp => self.scp.get(m.level?)?.get(m.position),
            PolicyKind::Rcp => self.rcp.get(m.level?)?.get(m.position),
            PolicyKind::VpcEndpoint => self.vpce.as_ref(),
            PolicyKind::ResourceBased => self.resource.get(hops.get(m.position)?.resource_policy?),
        }?;
        Some((origin.file.as_deref()?, *origin.lines.get(m.statement)?))
    }
}

/// Whether a resource policy given for `arn` applies to `resource`: the same ARN, or an
/// object of the S3 bucket `arn`.
fn covers(arn: &str, resource: &str) -> bool {
    arn == resource
        || (arn.starts_with("arn:aws:s3:::")
            && !arn.contains('/')
            && resource
                .strip_prefix(arn)
                .is_some_and(|rest| rest.starts_with('/')))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_of_a_single_statement_and_of_garbage() {
        assert_eq!(
            statement_lines("{\n\"Statement\":\n {\"Effect\":\"Allow\"}}"),
            vec![3]
        );
        assert!(statement_lines("{").is_empty());
        assert!(statement_lines("[1]").is_empty());
    }

    #[test]
    fn bucket_policies_cover_their_objects_only() {
        assert!(covers("arn:aws:s3:::b", "arn:aws:s3:::b/k"));
        assert!(covers("arn:aws:s3:::b", "arn:aws:s3:::b"));
        assert!(!covers("arn:aws:s3:::b", "arn:aws:s3:::bb/k"));
        assert!(!covers("arn:aws:kms:r:1:key/k", "arn:aws:kms:r:1:key/k2"));
    }
}
