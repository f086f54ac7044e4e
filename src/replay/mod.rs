//! Bulk replay of CloudTrail logs: which recorded requests would these policies allow?
//!
//! The question a security engineer asks before deploying a data-perimeter SCP, a new RCP or
//! a tightened role policy. Every record is read ([`source`]), mapped to a request
//! ([`record`], with the event → action table of [`actions`]), evaluated by the compiled
//! engine against the policies of its principal ([`policies`]), and counted in a
//! [`Report`]. Forwarded calls (a service acting on the principal's behalf) are evaluated
//! as the forwarded hop of a chain, with the context R-FAS-4 derives.
//!
//! Answers are three-valued: a decision that read a key the log cannot carry (the VPC of an
//! endpoint call, an organisation id, a tag) *depends on* that key ([`Verdict::DependsOn`]),
//! rather than being a guess.
//!
//! ```no_run
//! use fastiam::replay::{replay, Guardrails, ReplayOptions, ReplayPolicies};
//! use fastiam::policy::{parse_policy, ParseOptions, PolicyKind};
//! let scp = parse_policy(&std::fs::read_to_string("scp.json").unwrap(), "scp",
//!     &ParseOptions::new(PolicyKind::Scp)).unwrap();
//! let policies = ReplayPolicies::what_if(&Guardrails { scp: vec![scp], ..Default::default() }).unwrap();
//! let report = replay(&["logs/".into()], &policies, &ReplayOptions::default());
//! println!("{}", report.summary_table());
//! ```
//!
//! Throughput: workers take files (or slices of large JSON Lines files) in parallel with
//! rayon; each has its own scratch per program, so evaluation allocates nothing, and its
//! own [`RecordMapper`], which rebuilds one request in place for every record rather than
//! allocating its strings anew; JSON parsing dominates (BENCHMARKS.md).

pub mod actions;
pub mod policies;
pub mod record;
pub mod report;
pub mod source;
pub mod synth;

use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

use rayon::prelude::*;
use serde_json::{json, Value};

use crate::decision::Decision;
use crate::eval::{Evaluator, Scratch};

pub use actions::ActionMap;
pub use policies::{read_account_data, Guardrails, PolicyInputError, ReplayPolicies};
pub use record::{map_record, LogOutcome, MapOptions, MappedRecord, RecordMapper, Unmappable};
pub use report::{OutputFormat, RecordResult, Report, Verdict};
pub use source::{plan, Plan, Position, ReadError, ReadOptions, Skipped, Unit};

/// How to run a replay.
#[derive(Debug, Default)]
pub struct ReplayOptions {
    pub map: MapOptions,
    /// Write one line per record here (JSON Lines or CSV).
    pub output: Option<OutputFormat>,
    /// Set to stop early; the report then says it is partial.
    pub cancel: Option<&'static AtomicBool>,
    /// Limits on records and decompression.
    pub read: ReadOptions,
}

/// Per-worker state: the record mapper, whose request is rebuilt in place for every
/// record, and a scratch per program, made on first use.
struct Worker {
    mapper: RecordMapper,
    scratches: Vec<Option<Scratch>>,
}

