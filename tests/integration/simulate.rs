//! `fastiam simulate`, the real executable: the README's three questions (examples/simulate/),
//! the matrix, `--json`, `--fail-on`, `--program`, `--account-data`, and bad flags refused
//! with a message naming the flag.

use std::path::PathBuf;
use std::process::Output;

use serde_json::Value;

use crate::cli::fastiam;

const READER: &str = "arn:aws:sts::111122223333:assumed-role/data-reader/etl";
const OBJECT: &str = "arn:aws:s3:::example-reports/2026/q3.csv";
const KEY: &str = "arn:aws:kms:eu-west-1:111122223333:key/reports-key";
const ANALYST: &str = "arn:aws:iam::111122223333:user/analyst";
const LAKE_OBJECT: &str = "arn:aws:s3:::example-lake/sales/part-0.parquet";
const ALICE_HW: &str = "iam::0a1b2c3d4e5f67890a1b2c3d4e5f6789:user:alice";
/// The analyst queries with Athena, which reads the lake object on their behalf.
const VIA_ATHENA: &str = "--action athena:StartQueryExecution \
    --resource arn:aws:athena:eu-west-1:111122223333:workgroup/analysts \
    --via athena.amazonaws.com --then s3:GetObject arn:aws:s3:::example-lake/sales/part-0.parquet";

fn example(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("examples/simulate")
        .join(name)
        .display()
        .to_string()
}

/// The arguments of a command line written as one string: words split on whitespace, and
/// the word `@` replaced by `file` (a path, which may hold spaces).
fn argv(line: &str, file: &str) -> Vec<String> {
    line.split_whitespace()
        .map(|w| {
            if w == "@" {
                file.to_string()
            } else {
                w.to_string()
            }
        })
        .collect()
}

fn run(line: &str, file: &str) -> Output {
    fastiam()
        .arg("simulate")
        .args(argv(line, file))
        .output()
        .unwrap()
}

/// Runs with `--json` and returns the decision lines; the command must succeed.
fn json(line: &str, file: &str) -> Vec<Value> {
    let out = run(&format!("{line} --json"), file);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// `(decision, reason, [sid], [missing])` of each evaluated hop.
fn hops(line: &Value) -> Vec<(String, String, Vec<String>, Vec<String>)> {
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    line["hops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                text(&h["decision"]),
                text(&h["reason"]),
                h["matched"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|m| text(&m["sid"]))
                    .collect(),
                h["missing"].as_array().unwrap().iter().map(text).collect(),
            )
        })
        .collect()
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn hop(
    decision: &str,
    reason: &str,
    sids: &[&str],
    missing: &[&str],
) -> (String, String, Vec<String>, Vec<String>) {
    (
        decision.into(),
        reason.into(),
        strings(sids),
        strings(missing),
    )
}

#[test]
fn s3_to_kms_chain_of_a_data_reader() {
    let policy = example("data-reader.json");
    let lines = json(
        &format!("--policy @ --principal {READER} --action s3:GetObject --resource {OBJECT} --via s3.amazonaws.com --then kms:Decrypt {KEY}"),
        &policy,
    );
    assert_eq!(lines.len(), 1);
    let line = &lines[0];
    assert_eq!(line["decision"], "Allow");
    assert_eq!(line["action"], "s3:GetObject");
    assert_eq!(line["resource"], OBJECT);
    assert_eq!(
        hops(line),
        vec![
            hop("Allow", "Allowed:Identity", &["ReadReports"], &[]),
            hop("Allow", "Allowed:Identity", &["DecryptThroughS3"], &[]),
        ]
    );
    // The deciding statements point at their lines in the policy file.
    let matched = &line["hops"][1]["matched"][0];
    assert_eq!(matched["file"], policy.as_str());
    assert_eq!(matched["line"], 10);
    let notes = line["notes"].to_string();
    assert!(
        notes.contains("kms:ViaService = s3.eu-west-1.amazonaws.com"),
        "{notes}"
    );

    // The same key asked for directly: no kms:ViaService, so no allow, and the table says
    // which key was missing.
    let out = run(
        &format!("--policy @ --principal {READER} --action kms:Decrypt --resource {KEY}"),
        &policy,
    );
    let table = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(
        table.contains(&format!("kms:Decrypt on {KEY}: ImplicitDeny")),
        "{table}"
    );
    assert!(
        table.contains("missing context keys: kms:viaservice"),
        "{table}"
    );
}

