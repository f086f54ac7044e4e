//! `fastiam replay` on hostile and broken inputs, made at test time in a temporary directory:
//! symbolic-link loops, second names of a file, a gigantic record, a gzip bomb, megabytes of
//! zeros, a picture named `.json`, invalid UTF-8 in one record, an empty file, non-logs
//! beside the logs. Small caps (`--record-cap`, `--inflate-ratio`, `--inflate-floor`) let
//! small files trip the guards. Every run is made with one thread and with two, and both
//! must give the same report; every record must end in exactly one count.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::cli::fastiam;
use crate::util::corpus;

/// A temporary directory, removed when dropped.
struct Tree(PathBuf);

impl Tree {
    fn new(name: &str) -> Tree {
        let dir =
            std::env::temp_dir().join(format!("fastiam-hostile-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Tree(dir)
    }

    fn write(&self, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let path = self.0.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, bytes).unwrap();
        path
    }

    fn link(&self, target: &str, name: &str) {
        std::os::unix::fs::symlink(target, self.0.join(name)).unwrap();
    }
}

impl Drop for Tree {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The first records of a bundled delivery file (all mappable and allowed in what-if mode),
/// each as its JSON text.
fn records(n: usize) -> Vec<String> {
    let path = corpus(
        "replay/logs/invictus/218007301253_CloudTrail_us-east-1_20230710T1205Z_UljXNp9xLp8nsAGc.json",
    );
    let v: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    v["Records"].as_array().unwrap()[..n]
        .iter()
        .map(Value::to_string)
        .collect()
}

fn delivery(records: &[String]) -> Vec<u8> {
    format!("{{\"Records\":[{}]}}", records.join(",\n")).into_bytes()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

/// `fastiam replay --json` with `--threads 1` and `--threads 2`: the exit code and the
/// report, which must be the same for both.
fn replay<P: AsRef<Path>>(args: &[&str], inputs: &[P]) -> (i32, Value) {
    let mut runs = Vec::new();
    for threads in ["1", "2"] {
        let out = fastiam()
            .args(["replay", "--quiet", "--json", "--threads", threads])
            .args(args)
            .args(inputs.iter().map(AsRef::as_ref))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{stderr}");
        let mut report: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}\n{stderr}", String::from_utf8_lossy(&out.stdout)));
        report.as_object_mut().unwrap().remove("seconds");
        runs.push((out.status.code().unwrap(), report));
    }
    assert_eq!(runs[0], runs[1], "one thread and two differ");
    runs.pop().unwrap()
}

fn examples(report: &Value, kind: &str) -> Vec<String> {
    report[kind]["examples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap().to_string())
        .collect()
}

/// Asserts that exactly one example contains every needle.
fn one_example(examples: &[String], needles: &[&str]) {
    let found = examples
        .iter()
        .filter(|e| needles.iter().all(|n| e.contains(n)))
        .count();
    assert_eq!(found, 1, "{needles:?} in {examples:#?}");
}

fn evaluated(report: &Value) -> u64 {
    ["allowed", "explicit_deny", "implicit_deny", "depends_on"]
        .iter()
        .map(|k| report["all"][k].as_u64().unwrap())
        .sum()
}

/// Every hostile file in one tree, replayed once per thread count.
#[test]
fn a_hostile_tree_is_read_record_by_record_and_every_record_counted_once() {
    let tree = Tree::new("tree");
    let three = records(3);
    tree.write("good.json", delivery(&three));
    // Loops, and second names of a file.
    tree.link(".", "self");
    std::fs::create_dir_all(tree.0.join("sub")).unwrap();
    tree.link("..", "sub/up");
    tree.link("good.json", "link.json");
    std::fs::hard_link(tree.0.join("good.json"), tree.0.join("hard.json")).unwrap();
    // Not logs.
    tree.write("README.md", "logs of account 123");
    tree.write("picture.png", b"\x89PNG\r\n\x1a\n");
    tree.write(".hidden.json", delivery(&three));
    // Empty: no record.
    tree.write("empty.json", b"");
    // Zeros, small and large (the large one is past the size at which files are mapped).
    tree.write("zeros.json", vec![0u8; 4 << 20]);
    tree.write("zeros-large.json", vec![0u8; 20 << 20]);
    // A picture named like a log.
    tree.write("fake.json", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR");
    // One invalid UTF-8 byte in the second record, as a delivery file and as JSON Lines.
    let mut bad = three.clone();
    bad[1] = bad[1].replacen("GetUser", "Get\u{fffd}User", 1);
    let mut bytes = delivery(&bad);
    replace_replacement_char(&mut bytes);
    tree.write("bad-byte.json", &bytes);
    let mut lines = bad.join("\n").into_bytes();
    replace_replacement_char(&mut lines);
    tree.write("bad-byte.jsonl", &lines);
    // A record past the 64 KiB cap between two good ones.
    let mut huge = three.clone();
    huge[1] = huge[1].replacen(
        '{',
        &format!("{{\"padding\":\"{}\",", "x".repeat(100_000)),
        1,
    );
    tree.write("huge-record.json", delivery(&huge));
    // 1,200 records in one delivery document of over 1 MiB: far past the record cap, so it
    // can only be read streamed.
    let many: Vec<String> = (0..1200).map(|i| three[i % 3].clone()).collect();
    let stream = delivery(&many);
    assert!(stream.len() > 1 << 20, "{}", stream.len());
    tree.write("stream.json", &stream);
    // A gzip bomb: 4,000 copies of a record as JSON Lines, a few MB inflated from a few KB.
    let bomb = gzip(three[0].repeat_lines(4000).as_bytes());
    assert!(bomb.len() < 64 << 10, "{}", bomb.len());
    tree.write("bomb.jsonl.gz", &bomb);

    let caps = [
        "--record-cap",
        "64K",
        "--inflate-ratio",
        "10",
        "--inflate-floor",
        "256K",
    ];
    let (code, report) = replay(&caps, &[&tree.0]);
    assert_eq!(code, 1, "unreadable input: exit 1\n{report:#}");

    let skipped = examples(&report, "skipped");
    assert_eq!(report["skipped"]["count"], 7, "{skipped:#?}");
    one_example(&skipped, &["self: a link back to its ancestor", "(a loop)"]);
    one_example(
        &skipped,
        &["sub/up: a link back to its ancestor", "(a loop)"],
    );
    one_example(&skipped, &["link.json: the same file as", "good.json"]);
    one_example(&skipped, &["hard.json: the same file as", "good.json"]);
    one_example(&skipped, &["README.md: not named like a log"]);
    one_example(&skipped, &["picture.png: not named like a log"]);
    one_example(&skipped, &[".hidden.json: hidden"]);

    let unreadable = examples(&report, "unreadable");
    assert_eq!(report["unreadable"]["count"], 7, "{unreadable:#?}");
    one_example(
        &unreadable,
        &["zeros.json: file: not JSON: byte 0x00 at byte 0"],
    );
    one_example(
        &unreadable,
        &["zeros-large.json: file: not JSON: byte 0x00 at byte 0"],
    );
    one_example(
        &unreadable,
        &["fake.json: file: not JSON: byte 0x89 at byte 0"],
    );
    one_example(
        &unreadable,
        &["bad-byte.json: Records[1]: invalid unicode code point"],
    );
    one_example(
        &unreadable,
        &["bad-byte.jsonl: line 2: invalid unicode code point"],
    );
    one_example(
        &unreadable,
        &[
            "huge-record.json: Records[1]: a record of",
            "over the 65536-byte cap: skipped",
        ],
    );
    one_example(
        &unreadable,
        &[
            "bomb.jsonl.gz: line ",
            "past the decompression guard",
            "(10× the compressed size and at least 262144 bytes)",
        ],
    );

    // good 3, bad-byte 2 + 2, huge-record 2, stream 1,200, and what the bomb gave before
    // the guard: each record in exactly one count.
    let known = 3 + 2 + 2 + 2 + 1200;
    let from_bomb = evaluated(&report) - known;
    assert!(
        (100..4000).contains(&from_bomb),
        "{from_bomb} records of the bomb before its guard"
    );
    assert_eq!(report["unmappable"], serde_json::json!({}));
    assert_eq!(
        report["records"].as_u64().unwrap(),
        known + from_bomb + 7,
        "records = evaluated + unmappable + unreadable"
    );
}

/// The U+FFFD replacement character's UTF-8 bytes (EF BF BD) replaced by one invalid byte.
fn replace_replacement_char(bytes: &mut Vec<u8>) {
    let at = bytes
        .windows(3)
        .position(|w| w == "\u{fffd}".as_bytes())
        .unwrap();
    bytes.splice(at..at + 3, [0xff]);
}

trait RepeatLines {
    fn repeat_lines(&self, n: usize) -> String;
}

impl RepeatLines for String {
    fn repeat_lines(&self, n: usize) -> String {
        format!("{self}\n").repeat(n)
    }
}

/// Without the lowered caps, the same bomb and huge record are read whole.
#[test]
fn the_default_caps_let_large_but_honest_inputs_through() {
    let tree = Tree::new("defaults");
    let three = records(3);
    let mut huge = three.clone();
    huge[1] = huge[1].replacen(
        '{',
        &format!("{{\"padding\":\"{}\",", "x".repeat(100_000)),
        1,
    );
    tree.write("huge-record.json", delivery(&huge));
    tree.write(
        "bomb.jsonl.gz",
        gzip(three[0].repeat_lines(4000).as_bytes()),
    );
    let (code, report) = replay(&[], &[&tree.0]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["records"], 4003);
    assert_eq!(evaluated(&report), 4003);
}

#[test]
fn an_empty_file_holds_no_record_and_exits_0() {
    let tree = Tree::new("empty");
    let empty = tree.write("empty.json", b"");
    let blank = tree.write("blank.jsonl", b"\n \n");
    let (code, report) = replay(&[], &[&empty, &blank]);
    assert_eq!(code, 0);
    assert_eq!(report["records"], 0);
    assert_eq!(report["unreadable"]["count"], 0);
}

#[test]
fn a_replay_whose_every_input_is_unreadable_exits_1() {
    let tree = Tree::new("unreadable");
    let zeros = tree.write("zeros.json", vec![0u8; 1 << 20]);
    let missing = tree.0.join("missing.json");
    let (code, report) = replay(&[], &[&zeros, &missing]);
    assert_eq!(code, 1);
    assert_eq!(report["records"], 2);
    assert_eq!(report["unreadable"]["count"], 2);
    one_example(&examples(&report, "unreadable"), &["missing.json: path: "]);
}

/// `--fail-on deny|depends`: exit 4 when the report has such records, whatever else.
#[test]
fn fail_on_stops_a_pipeline_on_a_new_denial() {
    let tree = Tree::new("fail-on");
    let logs = tree.write("logs.json", delivery(&records(3)));
    let deny_all = tree.write(
        "deny-all.json",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}"#,
    );
    let zeros = tree.write("zeros.json", vec![0u8; 1000]);
    let scp = deny_all.to_str().unwrap();
    for (args, inputs, expected) in [
        (&["--scp", scp, "--fail-on", "deny"][..], &[&logs][..], 4),
        (&["--scp", scp, "--fail-on", "depends"], &[&logs], 0),
        (&["--scp", scp, "--fail-on", "depends,deny"], &[&logs], 4),
        (
            &["--scp", scp, "--fail-on", "depends", "--fail-on", "deny"],
            &[&logs],
            4,
        ),
        // A matched --fail-on outranks unreadable input.
        (&["--scp", scp, "--fail-on", "deny"], &[&logs, &zeros], 4),
        (&["--scp", scp], &[&logs, &zeros], 1),
    ] {
        let (code, report) = replay(args, inputs);
        assert_eq!(code, expected, "{args:?} {inputs:?}: {report:#}");
    }
    let (code, report) = replay(&["--scp", scp], &[&logs]);
    assert_eq!((code, &report["newly_denied"]), (0, &serde_json::json!(3)));
}

#[test]
fn byte_counts_are_checked_before_any_work() {
    let out = fastiam()
        .args(["replay", "--record-cap", "12X", "x.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("`12X`: expected a byte count"), "{stderr}");
}