/// Replays every record under `inputs`. `progress` is called with the bytes of each unit
/// done (from worker threads, in any order). Lines of `--output` are written to `sink` in
/// input order.
pub fn replay_to(
    inputs: &[PathBuf],
    policies: &ReplayPolicies,
    options: &ReplayOptions,
    progress: &(dyn Fn(u64) + Sync),
    sink: &mut dyn Write,
) -> std::io::Result<Report> {
    let actions = ActionMap::shared();
    let evaluators: Vec<Evaluator<'_>> = policies
        .sets()
        .iter()
        .map(|p| Evaluator::new(&p.program))
        .collect();
    let Plan {
        units,
        errors,
        skipped,
    } = Plan::new(inputs);
    let mut report = Report::new(policies.what_if);
    for e in errors {
        report.add_read_error(&e);
    }
    for s in skipped {
        report.add_skipped(&s);
    }
    let new_worker = || Worker {
        // Context keys no program reads are not set (they cannot decide).
        mapper: RecordMapper::reading(|key| evaluators.iter().any(|e| e.key_id(key).is_some())),
        scratches: (0..evaluators.len()).map(|_| None).collect(),
    };
    let run = |worker: &mut Worker, unit: &Unit| {
        let r = run_unit(unit, actions, policies, &evaluators, worker, options);
        progress(unit.bytes());
        r
    };
    if options.output.is_none() {
        // Nothing to write in order: every unit in one parallel pass, reports merged as they
        // finish (rayon's reduce keeps the units' order, and merging is associative, so the
        // report is the one a sequential pass gives). No core waits at a window's end for
        // the other's last unit, and memory holds a report per worker, not per unit.
        let part = units
            .par_iter()
            .map_init(new_worker, |worker, unit| run(worker, unit).0)
            .reduce(
                || Report::new(policies.what_if),
                |mut a, b| {
                    a.merge(b);
                    a
                },
            );
        report.merge(part);
        return Ok(report);
    }
    // Windows of units: parallel inside a window, written in order between windows, so
    // memory is bounded by a window's output, not by the input.
    let window = (rayon::current_num_threads() * 4).max(4);
    for chunk in units.chunks(window) {
        let results: Vec<(Report, Vec<u8>)> = chunk.par_iter().map_init(new_worker, run).collect();
        for (part, lines) in results {
            sink.write_all(&lines)?;
            report.merge(part);
        }
        if options.cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
            report.interrupted = true;
            break;
        }
    }
    Ok(report)
}

/// [`replay_to`] without per-record output or progress.
pub fn replay(inputs: &[PathBuf], policies: &ReplayPolicies, options: &ReplayOptions) -> Report {
    replay_to(inputs, policies, options, &|_| {}, &mut std::io::sink())
        .expect("writing to io::sink cannot fail")
}

fn run_unit(
    unit: &Unit,
    actions: &ActionMap,
    policies: &ReplayPolicies,
    evaluators: &[Evaluator<'_>],
    worker: &mut Worker,
    options: &ReplayOptions,
) -> (Report, Vec<u8>) {
    let mut report = Report::new(policies.what_if);
    let mut lines = Vec::new();
    let cancel = options.cancel;
    let mut each = |position: Position, parsed: Result<Value, String>| -> bool {
        if cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
            report.interrupted = true;
            return false;
        }
        let record = match parsed {
            Ok(v) => v,
            Err(message) => {
                let e = ReadError { position, message };
                unreadable(&mut report, &mut lines, options.output, &e);
                return true;
            }
        };
        let mapped = worker.mapper.map(&record, &position, actions, &options.map);
        // The mapped request owns what it needs of the record. Freeing the record now, while
        // parsing and mapping have left it in the cache, is cheaper than after evaluation
        // has pushed it out (callgrind: a tenth of the replay's L1 data misses were frees).
        drop(record);
        let mapped = match mapped {
            Ok(m) => m,
            Err(u) => {
                report.add_unmappable(&position, &u);
                write_error_line(&mut lines, options.output, &position, u.class, &u.reason);
                return true;
            }
        };
        let result = evaluate_record(
            mapped,
            options.output.is_some(),
            policies,
            evaluators,
            &mut worker.scratches,
        );
        match result {
            Ok(r) => {
                if let Some(format) = options.output {
                    r.write_line(&mut lines, format, &position);
                }
                report.add_result(&r);
            }
            Err(u) => {
                report.add_unmappable(&position, &u);
                write_error_line(&mut lines, options.output, &position, u.class, &u.reason);
            }
        }
        true
    };
    if let Err(e) = source::read_unit_with(unit, &options.read, &mut each) {
        unreadable(&mut report, &mut lines, options.output, &e);
    }
    (report, lines)
}

/// Counts a record or file that could not be read, and writes its output line.
fn unreadable(
    report: &mut Report,
    lines: &mut Vec<u8>,
    format: Option<OutputFormat>,
    e: &ReadError,
) {
    report.add_read_error(e);
    write_error_line(lines, format, &e.position, "unreadable", &e.message);
}

