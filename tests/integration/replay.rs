//! Replay of real CloudTrail records (the bundled Invictus slice): mapping, input forms,
//! corrupt input, what-if and account-data modes, and the three-valued answer.

use std::io::Write;
use std::path::PathBuf;

use fastiam::policy::{parse_policy, ParseOptions, PolicyKind};
use fastiam::replay::{
    map_record, replay, replay_to, ActionMap, Guardrails, MapOptions, OutputFormat, RecordMapper,
    ReplayOptions, ReplayPolicies,
};
use serde_json::Value;

use crate::cli::fastiam;
use crate::util::corpus;

const SCP: &str = "replay/policies/network-perimeter-iam-users-scp.json";
const ACCOUNT: &str = "123837392027";

fn logs() -> PathBuf {
    corpus("replay/logs")
}

fn scp(text: &str) -> Guardrails {
    let policy = parse_policy(text, "test-scp", &ParseOptions::new(PolicyKind::Scp)).unwrap();
    Guardrails {
        scp: vec![vec![policy]],
        ..Guardrails::default()
    }
}

fn bundled_scp() -> Guardrails {
    scp(&std::fs::read_to_string(corpus(SCP)).unwrap())
}

/// Every record of the bundled logs, with its file, read independently with serde_json
/// (plain and gzip delivery files).
fn bundled_records() -> Vec<(String, Value)> {
    let mut out = Vec::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(logs().join("invictus"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_str().unwrap().contains(".json"))
        .collect();
    files.sort();
    for f in files {
        let bytes = std::fs::read(&f).unwrap();
        let text = if f.extension().unwrap() == "gz" {
            let mut s = String::new();
            std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut s)
                .unwrap();
            s
        } else {
            String::from_utf8(bytes).unwrap()
        };
        let v: Value = serde_json::from_str(&text).unwrap();
        for r in v["Records"].as_array().unwrap() {
            out.push((f.display().to_string(), r.clone()));
        }
    }
    out
}

fn find(records: &[(String, Value)], pred: impl Fn(&Value) -> bool) -> &Value {
    &records
        .iter()
        .find(|(_, r)| pred(r))
        .expect("a matching record")
        .1
}

/// The `--output` lines of a replay.
fn json_lines(out: &[u8]) -> Vec<Value> {
    out.split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).unwrap())
        .collect()
}

