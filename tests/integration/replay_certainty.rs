//! The replay's certain and uncertain answers on the bundled real records, through the
//! command line: what decides an uncertain record, `--assume-absent`, unknown resources,
//! SCP levels as `compile` builds them, and `--mode lenient`.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::cli::fastiam;
use crate::util::corpus;

const SCP: &str = "replay/policies/network-perimeter-iam-users-scp.json";

fn temp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("fastiam-certainty-{}-{name}", std::process::id()))
}

/// Writes `text` to a temporary policy file.
fn policy(name: &str, text: &str) -> PathBuf {
    let path = temp(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs `fastiam replay ARGS… LOGS --json -o OUT` and returns the summary and the lines.
fn replay(args: &[&str]) -> (Value, Vec<Value>) {
    static RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let run = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let out_path = temp(&format!("run{run}.jsonl"));
    let out = fastiam()
        .arg("replay")
        .args(args)
        .args(["--quiet", "--json", "-o"])
        .arg(&out_path)
        .arg(corpus("replay/logs"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    let lines = std::fs::read_to_string(&out_path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    std::fs::remove_file(&out_path).unwrap();
    (summary, lines)
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn an_uncertain_record_says_what_decides_it_and_assume_absent_settles_it() {
    let scp = corpus(SCP);
    let (summary, lines) = replay(&["--scp", path(&scp)]);
    // The network-perimeter SCP denies IAM users outside the corporate range or VPC; the
    // VPC behind an endpoint call is not in the log: those records depend on it, and only
    // on it (the principal tags it also reads cannot change the answer).
    let depends: Vec<&Value> = lines.iter().filter(|l| l["verdict"] == "depends").collect();
    assert!(!depends.is_empty());
    for l in &depends {
        assert_eq!(l["depends_on"], serde_json::json!(["aws:SourceVpc"]), "{l}");
        let decided = l["decided_by"].as_str().unwrap();
        assert!(
            decided.contains("Allow if aws:SourceVpc = \"vpc-0a1b2c3d4e5f60718\"")
                && decided.contains("ExplicitDeny if aws:SourceVpc absent"),
            "{l}"
        );
    }
    assert_eq!(summary["all"]["depends_on"], depends.len());
    // Taking the VPC key as absent makes them certain denials, and nothing else changes.
    let (absent, lines) = replay(&["--scp", path(&scp), "--assume-absent", "aws:Source*"]);
    assert_eq!(absent["all"]["depends_on"], 0);
    assert_eq!(
        absent["all"]["explicit_deny"].as_u64().unwrap(),
        summary["all"]["explicit_deny"].as_u64().unwrap() + depends.len() as u64
    );
    assert!(lines.iter().all(|l| l["decided_by"].is_null()));
}

#[test]
fn a_resource_the_log_does_not_name_is_certain_when_no_resource_clause_can_change_it() {
    // Resource "*" only: every record is certain, whether or not its resource is known.
    let deny_all = policy(
        "deny-s3.json",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*"}]}"#,
    );
    let (_, lines) = replay(&["--scp", path(&deny_all)]);
    let unknown: Vec<&Value> = lines
        .iter()
        .filter(|l| !l["resource_unknown"].is_null())
        .collect();
    assert!(
        !unknown.is_empty(),
        "the bundled logs have records with no resource ARN"
    );
    assert!(lines.iter().all(|l| l["unmappable"] != "no-resource"));
    // Calls by IAM principals (a service principal's call is outside SCPs).
    let iam = |l: &&Value| {
        l["principal"]
            .as_str()
            .is_some_and(|p| p.starts_with("arn:aws:"))
    };
    for l in lines
        .iter()
        .filter(iam)
        .filter(|l| l["action"].as_str().is_some_and(|a| a.starts_with("s3:")))
    {
        assert_eq!(l["verdict"], "denied", "{l}");
        assert_eq!(l["decision"], "ExplicitDeny", "{l}");
    }
    // A pattern the unknown resource may or may not match: the answer depends on it.
    let deny_bucket = policy(
        "deny-bucket.json",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"arn:aws:s3:::invictus-*"}]}"#,
    );
    let (_, lines) = replay(&["--scp", path(&deny_bucket)]);
    let s3_unknown: Vec<&Value> = lines
        .iter()
        .filter(iam)
        .filter(|l| {
            !l["resource_unknown"].is_null()
                && l["action"].as_str().is_some_and(|a| a.starts_with("s3:"))
        })
        .collect();
    assert!(!s3_unknown.is_empty());
    for l in s3_unknown {
        assert_eq!(l["verdict"], "depends", "{l}");
        assert_eq!(l["depends_on"], serde_json::json!(["resource"]), "{l}");
    }
    std::fs::remove_file(deny_all).unwrap();
    std::fs::remove_file(deny_bucket).unwrap();
}

#[test]
fn each_scp_flag_is_one_level_as_compile_takes_them() {
    // Two allow-lists: as two levels, an action must be allowed by both (none is: only
    // service principals, outside SCPs, are allowed); as one level, by either.
    let s3 = policy(
        "allow-s3.json",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#,
    );
    let kms = policy(
        "allow-kms.json",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"}]}"#,
    );
    let two = replay(&[
        "--exact-guardrails",
        "--scp",
        path(&s3),
        "--scp",
        path(&kms),
    ])
    .0;
    let one_level = format!("{},{}", path(&s3), path(&kms));
    let one = replay(&["--exact-guardrails", "--scp", &one_level]).0;
    let allowed = |v: &Value| v["all"]["allowed"].as_u64().unwrap();
    assert!(
        allowed(&one) > allowed(&two) + 100,
        "one level {one}\ntwo levels {two}"
    );
    std::fs::remove_file(s3).unwrap();
    std::fs::remove_file(kms).unwrap();
}

#[test]
fn lenient_mode_keeps_a_policy_with_an_invalid_value() {
    let odd = policy(
        "odd.json",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*",
            "Condition":{"IpAddress":{"aws:SourceIp":"not-an-address"}}}]}"#,
    );
    let strict = fastiam()
        .args(["replay", "--quiet", "--scp", path(&odd)])
        .arg(corpus("replay/logs"))
        .output()
        .unwrap();
    assert_eq!(strict.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&strict.stderr).contains("odd.json"));
    let (summary, _) = replay(&["--mode", "lenient", "--scp", path(&odd)]);
    // The invalid network never matches, so nothing is denied.
    assert_eq!(summary["all"]["explicit_deny"], 0, "{summary}");
    std::fs::remove_file(odd).unwrap();
}

