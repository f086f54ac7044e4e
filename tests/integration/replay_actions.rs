//! The event → action table: every shipped row checked against the service authorization
//! reference (its derived list, `corpus/replay/iam-actions.tsv.gz`), the S3 bucket events
//! that used to map to `s3-outposts:` actions checked on real records, and a user's rows
//! (`--action-map`) with the table each record's mapping came from (`--explain-mapping`).

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;

use fastiam::replay::action_rows::parse_row;
use fastiam::replay::actions::RecordFacts;
use fastiam::replay::{
    map_record, replay, replay_to, ActionMap, MapOptions, OutputFormat, ReplayOptions,
    ReplayPolicies,
};
use serde_json::{json, Value};

use crate::cli::fastiam;
use crate::util::{corpus, read_corpus};

/// The guard SCP of the real-log check: seven S3 bucket actions denied on `*`.
const GUARD: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"ProtectBuckets","Effect":"Deny",
  "Action":["s3:PutBucketPolicy","s3:DeleteBucketPolicy","s3:DeleteBucket","s3:CreateBucket",
            "s3:GetBucketPolicy","s3:PutBucketTagging","s3:ListAccessPoints"],"Resource":"*"}]}"#;

/// Real S3 bucket-API records (Invictus, MIT; `corpus/replay/README.md`).
const S3_RECORDS: &str = "replay/records/s3-bucket-api.json";

fn gunzip(path: &str) -> String {
    let bytes = std::fs::read(corpus(path)).unwrap();
    let mut text = String::new();
    flate2::read::GzDecoder::new(&bytes[..])
        .read_to_string(&mut text)
        .unwrap();
    text
}

fn data_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l))
        .filter(|(_, l)| !l.starts_with('#') && !l.is_empty())
}

/// The reference's actions by prefix, and each event source's own prefix.
struct Reference {
    actions: BTreeMap<String, BTreeSet<String>>,
    own_prefix: BTreeMap<String, String>,
}

impl Reference {
    fn bundled() -> Reference {
        let actions = data_lines(&gunzip("replay/iam-actions.tsv.gz"))
            .map(|(_, l)| {
                let (prefix, names) = l.split_once('\t').unwrap();
                (
                    prefix.to_string(),
                    names.split(',').map(str::to_string).collect(),
                )
            })
            .collect();
        let own_prefix = data_lines(&read_corpus("replay/event-sources.tsv"))
            .map(|(_, l)| {
                let (source, prefix) = l.split_once('\t').unwrap();
                (source.to_string(), prefix.to_string())
            })
            .collect();
        Reference {
            actions,
            own_prefix,
        }
    }

    /// What is wrong with a table row, if anything: an action the reference does not list
    /// (under its own prefix, spelled as the reference spells it), or one of another prefix
    /// than the event source's without an exception saying why.
    fn fault(&self, row: &str) -> Option<String> {
        let f: Vec<&str> = row.split('\t').collect();
        let [source, event, action, _, _, note] = f[..] else {
            return Some(format!("{} columns", f.len()));
        };
        let Some(own) = self.own_prefix.get(source) else {
            return Some(format!("{source} has no own prefix in event-sources.tsv"));
        };
        if !self.actions.contains_key(own) {
            return Some(format!(
                "{source}: own prefix `{own}` is not a prefix of the reference"
            ));
        }
        if action == "-" || action == "?" {
            return note
                .is_empty()
                .then(|| format!("{source} {event}: `{action}` with no note saying why"));
        }
        let Some((prefix, name)) = action.split_once(':') else {
            return Some(format!("{source} {event}: `{action}` is not prefix:Name"));
        };
        if !self.actions.get(prefix).is_some_and(|a| a.contains(name)) {
            return Some(format!(
                "{source} {event}: `{action}` is not an action of the reference"
            ));
        }
        if prefix != own && !note.starts_with("exception: ") {
            return Some(format!(
                "{source} {event}: `{action}` is not under the source's prefix `{own}:` and no exception says why"
            ));
        }
        None
    }
}

