//! Unit tests of the CTS mapper: shapes of `user`, forwarded and delegated calls, outcomes,
//! dates, and the refusals.

use serde_json::{json, Value};

use super::*;
use crate::replay::actions::ActionMap;
use crate::replay::json::from_serde;
use crate::replay::record::map_record;

const ACCOUNT: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";

fn map(trace: &Value) -> Result<MappedRecord, Unmappable> {
    map_record(
        trace,
        "t.jsonl: line 1",
        ActionMap::shared(),
        &MapOptions::default(),
    )
}

fn alice(extra: Value) -> Value {
    let mut user = json!({"type": "User", "name": "alice", "id": "a11ce",
        "principal_urn": format!("iam::{ACCOUNT}:user:alice"),
        "domain": {"id": ACCOUNT, "name": "example-domain"}});
    for (k, v) in extra.as_object().unwrap() {
        user[k] = v.clone();
    }
    user
}

fn trace(service: &str, name: &str, user: Value) -> Value {
    json!({"service_type": service, "trace_name": name, "user": user, "time": 1767225601000u64,
           "resource_id": "42d39b4a", "resource_name": "web-01", "source_ip": "203.0.113.10",
           "trace_rating": "normal", "code": "200", "trace_id": "t-1"})
}

fn single<'a>(ctx: &'a Context, key: &str) -> Option<&'a str> {
    ctx.get(key).map(|v| v.values()[0].as_str())
}

#[test]
fn a_direct_call_is_hop_zero_with_the_source_ip_and_time() {
    let m = map(&trace("ECS", "stopServer", alice(json!({})))).unwrap();
    assert_eq!(m.request.dialect, Dialect::Huawei);
    assert_eq!((m.hop, m.via.as_deref()), (0, None));
    assert_eq!(m.action(), "ecs:cloudServers:stop");
    assert_eq!(m.resource(), "");
    assert_eq!(
        m.request.principal.arn,
        format!("iam::{ACCOUNT}:user:alice")
    );
    assert_eq!(
        m.identity_arn.as_deref(),
        Some(m.request.principal.arn.as_str())
    );
    let ctx = &m.request.context;
    assert_eq!(single(ctx, "g:sourceip"), Some("203.0.113.10"));
    assert_eq!(single(ctx, "g:currenttime"), Some("2026-01-01T00:00:01Z"));
    assert_eq!(single(ctx, "g:userid"), Some("a11ce"));
    assert!(m.knows("g:sourceip") && m.knows("g:viaservice") && !m.knows("g:sourcevpc"));
    assert_eq!(
        (m.log_outcome, m.error_code.as_deref()),
        (LogOutcome::Succeeded, None)
    );
    assert_eq!(m.id, "t-1");
}

#[test]
fn a_forwarded_call_is_hop_one_without_network_keys() {
    let user = alice(json!({"invoked_by": ["service.obs"]}));
    let mut t = trace("KMS", "decryptDatakey", user);
    t["source_ip"] = json!("");
    let m = map(&t).unwrap();
    assert_eq!((m.hop, m.via.as_deref()), (1, Some("service.obs")));
    assert_eq!(m.request.hops[0].action, "obs:*:*");
    assert!(m.request.hops[0].requires_no_permission);
    assert_eq!(m.action(), "kms:dek:crypto");
    assert_eq!(m.request.hops[1].via.as_deref(), Some("service.obs"));
    assert_eq!(m.resource(), "");
    assert!(m.request.context.get("g:sourceip").is_none());
    assert!(FORWARDED_ABSENT.iter().all(|k| m.knows(k)));
    // The call's time is the forwarded hop's own key.
    assert_eq!(
        single(&m.request.hops[1].context, "g:currenttime"),
        Some("2026-01-01T00:00:01Z")
    );
}

