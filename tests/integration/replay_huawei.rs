//! Replay of Huawei Cloud CTS traces (the bundled synthetic samples and documentation
//! examples, `corpus/replay/huawei/`): mapping of every trace, identity-policy and SCP
//! denials, forwarded calls, refusals, CloudTrail and CTS side by side, and accounting.

use std::path::PathBuf;

use fastiam::decision::Decision;
use fastiam::policy::files::read_policies;
use fastiam::policy::{Mode, ParseOptions, PolicyKind};
use fastiam::replay::json::{from_serde, Record};
use fastiam::replay::{
    map_record, replay, replay_to, ActionMap, Guardrails, MapOptions, MappedRecord, OutputFormat,
    ReplayOptions, ReplayPolicies, Report, Unmappable,
};
use fastiam::request::chain_contexts;
use serde_json::Value;

use crate::cli::fastiam;
use crate::util::{corpus, read_corpus};

const ACCOUNT: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";
const SAMPLES: &str = "replay/huawei/traces/sample-traces.jsonl";
const DOC_EXAMPLES: &str = "replay/huawei/traces/otc-doc-examples.json";

fn traces() -> PathBuf {
    corpus("replay/huawei/traces")
}

/// The 30 sample traces, in file order.
fn samples() -> Vec<Value> {
    read_corpus(SAMPLES)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn map(trace: &Value) -> Result<MappedRecord, Unmappable> {
    map_record(trace, "t", ActionMap::shared(), &MapOptions::default())
}

fn policies(dir: &str, kind: PolicyKind) -> Vec<fastiam::policy::Policy> {
    let options = ParseOptions::new(kind).with_mode(Mode::Strict);
    read_policies(&corpus(dir), &options).unwrap()
}

fn guardrails(identity: bool, scp: bool) -> Guardrails {
    Guardrails {
        identity: if identity {
            policies("replay/huawei/policies/identity", PolicyKind::Identity)
        } else {
            vec![]
        },
        scp: if scp {
            // One SCP level.
            vec![policies("replay/huawei/policies/scp", PolicyKind::Scp)]
        } else {
            vec![]
        },
        ..Guardrails::default()
    }
}

/// The `--output` lines of a replay of `inputs`.
fn output_lines(inputs: &[PathBuf], guardrails: &Guardrails) -> (Report, Vec<Value>) {
    let policies = ReplayPolicies::what_if(guardrails).unwrap();
    let options = ReplayOptions {
        output: Some(OutputFormat::Json),
        ..ReplayOptions::default()
    };
    let mut out = Vec::new();
    let report = replay_to(inputs, &policies, &options, &|_| {}, &mut out).unwrap();
    let lines = out
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).unwrap())
        .collect();
    (report, lines)
}

fn user(name: &str) -> String {
    format!("iam::{ACCOUNT}:user:{name}")
}

