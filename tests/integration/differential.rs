//! Differential tests over generated cases: every engine must return exactly the reference
//! evaluator's `ChainDecision` (R-GEN-4), evaluation must be deterministic (R-GEN-3), and
//! the generator must produce valid, varied cases whose statements actually apply.
//!
//! `FASTIAM_GEN_CASES=N` overrides the number of generated cases and
//! `FASTIAM_GEN_SEED=S` the first seed, for longer or different runs.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::Command;
use std::time::Instant;

use fastiam::decision::{ChainDecision, Decision};
use fastiam::policy::Mode;
use fastiam::request::{parse_case, parse_case_with, Case};
use fastiam::runner::{evaluate_line, Engine, Reference};

use crate::generator::generate_case;
use crate::util::engines;

/// Cases for the parse-rate check.
const PARSE_CASES: u64 = 2_000;
/// Cases compared across engines: with the reference, compiled and round-trip engines
/// about 8 s of one core in a debug build (≈ 1.3 ms a case), so that the whole file runs
/// in well under 20 s on two cores.
const DIFF_CASES: u64 = 6_000;
/// Cases whose decision distribution is measured.
const VARIED_CASES: u64 = 6_000;

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

/// The seeds of a run: `count` seeds from `FASTIAM_GEN_SEED` (default 0).
fn seeds(count: u64) -> std::ops::Range<u64> {
    let first = env_u64("FASTIAM_GEN_SEED").unwrap_or(0);
    let count = env_u64("FASTIAM_GEN_CASES").unwrap_or(count);
    first..first + count
}

fn parse(seed: u64, line: &str) -> Result<Case, String> {
    parse_case(line, &format!("seed {seed}")).map_err(|e| e.to_string())
}