#[test]
fn every_shipped_action_is_listed_under_its_event_sources_prefix() {
    let reference = Reference::bundled();
    let table = gunzip("replay/actions.tsv.gz");
    let mut rows = 0;
    let faults: Vec<String> = data_lines(&table)
        .inspect(|_| rows += 1)
        .filter_map(|(n, row)| reference.fault(row).map(|f| format!("line {n}: {f}")))
        .collect();
    assert!(rows > 22_000, "{rows} rows");
    assert!(
        faults.is_empty(),
        "{} faults: {:#?}",
        faults.len(),
        &faults[..faults.len().min(20)]
    );
    // The check finds what it is for: the rows the table had before it was rebuilt.
    for bad in [
        "s3.amazonaws.com\tPutBucketPolicy\ts3-outposts:PutBucketPolicy\tbucket\t\tsdk-map",
        "s3.amazonaws.com\tGetObject\ts3:GetObjects\tobject\t\tsdk-map",
        "s3.amazonaws.com\tGetObject\ts3:getobject\tobject\t\tsdk-map",
        "nosuch.amazonaws.com\tX\tnosuch:X\t\t\tsdk-map",
        "signin.amazonaws.com\tX\t-\t\t\t",
    ] {
        assert!(reference.fault(bad).is_some(), "{bad}");
    }
    // An exception may leave the prefix (saying why); it may not name an unlisted action.
    let exception = "s3.amazonaws.com\tX\tkms:Decrypt\t\t\texception: why";
    assert_eq!(reference.fault(exception), None);
    let exception = "s3.amazonaws.com\tX\tkms:Decrypts\t\t\texception: why";
    assert!(reference.fault(exception).is_some());
}

#[test]
fn the_table_reads_as_the_file_says() {
    // Every row of the file is an entry of the map, with its action and origin.
    let map = ActionMap::bundled();
    let table = gunzip("replay/actions.tsv.gz");
    let mut rows = 0;
    for (n, row) in data_lines(&table) {
        rows += 1;
        // The shipped rows are only cut at start (`cut_row`): each must pass the user rows' checks.
        if let Err(e) = parse_row(row) {
            panic!("actions.tsv line {n}: {e}");
        }
        let f: Vec<&str> = row.split('\t').collect();
        let entry = map.lookup(f[0], f[1]).unwrap();
        let action = (f[2] != "-" && f[2] != "?").then_some(f[2]);
        assert_eq!(entry.action.as_deref(), action, "{row}");
        assert_eq!(entry.unknown, f[2] == "?", "{row}");
        let origin = if f[5].starts_with("exception") {
            "exception row"
        } else {
            "shipped table"
        };
        assert_eq!(entry.origin.to_string(), origin, "{row}");
    }
    assert_eq!(map.len(), rows);
}

/// The twenty `s3.amazonaws.com` events the 2022 SDK map's S3 Control entries had made
/// `s3-outposts:` actions.
const FORMERLY_OUTPOSTS: [&str; 20] = [
    "CreateAccessPoint",
    "CreateBucket",
    "DeleteAccessPoint",
    "DeleteAccessPointPolicy",
    "DeleteBucket",
    "DeleteBucketLifecycleConfiguration",
    "DeleteBucketPolicy",
    "DeleteBucketTagging",
    "GetAccessPoint",
    "GetAccessPointPolicy",
    "GetBucket",
    "GetBucketLifecycleConfiguration",
    "GetBucketPolicy",
    "GetBucketTagging",
    "ListAccessPoints",
    "ListRegionalBuckets",
    "PutAccessPointPolicy",
    "PutBucketLifecycleConfiguration",
    "PutBucketPolicy",
    "PutBucketTagging",
];

#[test]
fn the_formerly_outposts_s3_events_map_to_s3_actions_on_buckets() {
    let map = ActionMap::bundled();
    let reference = Reference::bundled();
    let params = fastiam::replay::json::from_serde(&json!({"bucketName": "amzn-s3-demo-bucket"}));
    let facts = RecordFacts {
        region: "us-east-1",
        account: "111122223333",
        resource_arns: &[],
        parameters: &params,
        caller_user: None,
    };
    let mut to_s3 = 0;
    for event in FORMERLY_OUTPOSTS {
        let entry = map.lookup("s3.amazonaws.com", event).unwrap();
        let Some(action) = entry.action.as_deref() else {
            // S3 on Outposts only (no `s3:` action, none named like the event): unknown,
            // saying why, rather than an action of another service.
            assert!(entry.unknown, "{event}");
            assert!(
                entry.note.contains("s3-outposts:"),
                "{event}: {}",
                entry.note
            );
            continue;
        };
        to_s3 += 1;
        let name = action
            .strip_prefix("s3:")
            .unwrap_or_else(|| panic!("{event}: {action}"));
        assert!(reference.actions["s3"].contains(name), "{action}");
        let resource = map.resource(entry, &facts);
        if event.contains("Bucket") {
            assert_eq!(
                resource.as_deref(),
                Ok("arn:aws:s3:::amzn-s3-demo-bucket"),
                "{event} as {action}"
            );
        }
    }
    assert_eq!(to_s3, 17);
    let list = map.lookup("s3.amazonaws.com", "ListAccessPoints").unwrap();
    assert_eq!(map.resource(list, &facts).as_deref(), Ok("*"));
}

