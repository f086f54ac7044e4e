//! The real `fastiam` executable: decisions in input order, bad lines reported and the
//! rest still evaluated, exit codes as the README documents them.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::util::{corpus, read_corpus};

fn fastiam() -> Command {
    Command::new(env!("CARGO_BIN_EXE_fastiam"))
}

/// 10,000 cases with one garbage line in the middle: 9,999 decisions and one `Error`, in
/// order (issue acceptance list).
#[test]
fn garbage_line_in_ten_thousand_cases() {
    let templates: Vec<String> = read_corpus("conformance/fas.jsonl")
        .lines()
        .map(str::to_string)
        .collect();
    let mut input = String::new();
    let mut ids = Vec::new();
    for i in 0..10_000 {
        if i == 5_000 {
            input.push_str("{\"id\": \"broken\", \"principal\": \n");
            ids.push(None);
            continue;
        }
        let t = &templates[i % templates.len()];
        let mut case: serde_json::Value = serde_json::from_str(t).unwrap();
        let id = format!("case-{i}");
        case["id"] = serde_json::Value::String(id.clone());
        input.push_str(&case.to_string());
        input.push('\n');
        ids.push(Some(id));
    }
    let mut child = fastiam()
        .args(["eval", "--engine", "reference", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "exit 1: some lines could not be read"
    );
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 10_000);
    let errors: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i]["decision"] == "Error")
        .collect();
    assert_eq!(errors, vec![5_000]);
    let message = lines[5_000]["error"].as_str().unwrap();
    assert!(message.starts_with("<stdin>:5001:"), "{message}");
    for (line, id) in lines.iter().zip(&ids) {
        if let Some(id) = id {
            assert_eq!(line["id"], id.as_str(), "decisions come out in input order");
        }
    }
}

#[test]
fn summary_counts_and_expectations() {
    let out = fastiam()
        .args(["eval", "--quiet", "--expect"])
        .arg(corpus("conformance/hand.jsonl"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty(), "--quiet prints no decision lines");
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("cases                     44"), "{err}");
    assert!(err.contains("44 agree of 44"), "{err}");
}

#[test]
fn disagreeing_expectation_exits_3() {
    let line = read_corpus("conformance/hand.jsonl")
        .lines()
        .next()
        .unwrap()
        .replace(
            r#""expect": {"decision": "Allow""#,
            r#""expect": {"decision": "ExplicitDeny""#,
        );
    let dir = std::env::temp_dir().join(format!("fastiam-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("wrong.jsonl");
    std::fs::write(&path, line).unwrap();
    let out = fastiam()
        .args(["eval", "--expect"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
}

#[test]
fn missing_file_is_a_usage_error_naming_it() {
    let out = fastiam()
        .args(["eval", "/nonexistent/cases.jsonl"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("/nonexistent/cases.jsonl"), "{err}");
}

#[test]
fn invalid_utf8_line_is_one_error_not_the_end() {
    let good = read_corpus("conformance/hand.jsonl")
        .lines()
        .next()
        .unwrap()
        .to_string();
    let mut input = Vec::new();
    input.extend_from_slice(good.as_bytes());
    input.extend_from_slice(b"\n\xff\xfe garbage\n");
    input.extend_from_slice(good.as_bytes());
    input.push(b'\n');
    let mut child = fastiam()
        .args(["eval", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&input).unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let decisions: Vec<&str> = text.lines().collect();
    assert_eq!(decisions.len(), 3);
    assert!(decisions[1].contains("not valid UTF-8"), "{}", decisions[1]);
    assert!(decisions[2].contains("\"Allow\""));
}