#[test]
fn generated_cases_parse() {
    let mut ok = 0usize;
    let mut failures = Vec::new();
    let range = seeds(PARSE_CASES);
    let total = (range.end - range.start) as usize;
    for seed in range {
        let line = generate_case(seed);
        match parse(seed, &line) {
            Ok(_) => ok += 1,
            Err(e) => failures.push(format!("seed {seed}: {e}\n  {line}")),
        }
    }
    let ratio = ok as f64 / total as f64;
    println!(
        "{ok} of {total} generated cases parse ({:.1} %)",
        ratio * 100.0
    );
    for f in failures.iter().take(5) {
        println!("{f}");
    }
    assert!(
        ratio >= 0.95,
        "only {ok} of {total} generated cases parse; first failures:\n{}",
        failures
            .iter()
            .take(10)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn engines_agree_on_generated_cases() {
    let started = Instant::now();
    let engines = engines();
    assert_eq!(engines[0].name(), "reference", "the oracle comes first");
    let mut compared = 0usize;
    let mut mismatches = Vec::new();
    for seed in seeds(DIFF_CASES) {
        let line = generate_case(seed);
        let Ok(case) = parse(seed, &line) else {
            continue; // counted by `generated_cases_parse`
        };
        let oracle = engines[0].evaluate(&case.chain);
        // R-GEN-3: the same chain evaluated again gives the same result.
        let again = engines[0].evaluate(&case.chain);
        if again != oracle {
            mismatches.push(format!(
                "seed {seed}: the reference engine is not deterministic\n  first:  {}\n  second: {}\n  case: {line}",
                oracle.to_json(&case.id),
                again.to_json(&case.id)
            ));
        }
        for engine in &engines[1..] {
            let got = engine.evaluate(&case.chain);
            if got != oracle {
                mismatches.push(format!(
                    "seed {seed}: the {} engine differs from the reference\n  reference: {}\n  {}: {}\n  case: {line}",
                    engine.name(),
                    oracle.to_json(&case.id),
                    engine.name(),
                    got.to_json(&case.id)
                ));
            }
        }
        compared += 1;
        if mismatches.len() >= 10 {
            break;
        }
    }
    println!(
        "{compared} generated cases through {} engine(s) in {:.2?}",
        engines.len(),
        started.elapsed()
    );
    assert!(
        mismatches.is_empty(),
        "{} mismatch(es) (stopped after 10):\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
    assert!(compared > 0);
}

/// The residual programs (issue 17) are what `engines_agree_on_generated_cases` compares
/// against the general path and the reference: most generated cases' first hop must take
/// them, or the comparison would be of the general path with itself. Many of those hops
/// must also carry a resource policy, whose statements the residual path merges with its
/// steps (the index leaves resource policies out).
#[test]
fn generated_cases_run_residual_programs() {
    let (mut cases, mut residual, mut with_own) = (0usize, 0usize, 0usize);
    for seed in seeds(2_000) {
        let Ok(case) = parse(seed, &generate_case(seed)) else {
            continue;
        };
        let Ok(program) = fastiam::compile::compile(&case.chain.policies) else {
            continue;
        };
        let evaluator = fastiam::eval::Evaluator::new(&program);
        assert_eq!(
            fastiam::eval::Evaluator::general(&program).residual_programs(),
            0
        );
        cases += 1;
        if let Some(hop) = case.chain.request.hops.first() {
            let takes = evaluator.takes_residual_path(&hop.action);
            residual += takes as usize;
            with_own += (takes && hop.resource_policy.is_some()) as usize;
        }
    }
    println!(
        "{residual} of {cases} generated cases' first hops take a residual program, \
         {with_own} of them with a resource policy"
    );
    assert!(cases > 0 && residual * 2 > cases, "{residual} of {cases}");
    assert!(
        with_own * 10 > cases,
        "{with_own} of {cases} with a resource policy"
    );
}

/// Counts over the reference decisions of generated cases.
#[derive(Default, Debug)]
struct Distribution {
    cases: usize,
    by_decision: BTreeMap<&'static str, usize>,
    multi_hop_chains: usize,
    two_or_more_hops_evaluated: usize,
    hops: usize,
    hops_with_matches: usize,
    hops_with_missing: usize,
    by_reason: BTreeMap<String, usize>,
}

impl Distribution {
    fn add(&mut self, chain_len: usize, d: &ChainDecision) {
        self.cases += 1;
        *self.by_decision.entry(d.decision.name()).or_default() += 1;
        if chain_len >= 2 {
            self.multi_hop_chains += 1;
        }
        if d.hops.len() >= 2 {
            self.two_or_more_hops_evaluated += 1;
        }
        for h in &d.hops {
            self.hops += 1;
            if !h.matched.is_empty() {
                self.hops_with_matches += 1;
            }
            if !h.missing.is_empty() {
                self.hops_with_missing += 1;
            }
            let reason = h.reason.to_string();
            let reason = reason.split(':').next().unwrap_or_default().to_string();
            *self.by_reason.entry(reason).or_default() += 1;
        }
    }

    fn share(&self, d: Decision) -> f64 {
        *self.by_decision.get(d.name()).unwrap_or(&0) as f64 / self.cases as f64
    }
}

#[test]
fn generated_decisions_are_varied() {
    let mut dist = Distribution::default();
    let mut unparsed = 0usize;
    for seed in seeds(VARIED_CASES) {
        let line = generate_case(seed);
        let Ok(case) = parse(seed, &line) else {
            unparsed += 1;
            continue;
        };
        let d = Reference.evaluate(&case.chain);
        let json: serde_json::Value = serde_json::from_str(&line).unwrap();
        dist.add(json["chain"].as_array().map_or(0, Vec::len), &d);
    }
    let pct = |n: usize, of: usize| 100.0 * n as f64 / of.max(1) as f64;
    println!("{} cases ({unparsed} did not parse)", dist.cases);
    for (decision, n) in &dist.by_decision {
        println!("  {decision:<20}{n:>6}  {:5.1} %", pct(*n, dist.cases));
    }
    println!(
        "  chains with >= 2 hops: {:.1} %, with >= 2 hops evaluated: {:.1} %",
        pct(dist.multi_hop_chains, dist.cases),
        pct(dist.two_or_more_hops_evaluated, dist.cases)
    );
    println!(
        "  evaluated hops: {}, with matched statements: {:.1} %, with missing keys: {:.1} %",
        dist.hops,
        pct(dist.hops_with_matches, dist.hops),
        pct(dist.hops_with_missing, dist.hops)
    );
    for (reason, n) in &dist.by_reason {
        println!("  reason {reason:<28}{n:>6}");
    }
    for d in [
        Decision::Allow,
        Decision::ExplicitDeny,
        Decision::ImplicitDeny,
    ] {
        assert!(
            dist.share(d) >= 0.10,
            "{} is only {:.1} % of the decisions",
            d.name(),
            100.0 * dist.share(d)
        );
    }
    assert!(
        dist.two_or_more_hops_evaluated as f64 >= 0.15 * dist.cases as f64,
        "only {:.1} % of the chains had two or more hops evaluated",
        pct(dist.two_or_more_hops_evaluated, dist.cases)
    );
    assert!(
        dist.hops_with_matches as f64 >= 0.20 * dist.hops as f64,
        "only {:.1} % of the evaluated hops matched a statement",
        pct(dist.hops_with_matches, dist.hops)
    );
}

/// Generated lines through the real executable: one decision line per case, in order,
/// equal to the in-process reference decision.
#[test]
fn generated_cases_through_the_binary() {
    let seeds: Vec<u64> = (0..40).map(|i| 7_000_000 + i * 7919).collect();
    let lines: Vec<String> = seeds.iter().map(|&s| generate_case(s)).collect();
    let path =
        std::env::temp_dir().join(format!("fastiam-differential-{}.jsonl", std::process::id()));
    {
        let mut f = std::fs::File::create(&path).unwrap();
        for l in &lines {
            writeln!(f, "{l}").unwrap();
        }
    }
    let out = Command::new(env!("CARGO_BIN_EXE_fastiam"))
        .args(["eval", "--engine", "reference"])
        .arg(&path)
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&path);
    let stdout = String::from_utf8(out.stdout).unwrap();
    let decisions: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        decisions.len(),
        lines.len(),
        "one decision line per case; stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut errors = 0;
    for (i, (line, got)) in lines.iter().zip(&decisions).enumerate() {
        let expected = evaluate_line(line, "in-process", i + 1, &Reference, None).to_json();
        assert_eq!(got["id"], format!("gen-{}", seeds[i]).as_str());
        let decision = got["decision"].as_str().unwrap_or_default();
        assert!(
            [
                "Allow",
                "ExplicitDeny",
                "ImplicitDeny",
                "InvalidCredentials",
                "Error"
            ]
            .contains(&decision),
            "{got}"
        );
        if decision == "Error" {
            errors += 1;
        } else {
            assert_eq!(got, &expected, "seed {}: {line}", seeds[i]);
        }
    }
    let expected_code = if errors == 0 { 0 } else { 1 };
    assert_eq!(out.status.code(), Some(expected_code));
}

/// Lenient cases must parse in lenient mode and mostly carry values that strict mode
/// rejects (R-GEN-6): otherwise the lenient paths of the engines are not exercised.
#[test]
fn lenient_cases_carry_invalid_values() {
    let mut lenient = 0usize;
    let mut rejected_in_strict = 0usize;
    for seed in seeds(PARSE_CASES) {
        let line = generate_case(seed);
        if !line.contains(r#""mode":"lenient""#) {
            continue;
        }
        lenient += 1;
        if parse_case_with(&line, "strict", Some(Mode::Strict)).is_err() {
            rejected_in_strict += 1;
        }
    }
    println!("{rejected_in_strict} of {lenient} lenient cases are invalid in strict mode");
    assert!(
        lenient >= PARSE_CASES as usize / 20,
        "too few lenient cases: {lenient}"
    );
    assert!(
        rejected_in_strict * 2 >= lenient,
        "only {rejected_in_strict} of {lenient} lenient cases carry an invalid value"
    );
}

/// Every feature the generator is meant to cover shows up in the generated text.
#[test]
fn generator_covers_every_feature() {
    const FEATURES: &[&str] = &[
        // dialects and versions
        r#""2012-10-17""#,
        r#""2008-10-17""#,
        r#""5.0""#,
        r#""1.1""#,
        r#""dialect":"huawei""#,
        r#""dialect":"aws""#,
        // statement elements
        r#""NotAction""#,
        r#""NotResource""#,
        r#""NotPrincipal""#,
        r#""Principal":"*""#,
        r#""AWS":"*""#,
        r#""Service""#,
        r#""Federated""#,
        r#""CanonicalUser""#,
        r#""IAM""#,
        r#""ID""#,
        r#""Id""#,
        r#""Sid""#,
        // wildcards and variables
        ":Get*",
        "?",
        "${aws:username}",
        "${aws:PrincipalTag/team, 'shared'}",
        "${aws:PrincipalAccount}",
        "${*}",
        "${g:UserName}",
        // operators
        "ForAnyValue:",
        "ForAllValues:",
        "IfExists",
        r#""Null""#,
        "StringEquals",
        "StringNotEquals",
        "StringEqualsIgnoreCase",
        "StringNotEqualsIgnoreCase",
        "StringLike",
        "StringNotLike",
        "StringMatch",
        "StringStartWith",
        "StringEndWith",
        "NumericEquals",
        "NumericLessThan",
        "NumberGreaterThan",
        "DateEquals",
        "DateGreaterThanEquals",
        r#""Bool""#,
        "BinaryEquals",
        r#""IpAddress""#,
        "NotIpAddress",
        "ArnEquals",
        "ArnLike",
        "ArnNotEquals",
        "ArnNotLike",
        // keys
        "aws:CalledVia",
        "aws:TagKeys",
        "aws:ViaAWSService",
        "aws:SourceIp",
        "aws:SourceVpc",
        "aws:PrincipalArn",
        "g:CalledVia",
        "g:TagKeys",
        "g:ViaService",
        "kms:ViaService",
        // principals
        ":root",
        ":assumed-role/",
        ":role/",
        ":federated-user/",
        ":user/",
        "AWSServiceRoleFor",
        r#""principal":"anonymous""#,
        r#""principal":"cloudtrail.amazonaws.com""#,
        ":assumed-agency:",
        r#""principal":"iam::"#,
        r#""principal":"service."#,
        r#""parent_user_arn""#,
        r#""role_arn""#,
        r#""management_account""#,
        r#""service_linked""#,
        // policy kinds and hops
        r#""identity""#,
        r#""boundary""#,
        r#""session":[]"#,
        r#""scp""#,
        r#""rcp""#,
        r#""vpce""#,
        r#""resource_policy""#,
        r#""resource_policy_required""#,
        r#""resource_account""#,
        r#""requires_no_permission""#,
        r#""document""#,
        r#""via":"athena.amazonaws.com""#,
        r#""via":"s3.amazonaws.com""#,
        r#""via":"service.obs""#,
        // options and credentials
        r#""called_via_services""#,
        r#""preserve_source_ip""#,
        r#""mode":"lenient""#,
        r#""huawei_policy_variables""#,
        r#""credentials""#,
    ];
    let lines: Vec<String> = seeds(PARSE_CASES).map(generate_case).collect();
    let missing: Vec<&str> = FEATURES
        .iter()
        .copied()
        .filter(|f| !lines.iter().any(|l| l.contains(f)))
        .collect();
    assert!(missing.is_empty(), "never generated: {missing:?}");
    let mut lengths = [0usize; 5];
    for l in &lines {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        lengths[v["chain"].as_array().unwrap().len().min(4)] += 1;
    }
    assert!(
        lengths[1..].iter().all(|&n| n > 0),
        "chain lengths 1..=4: {lengths:?}"
    );
}

/// The statements of every policy of a case line, by policy id (CASES.md default ids or
/// the wrapper's `id`), so that a matched statement's effect can be looked up.
fn statements_by_policy(case: &serde_json::Value) -> BTreeMap<String, Vec<serde_json::Value>> {
    fn add(
        out: &mut BTreeMap<String, Vec<serde_json::Value>>,
        default: String,
        p: &serde_json::Value,
    ) {
        let (id, doc) = match (p.get("document"), p.get("Statement")) {
            (Some(doc), None) => (p["id"].as_str().map_or(default, str::to_string), doc),
            _ => (default, p),
        };
        let statements = match &doc["Statement"] {
            serde_json::Value::Array(items) => items.clone(),
            other => vec![other.clone()],
        };
        out.insert(id, statements);
    }
    let mut out = BTreeMap::new();
    let policies = &case["policies"];
    for (name, list) in [
        ("identity", &policies["identity"]),
        ("session", &policies["session"]),
    ] {
        for (i, p) in list.as_array().into_iter().flatten().enumerate() {
            add(&mut out, format!("{name}[{i}]"), p);
        }
    }
    for name in ["scp", "rcp"] {
        for (l, level) in policies[name].as_array().into_iter().flatten().enumerate() {
            for (i, p) in level.as_array().into_iter().flatten().enumerate() {
                add(&mut out, format!("{name}[{l}][{i}]"), p);
            }
        }
    }
    for name in ["boundary", "vpce"] {
        if policies[name].is_object() {
            add(&mut out, name.to_string(), &policies[name]);
        }
    }
    for (i, hop) in case["chain"].as_array().into_iter().flatten().enumerate() {
        if hop["resource_policy"].is_object() {
            add(&mut out, format!("resource[{i}]"), &hop["resource_policy"]);
        }
    }
    out
}

/// What R-SIM-1..4 and R-FAS-2 require of any engine's result, checked on the reference's
/// results for generated cases: chain/hop consistency, matched statements of the right
/// effect in R-SIM-3 order, missing keys canonical, sorted and deduplicated.
#[test]
fn reference_decisions_are_well_formed() {
    const KIND_ORDER: &[&str] = &[
        "Scp",
        "Rcp",
        "VpcEndpoint",
        "ResourceBased",
        "Identity",
        "PermissionsBoundary",
        "Session",
    ];
    let mut problems = Vec::new();
    for seed in seeds(PARSE_CASES) {
        let line = generate_case(seed);
        let Ok(case) = parse(seed, &line) else {
            continue;
        };
        let json: serde_json::Value = serde_json::from_str(&line).unwrap();
        let chain_len = json["chain"].as_array().unwrap().len();
        let statements = statements_by_policy(&json);
        let d = Reference.evaluate(&case.chain);
        let mut complain = |what: String| {
            problems.push(format!(
                "seed {seed}: {what}
  {}
  {line}",
                d.to_json(&case.id)
            ))
        };
        if d.decision == Decision::InvalidCredentials {
            if !d.hops.is_empty() || d.denied_at != Some(0) {
                complain("InvalidCredentials with hops or denied_at != 0".into());
            }
            continue;
        }
        let first_denied = d.hops.iter().position(|h| h.decision != Decision::Allow);
        let consistent = match first_denied {
            None => {
                d.decision == Decision::Allow && d.denied_at.is_none() && d.hops.len() == chain_len
            }
            Some(i) => {
                i + 1 == d.hops.len() && d.denied_at == Some(i) && d.decision == d.hops[i].decision
            }
        };
        if !consistent {
            complain("chain decision, denied_at and hops disagree (R-FAS-2)".into());
        }
        for (k, h) in d.hops.iter().enumerate() {
            let reason = h.reason.to_string();
            let reason_ok = match h.decision {
                Decision::Allow => {
                    reason.starts_with("Allowed:") || reason == "NoPermissionRequired"
                }
                Decision::ExplicitDeny => reason.starts_with("ExplicitDeny:"),
                Decision::ImplicitDeny => {
                    !reason.starts_with("Allowed:") && !reason.starts_with("ExplicitDeny:")
                }
                Decision::InvalidCredentials => false,
            };
            if !reason_ok {
                complain(format!(
                    "hop {k}: reason {reason} with decision {:?}",
                    h.decision
                ));
            }
            let wanted_effect = match h.decision {
                Decision::Allow => "Allow",
                _ => "Deny",
            };
            if h.decision == Decision::ImplicitDeny && !h.matched.is_empty() {
                complain(format!(
                    "hop {k}: ImplicitDeny lists matched statements (R-SIM-3)"
                ));
            }
            let needs_statement = match h.decision {
                Decision::ExplicitDeny => true,
                Decision::Allow => {
                    !matches!(reason.as_str(), "NoPermissionRequired" | "Allowed:Root")
                }
                _ => false,
            };
            if needs_statement && h.matched.is_empty() {
                complain(format!(
                    "hop {k}: {reason} without a matched statement (R-SIM-3)"
                ));
            }
            for m in &h.matched {
                let effect = statements
                    .get(&m.policy)
                    .and_then(|list| list.get(m.statement))
                    .and_then(|st| st["Effect"].as_str());
                if effect != Some(wanted_effect) {
                    complain(format!(
                        "hop {k}: matched {}#{} has effect {effect:?}, expected {wanted_effect}",
                        m.policy, m.statement
                    ));
                }
            }
            let order = |m: &fastiam::decision::MatchedStatement| {
                let kind = fastiam::decision::kind_name(m.kind);
                let rank = KIND_ORDER.iter().position(|k| *k == kind).unwrap_or(99);
                (rank, m.level, m.position, m.statement)
            };
            if !h.matched.windows(2).all(|w| order(&w[0]) < order(&w[1])) {
                complain(format!("hop {k}: matched statements not in R-SIM-3 order"));
            }
            let canonical = h.missing.iter().all(|key| *key == key.to_lowercase());
            let sorted = h.missing.windows(2).all(|w| w[0] < w[1]);
            if !canonical || !sorted {
                complain(format!(
                    "hop {k}: missing keys not canonical, sorted, unique (R-SIM-4)"
                ));
            }
        }
        if problems.len() >= 10 {
            break;
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Prints generated case lines, to reproduce or inspect a seed:
/// `FASTIAM_GEN_SEED=42 FASTIAM_GEN_CASES=1 cargo test --test integration dump_generated_cases -- --ignored --nocapture`.
#[test]
#[ignore = "a tool, not a check"]
fn dump_generated_cases() {
    for seed in seeds(5) {
        println!("{}", generate_case(seed));
    }
}