#[test]
fn real_records_map_to_requests() {
    let records = bundled_records();
    let actions = ActionMap::bundled();
    let opts = MapOptions::default();

    // A forwarded KMS Decrypt made by SSM Parameter Store ("AWS Internal" + PARAMETER_ARN).
    let ssm = find(&records, |r| {
        r["eventName"] == "Decrypt"
            && r["userIdentity"]["invokedBy"] == "AWS Internal"
            && r["requestParameters"]["encryptionContext"]["PARAMETER_ARN"].is_string()
    });
    let m = map_record(ssm, "x", &actions, &opts).unwrap();
    assert_eq!(m.hop, 1);
    assert_eq!(m.via.as_deref(), Some("ssm.amazonaws.com"));
    assert_eq!(m.action(), "kms:Decrypt");
    assert!(m
        .resource()
        .starts_with(&format!("arn:aws:kms:us-east-1:{ACCOUNT}:key/")));
    assert!(m.request.hops[0].requires_no_permission);
    assert_eq!(
        m.request.principal.arn,
        format!("arn:aws:iam::{ACCOUNT}:user/bert-jan")
    );
    // The origin's IP is not in the record; the origin's VPC keys are dropped by R-FAS-4.
    assert!(!m.knows("aws:sourceip"));
    assert!(m.knows("aws:sourcevpc"));

    // Secrets Manager forwarding names itself.
    let sm = find(&records, |r| {
        r["eventSource"] == "kms.amazonaws.com"
            && r["userIdentity"]["invokedBy"] == "secretsmanager.amazonaws.com"
    });
    let m = map_record(sm, "x", &actions, &opts).unwrap();
    assert_eq!(m.via.as_deref(), Some("secretsmanager.amazonaws.com"));

    // A direct call through a VPC endpoint: the endpoint and private IP are keys, the VPC
    // is not logged.
    let vpce = find(&records, |r| {
        r["vpcEndpointId"].is_string()
            && r["userIdentity"]["type"] == "IAMUser"
            && r["errorCode"].is_null()
    });
    let m = map_record(vpce, "x", &actions, &opts).unwrap();
    assert_eq!(m.hop, 0);
    let ctx = &m.request.context;
    assert_eq!(
        ctx.get("aws:sourcevpce").unwrap().values()[0],
        vpce["vpcEndpointId"].as_str().unwrap()
    );
    assert!(ctx.get("aws:sourceip").is_none());
    assert!(!m.knows("aws:sourcevpc"));
    assert_eq!(
        ctx.get("aws:currenttime").unwrap().values()[0],
        vpce["eventTime"].as_str().unwrap()
    );

    // A direct call from an address: aws:SourceIp, and the VPC keys known absent.
    let direct = find(&records, |r| {
        r["vpcEndpointId"].is_null()
            && r["sourceIPAddress"]
                .as_str()
                .is_some_and(|s| s.parse::<std::net::IpAddr>().is_ok())
            && r["eventName"] == "GetBucketLocation"
    });
    let m = map_record(direct, "x", &actions, &opts).unwrap();
    assert_eq!(m.action(), "s3:GetBucketLocation");
    let bucket = direct["requestParameters"]["bucketName"].as_str().unwrap();
    assert_eq!(m.resource(), format!("arn:aws:s3:::{bucket}"));
    assert_eq!(
        m.request.context.get("aws:sourceip").unwrap().values()[0],
        direct["sourceIPAddress"].as_str().unwrap()
    );
    assert!(m.knows("aws:sourcevpc") && m.knows("aws:sourceip"));

    // A recorded access denial is the log's outcome.
    let denied = find(&records, |r| {
        r["errorCode"]
            .as_str()
            .is_some_and(|c| c.contains("AccessDenied") || c.contains("Unauthorized"))
    });
    let m = map_record(denied, "x", &actions, &opts).unwrap_or_else(|u| panic!("{u:?}"));
    assert_eq!(m.log_outcome, fastiam::replay::LogOutcome::Denied);

    // Events that are not IAM actions are unmappable with a reason.
    let whoami = find(&records, |r| r["eventName"] == "GetCallerIdentity");
    let u = map_record(whoami, "x", &actions, &opts).unwrap_err();
    assert_eq!(u.class, "not-an-iam-action");
}

#[test]
fn a_reused_mapper_maps_every_record_as_a_fresh_one() {
    let records = bundled_records();
    let actions = ActionMap::bundled();
    let opts = MapOptions {
        extra_context: vec![("aws:principalorgid".into(), "o-abc123".into())],
        ..MapOptions::default()
    };
    let mut mapper = RecordMapper::new();
    // Forwards, then backwards: every record follows others of other shapes (forwarded or
    // not, unmappable, with and without MFA, endpoint or address).
    for (_, r) in records.iter().chain(records.iter().rev()) {
        let fresh = map_record(r, "x", &actions, &opts);
        let record = fastiam::replay::json::from_serde(r);
        let reused = mapper
            .map(&record, &"x", &actions, &opts)
            .map(|m| m.clone());
        assert_eq!(format!("{fresh:?}"), format!("{reused:?}"), "{r}");
    }
}

#[test]
fn a_mapper_reading_some_keys_sets_only_those_and_knows_as_much() {
    let records = bundled_records();
    let actions = ActionMap::bundled();
    let opts = MapOptions::default();
    let reads = |k: &str| k == "aws:sourceip" || k == "aws:epochtime";
    let mut some = RecordMapper::reading(reads);
    for (_, r) in &records {
        let Ok(full) = map_record(r, "x", &actions, &opts) else {
            continue;
        };
        let record = fastiam::replay::json::from_serde(r);
        let m = some.map(&record, &"x", &actions, &opts).unwrap();
        // The full request with only the keys read.
        let mut expected = full.request.clone();
        expected.context.retain(reads);
        for hop in &mut expected.hops {
            hop.context.retain(reads);
        }
        assert_eq!(m.request, expected, "{r}");
        for key in [
            "aws:sourceip",
            "aws:sourcevpc",
            "aws:useragent",
            "kms:viaservice",
        ] {
            assert_eq!(m.knows(key), full.knows(key), "{key} in {r}");
        }
    }
}

