//! The real `fastiam` executable: decisions in input order, bad lines reported and the
//! rest still evaluated, exit codes as the README documents them.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::util::{corpus, read_corpus};

pub(crate) fn fastiam() -> Command {
    Command::new(env!("CARGO_BIN_EXE_fastiam"))
}

/// The first case of the hand-written corpus (an allowed one-hop chain).
fn first_hand_case() -> String {
    read_corpus("conformance/hand.jsonl")
        .lines()
        .next()
        .unwrap()
        .to_string()
}

/// 10,000 cases with one garbage line in the middle: 9,999 decisions and one `Error`, in
/// order (issue acceptance list).
#[test]
fn garbage_line_in_ten_thousand_cases() {
    let templates: Vec<String> = read_corpus("conformance/fas.jsonl")
        .lines()
        .map(str::to_string)
        .collect();
    let mut input = String::new();
    let mut ids = Vec::new();
    for i in 0..10_000 {
        if i == 5_000 {
            input.push_str("{\"id\": \"broken\", \"principal\": \n");
            ids.push(None);
            continue;
        }
        let t = &templates[i % templates.len()];
        let mut case: serde_json::Value = serde_json::from_str(t).unwrap();
        let id = format!("case-{i}");
        case["id"] = serde_json::Value::String(id.clone());
        input.push_str(&case.to_string());
        input.push('\n');
        ids.push(Some(id));
    }
    let mut child = fastiam()
        .args(["eval", "--engine", "reference", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "exit 1: some lines could not be read"
    );
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 10_000);
    let errors: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i]["decision"] == "Error")
        .collect();
    assert_eq!(errors, vec![5_000]);
    let message = lines[5_000]["error"].as_str().unwrap();
    assert!(message.starts_with("<stdin>:5001:"), "{message}");
    for (line, id) in lines.iter().zip(&ids) {
        if let Some(id) = id {
            assert_eq!(line["id"], id.as_str(), "decisions come out in input order");
        }
    }
}

#[test]
fn summary_counts_and_expectations() {
    let out = fastiam()
        .args(["eval", "--quiet", "--expect"])
        .arg(corpus("conformance/hand.jsonl"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty(), "--quiet prints no decision lines");
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("cases                     44"), "{err}");
    assert!(err.contains("44 agree of 44"), "{err}");
}

