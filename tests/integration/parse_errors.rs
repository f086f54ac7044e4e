//! Bad policies get a precise error: the source, the JSON pointer, line:column, and what
//! was expected (with the rule). Data-driven: (document, pointer, line, column, text the
//! message must contain).

use fastiam::policy::{parse_policy, Mode, ParseOptions, PolicyKind};

struct Bad {
    doc: &'static str,
    kind: PolicyKind,
    pointer: &'static str,
    line: u32,
    column: u32,
    says: &'static str,
}

const fn bad(
    doc: &'static str,
    pointer: &'static str,
    line: u32,
    column: u32,
    says: &'static str,
) -> Bad {
    Bad {
        doc,
        kind: PolicyKind::Identity,
        pointer,
        line,
        column,
        says,
    }
}

const BAD: &[Bad] = &[
    bad("{\"Statement\": [", "", 1, 16, "invalid JSON"),
    bad("[]", "", 1, 1, "a policy document"),
    bad("{\"Version\": \"2012-10-17\"}", "", 1, 1, "missing required member `Statement`"),
    bad("{\"Version\": \"2012-10-18\", \"Statement\": []}", "/Version", 1, 13, "R-GRAM-2"),
    bad(
        "{\"Statement\": {\"Effect\": \"allow\", \"Action\": \"*\", \"Resource\": \"*\"}}",
        "/Statement/Effect",
        1,
        26,
        "`Allow` or `Deny`",
    ),
    bad(
        "{\"Statement\": [\n  {\"Effect\": \"Allow\",\n   \"Action\": \"s3:*\", \"NotAction\": \"iam:*\", \"Resource\": \"*\"}]}",
        "/Statement/0/NotAction",
        3,
        22,
        "`Action` and `NotAction` cannot both be present",
    ),
    bad(
        "{\"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"s3:*\"}]}",
        "/Statement/0",
        1,
        16,
        "missing required member `Resource` or `NotResource`",
    ),
    bad(
        "{\"Statement\": [{\"Effect\": \"Allow\", \"Effect\": \"Deny\", \"Action\": \"*\", \"Resource\": \"*\"}]}",
        "/Statement/0/Effect",
        1,
        36,
        "duplicate member `Effect`",
    ),
    bad(
        "{\"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"*\", \"Resource\": \"*\", \"Condition\": {\"StringEqualz\": {\"a:b\": \"c\"}}}]}",
        "/Statement/0/Condition/StringEqualz",
        1,
        82,
        "invalid condition operator `StringEqualz`",
    ),
    bad(
        "{\"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"*\", \"Resource\": \"*\", \"Condition\": {\"NumericLessThan\": {\"s3:max-keys\": \"ten\"}}}]}",
        "/Statement/0/Condition/NumericLessThan/s3:max-keys",
        1,
        117,
        "invalid number `ten` (R-OPN-2)",
    ),
    bad(
        "{\"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"*\", \"Resource\": \"*\", \"Condition\": {\"IpAddress\": {\"aws:SourceIp\": [\"10.0.0.0/8\", \"10.0.0.01\"]}}}]}",
        "/Statement/0/Condition/IpAddress/aws:SourceIp/1",
        1,
        127,
        "R-OPI-2",
    ),
    bad(
        "{\"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"s3\", \"Resource\": \"*\"}]}",
        "/Statement/0/Action",
        1,
        46,
        "R-ACT-4",
    ),
    bad(
        "{\"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"*\", \"Resource\": \"arn:aws:s3\"}]}",
        "/Statement/0/Resource",
        1,
        63,
        "R-RES-3",
    ),
    bad(
        "{\"Statement\": [{\"Effect\": \"Allow\", \"Action\": [\"s3:*\", 7], \"Resource\": \"*\"}]}",
        "/Statement/0/Action/1",
        1,
        55,
        "expected a string (R-JSON-3), found number `7`",
    ),
    bad(
        "{\"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"*\", \"Resource\": \"*\", \"Condition\": {\"StringEquals\": {\"a:b\": null}}}]}",
        "/Statement/0/Condition/StringEquals/a:b",
        1,
        106,
        "found `null`",
    ),
    bad(
        "{\"Version\": \"2012-10-17\", \"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"*\", \"Resource\": \"arn:aws:s3:::${aws:username, default}\"}]}",
        "/Statement/0/Resource",
        1,
        88,
        "R-VAR-4",
    ),
    bad(
        "{\"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"*\", \"Resource\": \"*\", \"Principal\": \"*\"}]}",
        "/Statement/0/Principal",
        1,
        81,
        "R-GRAM-6",
    ),
];

#[test]
fn bad_policies_get_precise_errors() {
    for (i, case) in BAD.iter().enumerate() {
        let err = parse_policy(case.doc, "policy.json", &ParseOptions::new(case.kind))
            .expect_err(&format!("case {i} should fail: {}", case.doc));
        let msg = err.to_string();
        assert_eq!(err.location.source, "policy.json", "case {i}");
        assert_eq!(
            err.location.pointer.as_str(),
            case.pointer,
            "case {i}: {msg}"
        );
        assert_eq!(
            (err.location.line, err.location.column),
            (case.line, case.column),
            "case {i}: {msg}"
        );
        assert!(
            msg.contains(case.says),
            "case {i}: {msg:?} should contain {:?}",
            case.says
        );
        assert!(msg.starts_with("policy.json: at "), "case {i}: {msg}");
    }
}

/// R-GEN-6: invalid values are errors in strict mode and never-matching in lenient mode;
/// structural errors stay errors in both.
#[test]
fn lenient_mode_keeps_invalid_values_but_not_broken_structure() {
    // Indices into BAD of the invalid *values*; every other entry is structural.
    let value_errors = [9usize, 10, 11, 12, 15, 16];
    for (i, case) in BAD.iter().enumerate() {
        let lenient = ParseOptions::new(case.kind).with_mode(Mode::Lenient);
        let result = parse_policy(case.doc, "policy.json", &lenient);
        if value_errors.contains(&i) {
            assert!(
                result.is_ok(),
                "case {i} should load in lenient mode: {result:?}"
            );
        } else {
            assert!(
                result.is_err(),
                "case {i} is structural and must fail in lenient mode too"
            );
        }
    }
}