#[test]
fn ec2_instance_actions_act_on_the_instance_of_their_instances_set() {
    // A real TerminateInstances record: EC2 logs the instance ids as
    // `requestParameters.instancesSet.items[].instanceId`, and no `resources[]`.
    let path = corpus("replay/records/ec2-terminate-instances.json");
    let record: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let actions = ActionMap::bundled();
    let opts = MapOptions::default();
    let m = map_record(&record, "x", &actions, &opts).unwrap_or_else(|u| panic!("{u:?}"));
    assert_eq!(m.action(), "ec2:TerminateInstances");
    assert_eq!(
        m.resource(),
        format!("arn:aws:ec2:us-east-1:{ACCOUNT}:instance/i-0dbc91f429e48eeed")
    );
    assert_eq!(m.request.hops[0].resource_account.as_deref(), Some(ACCOUNT));
    // Several instances are authorised one by one, which one request cannot say.
    let mut several = record.clone();
    several["requestParameters"]["instancesSet"]["items"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({"instanceId": "i-0123456789abcdef0"}));
    // The resource is then an unknown of the answer, not a reason to give up on the record.
    let m = map_record(&several, "x", &actions, &opts).unwrap_or_else(|u| panic!("{u:?}"));
    assert_eq!(m.resource(), "");
    assert!(
        m.resource_unknown
            .as_deref()
            .is_some_and(|r| r.starts_with("ec2:TerminateInstances: no resource ARN")),
        "{:?}",
        m.resource_unknown
    );
    // Replayed: evaluated, not unmappable (from the corporate range: allowed).
    let report = replay(
        &[path],
        &ReplayPolicies::what_if(&bundled_scp()).unwrap(),
        &ReplayOptions::default(),
    );
    assert_eq!(report.records_seen(), 1);
    assert_eq!(report.all.allowed, 1, "{report:?}");
}

/// The streaming readers hand on exactly the records serde_json finds in each whole file, in
/// order, with their places; the LICENSE beside the logs is skipped, not read.
#[test]
fn the_streaming_readers_read_what_serde_json_reads_whole() {
    let plan = fastiam::replay::Plan::new(&[logs()]);
    assert!(plan.errors.is_empty(), "{:?}", plan.errors);
    assert_eq!(plan.skipped.len(), 1);
    assert!(plan.skipped[0].path.ends_with("LICENSE"));
    let mut read = Vec::new();
    for unit in &plan.units {
        let r = fastiam::replay::source::read_unit(unit, &mut |at, record| {
            read.push((at.file.clone(), at.place.clone(), record.unwrap()));
            true
        });
        assert!(r.unwrap());
    }
    let whole = bundled_records();
    assert_eq!(read.len(), whole.len());
    let (mut index, mut previous) = (0, None);
    for ((file, place, value), (whole_file, whole_value)) in read.iter().zip(&whole) {
        if previous != Some(file) {
            index = 0;
            previous = Some(file);
        }
        assert_eq!(file, whole_file);
        assert_eq!(place, &format!("Records[{index}]"));
        assert_eq!(
            &fastiam::replay::json::to_serde(value).unwrap(),
            whole_value
        );
        index += 1;
    }
}

#[test]
fn every_record_is_accounted_for_and_forwarded_kms_calls_are_hops() {
    let records = bundled_records();
    let policies = ReplayPolicies::what_if(&bundled_scp()).unwrap();
    let report = replay(&[logs()], &policies, &ReplayOptions::default());
    assert_eq!(report.records_seen(), records.len() as u64);
    assert_eq!(report.unreadable.count, 0);
    let forwarded_kms = records
        .iter()
        .filter(|(_, r)| {
            r["eventSource"] == "kms.amazonaws.com" && r["userIdentity"]["invokedBy"].is_string()
        })
        .count() as u64;
    assert!(forwarded_kms > 100, "{forwarded_kms}");
    let kms_via: u64 = ["ssm.amazonaws.com", "secretsmanager.amazonaws.com"]
        .iter()
        .map(|v| report.via.get(*v).copied().unwrap_or(0))
        .sum();
    assert_eq!(kms_via, forwarded_kms);
    assert_eq!(report.forwarded.total(), report.via.values().sum::<u64>());
}