/// What each sample trace maps to: its line, then the action (or the unmappable class),
/// the resource (`-`: not checked), the principal, the forwarding service.
#[rustfmt::skip]
const EXPECTED: &[(usize, &str, &str, &str, Option<&str>)] = &[
    (1, "not-an-iam-action", "-", "-", None),
    (2, "not-an-iam-action", "-", "-", None),
    (3, "iam:agencies:createAgency", "iam::{A}:agency:obs-kms-agency", "bob", None),
    (4, "iam:tokens:assume", "iam::{A}:agency:ops-admin-agency", "bob", None),
    (5, "iam:credentials:createCredential", "iam::{A}:user:alice", "sts::{A}:assumed-agency:ops-admin-agency/bob-session", None),
    (6, "iam:users:deleteUser", "iam::{A}:user:carol", "bob", None),
    (7, "obs:bucket:CreateBucket", "obs:*:{A}:bucket:example-data-bucket", "alice", None),
    (8, "obs:bucket:DeleteBucketPolicy", "obs:*:{A}:bucket:example-data-bucket", "alice", None),
    // OBS data traces: their names are not documented.
    (9, "unknown-action", "-", "-", None),
    (10, "unknown-action", "-", "-", None),
    (11, "unknown-action", "-", "-", None),
    (12, "kms:cmk:create", "?carry no region", "alice", None),
    (13, "kms:cmk:crypto", "?carry no region", "bob", None),
    (14, "kms:dek:create", "?carry no region", "alice", Some("service.obs")),
    (15, "kms:dek:crypto", "?carry no region", "alice", Some("service.obs")),
    (16, "kms:dek:crypto", "?carry no region", "bob", Some("service.obs")),
    (17, "kms:dek:create", "?carry no region", "alice", Some("service.evs")),
    (18, "no-principal", "-", "-", None),
    (19, "ecs:cloudServers:createServers", "?carry no region", "alice", None),
    // No region (nor a resource id): the URN cannot be built.
    (20, "ecs:cloudServers:createServers", "?carry no region", "bob", None),
    (21, "evs:volumes:create", "?no URN template", "alice", Some("service.ecs")),
    (22, "ecs:cloudServers:attach", "?carry no region", "alice", None),
    (23, "ecs:cloudServers:stop", "?carry no region", "sts::{A}:assumed-agency:ops-admin-agency/bob-session", None),
    (24, "ecs:cloudServers:deleteServers", "?carry no region", "alice", None),
    (25, "evs:volumes:delete", "?no URN template", "alice", None),
    (26, "unknown-action", "-", "-", None),
    (27, "cbr:vaults:backup", "?no URN template", "alice", None),
    (28, "cce:node:create", "?carry no region", "alice", None),
    (29, "dli:queue:submitJob", "?no URN template", "bob", None),
    // `principal_is_root_user`: the account's root.
    (30, "iam:users:createUser", "iam::{A}:user:carol", "iam::{A}:root", None),
];

#[test]
fn every_sample_trace_maps_as_expected() {
    let samples = samples();
    assert_eq!(samples.len(), EXPECTED.len());
    for (&(line, action, resource, principal, via), trace) in EXPECTED.iter().zip(&samples) {
        let at = format!("{SAMPLES}: line {line}");
        let mapped = match map(trace) {
            Err(e) => {
                assert_eq!(e.class, action, "{at}: {}", e.reason);
                continue;
            }
            Ok(m) => m,
        };
        assert_eq!(mapped.action(), action, "{at}");
        // A URN, or `?reason`: the resource is an unknown of the answer, for that reason.
        match resource.strip_prefix('?') {
            Some(reason) => {
                assert_eq!(mapped.resource(), "", "{at}");
                let why = mapped.resource_unknown.as_deref().unwrap_or_default();
                assert!(why.contains(reason), "{at}: {why}");
            }
            None => {
                assert_eq!(mapped.resource(), resource.replace("{A}", ACCOUNT), "{at}");
                assert_eq!(mapped.resource_unknown, None, "{at}");
            }
        }
        let principal = if principal.contains(':') {
            principal.replace("{A}", ACCOUNT)
        } else {
            user(principal)
        };
        assert_eq!(mapped.request.principal.arn, principal, "{at}");
        assert_eq!(mapped.via.as_deref(), via, "{at}");
        assert_eq!(mapped.hop, usize::from(via.is_some()), "{at}");
        // The trace's own marker agrees: `_forwarded: true` exactly for the forwarded ones.
        assert_eq!(trace["_forwarded"] == true, via.is_some(), "{at}");
        // The source IP is on the direct calls that have one, never on a forwarded hop.
        let contexts = chain_contexts(&mapped.request);
        let ip = contexts[mapped.hop]
            .get("g:sourceip")
            .map(|v| v.values()[0].clone());
        let logged = trace["source_ip"].as_str().filter(|s| !s.is_empty());
        match via {
            Some(service) => {
                assert_eq!(ip, None, "{at}");
                let hop = &contexts[1];
                assert_eq!(hop.get("g:viaservice").unwrap().values(), ["true"], "{at}");
                assert_eq!(hop.get("g:calledvia").unwrap().values(), [service], "{at}");
            }
            None => {
                assert_eq!(ip.as_deref(), logged, "{at}");
                assert!(contexts[0].get("g:viaservice").is_none(), "{at}: R-HW-12");
            }
        }
    }
}

