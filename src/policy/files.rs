//! Reading policy documents from files and directories (the command line's inputs).
//!
//! A path is a JSON file, or a directory whose `*.json` files are read in name order
//! (AWS managed-policy dumps are laid out that way). Each policy is named by its file
//! stem, which is what explanations then show.

use std::path::{Path, PathBuf};

use super::{parse_policy, ParseOptions, Policy};
use crate::error::ParseError;

/// Why a policy file could not be used.
#[derive(Debug)]
pub enum PolicyFileError {
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    Parse(Box<ParseError>),
}

impl std::fmt::Display for PolicyFileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PolicyFileError::Io { path, error } => write!(f, "{}: {error}", path.display()),
            PolicyFileError::Parse(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for PolicyFileError {}

/// The files a path stands for: itself, or the `*.json` files of a directory by name.
pub fn policy_files(path: &Path) -> Result<Vec<PathBuf>, PolicyFileError> {
    let io = |error| PolicyFileError::Io {
        path: path.to_path_buf(),
        error,
    };
    if !path.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(io)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json") && p.is_file())
        .collect();
    files.sort();
    Ok(files)
}

/// Reads and parses every policy a path stands for.
pub fn read_policies(path: &Path, options: &ParseOptions) -> Result<Vec<Policy>, PolicyFileError> {
    policy_files(path)?
        .iter()
        .map(|file| read_policy(file, options))
        .collect()
}

/// Reads and parses one policy file; the policy is named by the file stem.
pub fn read_policy(file: &Path, options: &ParseOptions) -> Result<Policy, PolicyFileError> {
    let text = std::fs::read_to_string(file).map_err(|error| PolicyFileError::Io {
        path: file.to_path_buf(),
        error,
    })?;
    let mut policy = parse_policy(&text, &file.display().to_string(), options)
        .map_err(|e| PolicyFileError::Parse(Box::new(e)))?;
    policy.id = file.file_stem().map_or_else(
        || file.display().to_string(),
        |s| s.to_string_lossy().into_owned(),
    );
    Ok(policy)
}