#[test]
fn what_if_reports_what_the_scp_would_newly_deny() {
    let policies = ReplayPolicies::what_if(&bundled_scp()).unwrap();
    let mut out = Vec::new();
    let options = ReplayOptions {
        output: Some(OutputFormat::Json),
        ..ReplayOptions::default()
    };
    let report = replay_to(&[logs()], &policies, &options, &|_| {}, &mut out).unwrap();
    let lines = json_lines(&out);
    assert_eq!(lines.len() as u64, report.records_seen());
    // Every explicit denial comes from the perimeter statement, for an IAM user calling from
    // outside the corporate range and not through a VPC endpoint.
    let denied: Vec<&Value> = lines.iter().filter(|l| l["verdict"] == "denied").collect();
    assert!(!denied.is_empty());
    assert_eq!(denied.len() as u64, report.all.explicit_deny);
    for d in &denied {
        assert_eq!(d["matched"][0]["sid"], "EnforceNetworkPerimeterOnIAMUsers");
        assert!(d["principal"].as_str().unwrap().contains(":user/"));
        assert_eq!(d["via"], Value::Null);
    }
    // Calls from the corporate range are allowed.
    let inside = lines
        .iter()
        .filter(|l| l["verdict"] == "allowed" && l["hop"] == 0)
        .count();
    assert!(inside > 100, "{inside}");
    assert!(
        report.disagreements.count > 0 && report.disagreements.count <= report.all.explicit_deny
    );
}

#[test]
fn decisions_that_read_unlogged_keys_depend_on_them() {
    // Deny unless from the corporate range: for a forwarded call the origin's IP is not in
    // the log, so the answer depends on aws:SourceIp (not a guess either way).
    let guard = scp(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"kms:*","Resource":"*",
        "Condition":{"NotIpAddressIfExists":{"aws:SourceIp":"192.168.10.0/24"}}}]}"#,
    );
    let policies = ReplayPolicies::what_if(&guard).unwrap();
    let mut out = Vec::new();
    let options = ReplayOptions {
        output: Some(OutputFormat::Json),
        ..ReplayOptions::default()
    };
    replay_to(&[logs()], &policies, &options, &|_| {}, &mut out).unwrap();
    let lines = json_lines(&out);
    let forwarded_kms: Vec<&Value> = lines
        .iter()
        .filter(|l| l["action"].as_str().is_some_and(|a| a.starts_with("kms:")) && l["hop"] == 1)
        .collect();
    assert!(!forwarded_kms.is_empty());
    for l in &forwarded_kms {
        assert_eq!(l["verdict"], "depends", "{l}");
        // In the policy's own spelling, with what decides the answer.
        assert_eq!(l["depends_on"], serde_json::json!(["aws:SourceIp"]));
        let decided = l["decided_by"].as_str().unwrap_or_default();
        assert!(
            decided.contains("ExplicitDeny if aws:SourceIp absent")
                || decided.contains("ExplicitDeny if aws:SourceIp = "),
            "{l}"
        );
        assert!(
            decided.contains("Allow if aws:SourceIp = \"192.168.10."),
            "{l}"
        );
    }
    // Direct KMS calls from a logged address are certain.
    for l in lines
        .iter()
        .filter(|l| l["action"].as_str().is_some_and(|a| a.starts_with("kms:")) && l["hop"] == 0)
    {
        assert_ne!(l["verdict"], "depends", "{l}");
    }
}

