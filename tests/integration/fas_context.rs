//! `derive_fas_context` against the tables of R-FAS-4 (AWS) and R-HW-13 (Huawei).

use fastiam::policy::Dialect;
use fastiam::request::{
    derive_fas_context, initial_context, Context, ContextValue, FasOptions, Principal,
};

fn single(v: &str) -> Option<ContextValue> {
    Some(ContextValue::Single(v.to_string()))
}

fn multi(vs: &[&str]) -> Option<ContextValue> {
    Some(ContextValue::Multi(
        vs.iter().map(|s| s.to_string()).collect(),
    ))
}

fn aws_origin() -> Context {
    let p = Principal::from_arn("arn:aws:iam::111122223333:user/alice").unwrap();
    let mut given = Context::new();
    for (k, v) in [
        ("aws:SourceVpc", "vpc-1"),
        ("aws:SourceVpce", "vpce-1"),
        ("aws:VpcSourceIp", "10.0.0.5"),
        ("aws:VpceOrgID", "o-1"),
        ("aws:SourceIp", "203.0.113.9"),
        ("aws:PrincipalTag/Team", "red"),
        ("aws:RequestTag/env", "prod"),
        ("aws:ResourceTag/owner", "bob"),
        ("s3:prefix", "home/"),
        ("aws:CurrentTime", "2026-11-22T10:30:00Z"),
        ("aws:SecureTransport", "false"),
        (
            "ec2:SourceInstanceArn",
            "arn:aws:ec2:us-east-1:111122223333:instance/i-1",
        ),
        ("accounts.google.com:sub", "1234"),
    ] {
        given.insert(k, ContextValue::Single(v.into())).unwrap();
    }
    initial_context(&given, &p, Dialect::Aws)
}

/// R-FAS-4, row by row: T-FAS-1 and T-FAS-2 in one walk.
#[test]
fn aws_hops_follow_the_r_fas_4_table() {
    let hop0 = aws_origin();
    assert_eq!(
        hop0.get("aws:viaawsservice"),
        single("false").as_ref(),
        "always present at hop 0"
    );
    assert_eq!(
        hop0.get("aws:username"),
        single("alice").as_ref(),
        "R-CTX-6"
    );
    assert_eq!(hop0.get("aws:principaltype"), single("User").as_ref());
    assert!(!hop0.contains("aws:multifactorauthpresent"));

    let options = FasOptions::default();
    let hop1 = derive_fas_context(
        &hop0,
        "cloudformation.amazonaws.com",
        Dialect::Aws,
        &options,
    );
    for dropped in [
        "aws:sourcevpc",
        "aws:sourcevpce",
        "aws:vpcsourceip",
        "aws:vpceorgid",
        "aws:requesttag/env",
        "aws:resourcetag/owner",
        "s3:prefix",
    ] {
        assert!(
            !hop1.contains(dropped),
            "{dropped} must not reach a forwarded hop"
        );
    }
    for kept in [
        "aws:sourceip",
        "aws:principaltag/team",
        "aws:username",
        "aws:principalarn",
        "aws:currenttime",
        "ec2:sourceinstancearn",
        "accounts.google.com:sub",
    ] {
        assert_eq!(
            hop1.get(kept),
            hop0.get(kept),
            "{kept} is carried unchanged"
        );
    }
    assert_eq!(hop1.get("aws:viaawsservice"), single("true").as_ref());
    assert_eq!(
        hop1.get("aws:calledvia"),
        multi(&["cloudformation.amazonaws.com"]).as_ref()
    );
    assert_eq!(
        hop1.get("aws:calledviafirst"),
        single("cloudformation.amazonaws.com").as_ref()
    );
    assert_eq!(
        hop1.get("aws:multifactorauthpresent"),
        single("false").as_ref(),
        "T-FAS-5"
    );
    assert_eq!(hop1.get("aws:securetransport"), single("true").as_ref());
    assert_eq!(
        hop1.get("aws:useragent"),
        single("cloudformation.amazonaws.com").as_ref()
    );

    let hop2 = derive_fas_context(&hop1, "dynamodb.amazonaws.com", Dialect::Aws, &options);
    assert_eq!(
        hop2.get("aws:calledvia"),
        multi(&["cloudformation.amazonaws.com", "dynamodb.amazonaws.com"]).as_ref()
    );
    assert_eq!(
        hop2.get("aws:calledviafirst"),
        single("cloudformation.amazonaws.com").as_ref()
    );
    assert_eq!(
        hop2.get("aws:calledvialast"),
        single("dynamodb.amazonaws.com").as_ref()
    );

    // S3 is not in the registry: no CalledVia keys at all (R-FAS-6).
    let via_s3 = derive_fas_context(&hop0, "s3.amazonaws.com", Dialect::Aws, &options);
    for absent in ["aws:calledvia", "aws:calledviafirst", "aws:calledvialast"] {
        assert!(!via_s3.contains(absent), "{absent}");
    }
    assert_eq!(
        via_s3.get("aws:viaawsservice"),
        single("true").as_ref(),
        "set on every FAS hop"
    );

    // R-FAS-5: the option drops the origin IP.
    let no_ip = FasOptions {
        preserve_source_ip: false,
        ..FasOptions::default()
    };
    assert!(
        !derive_fas_context(&hop0, "s3.amazonaws.com", Dialect::Aws, &no_ip)
            .contains("aws:sourceip")
    );
    // A custom registry replaces the default one.
    let custom = FasOptions {
        called_via_services: vec!["s3.amazonaws.com".into()],
        ..FasOptions::default()
    };
    assert_eq!(
        derive_fas_context(&hop0, "s3.amazonaws.com", Dialect::Aws, &custom).get("aws:calledvia"),
        multi(&["s3.amazonaws.com"]).as_ref()
    );
}

