//! The examples of `docs/*.md` are true: every ```` ```json ```` block parses (```` ```jsonl ````:
//! every line; README.md's blocks too), every block of cases gives, on every engine, exactly the decision lines of
//! the block after it, and the replay's documented lines and CSV header are what a replay
//! writes.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::util::{corpus, engines};

/// A fenced block: its info string (`json`, `jsonl`, `csv`, …) and its text.
struct Block {
    file: String,
    line: usize,
    info: String,
    text: String,
}

impl Block {
    fn place(&self) -> String {
        format!("{}:{}", self.file, self.line)
    }

    /// The JSON values of a `json` (one value) or `jsonl` (one per line) block.
    fn values(&self) -> Vec<Value> {
        let parse = |text: &str| {
            serde_json::from_str::<Value>(text)
                .unwrap_or_else(|e| panic!("{}: not JSON: {e}\n{text}", self.place()))
        };
        match self.info.as_str() {
            "json" => vec![parse(&self.text)],
            _ => self
                .text
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(parse)
                .collect(),
        }
    }

    /// The block as JSON Lines, as a file would hold it: a pretty-printed `json` value is
    /// joined onto one line (JSON strings hold no raw line breaks, so nothing else changes).
    fn as_json_lines(&self) -> String {
        match self.info.as_str() {
            "json" => format!("{}\n", self.text.replace('\n', " ")),
            _ => self.text.clone(),
        }
    }
}

fn docs_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs")
}

fn blocks(path: &Path) -> Vec<Block> {
    let text = std::fs::read_to_string(path).unwrap();
    let file = path.file_name().unwrap().to_string_lossy().into_owned();
    let mut out = Vec::new();
    let mut open: Option<Block> = None;
    for (i, line) in text.lines().enumerate() {
        match (&mut open, line.strip_prefix("```")) {
            (None, Some(info)) => {
                open = Some(Block {
                    file: file.clone(),
                    line: i + 1,
                    info: info.trim().to_string(),
                    text: String::new(),
                })
            }
            (Some(_), Some("")) => out.extend(open.take()),
            (Some(block), _) => {
                block.text.push_str(line);
                block.text.push('\n');
            }
            (None, None) => {}
        }
    }
    assert!(open.is_none(), "{file}: a block is not closed");
    out
}

fn doc(name: &str) -> Vec<Block> {
    blocks(&docs_dir().join(name))
}

fn is_json(b: &Block) -> bool {
    b.info == "json" || b.info == "jsonl"
}

#[test]
fn every_json_block_of_the_docs_parses() {
    let mut checked = 0;
    for entry in std::fs::read_dir(docs_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            for block in blocks(&path).iter().filter(|b| is_json(b)) {
                assert!(!block.values().is_empty(), "{}: empty", block.place());
                checked += 1;
            }
        }
    }
    assert!(checked >= 7, "only {checked} JSON blocks found under docs/");
    let readme = Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
    let in_readme: Vec<Block> = blocks(&readme).into_iter().filter(is_json).collect();
    assert!(!in_readme.is_empty(), "README.md has a decision line");
    in_readme
        .iter()
        .for_each(|b| assert!(!b.values().is_empty()));
}

/// A block of cases is followed by the decision lines `fastiam eval` prints for them.
#[test]
fn documented_cases_give_the_documented_decision_lines() {
    let blocks: Vec<Block> = doc("cases.md").into_iter().filter(is_json).collect();
    let mut pairs = 0;
    for (i, block) in blocks.iter().enumerate() {
        if !block.values().iter().all(|v| v.get("chain").is_some()) {
            continue;
        }
        let expected = blocks
            .get(i + 1)
            .unwrap_or_else(|| panic!("{}: cases without decision lines after them", block.place()))
            .values();
        for engine in engines() {
            let mut got = Vec::new();
            fastiam::runner::run_cases(
                block.as_json_lines().as_bytes(),
                "cases.jsonl",
                engine.as_ref(),
                |o| got.push(o.to_json()),
            )
            .unwrap();
            assert_eq!(
                got,
                expected,
                "{} ({} engine)",
                block.place(),
                engine.name()
            );
        }
        pairs += 1;
    }
    assert_eq!(pairs, 2, "cases.md has two blocks of cases");
}

