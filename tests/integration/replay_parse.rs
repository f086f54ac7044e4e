//! The replay parses records with sonic-rs (`src/replay/json.rs`); it used to read
//! serde_json's tree. Every bundled record, and records built to tell the two apart
//! (duplicate keys, key order, escapes, non-ASCII, numbers, deep nesting), maps exactly as
//! serde_json's reading of the same bytes does: the readers' value against serde_json's,
//! each through the mapper (`map_record` takes a serde_json value as it stands).

use std::io::Read as _;
use std::path::Path;

use fastiam::replay::json::{self, Record};
use fastiam::replay::{map_record, source, ActionMap, MapOptions, Plan, RecordMapper};
use serde_json::Value;

use crate::util::corpus;

/// How the mapper answers for `record`, as text (requests and reasons compared whole).
fn mapped(mapper: &mut RecordMapper, record: &Record) -> String {
    let r = mapper.map(record, &"x", ActionMap::shared(), &MapOptions::default());
    format!("{:?}", r.map(|m| m.clone()))
}

/// The same for serde_json's reading of a record.
fn mapped_serde(record: &Value) -> String {
    let r = map_record(record, "x", ActionMap::shared(), &MapOptions::default());
    format!("{:?}", r.as_ref())
}

/// serde_json's records of one file: its `Records`, its elements, itself, or its lines.
fn serde_records(path: &Path) -> Vec<Value> {
    let mut bytes = std::fs::read(path).unwrap();
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut inflated = Vec::new();
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_end(&mut inflated)
            .unwrap();
        bytes = inflated;
    }
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Array(records)) => records,
        Ok(Value::Object(mut o)) => match o.remove("Records") {
            Some(Value::Array(records)) => records,
            Some(other) => panic!("{}: Records is {other}", path.display()),
            None => vec![Value::Object(o)],
        },
        Ok(other) => vec![other],
        Err(_) => bytes
            .split(|b| *b == b'\n')
            .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
            .map(|l| serde_json::from_slice(l).unwrap())
            .collect(),
    }
}

#[test]
fn every_bundled_record_maps_as_serde_json_read_it() {
    let roots = [
        corpus("replay/logs"),
        corpus("replay/records"),
        corpus("replay/huawei/traces"),
    ];
    let plan = Plan::new(&roots);
    assert!(plan.errors.is_empty(), "{:?}", plan.errors);
    let mut mapper = RecordMapper::new();
    let (mut records, mut mapped_ok, mut traces) = (0, 0, 0);
    for unit in &plan.units {
        let mut read = Vec::new();
        let r = source::read_unit(unit, &mut |at, record| {
            read.push((at.to_string(), record.unwrap()));
            true
        });
        assert!(r.unwrap());
        let expected = serde_records(unit.path());
        assert_eq!(read.len(), expected.len(), "{}", unit.path().display());
        for ((at, sonic), serde) in read.iter().zip(&expected) {
            let got = mapped(&mut mapper, sonic);
            assert_eq!(got, mapped_serde(serde), "{at}");
            records += 1;
            mapped_ok += usize::from(got.starts_with("Ok("));
            traces += usize::from(fastiam::replay::cts::trace_of(sonic).is_some());
        }
    }
    // Every source was read: the CloudTrail logs and records, and the CTS traces.
    assert!(records > 300, "{records}");
    assert!(mapped_ok > 200, "{mapped_ok}");
    assert!(traces > 20, "{traces}");
}

/// A CloudTrail record with `extra` fields spliced in first (and `user` for its identity).
fn cloudtrail(extra: &str, identity_extra: &str) -> String {
    format!(
        r#"{{{extra}"eventVersion":"1.08","eventSource":"s3.amazonaws.com","eventName":"GetObject",
        "awsRegion":"us-east-1","sourceIPAddress":"203.0.113.7","eventTime":"2026-01-01T00:00:00Z",
        "userIdentity":{{{identity_extra}"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/alice",
        "accountId":"111122223333","userName":"alice"}},
        "requestParameters":{{"bucketName":"b","key":"k"}}}}"#
    )
}