fn s3_records() -> Vec<Value> {
    let v: Value = serde_json::from_str(&read_corpus(S3_RECORDS)).unwrap();
    v["Records"].as_array().unwrap().clone()
}

fn guard() -> ReplayPolicies {
    let policy = fastiam::policy::parse_policy(
        GUARD,
        "s3_guard",
        &fastiam::policy::ParseOptions::new(fastiam::policy::PolicyKind::Scp),
    )
    .unwrap();
    ReplayPolicies::what_if(&fastiam::replay::Guardrails {
        scp: vec![vec![policy]],
        ..Default::default()
    })
    .unwrap()
}

#[test]
fn real_s3_bucket_records_build_bucket_arns_and_the_guard_denies_them() {
    let map = ActionMap::bundled();
    let records = s3_records();
    assert_eq!(records.len(), 8);
    for r in &records {
        let event = r["eventName"].as_str().unwrap();
        let m = map_record(r, "x", &map, &MapOptions::default())
            .unwrap_or_else(|u| panic!("{event}: {} {}", u.class, u.reason));
        assert_eq!(m.action(), format!("s3:{event}"));
        let want = match r["requestParameters"]["bucketName"].as_str() {
            Some(bucket) => format!("arn:aws:s3:::{bucket}"),
            None => "*".to_string(), // ListAccessPoints: no resource type
        };
        assert_eq!(m.resource(), want, "{event}");
    }
    let mut out = Vec::new();
    let options = ReplayOptions {
        output: Some(OutputFormat::Json),
        ..Default::default()
    };
    let report = replay_to(&[corpus(S3_RECORDS)], &guard(), &options, &|_| {}, &mut out).unwrap();
    assert_eq!(report.records_seen(), 8);
    for line in json_lines(&out) {
        let action = line["action"].as_str().unwrap();
        let guarded = GUARD.contains(&format!("\"{action}\""));
        let want = if guarded { "ExplicitDeny" } else { "Allow" };
        assert_eq!(line["decision"], want, "{line}");
        assert_eq!(line["depends_on"], json!([]), "{line}");
        assert!(line.get("mapping").is_none(), "{line}");
    }
    assert_eq!(report.all.explicit_deny, 7);
}

fn json_lines(out: &[u8]) -> Vec<Value> {
    out.split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).unwrap())
        .collect()
}

/// A user's table: GetBucketTagging read as s3:GetBucketPolicy (which the guard denies), and
/// a comment.
const USER_ROWS: &str = "# mine\n\
s3.amazonaws.com\tGetBucketTagging\ts3:GetBucketPolicy\tbucket\t\tread as the policy\n";