#[test]
fn console_and_agency_service_calls_are_direct() {
    let console = alice(json!({"invoked_by": ["service.console"]}));
    assert_eq!(map(&trace("ECS", "stopServer", console)).unwrap().hop, 0);
    // A cloud-service agency: the service acting with the agency it was given.
    let agency = json!({"type": "AssumedAgency", "domain": {"id": ACCOUNT},
        "principal_urn": format!("sts::{ACCOUNT}:assumed-agency:ml-agency/job-7"),
        "invoked_by": ["service.modelarts"],
        "session_context": {"attributes": {"created_at": "1767225000000", "mfa_authenticated": "true"}}});
    let m = map(&trace("ECS", "stopServer", agency)).unwrap();
    assert_eq!((m.hop, m.via.as_deref()), (0, None));
    assert_eq!(
        m.identity_arn.as_deref(),
        Some(format!("iam::{ACCOUNT}:agency:ml-agency").as_str())
    );
    let ctx = &m.request.context;
    assert_eq!(single(ctx, "g:mfapresent"), Some("true"));
    assert_eq!(
        single(ctx, "g:tokenissuetime"),
        Some("2025-12-31T23:50:00Z")
    );
}

#[test]
fn old_traces_without_a_urn() {
    // `{name, id, domain}` only: an IAM user's URN from the domain and the name.
    let user = json!({"name": "xxx", "id": "1", "domain": {"name": "d", "id": "ded6"}});
    let mut t = trace("EVS", "deleteVolume", user);
    t["time"] = json!("2016/12/08 11:24:04 GMT+08:00");
    let m = map(&t).unwrap();
    assert_eq!(m.request.principal.arn, "iam::ded6:user:xxx");
    assert_eq!(m.resource(), "");
    let why = m.resource_unknown.as_deref().unwrap();
    assert!(
        why.contains("EVS deleteVolume (-): no URN template"),
        "{why}"
    );
    assert!(!m.knows("g:currenttime"), "a date string is not read");
    // `<domain>/<agency>`: no URN can be built.
    let agency = json!({"name": "aaa/op_service", "domain": {"id": "1f9b"}});
    let e = map(&trace("ECS", "stopServer", agency)).unwrap_err();
    assert_eq!(e.class, "unknown-principal");
    assert!(e.reason.contains("aaa/op_service"), "{}", e.reason);
}

#[test]
fn outcomes_from_code_and_rating() {
    let cases = [
        (json!("200"), "normal", LogOutcome::Succeeded, None),
        (json!(200), "warning", LogOutcome::OtherError, Some("200")),
        (json!("403"), "warning", LogOutcome::Denied, Some("403")),
        (json!(401), "warning", LogOutcome::Denied, Some("401")),
        (
            json!("500"),
            "incident",
            LogOutcome::OtherError,
            Some("500"),
        ),
        (
            Value::Null,
            "warning",
            LogOutcome::OtherError,
            Some("trace_rating warning"),
        ),
    ];
    for (code, rating, outcome, error) in cases {
        let mut t = trace("ECS", "stopServer", alice(json!({})));
        t["code"] = code.clone();
        t["trace_rating"] = json!(rating);
        let m = map(&t).unwrap();
        assert_eq!(
            (m.log_outcome, m.error_code.as_deref()),
            (outcome, error),
            "{code} {rating}"
        );
    }
}

#[test]
fn refusals_have_a_class_and_a_reason() {
    let cases = [
        (
            trace("ECS", "noSuchTrace", alice(json!({}))),
            "unknown-action",
            "ECS noSuchTrace",
        ),
        (
            trace("IAM", "login", alice(json!({}))),
            "not-an-iam-action",
            "no single documented action",
        ),
        (
            trace("KMS", "decryptDatakey", Value::Null),
            "no-principal",
            "cannot be attributed",
        ),
        (
            trace("KMS", "decryptDatakey", json!([])),
            "malformed",
            "`user` is not an object",
        ),
        (
            trace(
                "ECS",
                "stopServer",
                json!({"type": "ExternalUser",
                "principal_urn": "sts::1:external-user:idp/s"}),
            ),
            "unknown-principal",
            "not a Huawei principal URN",
        ),
        (json!({"traces": [], "meta_data": {}}), "cts-listing", "jq"),
    ];
    for (t, class, reason) in cases {
        let e = map(&t).unwrap_err();
        assert_eq!(e.class, class, "{t}");
        assert!(e.reason.contains(reason), "{}", e.reason);
    }
}