fn write_error_line(
    out: &mut Vec<u8>,
    format: Option<OutputFormat>,
    position: &Position,
    class: &str,
    message: &str,
) {
    match format {
        None => {}
        Some(OutputFormat::Json) => {
            let v = json!({"file": position.file, "position": position.place, "unmappable": class, "reason": message});
            let _ = writeln!(out, "{v}");
        }
        Some(OutputFormat::Csv) => {
            report::write_csv_row(
                out,
                &[
                    &position.file,
                    &position.place,
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    class,
                    message,
                    "",
                    "",
                    "",
                    "",
                ],
            );
        }
    }
}

/// Evaluates one mapped record with the compiled engine.
fn evaluate_record<'a>(
    mapped: &'a mut MappedRecord,
    options_output: bool,
    policies: &ReplayPolicies,
    evaluators: &'a [Evaluator<'_>],
    scratches: &mut [Option<Scratch>],
) -> Result<RecordResult<'a>, Unmappable> {
    let index = policies
        .index_for(mapped.identity_arn.as_deref())
        .ok_or_else(|| Unmappable {
            class: "principal-not-in-account-data",
            reason: format!(
                "the account data has no user or role `{}`",
                mapped.identity_arn.as_deref().unwrap_or("?")
            ),
        })?;
    let prepared = &policies.sets()[index];
    for (key, value) in &prepared.tags {
        mapped.request.context.set_default(key, value);
    }
    mapped.principal_tags_known = prepared.tags_known;
    let hop = mapped.hop;
    let dialect = mapped.request.dialect;
    let target = &mut mapped.request.hops[hop];
    if let Some(i) = prepared.resource_policy(&target.resource) {
        target.resource_policy = Some(i);
        // A key policy given for a KMS key must grant (R-EVAL-5); the what-if allow-all
        // resource policy grants anyway.
        target.resource_policy_required = crate::request::default_resource_policy_required(
            dialect,
            &target.action,
            &target.resource,
        );
    }
    let evaluator = &evaluators[index];
    let scratch = scratches[index].get_or_insert_with(|| evaluator.scratch());
    let outcome = evaluator.evaluate(&mapped.request, scratch);
    let Some(h) = outcome.hops.get(hop) else {
        // Hop 0 of a forwarded record needs no permission, so it cannot stop the chain
        // unless the credentials are invalid, which a replay never sets.
        return Err(Unmappable {
            class: "not-evaluated",
            reason: format!("the chain stopped before hop {hop}: {:?}", outcome.decision),
        });
    };
    let decision = h.decision;
    let depends_on: Vec<&str> = outcome
        .missing(h)
        .iter()
        .map(|k| evaluator.key_name(*k))
        .filter(|k| !mapped.knows(k))
        .collect();
    let verdict = if !depends_on.is_empty() {
        Verdict::DependsOn
    } else if decision == Decision::Allow {
        Verdict::Allowed
    } else {
        Verdict::Denied
    };
    // The owned explanation (statement names, missing keys) costs allocations: only for
    // records written one by one, for denials, which the report groups by deciding
    // statement, and for records the log denied that the replay allows (the report shows
    // which statements allow them). A depends-on record is reported by its `depends_on`
    // keys alone.
    let allowed_against_log = verdict == Verdict::Allowed
        && mapped.log_outcome == LogOutcome::Denied
        && !policies.what_if;
    let explained = options_output || verdict == Verdict::Denied || allowed_against_log;
    let hop_decision = if explained {
        let owned = evaluator.decision(&outcome);
        let Some(hop_decision) = owned.hops.into_iter().nth(hop) else {
            unreachable!("the outcome has hop {hop}");
        };
        hop_decision
    } else {
        crate::decision::HopDecision {
            decision,
            reason: h.reason,
            matched: Vec::new(),
            missing: Vec::new(),
        }
    };
    Ok(RecordResult {
        mapped,
        decision: hop_decision,
        verdict,
        depends_on,
    })
}