#[test]
fn documentation_examples_map_or_say_why_not() {
    let examples: Value = serde_json::from_str(&read_corpus(DOC_EXAMPLES)).unwrap();
    let results: Vec<_> = examples.as_array().unwrap().iter().map(map).collect();
    let classes: Vec<&str> = results
        .iter()
        .map(|r| r.as_ref().map_or_else(|e| e.class, |m| m.action()))
        .collect();
    assert_eq!(
        classes,
        [
            "unknown-action",
            "unknown-action",
            "unknown-action",
            "evs:volumes:delete"
        ]
    );
    let deleted = results[3].as_ref().unwrap();
    // An old trace: the user's URN from `domain.id` and `name`.
    assert_eq!(
        deleted.request.principal.arn,
        "iam::1f9b9ba51f6b4061bd5c1736b28469f8:user:aaa"
    );
    assert!(results[0]
        .as_ref()
        .unwrap_err()
        .reason
        .contains("VPC deleteEip"));
}

#[test]
fn identity_policies_deny_and_allow() {
    let (report, lines) = output_lines(&[traces()], &guardrails(true, false));
    let find = |record: &str| {
        lines
            .iter()
            .find(|l| l["record"] == record)
            .unwrap_or_else(|| panic!("no line for {record}"))
    };
    // deleteBucketPolicy: the explicit Deny of obs-admin-no-delete.
    let denied = find("00000000-0000-4000-8000-000000000008");
    assert_eq!(denied["decision"], "ExplicitDeny", "{denied}");
    assert_eq!(
        denied["matched"][0]["policy"], "obs-admin-no-delete",
        "{denied}"
    );
    // createBucket: its Allow of obs:*:*.
    assert_eq!(
        find("00000000-0000-4000-8000-000000000007")["decision"],
        "Allow"
    );
    // ECS: neither policy allows it.
    assert_eq!(
        find("00000000-0000-4000-8000-000000000024")["decision"],
        "ImplicitDeny"
    );
    // A forwarded data-key call, allowed by kms-sse-user, reported as hop 1.
    let forwarded = find("00000000-0000-4000-8000-000000000014");
    assert_eq!(
        (forwarded["decision"].as_str(), forwarded["hop"].as_u64()),
        (Some("Allow"), Some(1))
    );
    // With --identity the identity side is not assumed: every decision is compared with the
    // log, and the denied deleteBucketPolicy the log says succeeded is a disagreement.
    assert!(!report.what_if);
    assert!(report
        .disagreements
        .examples
        .iter()
        .any(|e| e.contains("DeleteBucketPolicy")));
    assert_eq!(report.all.explicit_deny, 1);
}