#[test]
fn user_rows_override_the_table_and_the_report_says_which_table_mapped() {
    let mut map = ActionMap::bundled();
    assert_eq!(map.add_rows_from(USER_ROWS, "mine.tsv").unwrap(), 1);
    let entry = map.lookup("s3.amazonaws.com", "GetBucketTagging").unwrap();
    assert_eq!(entry.action.as_deref(), Some("s3:GetBucketPolicy"));
    assert_eq!(entry.origin.to_string(), "mine.tsv:2");
    let options = ReplayOptions {
        map: MapOptions {
            explain: true,
            ..Default::default()
        },
        actions: Some(map),
        output: Some(OutputFormat::Json),
        ..Default::default()
    };
    let mut out = Vec::new();
    let inputs = [corpus(S3_RECORDS)];
    let report = replay_to(&inputs, &guard(), &options, &|_| {}, &mut out).unwrap();
    let lines = json_lines(&out);
    let tagging: Vec<&Value> = lines
        .iter()
        .filter(|l| l["action"] == "s3:GetBucketPolicy" && l["mapping"] == "mine.tsv:2")
        .collect();
    assert_eq!(tagging.len(), 1, "{lines:#?}");
    assert_eq!(tagging[0]["decision"], "ExplicitDeny");
    let shipped = lines
        .iter()
        .filter(|l| l["mapping"] == "shipped table")
        .count();
    assert_eq!(shipped, 7);
    assert_eq!(report.all.explicit_deny, 8);
    let counts: Vec<(String, u64)> = report
        .mappings
        .iter()
        .map(|(o, n)| (o.to_string(), *n))
        .collect();
    assert_eq!(
        counts,
        [
            ("shipped table".to_string(), 7),
            ("mine.tsv:2".to_string(), 1)
        ]
    );
    let summary = report.summary_table();
    assert!(
        summary.contains("Evaluated records by the table that mapped them:"),
        "{summary}"
    );
    assert!(summary.contains("       1  mine.tsv:2"), "{summary}");
    assert_eq!(report.to_json()["mapping"]["mine.tsv:2"], 1);

    // Without --explain-mapping: no field, no section.
    let plain = replay(&inputs, &guard(), &ReplayOptions::default());
    assert!(plain.mappings.is_empty());
    assert!(!plain.summary_table().contains("mapped them"));
}

#[test]
fn exception_rows_are_named_and_unmappable_reasons_say_which_row() {
    let records: Vec<Value> = serde_json::from_str::<Value>(&read_corpus(
        "replay/logs/invictus/218007301253_CloudTrail_us-east-1_20230710T1200Z_iLj9fb7yyUG9X4Bf.json",
    ))
    .unwrap()["Records"]
        .as_array()
        .unwrap()
        .clone();
    let map = ActionMap::bundled();
    let explain = MapOptions {
        explain: true,
        ..Default::default()
    };
    let whoami = records
        .iter()
        .find(|r| r["eventName"] == "GetCallerIdentity")
        .unwrap();
    let u = map_record(whoami, "x", &map, &explain).unwrap_err();
    assert_eq!(u.class, "not-an-iam-action");
    assert!(
        u.reason.ends_with("(mapping: exception row)"),
        "{}",
        u.reason
    );
    let u = map_record(whoami, "x", &map, &MapOptions::default()).unwrap_err();
    assert!(!u.reason.contains("mapping"), "{}", u.reason);

    // An event with a `?` row is an unknown action, with the row's reason.
    let mut outposts = whoami.clone();
    outposts["eventSource"] = json!("s3.amazonaws.com");
    outposts["eventName"] = json!("GetBucket");
    let u = map_record(&outposts, "x", &map, &explain).unwrap_err();
    assert_eq!(u.class, "unknown-action");
    assert!(u.reason.contains("s3-outposts:GetBucket"), "{}", u.reason);
    assert!(
        u.reason.ends_with("(mapping: shipped table)"),
        "{}",
        u.reason
    );
    // A user's row can map it.
    let mut mine = map.clone();
    mine.add_rows_from(
        "s3.amazonaws.com\tGetBucket\ts3:GetBucketLocation\tbucket\t\n",
        "mine.tsv",
    )
    .unwrap();
    outposts["requestParameters"] = json!({"bucketName": "b"});
    let m = map_record(&outposts, "x", &mine, &explain).unwrap();
    assert_eq!(
        (m.action(), m.resource()),
        ("s3:GetBucketLocation", "arn:aws:s3:::b")
    );
    assert_eq!(m.mapping.as_ref().unwrap().to_string(), "mine.tsv:1");
}