#[test]
fn records_that_tell_the_parsers_apart_map_as_serde_json_read_them() {
    let trace = |user: &str, extra: &str| {
        format!(
            r#"{{{extra}"service_type":"KMS","trace_name":"createDataKey","time":1767225613000,
            "resource_id":"0d0e","source_ip":"","code":"200","trace_rating":"normal",
            "user":{{{user}"type":"User","principal_urn":"iam::0a1b:user:alice",
            "domain":{{"id":"0a1b","name":"d"}},"invoked_by":["service.obs"]}}}}"#
        )
    };
    let deep = |n: usize| format!("{}1{}", "[".repeat(n), "]".repeat(n));
    let cases = [
        // Duplicate keys: serde_json kept the last value, at the top and inside.
        cloudtrail(r#""eventName":"PutObject","#, ""),
        cloudtrail(r#""awsRegion":"eu-west-1","userIdentity":{"type":"Root"},"#, ""),
        cloudtrail("", r#""arn":"arn:aws:iam::111122223333:user/bob","#),
        cloudtrail(
            r#""resources":[{"ARN":"arn:aws:s3:::first/x","ARN":"arn:aws:s3:::b/k"}],"#,
            r#""sessionContext":{"attributes":{"mfaAuthenticated":"false"},"attributes":{"mfaAuthenticated":"true"}},"#,
        ),
        cloudtrail(
            r#""requestParameters":{"key":"first","bucketName":"b1","bucketName":"b2","key":"k2","BucketName":"B"},"#,
            "",
        )
        .replace(r#""requestParameters":{"bucketName":"b","key":"k"}"#, r#""x":1"#),
        cloudtrail(
            r#""requestParameters":{"BucketName":"B","bucketName":"b","key":"k"},"#,
            "",
        )
        .replace(r#""requestParameters":{"bucketName":"b","key":"k"}"#, r#""x":1"#),
        // Escapes, non-ASCII and numbers where strings are expected.
        cloudtrail(
            r#""errorCode":"AccessDenied","errorMessage":"not authorized to perform: s3:GetObject on resource: arn:aws:s3:::b\/caf\u00e9\"x\" é","#,
            "",
        ),
        cloudtrail(r#""eventVersion":1.08,"vpcEndpointId":"vpce-\u0031","#, ""),
        cloudtrail(r#""sourceIPAddress":7,"#, r#""sessionContext":{"attributes":{"mfaAuthenticated":"true","creationDate":"2025-12-31T23:00:00Z"}},"#),
        // CTS: `name` and `user_name` in either order, duplicated; numbers as codes.
        trace(r#""user_name":"first","name":"second","#, ""),
        trace(r#""name":"n","user_name":"u","name":7,"#, ""),
        trace(r#""domain":{"id":"first","name":"d","id":"0a1b"},"#, ""),
        trace("", r#""code":403,"time":"1767225613000","#),
        trace("", r#""code":200.0,"time":1.5e12,"#),
        trace("", r#""user":null,"#).replace(r#""user":{"type""#, r#""ignored":{"type""#),
        // Nesting: deep but within both parsers' limits.
        cloudtrail(&format!(r#""additionalEventData":{},"#, deep(100)), ""),
    ];
    let mut mapper = RecordMapper::new();
    for case in &cases {
        let serde: Value = serde_json::from_str(case).unwrap_or_else(|e| panic!("{e}: {case}"));
        let sonic = json::parse(case.as_bytes()).unwrap();
        assert_eq!(mapped(&mut mapper, &sonic), mapped_serde(&serde), "{case}");
    }
    // The duplicate keys were read as serde_json read them: the last value.
    let first = json::parse(cases[0].as_bytes()).unwrap();
    let m = mapper
        .map(&first, &"x", ActionMap::shared(), &MapOptions::default())
        .unwrap();
    assert_eq!(m.action(), "s3:GetObject");
}

#[test]
fn too_deep_a_record_is_an_error_not_a_crash() {
    // sonic-rs reads 255 levels (serde_json stopped at 128); past that, an error.
    let nest = |n: usize| format!(r#"{{"a":{}1{}}}"#, "[".repeat(n), "]".repeat(n));
    assert!(json::parse(nest(200).as_bytes()).is_ok());
    let e = json::parse(nest(300).as_bytes()).unwrap_err();
    assert!(e.contains("recursion limit exceeded"), "{e}");
    let e = json::parse(nest(100_000).as_bytes()).unwrap_err();
    assert!(e.contains("recursion limit exceeded"), "{e}");
}