#[test]
fn gzip_directory_and_corrupt_inputs() {
    let dir = std::env::temp_dir().join(format!("fastiam-replay-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("nested")).unwrap();
    let plain = logs()
        .join("invictus/218007301253_CloudTrail_us-east-1_20230710T1205Z_UljXNp9xLp8nsAGc.json");
    let text = std::fs::read(&plain).unwrap();
    std::fs::write(dir.join("good.json"), &text).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&text).unwrap();
    std::fs::write(dir.join("nested/good.json.gz"), gz.finish().unwrap()).unwrap();
    // A delivery file cut inside its fourth record, a JSON Lines file with one bad line, a
    // README to skip.
    let records: Value = serde_json::from_slice(&text).unwrap();
    let list = records["Records"].as_array().unwrap();
    let fourth = list[3].to_string();
    let three: Vec<String> = list[..3].iter().map(Value::to_string).collect();
    let truncated = format!(
        "{{\"Records\": [{},\n{}",
        three.join(",\n"),
        &fourth[..fourth.len() / 2]
    );
    std::fs::write(dir.join("nested/truncated.json"), truncated).unwrap();
    let mut jsonl = String::new();
    for r in records["Records"].as_array().unwrap().iter().take(5) {
        jsonl.push_str(&r.to_string());
        jsonl.push('\n');
    }
    jsonl.push_str("{not json\n");
    std::fs::write(dir.join("lines.jsonl"), jsonl).unwrap();
    std::fs::write(dir.join("README.md"), "not a log").unwrap();

    let policies = ReplayPolicies::what_if(&bundled_scp()).unwrap();
    let one = replay(
        std::slice::from_ref(&plain),
        &policies,
        &ReplayOptions::default(),
    );
    let all = replay(
        std::slice::from_ref(&dir),
        &policies,
        &ReplayOptions::default(),
    );
    let n = records["Records"].as_array().unwrap().len() as u64;
    assert_eq!(one.records_seen(), n);
    // good.json + good.json.gz + 5 lines + 1 bad line + the truncated file's 3 whole
    // records and the one it stops inside.
    assert_eq!(all.records_seen(), 2 * n + 5 + 1 + 3 + 1);
    assert_eq!(all.unreadable.count, 2);
    let text = all.unreadable.examples.join("\n");
    assert!(
        text.contains("truncated.json: Records[3]: the input ends inside this record"),
        "{text}"
    );
    assert!(text.contains("lines.jsonl: line 6:"), "{text}");
    assert_eq!(all.skipped.count, 1);
    assert!(all.skipped.examples[0].contains("README.md: not named like a log"));
    // The two good copies decide alike; the 5 lines and the 3 records of the truncated file
    // add their own.
    assert_eq!(
        all.all.explicit_deny,
        2 * one.all.explicit_deny
            + denied_in(&policies, &dir.join("lines.jsonl"))
            + denied_in(&policies, &dir.join("nested/truncated.json"))
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Explicit denials in one file of the gzip test, replayed on its own.
fn denied_in(policies: &ReplayPolicies, file: &std::path::Path) -> u64 {
    replay(&[file.to_path_buf()], policies, &ReplayOptions::default())
        .all
        .explicit_deny
}

#[test]
fn account_data_mode_uses_each_identitys_policies() {
    // bert-jan may only decrypt through SSM (kms:ViaService, which KMS sets on calls a
    // service makes for the principal); benjamin has no policies at all.
    let account = format!(
        r#"{{"UserDetailList":[
          {{"UserName":"bert-jan","Arn":"arn:aws:iam::{ACCOUNT}:user/bert-jan","UserPolicyList":[
            {{"PolicyName":"kms-via-ssm","PolicyDocument":{{"Version":"2012-10-17","Statement":[
              {{"Effect":"Allow","Action":"kms:Decrypt","Resource":"*",
                "Condition":{{"StringLike":{{"kms:ViaService":"ssm.*.amazonaws.com"}}}}}}]}}}}]}},
          {{"UserName":"benjamin","Arn":"arn:aws:iam::{ACCOUNT}:user/benjamin"}}]}}"#
    );
    let path = std::env::temp_dir().join(format!("fastiam-account-{}.json", std::process::id()));
    std::fs::write(&path, account).unwrap();
    let policies = ReplayPolicies::from_account_data(&path, &Guardrails::default()).unwrap();
    let mut out = Vec::new();
    let options = ReplayOptions {
        output: Some(OutputFormat::Json),
        ..ReplayOptions::default()
    };
    let report = replay_to(&[logs()], &policies, &options, &|_| {}, &mut out).unwrap();
    std::fs::remove_file(&path).unwrap();
    let lines = json_lines(&out);
    let decrypts: Vec<&Value> = lines
        .iter()
        .filter(|l| {
            l["action"] == "kms:Decrypt"
                && l["principal"].as_str().unwrap().ends_with("user/bert-jan")
        })
        .collect();
    assert!(!decrypts.is_empty());
    for l in decrypts {
        let expected = if l["via"] == "ssm.amazonaws.com" {
            "Allow"
        } else {
            "ImplicitDeny"
        };
        assert_eq!(l["decision"], expected, "{l}");
    }
    // Users absent from the account data are unmappable, not guessed.
    assert!(report
        .unmappable
        .contains_key("principal-not-in-account-data"));
    // benjamin's recorded successes contradict an empty policy set.
    assert!(report.disagreements.count > 0);
    assert!(report
        .disagreements
        .examples
        .iter()
        .any(|e| e.contains("user/benjamin") && e.contains("log succeeded, replay ImplicitDeny")));
}