#[test]
fn disagreeing_expectation_exits_3() {
    let line = first_hand_case().replace(
        r#""expect": {"decision": "Allow""#,
        r#""expect": {"decision": "ExplicitDeny""#,
    );
    let path = temp_dir("expect").join("wrong.jsonl");
    std::fs::write(&path, line).unwrap();
    let out = fastiam()
        .args(["eval", "--expect"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
}

#[test]
fn missing_file_is_a_usage_error_naming_it() {
    let out = fastiam()
        .args(["eval", "/nonexistent/cases.jsonl"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("/nonexistent/cases.jsonl"), "{err}");
}

#[test]
fn invalid_utf8_line_is_one_error_not_the_end() {
    let good = first_hand_case();
    let mut input = Vec::new();
    input.extend_from_slice(good.as_bytes());
    input.extend_from_slice(b"\n\xff\xfe garbage\n");
    input.extend_from_slice(good.as_bytes());
    input.push(b'\n');
    let mut child = fastiam()
        .args(["eval", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&input).unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let decisions: Vec<&str> = text.lines().collect();
    assert_eq!(decisions.len(), 3);
    assert!(decisions[1].contains("not valid UTF-8"), "{}", decisions[1]);
    assert!(decisions[2].contains("\"Allow\""));
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("fastiam-{name}-{}", std::process::id()));
    // Emptied first: process ids come round again on a long-lived machine, and a directory
    // left by an earlier run of the same id would hold its files (a stale `empty.fiam` made
    // `compile_without_any_policy_needs_allow_empty` fail).
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// compile → inspect → eval --program on the golden policy set: the program's decisions
/// equal the per-case engine's, and a case that still carries policies is an `Error` line.
#[test]
fn compile_inspect_and_eval_against_a_program() {
    let dir = temp_dir("program");
    let case: serde_json::Value = serde_json::from_str(
        read_corpus("programs/golden-cases.jsonl")
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    let p = &case["policies"];
    let write = |name: &str, v: &serde_json::Value| {
        let path = dir.join(name);
        std::fs::write(&path, v.to_string()).unwrap();
        path
    };
    let identity = write("identity.json", &p["identity"][0]);
    let boundary = write("boundary.json", &p["boundary"]);
    let session = write("session.json", &p["session"][0]);
    let scp0 = write("scp0.json", &p["scp"][0][0]);
    let scp1 = write("scp1.json", &p["scp"][1][0]);
    let rcp0 = write("rcp0.json", &p["rcp"][0][0]);
    let bucket = write("bucket.json", &case["chain"][0]["resource_policy"]);
    let key = write("key.json", &case["chain"][1]["resource_policy"]);
    let program = dir.join("golden.fiam");
    let out = fastiam()
        .arg("compile")
        .arg(&identity)
        .arg("--boundary")
        .arg(&boundary)
        .arg("--session")
        .arg(&session)
        .arg("--scp")
        .arg(&scp0)
        .arg("--scp")
        .arg(&scp1)
        .arg("--rcp")
        .arg(&rcp0)
        .arg("--resource")
        .arg(&bucket)
        .arg("--resource")
        .arg(&key)
        .arg("-o")
        .arg(&program)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("compiled 8 policies"));

    let out = fastiam().arg("inspect").arg(&program).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("8 policies") && text.contains("verified load"),
        "{text}"
    );
    // Every policy listed with its kind, place, statement count and name (its file stem).
    let statements = |v: &serde_json::Value| v["Statement"].as_array().unwrap().len();
    let listed: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("  policy "))
        .collect();
    assert_eq!(listed.len(), 8, "{text}");
    for (kind, place, name, policy) in [
        ("scp", "level 0 #0", "scp0", &p["scp"][0][0]),
        ("scp", "level 1 #0", "scp1", &p["scp"][1][0]),
        ("rcp", "level 0 #0", "rcp0", &p["rcp"][0][0]),
        (
            "resource",
            "slot 0",
            "bucket",
            &case["chain"][0]["resource_policy"],
        ),
        (
            "resource",
            "slot 1",
            "key",
            &case["chain"][1]["resource_policy"],
        ),
        ("identity", "#0", "identity", &p["identity"][0]),
        ("boundary", "#0", "boundary", &p["boundary"]),
        ("session", "#0", "session", &p["session"][0]),
    ] {
        let words = |l: &str| l.split_whitespace().map(str::to_string).collect::<Vec<_>>();
        let mut want = vec!["policy".to_string(), kind.to_string()];
        want.extend(place.split(' ').map(str::to_string));
        want.extend([
            statements(policy).to_string(),
            "statements".into(),
            name.into(),
        ]);
        assert!(
            listed.iter().any(|l| words(l) == want),
            "no line {want:?} in\n{text}"
        );
    }

    // The golden cases without their policies, naming the program's resource slots.
    let mut stripped = String::new();
    let mut with_policies = String::new();
    for line in read_corpus("programs/golden-cases.jsonl").lines() {
        let mut c: serde_json::Value = serde_json::from_str(line).unwrap();
        with_policies.push_str(&c.to_string());
        with_policies.push('\n');
        c.as_object_mut().unwrap().remove("policies");
        for (slot, hop) in c["chain"].as_array_mut().unwrap().iter_mut().enumerate() {
            hop.as_object_mut().unwrap().remove("resource_policy");
            hop["resource_policy_slot"] = serde_json::json!(slot);
        }
        stripped.push_str(&c.to_string());
        stripped.push('\n');
    }
    let stripped_path = write("stripped.jsonl", &serde_json::Value::Null);
    std::fs::write(&stripped_path, &stripped).unwrap();
    let full_path = dir.join("full.jsonl");
    std::fs::write(&full_path, &with_policies).unwrap();
    let on_program = fastiam()
        .arg("eval")
        .arg("--program")
        .arg(&program)
        .arg(&stripped_path)
        .output()
        .unwrap();
    assert!(
        on_program.status.success(),
        "{}",
        String::from_utf8_lossy(&on_program.stderr)
    );
    let per_case = fastiam().arg("eval").arg(&full_path).output().unwrap();
    let decisions = |o: &std::process::Output| -> Vec<(String, String)> {
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                (v["id"].to_string(), v["decision"].to_string())
            })
            .collect()
    };
    assert_eq!(decisions(&on_program), decisions(&per_case));
    assert_eq!(decisions(&on_program).len(), 9);

    // A case that still carries policies is refused line by line.
    let refused = fastiam()
        .arg("eval")
        .arg("--program")
        .arg(&program)
        .arg(&full_path)
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stdout)
        .contains("--program evaluates against the compiled program"));

    // So is a case with an empty `policies` object, or one whose members are all empty:
    // an Error line naming the file, the line and the member; the other lines evaluate.
    let first = stripped.lines().next().unwrap();
    let mut empty = serde_json::from_str::<serde_json::Value>(first).unwrap();
    empty["policies"] = serde_json::json!({});
    let mut empty_members = empty.clone();
    empty_members["policies"] = serde_json::json!({"identity": [], "scp": []});
    let mixed = dir.join("mixed.jsonl");
    std::fs::write(&mixed, format!("{first}\n{empty}\n{empty_members}\n")).unwrap();
    let out = fastiam()
        .arg("eval")
        .arg("--program")
        .arg(&program)
        .arg(&mixed)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert_ne!(lines[0]["decision"], "Error", "{}", lines[0]);
    for (i, line) in lines.iter().enumerate().skip(1) {
        let error = line["error"].as_str().unwrap_or_default();
        assert_eq!(line["decision"], "Error", "{line}");
        assert!(
            error.contains(&format!("mixed.jsonl:{}: at /policies", i + 1))
                && error.contains("--program evaluates against the compiled program"),
            "{error}"
        );
    }
}