#[test]
fn told_apart_from_cloudtrail_by_content() {
    let t = trace("ECS", "stopServer", alice(json!({})));
    assert!(trace_of(&from_serde(&t)).is_some());
    assert!(trace_of(&from_serde(&json!({"_source": "doc", "record": t}))).is_some());
    let mut both = t.clone();
    both["eventSource"] = json!("ec2.amazonaws.com");
    assert!(trace_of(&from_serde(&both)).is_none());
    assert!(trace_of(&from_serde(&json!({"service_type": "ECS"}))).is_none());
    assert!(trace_of(&from_serde(&json!([t]))).is_none());
}

#[test]
fn a_mapper_alternates_between_cloudtrail_and_cts() {
    let mut mapper = crate::replay::RecordMapper::new();
    let actions = ActionMap::shared();
    let options = MapOptions::default();
    let forwarded = trace(
        "KMS",
        "decryptDatakey",
        alice(json!({"invoked_by": ["service.obs"]})),
    );
    let ct = json!({"eventSource": "s3.amazonaws.com", "eventName": "ListBuckets",
        "eventTime": "2023-07-10T11:42:00Z", "userIdentity": {"type": "IAMUser",
        "arn": "arn:aws:iam::111122223333:user/bob", "accountId": "111122223333"}});
    for _ in 0..2 {
        let m = mapper
            .map(&from_serde(&forwarded), &"a", actions, &options)
            .unwrap();
        assert_eq!(
            (m.request.dialect, m.hop, m.request.hops.len()),
            (Dialect::Huawei, 1, 2)
        );
        let m = mapper
            .map(&from_serde(&ct), &"b", actions, &options)
            .unwrap();
        assert_eq!(
            (m.request.dialect, m.hop, m.action()),
            (Dialect::Aws, 0, "s3:ListAllMyBuckets")
        );
    }
}

#[test]
fn region_from_the_context_option() {
    let options = MapOptions {
        extra_context: vec![("g:requestedregion".into(), "eu-de".into())],
        ..MapOptions::default()
    };
    let t = trace("ECS", "stopServer", alice(json!({})));
    let m = map_record(&t, "p", ActionMap::shared(), &options).unwrap();
    assert_eq!(
        m.resource(),
        format!("ecs:eu-de:{ACCOUNT}:cloudservers:42d39b4a")
    );
    assert_eq!(
        single(&m.request.context, "g:requestedregion"),
        Some("eu-de")
    );
    assert!(m.knows("g:requestedregion"));
}

#[test]
fn iso_dates() {
    let mut s = String::new();
    for (ms, want) in [
        (0, "1970-01-01T00:00:00Z"),
        (951_782_400_000, "2000-02-29T00:00:00Z"),
        (1_767_225_601_999, "2026-01-01T00:00:01Z"),
        (253_402_300_799_999, "9999-12-31T23:59:59Z"),
    ] {
        s.clear();
        assert!(write_iso_date(ms, &mut s));
        assert_eq!(s, want);
    }
    assert!(!write_iso_date(-1, &mut s));
    assert!(!write_iso_date(253_402_300_800_000, &mut s));
}

#[test]
fn the_root_user_is_the_accounts_root() {
    let root = alice(
        json!({"principal_is_root_user": "true", "name": "root-admin",
        "principal_urn": format!("iam::{ACCOUNT}:user:root-admin")}),
    );
    let m = map(&trace("IAM", "createUser", root)).unwrap();
    assert_eq!(m.request.principal.arn, format!("iam::{ACCOUNT}:root"));
    assert_eq!(m.request.principal.kind, PrincipalKind::Root);
    assert_eq!(
        single(&m.request.context, "g:principalisrootuser"),
        Some("true")
    );
    // `false` (the usual value) leaves the user a user.
    let user = alice(json!({"principal_is_root_user": "false"}));
    let m = map(&trace("IAM", "createUser", user)).unwrap();
    assert_eq!(m.request.principal.kind, PrincipalKind::User);
}