/// Each bad user table, and the start of its error.
#[test]
fn bad_user_rows_are_refused_with_file_line_and_column() {
    let cases: &[(&str, &str)] = &[
        ("# c\ns3.amazonaws.com\tX\ts3:GetObject\n", "mine.tsv:2: expected 6 tab-separated columns"),
        ("s3.amazonaws.com\tX\tGetObject\t\t\t\n", "mine.tsv:1: column 3 `action`: expected an IAM action"),
        (
            "s3.amazonaws.com\tX\ts3:GetObject\tobjects\t\t\n",
            "mine.tsv:1: column 4 `resource_types`: `objects` is not a resource type of `s3` (expected one of: ",
        ),
        (
            "s3.amazonaws.com\tX\ts3:GetObject\tobject\tKey\t\n",
            "mine.tsv:1: column 5 `param_hints`: expected `Variable=parameter`",
        ),
        (
            "s3.amazonaws.com\tX\ts3:GetObject\t\t\t\ns3.amazonaws.com\tX\ts3:PutObject\t\t\t\n",
            "mine.tsv:2: a second row for s3.amazonaws.com X (the first is line 1)",
        ),
    ];
    for (text, want) in cases {
        let mut map = ActionMap::bundled();
        let before = map.lookup("s3.amazonaws.com", "GetObject").cloned();
        let err = map.add_rows_from(text, "mine.tsv").unwrap_err().to_string();
        assert!(err.contains(want), "{text:?}: {err}");
        // Nothing of a refused file is added.
        assert!(map.lookup("s3.amazonaws.com", "X").is_none(), "{text:?}");
        assert_eq!(map.lookup("s3.amazonaws.com", "GetObject").cloned(), before);
    }
    let mut map = ActionMap::bundled();
    let err = map
        .add_rows(std::path::Path::new("/nonexistent/mine.tsv"))
        .unwrap_err();
    assert!(err.to_string().contains("/nonexistent/mine.tsv"), "{err}");
    let latin1 = temp(
        "latin1.tsv",
        b"# ok\ns3.amazonaws.com\tX\ts3:GetObject\t\t\tcaf\xe9\n",
    );
    let err = map.add_rows(&latin1).unwrap_err().to_string();
    assert!(err.ends_with("latin1.tsv:2: not UTF-8 text"), "{err}");
}

#[test]
fn user_tables_may_be_gzip_or_have_windows_line_ends() {
    let text = "# mine\r\n\r\ns3.amazonaws.com\tX\ts3:GetObject\tobject\t\tnote\r\n";
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, text.as_bytes()).unwrap();
    let path = temp("rows.tsv.gz", &gz.finish().unwrap());
    let mut map = ActionMap::bundled();
    assert_eq!(map.add_rows(&path).unwrap(), 1);
    let entry = map.lookup("s3.amazonaws.com", "X").unwrap();
    assert_eq!(entry.action.as_deref(), Some("s3:GetObject"));
    assert_eq!(entry.note, "note");
    assert_eq!(entry.origin.to_string(), format!("{}:3", path.display()));
}

fn temp(name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("fastiam-actions-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn cli_action_map_and_explain_mapping() {
    let rows = temp("rows.tsv", USER_ROWS.as_bytes());
    let guard = temp("guard.json", GUARD.as_bytes());
    let out = fastiam()
        .args([
            "replay",
            "--quiet",
            "--explain-mapping",
            "--format",
            "csv",
            "--output",
            "-",
        ])
        .arg("--scp")
        .arg(&guard)
        .arg("--action-map")
        .arg(&rows)
        .arg(corpus(S3_RECORDS))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let csv = String::from_utf8(out.stdout).unwrap();
    let mut lines = csv.lines();
    assert!(lines.next().unwrap().ends_with(",log,decided_by,mapping"));
    let mine = format!("{}:2", rows.display());
    let by_mine: Vec<&str> = lines.filter(|l| l.ends_with(&mine)).collect();
    assert_eq!(by_mine.len(), 1, "{csv}");
    assert!(
        by_mine[0].contains(",s3:GetBucketPolicy,"),
        "{}",
        by_mine[0]
    );
    let summary = String::from_utf8(out.stderr).unwrap();
    assert!(summary.contains(&format!("       1  {mine}")), "{summary}");
    assert!(summary.contains("       7  shipped table"), "{summary}");

    // A bad row stops the replay before it starts, naming the file, line and column.
    let bad = temp("bad.tsv", b"s3.amazonaws.com\tX\ts3:Get Object\t\t\t\n");
    let out = fastiam()
        .args(["replay", "--quiet", "--action-map"])
        .arg(&bad)
        .arg(corpus(S3_RECORDS))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains(&format!("{}:1: column 3 `action`", bad.display())),
        "{err}"
    );
}