#[test]
fn lenient_mode_reaches_the_policies_of_the_account_data() {
    let text = r#"{"UserDetailList":[
      {"UserName":"bert-jan","Arn":"arn:aws:iam::123837392027:user/bert-jan","UserPolicyList":[
        {"PolicyName":"odd","PolicyDocument":{"Version":"2012-10-17","Statement":[
          {"Effect":"Allow","Action":"*","Resource":"*",
           "Condition":{"IpAddress":{"aws:SourceIp":"not-an-address"}}}]}}]}]}"#;
    let account = policy("account.json", text);
    let strict = fastiam()
        .args(["replay", "--quiet", "--account-data", path(&account)])
        .arg(corpus("replay/logs"))
        .output()
        .unwrap();
    assert_eq!(strict.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&strict.stderr).contains("not-an-address"),
        "{}",
        String::from_utf8_lossy(&strict.stderr)
    );
    let (summary, lines) = replay(&["--mode", "lenient", "--account-data", path(&account)]);
    // bert-jan's only grant never matches: none of his calls is allowed.
    assert!(
        summary["all"]["implicit_deny"].as_u64().unwrap() > 0,
        "{summary}"
    );
    assert!(lines
        .iter()
        .filter(|l| l["principal"] == "arn:aws:iam::123837392027:user/bert-jan")
        .all(|l| l["decision"] != "Allow" || l["hop"] == 1));
    std::fs::remove_file(account).unwrap();
}