/// `fastiam compile` with no policy at all is an error (a forgotten argument, an empty
/// directory), unless `--allow-empty` asks for a program that allows nothing.
#[test]
fn compile_without_any_policy_needs_allow_empty() {
    let dir = temp_dir("empty");
    let empty_dir = dir.join("no-policies");
    std::fs::create_dir_all(&empty_dir).unwrap();
    let program = dir.join("empty.fiam");
    for args in [vec![], vec![empty_dir.clone()]] {
        let out = fastiam()
            .arg("compile")
            .args(&args)
            .arg("-o")
            .arg(&program)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(
            err.contains("no policy to compile") && err.contains("--allow-empty"),
            "{err}"
        );
        assert!(!program.exists(), "nothing written");
    }
    let out = fastiam()
        .arg("compile")
        .arg(&empty_dir)
        .arg("--allow-empty")
        .arg("-o")
        .arg(&program)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = fastiam().arg("inspect").arg(&program).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains(" 0 policies, 0 statements"), "{text}");
}

#[test]
fn compile_and_load_errors_name_the_file() {
    let dir = temp_dir("errors");
    let bad_policy = dir.join("bad.json");
    std::fs::write(&bad_policy, "{\"Statement\": [{\"Effect\": \"allow\"}]}").unwrap();
    let out = fastiam()
        .arg("compile")
        .arg(&bad_policy)
        .arg("-o")
        .arg(dir.join("x.fiam"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("bad.json") && err.contains("/Statement/0/Effect"),
        "{err}"
    );

    let corrupt = dir.join("corrupt.fiam");
    std::fs::write(&corrupt, b"FASTIAM\0garbage").unwrap();
    for args in [vec!["inspect"], vec!["eval", "--program"]] {
        let mut cmd = fastiam();
        cmd.args(&args).arg(&corrupt);
        if args.len() > 1 {
            cmd.arg(corpus("conformance/hand.jsonl"));
        }
        let out = cmd.output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(
            err.contains("corrupt.fiam") && err.contains("truncated program"),
            "{err}"
        );
    }

    // One changed byte of a real program: refused by the checksum, read or mapped.
    let mut golden = std::fs::read(corpus(&format!(
        "programs/golden-v{}.fiam",
        fastiam::table::VERSION
    )))
    .unwrap();
    let at = golden.len() / 2;
    golden[at] ^= 0x01;
    let flipped = dir.join("flipped.fiam");
    std::fs::write(&flipped, &golden).unwrap();
    for args in [vec!["inspect"], vec!["eval", "--program"]] {
        let mut cmd = fastiam();
        cmd.args(&args).arg(&flipped);
        if args.len() > 1 {
            cmd.arg(corpus("conformance/hand.jsonl"));
        }
        let out = cmd.output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(
            err.contains("flipped.fiam") && err.contains("checksum mismatch"),
            "{err}"
        );
    }
}

/// `fastiam bench` checks the engines against each other, then reports figures as JSON:
/// decisions/s, hops/s, ns/hop, p50/p99 per chain for each thread count, peak memory.
#[test]
fn bench_reports_agreeing_decisions_and_rates() {
    let out = fastiam()
        .args([
            "bench",
            "--cases",
            "300",
            "--seconds",
            "0.05",
            "--threads",
            "2",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["workload"]["cases"], 300);
    let d = &v["decisions"];
    let total = d["Allow"].as_u64().unwrap()
        + d["ExplicitDeny"].as_u64().unwrap()
        + d["ImplicitDeny"].as_u64().unwrap();
    assert_eq!(total, 300);
    let engines: Vec<&str> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["engine"].as_str().unwrap())
        .collect();
    assert_eq!(
        engines,
        [
            "compiled",
            "compiled",
            "compiled-packed",
            "compiled-packed",
            "compiled-compact",
            "compiled-compact",
            "compiled-compact-batch",
            "compiled-compact-batch",
            "compact-build",
            "compact-build+eval",
            "reference"
        ]
    );
    let threads = [1, 2, 1, 2, 1, 2, 1, 2, 1, 1, 1];
    for (r, threads) in v["results"].as_array().unwrap().iter().zip(threads) {
        assert_eq!(r["threads"], threads);
        for field in ["decisions_per_second", "hops_per_second", "ns_per_hop"] {
            assert!(r[field].as_f64().unwrap() > 0.0, "{field}: {r}");
        }
        let (p50, p99) = (&r["p50_ns_per_chain"], &r["p99_ns_per_chain"]);
        if r["engine"] == "compiled-compact-batch" {
            // A batch has no per-chain latency: not measured, not made up.
            assert!(p50.is_null() && p99.is_null(), "{r}");
            continue;
        }
        assert!(p50.as_f64().unwrap() <= p99.as_f64().unwrap(), "{r}");
    }
    if cfg!(target_os = "linux") {
        assert!(v["peak_memory_bytes"].as_u64().unwrap() > 0);
    }
}