#[test]
fn athena_or_vpc_asked_directly_from_the_vpc_and_via_athena() {
    let policy = example("athena-or-vpc.json");
    let base = format!("--policy @ --principal {ANALYST}");
    let direct = json(
        &format!("{base} --action s3:GetObject --resource {LAKE_OBJECT}"),
        &policy,
    );
    assert_eq!(
        hops(&direct[0]),
        vec![hop(
            "ImplicitDeny",
            "NoAllow",
            &[],
            &["aws:calledvia", "aws:sourcevpc"]
        )]
    );
    let from_vpc = json(
        &format!("{base} --action s3:GetObject --resource {LAKE_OBJECT} --context aws:SourceVpc=vpc-0example"),
        &policy,
    );
    assert_eq!(from_vpc[0]["decision"], "Allow");
    assert_eq!(hops(&from_vpc[0])[0].2, strings(&["ReadFromTheVpc"]));
    let via_athena = json(&format!("{base} {VIA_ATHENA}"), &policy);
    assert_eq!(via_athena[0]["decision"], "Allow");
    let got = hops(&via_athena[0]);
    assert_eq!(got[0].2, strings(&["QueryWithAthena"]));
    assert_eq!(got[1].2, strings(&["ReadThroughAthena"]));
}

/// The simulator's line for a chain equals `fastiam eval`'s for the same case written by
/// hand (apart from the simulator's additions).
/// R-EVAL-7: `sts:GetCallerIdentity` needs no permission, even under an explicit deny.
#[test]
fn get_caller_identity_needs_no_permission() {
    let dir = std::env::temp_dir().join(format!("fastiam-whoami-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let deny = dir.join("deny-all.json");
    std::fs::write(
        &deny,
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}"#,
    )
    .unwrap();
    let deny = deny.display().to_string();
    let asked = |action: &str| {
        json(
            &format!("--policy @ --principal {ANALYST} --action {action} --resource *"),
            &deny,
        )
    };
    let lines = asked("sts:GetCallerIdentity");
    assert_eq!(lines[0]["decision"], "Allow", "{}", lines[0]);
    assert_eq!(hops(&lines[0])[0].1, "NoPermissionRequired");
    let lines = asked("sts:GetSessionToken");
    assert_eq!(lines[0]["decision"], "ExplicitDeny", "{}", lines[0]);
}

#[test]
fn a_simulated_chain_decides_as_eval_does_on_the_same_case() {
    let policy = example("athena-or-vpc.json");
    let lines = json(
        &format!("--policy @ --principal {ANALYST} {VIA_ATHENA}"),
        &policy,
    );
    let document: Value = serde_json::from_str(&std::fs::read_to_string(&policy).unwrap()).unwrap();
    let case = serde_json::json!({
        "id": lines[0]["id"], "principal": ANALYST,
        "policies": {"identity": [{"id": "athena-or-vpc", "document": document}]},
        "chain": [
            {"action": "athena:StartQueryExecution", "resource": "arn:aws:athena:eu-west-1:111122223333:workgroup/analysts"},
            {"via": "athena.amazonaws.com", "action": "s3:GetObject", "resource": LAKE_OBJECT},
        ],
    });
    let mut child = fastiam()
        .args(["eval", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    writeln!(child.stdin.take().unwrap(), "{case}").unwrap();
    let out = child.wait_with_output().unwrap();
    let eval_line: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut simulated = lines[0].clone();
    for key in ["action", "resource", "notes"] {
        simulated.as_object_mut().unwrap().remove(key);
    }
    for hop in simulated["hops"].as_array_mut().unwrap() {
        for m in hop["matched"].as_array_mut().unwrap() {
            m.as_object_mut().unwrap().remove("file");
            m.as_object_mut().unwrap().remove("line");
        }
    }
    assert_eq!(simulated, eval_line);
}

#[test]
fn huawei_ecs_from_the_office_or_through_a_service() {
    let policy = example("ecs-office-or-service.json");
    let base = format!("--policy @ --principal {ALICE_HW}");
    let office = json(
        &format!("{base} --action ecs:cloudServers:list --context g:SourceIp=203.0.113.7"),
        &policy,
    );
    assert_eq!(hops(&office[0])[0].2, strings(&["EcsFromTheOffice"]));
    let elsewhere = json(
        &format!("{base} --action ecs:cloudServers:create --context g:SourceIp=198.51.100.1"),
        &policy,
    );
    assert_eq!(
        hops(&elsewhere[0]),
        vec![hop("ImplicitDeny", "NoAllow", &[], &["g:viaservice"])]
    );
    // Forwarded by Auto Scaling: g:SourceIp is not passed on (R-HW-13), g:ViaService is set.
    let forwarded = json(
        &format!("{base} --action as:groups:update --context g:SourceIp=203.0.113.7 --via service.as --then ecs:cloudServers:create"),
        &policy,
    );
    assert_eq!(forwarded[0]["decision"], "Allow");
    let got = hops(&forwarded[0]);
    assert_eq!(got[1].2, strings(&["EcsThroughAService"]));
    assert_eq!(got[1].3, strings(&["g:sourceip"]));
}

#[test]
fn matrix_json_and_fail_on() {
    let policy = example("data-reader.json");
    let matrix = format!("--policy @ --principal {READER} --action s3:GetObject s3:PutObject --resource {OBJECT} arn:aws:s3:::other/x");
    let cells: Vec<(String, String, String)> = json(&matrix, &policy)
        .iter()
        .map(|l| {
            let s = |k: &str| l[k].as_str().unwrap().to_string();
            (s("action"), s("resource"), s("decision"))
        })
        .collect();
    let cell = |a: &str, r: &str, d: &str| (a.to_string(), r.to_string(), d.to_string());
    assert_eq!(
        cells,
        vec![
            cell("s3:GetObject", OBJECT, "Allow"),
            cell("s3:GetObject", "arn:aws:s3:::other/x", "ImplicitDeny"),
            cell("s3:PutObject", OBJECT, "ImplicitDeny"),
            cell("s3:PutObject", "arn:aws:s3:::other/x", "ImplicitDeny"),
        ]
    );
    // The table lists the four cells first.
    let table = String::from_utf8(run(&matrix, &policy).stdout).unwrap();
    let summary: Vec<&str> = table.lines().take(5).collect();
    assert!(summary[0].starts_with("decision"), "{table}");
    assert!(
        summary[1].starts_with("Allow") && summary[4].contains("hop 0"),
        "{table}"
    );

    let code = |line: &str| run(line, &policy).status.code();
    assert_eq!(code(&matrix), Some(0));
    assert_eq!(code(&format!("{matrix} --fail-on deny")), Some(3));
    assert_eq!(code(&format!("{matrix} --fail-on allow")), Some(3));
    let allowed =
        format!("--policy @ --principal {READER} --action s3:GetObject --resource {OBJECT}");
    assert_eq!(code(&format!("{allowed} --fail-on deny")), Some(0));
    assert_eq!(code(&format!("{allowed} --fail-on allow")), Some(3));
}

#[test]
fn against_a_compiled_program() {
    let dir = std::env::temp_dir().join(format!("fastiam-simulate-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let program = dir.join("reader.fiam");
    let status = fastiam()
        .args(["compile", &example("data-reader.json"), "-o"])
        .arg(&program)
        .output()
        .unwrap()
        .status;
    assert!(status.success());
    let lines = json(
        &format!("--program @ --principal {READER} --action s3:GetObject --resource {OBJECT} --via s3.amazonaws.com --then kms:Decrypt {KEY}"),
        &program.display().to_string(),
    );
    assert_eq!(lines[0]["decision"], "Allow");
    assert_eq!(hops(&lines[0])[1].2, strings(&["DecryptThroughS3"]));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn account_data_gives_the_principals_own_policies_and_tags() {
    let auth = example("account-data.json");
    // A session of a role whose ARN has a path; its tag `team` meets the condition.
    let lines = json(
        &format!("--account-data @ --principal {READER} --action s3:GetObject --resource {OBJECT} --via s3.amazonaws.com --then kms:Decrypt {KEY}"),
        &auth,
    );
    assert_eq!(lines[0]["decision"], "Allow");
    let got = hops(&lines[0]);
    assert_eq!(got[0].2, strings(&["ReadOwnTeam"]));
    assert_eq!(got[1].2, strings(&["DecryptThroughS3"]));
    // Located in the account data, where each statement starts.
    let matched = &lines[0]["hops"][0]["matched"][0];
    assert_eq!(matched["file"], auth.as_str());
    let text = std::fs::read_to_string(&auth).unwrap();
    let line = matched["line"].as_u64().unwrap() as usize;
    let next = text.lines().nth(line).unwrap();
    assert!(
        next.contains(r#""Sid": "ReadOwnTeam""#),
        "line {line}: {next}"
    );
    // A tag given on the command line wins over the account data's.
    let retagged = json(
        &format!("--account-data @ --principal {READER} --action s3:GetObject --resource {OBJECT} --context aws:PrincipalTag/team=finance"),
        &auth,
    );
    assert_eq!(retagged[0]["decision"], "ImplicitDeny");
    // The user gets its group's policy.
    let analyst = json(
        &format!("--account-data @ --principal {ANALYST} --action athena:GetQueryResults"),
        &auth,
    );
    assert_eq!(hops(&analyst[0])[0].2, strings(&["Query"]));

    let out = run(
        "--account-data @ --principal arn:aws:iam::111122223333:user/nobody --action s3:GetObject",
        &auth,
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("account-data.json: no user or role `arn:aws:iam::111122223333:user/nobody`"),
        "{err}"
    );
}

/// (extra flags, a fragment of the error): each refused with exit 2.
const BAD_FLAGS: &[(&str, &str)] = &[
    ("--context s3:max-keys(colour)=1", "--context `s3:max-keys(colour)=1`: unknown context type `colour`"),
    ("--context aws:SourceIp", "--context `aws:SourceIp`: expected KEY=VALUE"),
    ("--context aws:SourceIp=10.0.0", "`10.0.0` is not a valid ip value for `aws:SourceIp`: expected an IP address"),
    ("--context aws:MultiFactorAuthPresent=yes", "expected `true` or `false`"),
    ("--context aws:SourceVpc=a --context AWS:sourcevpc=b", "`aws:sourcevpc` is given twice"),
    ("--then kms:Decrypt arn:aws:kms:eu-west-1:111122223333:key/k", "--then `kms:Decrypt arn:aws:kms:eu-west-1:111122223333:key/k` without a --via SERVICE before it"),
    ("--via s3.amazonaws.com", "--via `s3.amazonaws.com` has no --then after it"),
    ("--via s3.amazonaws.com --via athena.amazonaws.com --then kms:Decrypt", "--via `s3.amazonaws.com` has no --then after it"),
    ("--resource-policy /no/such/key-policy.json", "/no/such/key-policy.json: No such file"),
];

#[test]
fn bad_flags_are_refused_naming_the_flag() {
    let policy = example("data-reader.json");
    let base = format!("--policy @ --principal {READER} --action s3:GetObject");
    for (extra, expected) in BAD_FLAGS {
        let out = run(&format!("{base} {extra}"), &policy);
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(2), "{extra}: {err}");
        assert!(err.contains(expected), "{extra}: {err}");
    }
    let out = run(
        &format!("--policy /no/such/policy.json --principal {READER} --action s3:GetObject"),
        "",
    );
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(err.contains("/no/such/policy.json: No such file"), "{err}");
    let out = run(
        "--policy @ --principal alice --action s3:GetObject",
        &policy,
    );
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("--principal: `alice` is not"), "{err}");
}

/// `--scp` levels as `compile` builds them (root first, `F,F` one level), and resource
/// policies for hop 0 (`FILE`) or for a hop's ARN (`ARN=FILE`).
#[test]
fn scp_levels_and_resource_policies() {
    let dir = std::env::temp_dir().join(format!("fastiam-simulate-levels-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let write = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    };
    let allow_all = write(
        "FullAWSAccess.json",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
    );
    let deny_kms = write(
        "deny-kms.json",
        r#"{"Version":"2012-10-17","Statement":[{"Sid":"NoKms","Effect":"Deny","Action":"kms:*","Resource":"*"}]}"#,
    );
    let other_account_key = write(
        "key-policy.json",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"kms:*","Resource":"*"}]}"#,
    );
    let policy = example("data-reader.json");
    let chain = format!("--policy @ --principal {READER} --action s3:GetObject --resource {OBJECT} --via s3.amazonaws.com --then kms:Decrypt {KEY}");
    // A level without an allow allows nothing.
    let lines = json(&format!("{chain} --scp {deny_kms}"), &policy);
    assert_eq!(hops(&lines[0])[0].1, "ScpNoAllow");
    // Root level allows all; the second level denies KMS: hop 1 denied by level 1.
    let lines = json(
        &format!("{chain} --scp {allow_all} --scp {deny_kms},{allow_all}"),
        &policy,
    );
    assert_eq!(lines[0]["denied_at"], 1);
    assert_eq!(hops(&lines[0])[1].1, "ExplicitDeny:Scp");
    let deny = &lines[0]["hops"][1]["matched"][0];
    assert_eq!(
        (deny["sid"].as_str(), deny["level"].as_u64()),
        (Some("NoKms"), Some(1))
    );
    assert_eq!(deny["file"], deny_kms.as_str());
    // A key policy given for the key must grant (R-EVAL-5); this one names another account.
    let lines = json(
        &format!("{chain} --resource-policy {KEY}={other_account_key}"),
        &policy,
    );
    assert_eq!(hops(&lines[0])[1].1, "ResourcePolicyRequired");
    // Without `ARN=`, the policy is hop 0's resource's: here the key asked for directly.
    let lines = json(
        &format!("--policy @ --principal {READER} --action kms:Decrypt --resource {KEY} --resource-policy {other_account_key}"),
        &policy,
    );
    assert_eq!(hops(&lines[0])[0].1, "ResourcePolicyRequired");
    std::fs::remove_dir_all(&dir).ok();
}