#[test]
fn main_job_command_prints_the_report() {
    let out = fastiam()
        .args(["replay", "--quiet", "--scp"])
        .arg(corpus(SCP))
        .arg(logs())
        .arg("--output")
        .arg(std::env::temp_dir().join(format!("fastiam-replay-{}.csv", std::process::id())))
        .args(["--format", "csv"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    for needle in [
        "explicitly denied",
        "Forwarded calls by service",
        "ssm.amazonaws.com",
        "EnforceNetworkPerimeterOnIAMUsers",
        "Recorded successes the guardrails would now explicitly deny",
    ] {
        assert!(stdout.contains(needle), "missing `{needle}` in\n{stdout}");
    }
    let csv_path = std::env::temp_dir().join(format!("fastiam-replay-{}.csv", std::process::id()));
    let csv = std::fs::read_to_string(&csv_path).unwrap();
    std::fs::remove_file(&csv_path).unwrap();
    assert!(csv.starts_with("file,position,record,principal,action"));
    assert_eq!(
        csv.lines().count() as u64 - 1,
        bundled_records().len() as u64
    );
}

/// Output piped into a reader that stops early (`fastiam replay … | head -1`) or never reads
/// ends the command quietly: exit 0, no panic message. Both the summary and the records
/// written to standard output (`--output -`).
#[test]
fn a_closed_output_pipe_ends_the_replay_quietly() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    let scp = corpus("replay/policies/network-perimeter-iam-users-scp.json");
    for (extra, read_first) in [(&[][..], false), (&["--output", "-"][..], true)] {
        let mut child = fastiam()
            .args(["replay", "--quiet", "--scp"])
            .arg(&scp)
            .arg(logs())
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        if read_first {
            let mut first = String::new();
            BufReader::new(stdout).read_line(&mut first).unwrap();
            assert!(first.starts_with('{'), "{first}");
        } else {
            drop(stdout);
        }
        // The read end is closed here: with nothing read (the replay takes far longer than
        // this), or with most of the 698 record lines unread.
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{extra:?}: {stderr}");
        assert!(out.status.success(), "{extra:?}: {:?} {stderr}", out.status);
    }
}

/// A replay without per-record output (one parallel pass, reports merged as they finish) and
/// one with output (windows written in order) report the same, on one thread and on two.
#[test]
fn the_report_does_not_depend_on_output_or_threads() {
    let policies = ReplayPolicies::what_if(&bundled_scp()).unwrap();
    let mut reports = Vec::new();
    for threads in [1, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let plain = replay(&[logs()], &policies, &ReplayOptions::default());
            let with_output = ReplayOptions {
                output: Some(OutputFormat::Json),
                ..Default::default()
            };
            let mut lines = Vec::new();
            let written =
                replay_to(&[logs()], &policies, &with_output, &|_| {}, &mut lines).unwrap();
            assert_eq!(json_lines(&lines).len() as u64, written.records_seen());
            reports.push(plain.to_json());
            reports.push(written.to_json());
        });
    }
    assert_eq!(reports[0]["records"], 698, "{}", reports[0]);
    for r in &reports[1..] {
        assert_eq!(r, &reports[0]);
    }
}

/// A record the log denied but the replay allows is reported with the statements that allow
/// it, also when no per-record output is written (the explanation is built only on demand).
#[test]
fn a_log_denial_the_replay_allows_names_its_allowing_statement() {
    let account = format!(
        r#"{{"UserDetailList":[
          {{"UserName":"bert-jan","Arn":"arn:aws:iam::{ACCOUNT}:user/bert-jan","UserPolicyList":[
            {{"PolicyName":"allow-all","PolicyDocument":{{"Version":"2012-10-17","Statement":[
              {{"Sid":"Everything","Effect":"Allow","Action":"*","Resource":"*"}}]}}}}]}}]}}"#
    );
    let path = std::env::temp_dir().join(format!("fastiam-allow-all-{}.json", std::process::id()));
    std::fs::write(&path, account).unwrap();
    let policies = ReplayPolicies::from_account_data(&path, &Guardrails::default()).unwrap();
    std::fs::remove_file(&path).unwrap();
    let report = replay(&[logs()], &policies, &ReplayOptions::default());
    let examples = &report.disagreements.examples;
    assert!(
        examples.iter().any(|e| e.contains("user/bert-jan")
            && e.contains("log denied, replay Allow")
            && e.contains("allow-all#Everything")),
        "{examples:#?}"
    );
}