/// R-HW-12, R-HW-13: no `g:ViaService` on direct calls; every network key dropped,
/// `g:SourceIp` included; every FAS service appends.
#[test]
fn huawei_hops_follow_r_hw_13() {
    let p = Principal::from_arn("iam::0a1b2c3d:user:alice").unwrap();
    let mut given = Context::new();
    for (k, v) in [
        ("g:SourceIp", "203.0.113.9"),
        ("g:SourceVpc", "vpc-1"),
        ("g:SourceVpce", "vpce-1"),
        ("g:VpcSourceIp", "10.0.0.1"),
        ("g:RequestTag/owner", "alice"),
        ("g:MFAPresent", "true"),
        ("obs:prefix", "x"),
    ] {
        given.insert(k, ContextValue::Single(v.into())).unwrap();
    }
    let hop0 = initial_context(&given, &p, Dialect::Huawei);
    assert!(!hop0.contains("g:viaservice"), "R-HW-12");
    assert_eq!(hop0.get("g:username"), single("alice").as_ref());
    let hop1 = derive_fas_context(
        &hop0,
        "service.obs",
        Dialect::Huawei,
        &FasOptions::default(),
    );
    for dropped in [
        "g:sourceip",
        "g:sourcevpc",
        "g:sourcevpce",
        "g:vpcsourceip",
        "g:requesttag/owner",
        "obs:prefix",
    ] {
        assert!(!hop1.contains(dropped), "{dropped}");
    }
    assert_eq!(hop1.get("g:mfapresent"), single("true").as_ref());
    assert_eq!(hop1.get("g:viaservice"), single("true").as_ref());
    assert_eq!(hop1.get("g:calledvia"), multi(&["service.obs"]).as_ref());
    assert_eq!(hop1.get("g:calledvialast"), single("service.obs").as_ref());
}

/// R-CTX-2: keys that collide after canonicalisation are refused; R-CTX-4: an empty list
/// is absent.
#[test]
fn context_keys_are_canonical_and_collisions_refused() {
    let mut ctx = Context::new();
    ctx.insert(
        "aws:PrincipalTag/CostCenter",
        ContextValue::Single("1".into()),
    )
    .unwrap();
    assert!(ctx
        .insert(
            "AWS:principaltag/costcenter",
            ContextValue::Single("2".into())
        )
        .is_err());
    ctx.insert("aws:TagKeys", ContextValue::Multi(vec![]))
        .unwrap();
    assert!(!ctx.contains("aws:tagkeys"));
}

/// `chain_contexts` (the library's derivation, handed to engines with no chain model)
/// equals the per-hop contexts the workload generator writes with `--flat` — an
/// independent port of the shared script's R-FAS-4 reading — on every hop of 2,000
/// standard chains, also after a hop that a chain evaluator would stop at.
#[test]
fn chain_contexts_equal_the_workload_flat_hops() {
    use fastiam::request::chain_contexts;
    let prepared = fastiam::benchmark::standard(2_000, 42).unwrap();
    let mut flat: Vec<Context> = Vec::new();
    fastiam::workload::generate_each_flat(
        2_000,
        42,
        false,
        |_| {},
        |line| {
            let hop: serde_json::Value = serde_json::from_str(line).unwrap();
            let mut ctx = Context::new();
            for (k, v) in hop["context"].as_object().unwrap() {
                let value = match v {
                    serde_json::Value::Array(vs) => ContextValue::Multi(
                        vs.iter().map(|x| x.as_str().unwrap().to_string()).collect(),
                    ),
                    other => ContextValue::Single(other.as_str().unwrap().to_string()),
                };
                ctx.insert(k, value).unwrap();
            }
            flat.push(ctx);
        },
    );
    let derived: Vec<Context> = prepared.requests.iter().flat_map(chain_contexts).collect();
    assert_eq!(derived.len(), prepared.hops);
    assert_eq!(derived.len(), flat.len());
    for (i, (d, f)) in derived.iter().zip(&flat).enumerate() {
        assert_eq!(d, f, "hop {i}");
    }
}