/// Every key of `documented` exists in `real`, recursively through objects (and the first
/// element of arrays of objects): the document shows no field the program does not write.
fn assert_fields_exist(documented: &Value, real: &Value, at: &str) {
    match (documented, real) {
        (Value::Object(d), Value::Object(r)) => {
            for (key, value) in d {
                let real_value = r
                    .get(key)
                    .unwrap_or_else(|| panic!("{at}/{key}: documented, but not written"));
                assert_fields_exist(value, real_value, &format!("{at}/{key}"));
            }
        }
        (Value::Array(d), Value::Array(r)) => {
            if let (Some(d), Some(r)) = (d.first(), r.first()) {
                assert_fields_exist(d, r, &format!("{at}/0"));
            }
        }
        _ => {}
    }
}

#[test]
fn documented_replay_output_is_what_a_replay_writes() {
    use fastiam::policy::{parse_policy, ParseOptions, PolicyKind};
    use fastiam::replay::{replay_to, Guardrails, OutputFormat, ReplayOptions, ReplayPolicies};
    let scp_text = std::fs::read_to_string(corpus(
        "replay/policies/network-perimeter-iam-users-scp.json",
    ))
    .unwrap();
    let scp = parse_policy(
        &scp_text,
        "network-perimeter-iam-users-scp",
        &ParseOptions::new(PolicyKind::Scp),
    )
    .unwrap();
    let policies = ReplayPolicies::what_if(&Guardrails {
        scp: vec![vec![scp]],
        ..Guardrails::default()
    })
    .unwrap();
    let options = ReplayOptions {
        output: Some(OutputFormat::Json),
        ..ReplayOptions::default()
    };
    let mut sink = Vec::new();
    let report = replay_to(
        &[corpus("replay/logs")],
        &policies,
        &options,
        &|_| {},
        &mut sink,
    )
    .unwrap();
    let lines: Vec<Value> = String::from_utf8(sink)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let unmappable = lines
        .iter()
        .find(|l| l.get("unmappable").is_some())
        .expect("an unmappable record");
    let mut summary = report.to_json();
    summary["seconds"] = serde_json::json!(0.0);

    let blocks = doc("replay-output.md");
    let mut seen = [false; 4];
    for block in &blocks {
        if block.info == "csv" {
            assert_eq!(
                block.text,
                fastiam::replay::report::CSV_HEADER,
                "{}",
                block.place()
            );
            seen[3] = true;
            continue;
        }
        if !is_json(block) {
            continue;
        }
        for value in block.values() {
            let (real, slot) = if value.get("what_if").is_some() {
                (&summary, 2)
            } else if value.get("verdict").is_some() {
                let same = lines.iter().find(|l| l["record"] == value["record"]);
                (same.expect("the documented record is in the corpus"), 0)
            } else if value.get("unmappable").is_some() {
                (unmappable, 1)
            } else {
                panic!("{}: an example of what?", block.place());
            };
            assert_fields_exist(&value, real, &block.place());
            seen[slot] = true;
        }
    }
    assert_eq!(
        seen, [true; 4],
        "record, unmappable, summary and CSV examples"
    );
    // The documented record is decided as documented.
    let record = &blocks.iter().find(|b| b.info == "json").unwrap().values()[0];
    let real = lines
        .iter()
        .find(|l| l["record"] == record["record"])
        .unwrap();
    for key in [
        "decision",
        "reason",
        "verdict",
        "depends_on",
        "missing",
        "hop",
        "via",
        "matched",
    ] {
        assert_eq!(record[key], real[key], "{key}");
    }
}