#[test]
fn an_scp_denies_direct_data_key_calls_only() {
    // Line 14 is OBS creating a data key for alice; the same trace without `invoked_by` is
    // alice calling KMS herself.
    let forwarded = samples()[13].clone();
    let mut direct = forwarded.clone();
    direct["user"].as_object_mut().unwrap().remove("invoked_by");
    direct["source_ip"] = "203.0.113.10".into();
    let dir = std::env::temp_dir().join(format!("fastiam-cts-scp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("two.jsonl"), format!("{forwarded}\n{direct}\n")).unwrap();
    let (report, lines) = output_lines(std::slice::from_ref(&dir), &guardrails(false, true));
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(lines.len(), 2);
    assert_eq!(
        (lines[0]["hop"].as_u64(), lines[0]["decision"].as_str()),
        (Some(1), Some("Allow"))
    );
    assert_eq!(lines[1]["hop"], 0);
    assert_eq!(lines[1]["decision"], "ExplicitDeny", "{}", lines[1]);
    assert_eq!(lines[1]["matched"][0]["sid"], "DataKeysOnlyThroughServices");
    // What-if without --identity: the successful direct call the SCP now denies.
    assert!(report.what_if);
    assert_eq!(report.disagreements.count, 1);
    assert_eq!(report.forwarded.allowed, 1);
}

#[test]
fn unmappable_traces_have_classes_and_reasons() {
    let report = replay(
        &[traces()],
        &ReplayPolicies::what_if(&guardrails(true, true)).unwrap(),
        &ReplayOptions::default(),
    );
    let count = |class: &str| report.unmappable.get(class).map_or(0, |e| e.count);
    assert_eq!(count("unknown-action"), 7);
    assert_eq!(count("not-an-iam-action"), 2);
    assert_eq!(count("no-principal"), 1);
    let examples = report.unmappable["no-principal"].examples.join("\n");
    assert!(
        examples.contains("sample-traces.jsonl: line 18: trace_type `SystemAction` with no `user`"),
        "{examples}"
    );
    let examples = report.unmappable["not-an-iam-action"].examples.join("\n");
    assert!(
        examples.contains("CTS trace IAM login: no single documented action"),
        "{examples}"
    );
}

#[test]
fn cloudtrail_and_cts_in_one_directory_and_the_accounting() {
    let dir = std::env::temp_dir().join(format!("fastiam-cts-mixed-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let cloudtrail = corpus(
        "replay/logs/invictus/218007301253_CloudTrail_us-east-1_20230710T1205Z_UljXNp9xLp8nsAGc.json",
    );
    std::fs::copy(&cloudtrail, dir.join("cloudtrail.json")).unwrap();
    std::fs::copy(corpus(SAMPLES), dir.join("cts.jsonl")).unwrap();
    std::fs::copy(corpus(DOC_EXAMPLES), dir.join("cts-doc.json")).unwrap();
    // One JSON Lines file mixing both, and a bad line.
    let ct_record = serde_json::from_str::<Value>(&std::fs::read_to_string(&cloudtrail).unwrap())
        .unwrap()["Records"][0]
        .clone();
    let mixed = format!("{}\n{ct_record}\n{{not json\n", samples()[7]);
    std::fs::write(dir.join("mixed.jsonl"), mixed).unwrap();

    let policies = ReplayPolicies::what_if(&guardrails(true, true)).unwrap();
    let alone = |path: PathBuf| replay(&[path], &policies, &ReplayOptions::default());
    let all = alone(dir.clone());
    let ct = alone(dir.join("cloudtrail.json"));
    let cts = alone(traces());
    let mixed = alone(dir.join("mixed.jsonl"));
    std::fs::remove_dir_all(&dir).unwrap();

    assert_eq!(cts.records_seen(), 34);
    assert_eq!(mixed.records_seen(), 3);
    assert_eq!((mixed.all.total(), mixed.unreadable.count), (2, 1));
    for r in [&all, &ct, &cts, &mixed] {
        // Every record in exactly one count.
        assert_eq!(
            r.records_seen(),
            r.all.total() + r.unmappable_total() + r.unreadable.count,
            "{r:?}"
        );
    }
    assert_eq!(
        all.records_seen(),
        ct.records_seen() + cts.records_seen() + 3
    );
    assert_eq!(all.all.total(), ct.all.total() + cts.all.total() + 2);
    assert_eq!(
        all.unmappable_total(),
        ct.unmappable_total() + cts.unmappable_total()
    );
    // The CloudTrail records are evaluated as before: no CTS refusal among them.
    assert!(ct.all.total() > 0);
    assert!(!ct.unmappable.contains_key("no-principal"));
    // Huawei identity policies deny the AWS calls implicitly; the Huawei ones decide.
    assert_eq!(cts.all.explicit_deny, 1);
    assert!(all.all.allowed >= cts.all.allowed);
}

#[test]
fn the_command_line_replays_cts_traces() {
    let out = fastiam()
        .args(["replay", "--quiet", "--json", "--identity"])
        .arg(corpus("replay/huawei/policies/identity"))
        .arg("--scp")
        .arg(corpus("replay/huawei/policies/scp"))
        .arg(traces())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    let text = summary.to_string();
    assert!(
        text.contains("iam::0f1e2d3c4b5a69788796a5b4c3d2e1f0:user:alice"),
        "{text}"
    );
    assert!(text.contains("service.obs"), "{text}");
    // A policy file with an error is named.
    let bad = std::env::temp_dir().join(format!("fastiam-cts-bad-{}.json", std::process::id()));
    std::fs::write(
        &bad,
        r#"{"Version":"5.0","Statement":[{"Effect":"allow","Action":"*"}]}"#,
    )
    .unwrap();
    let out = fastiam()
        .args(["replay", "--quiet", "--identity"])
        .arg(&bad)
        .arg(traces())
        .output()
        .unwrap();
    std::fs::remove_file(&bad).unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("fastiam-cts-bad") && err.contains("Effect"),
        "{err}"
    );
}

#[test]
fn forwarded_hops_are_decided_like_a_chain() {
    // The forwarded hop's decision is the chain's hop 1, hop 0 needing no permission.
    let m = map(&samples()[14]).unwrap();
    assert!(m.request.hops[0].requires_no_permission);
    let set = fastiam::request::PolicySet {
        identity: policies("replay/huawei/policies/identity", PolicyKind::Identity),
        ..Default::default()
    };
    let chain = fastiam::request::Chain {
        request: m.request.clone(),
        policies: set,
    };
    let decision = fastiam::reference::evaluate_chain(&chain);
    assert_eq!(decision.decision, Decision::Allow);
    assert_eq!(decision.hops.len(), 2);
}

#[test]
fn each_record_is_judged_by_the_guardrails_of_its_cloud() {
    let aws_scp = policies("replay/policies", PolicyKind::Scp);
    let huawei_scp = policies("replay/huawei/policies/scp", PolicyKind::Scp);
    // Both in one level, and each in a level of its own, as `--scp` flags give them.
    let both = Guardrails {
        scp: vec![aws_scp.iter().chain(&huawei_scp).cloned().collect()],
        ..Guardrails::default()
    };
    let two_levels = Guardrails {
        scp: vec![aws_scp.clone(), huawei_scp.clone()],
        exact: true,
        ..Guardrails::default()
    };
    let only = |scp: &[fastiam::policy::Policy], exact: bool| Guardrails {
        scp: vec![scp.to_vec()],
        exact,
        ..Guardrails::default()
    };
    let run = |path: PathBuf, g: &Guardrails| {
        replay(
            &[path],
            &ReplayPolicies::what_if(g).unwrap(),
            &ReplayOptions::default(),
        )
        .to_json()
    };
    let cloudtrail = corpus("replay/logs");
    // The AWS perimeter SCP would deny every Huawei call (its IfExists conditions hold when
    // the `aws:` keys are absent), and the Huawei SCP reads keys no CloudTrail record has:
    // neither applies to the other cloud's records.
    assert_eq!(
        run(traces(), &both),
        run(traces(), &only(&huawei_scp, false))
    );
    assert_eq!(
        run(cloudtrail.clone(), &both),
        run(cloudtrail.clone(), &only(&aws_scp, false))
    );
    // A level with no policy of a record's cloud is no level for it, even with
    // --exact-guardrails (where an empty level would deny everything).
    assert_eq!(
        run(traces(), &two_levels),
        run(traces(), &only(&huawei_scp, true))
    );
    assert_eq!(
        run(cloudtrail.clone(), &two_levels),
        run(cloudtrail, &only(&aws_scp, true))
    );
    let huawei = run(traces(), &both);
    assert_eq!(huawei["all"]["explicit_deny"], 0, "{huawei}");
    assert_eq!(huawei["all"]["depends_on"], 0, "{huawei}");
}

#[test]
fn a_warm_mapper_maps_traces_without_allocating() {
    // After warm-up passes over the samples, one more maps every mappable trace of an IAM user
    // (alice and bob, forwarded and direct calls, every service, alternating) reusing the
    // mapper's buffers. A change of principal kind (user, agency session, root) still
    // allocates the fields `Principal::parse_into` drops (its role URN, its name).
    let samples = samples();
    let actions = ActionMap::shared();
    let options = MapOptions::default();
    let mut mapper = fastiam::replay::RecordMapper::new();
    let records: Vec<(&Value, Record)> = samples.iter().map(|t| (t, from_serde(t))).collect();
    let (serde, users): (Vec<&Value>, Vec<&Record>) = records
        .iter()
        .filter(|(t, _)| {
            t["user"]["type"] == "User" && t["user"]["principal_is_root_user"] == "false"
        })
        .filter(|(_, r)| mapper.map(r, &"warm", actions, &options).is_ok())
        .map(|(t, r)| (*t, r))
        .unzip();
    assert_eq!(users.len(), 20);
    assert!(serde.iter().any(|t| t["_forwarded"] == true));
    // Pooled buffers rotate (the unknown-resource reasons differ in length): a few passes
    // bring every one to the capacity it needs.
    for _ in 0..4 {
        for t in &users {
            mapper.map(t, &"warm", actions, &options).unwrap();
        }
    }
    let before = crate::allocations::allocations();
    for t in &users {
        mapper.map(t, &"hot", actions, &options).unwrap();
    }
    assert_eq!(crate::allocations::allocations() - before, 0);
}

#[test]
fn a_session_policy_limits_agency_sessions_only() {
    let parse = |text: &str, kind| {
        fastiam::policy::parse_policy(text, "inline", &ParseOptions::new(kind)).unwrap()
    };
    let everything = r#"{"Version":"1.1","Statement":[{"Effect":"Allow","Action":["*:*:*"]}]}"#;
    let stop_only =
        r#"{"Version":"5.0","Statement":[{"Effect":"Allow","Action":["ecs:cloudServers:stop"]}]}"#;
    let guardrails = Guardrails {
        identity: vec![parse(everything, PolicyKind::Identity)],
        session: vec![parse(stop_only, PolicyKind::Session)],
        ..Guardrails::default()
    };
    let (_, lines) = output_lines(&[corpus(SAMPLES)], &guardrails);
    let decision = |record: &str| {
        let line = lines.iter().find(|l| l["record"] == record).unwrap();
        line["decision"].as_str().unwrap().to_string()
    };
    // bob-session (an agency session): stopServer within the session policy, createCredential not.
    assert_eq!(decision("00000000-0000-4000-8000-000000000023"), "Allow");
    assert_eq!(
        decision("00000000-0000-4000-8000-000000000005"),
        "ImplicitDeny"
    );
    // Users are not sessions: everything their identity policy allows.
    assert_eq!(decision("00000000-0000-4000-8000-000000000006"), "Allow");
    assert_eq!(decision("00000000-0000-4000-8000-000000000014"), "Allow");
}

#[test]
fn a_region_given_builds_the_urns_that_name_one() {
    let options = MapOptions {
        extra_context: vec![("g:requestedregion".into(), "eu-de".into())],
        ..MapOptions::default()
    };
    let samples = samples();
    let urn = |line: usize| {
        let m = map_record(&samples[line - 1], "t", ActionMap::shared(), &options).unwrap();
        assert_eq!(m.resource_unknown, None, "line {line}");
        m.resource().to_string()
    };
    let key = format!("kms:eu-de:{ACCOUNT}:KeyId:0d0e0f10-1112-4314-9516-171819202122");
    assert_eq!(urn(14), key);
    assert_eq!(
        urn(23),
        format!("ecs:eu-de:{ACCOUNT}:cloudservers:42d39b4a-19b7-4ee2-b01b-000000000001")
    );
    assert_eq!(urn(28), format!("cce:eu-de:{ACCOUNT}:node:node-0001"));
}
