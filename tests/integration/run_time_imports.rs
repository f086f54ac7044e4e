//! The run-time side does not depend on the policy language or the compiler (issue 17).
//!
//! `src/eval/`, `src/table/` and `src/bytecode/` read a compiled program and a request;
//! everything they need from the policy language (dialect, policy kind, operators) lives in
//! `bytecode::vocabulary`. This test reads their sources and fails if any names
//! `crate::policy` or `crate::compile` — directly (`use crate::policy::X`, a path in code or a
//! doc link) or in a grouped import (`use crate::{compile, …}`). A file's unit tests (from its
//! `#[cfg(test)]` on) may build programs with the compiler: that is a fixture, not a run-time
//! dependency.
//!
//! For example, `use crate::policy::BaseOperator;` in `src/eval/compare.rs` fails it with
//! `src/eval/compare.rs:12: names crate::policy`.

use std::path::{Path, PathBuf};

/// The folders of the run-time side, from the crate root.
const RUN_TIME: [&str; 3] = ["src/eval", "src/table", "src/bytecode"];

/// The modules the run-time side must not name.
const FORBIDDEN: [&str; 2] = ["policy", "compile"];

/// Every `.rs` file under `dir`, recursively, sorted.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|x| x == "rs") {
            files.push(path);
        }
    }
    files.sort();
    files
}

/// The forbidden modules a line names: as `crate::policy…`, or inside `crate::{…}` (on
/// this line).
fn named_modules(line: &str) -> Vec<&'static str> {
    let mut named = Vec::new();
    for (at, _) in line.match_indices("crate::") {
        let rest = &line[at + "crate::".len()..];
        // In a group, each element's first word: `{compile, table::Program}`.
        let elements: Vec<&str> = match rest.strip_prefix('{') {
            Some(group) => group[..group.find('}').unwrap_or(group.len())]
                .split(',')
                .collect(),
            None => vec![rest],
        };
        for element in elements {
            let word = element
                .trim()
                .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .next()
                .unwrap_or("");
            if let Some(m) = FORBIDDEN.iter().find(|m| **m == word) {
                named.push(*m);
            }
        }
    }
    named
}

/// `place: names crate::module` for each forbidden name in the non-test part of `text`.
fn violations(file: &str, text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("#[cfg(test)]") {
            break;
        }
        for m in named_modules(line) {
            found.push(format!("{file}:{}: names crate::{m}", i + 1));
        }
    }
    found
}

#[test]
fn the_checker_finds_each_spelling() {
    let cases: [(&str, &[&str]); 9] = [
        ("use crate::policy::BaseOperator;", &["policy"]),
        ("use crate::compile::compile;", &["compile"]),
        ("    let p = crate::compile::compile(&set);", &["compile"]),
        ("/// [`crate::policy::PolicyKind`] as a code", &["policy"]),
        ("use crate::{compile, table::Program};", &["compile"]),
        ("use crate::{bytecode::*, policy::Dialect};", &["policy"]),
        ("use crate::bytecode::{BaseOperator, PolicyKind};", &[]),
        (
            "use crate::table::ProgramView; // policy compiled elsewhere",
            &[],
        ),
        (
            "//! let program = fastiam::compile::compile(&set).unwrap();",
            &[],
        ),
    ];
    for (line, expected) in cases {
        assert_eq!(named_modules(line), expected, "{line}");
    }
    let text = "use crate::bytecode::*;\nuse crate::policy::Dialect;\n#[cfg(test)]\nmod tests {\n    use crate::compile::compile;\n}\n";
    assert_eq!(
        violations("src/eval/x.rs", text),
        ["src/eval/x.rs:2: names crate::policy"]
    );
}

#[test]
fn the_run_time_side_names_neither_policy_nor_compile() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut found = Vec::new();
    for dir in RUN_TIME {
        let files = rust_files(&root.join(dir));
        assert!(!files.is_empty(), "{dir}: no Rust sources found");
        for path in files {
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let name = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .display()
                .to_string();
            found.extend(violations(&name, &text));
        }
    }
    assert!(
        found.is_empty(),
        "the run-time side imports the policy language or the compiler (move the vocabulary \
         it needs to src/bytecode/vocabulary.rs):\n{}",
        found.join("\n")
    );
}
