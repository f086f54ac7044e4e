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
//! let policies = ReplayPolicies::what_if(&Guardrails { scp: vec![vec![scp]], ..Default::default() }).unwrap();
//! let report = replay(&["logs/".into()], &policies, &ReplayOptions::default());
//! println!("{}", report.summary_table());
//! ```
//!
//! Throughput: workers take files (or slices of large JSON Lines files) in parallel with
//! rayon; each has its own scratch per program, so evaluation allocates nothing, and its
//! own [`RecordMapper`], which rebuilds one request in place for every record rather than
//! allocating its strings anew; JSON parsing dominates (BENCHMARKS.md).

pub mod action_rows;
pub mod actions;
pub mod certainty;
pub mod cts;
pub mod html;
pub mod json;
pub mod policies;
pub mod record;
pub mod report;
pub mod source;
pub mod step;
pub mod synth;
pub mod witness;

use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

use rayon::prelude::*;
use serde_json::json;

pub use actions::ActionMap;
pub use policies::{
    read_account_data, read_account_data_with, Guardrails, PolicyInputError, ReplayPolicies,
};
pub use record::{map_record, LogOutcome, MapOptions, MappedRecord, RecordMapper, Unmappable};
pub use report::{OutputFormat, RecordResult, Report, Verdict};
pub use source::{plan, Plan, Position, ReadError, ReadOptions, Skipped, Unit};
pub use step::{RecordStep, Replayer, StepOutcome};

/// How to run a replay.
#[derive(Debug, Default)]
pub struct ReplayOptions {
    pub map: MapOptions,
    /// The event → action table; `None`: the bundled one ([`ActionMap::shared`]). A user's
    /// rows are added with [`ActionMap::add_rows`].
    pub actions: Option<ActionMap>,
    /// Write one line per record here (JSON Lines or CSV).
    pub output: Option<OutputFormat>,
    /// Set to stop early; the report then says it is partial.
    pub cancel: Option<&'static AtomicBool>,
    /// Limits on records and decompression.
    pub read: ReadOptions,
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
    let actions = options
        .actions
        .as_ref()
        .unwrap_or_else(|| ActionMap::shared());
    let replayer = Replayer::new(
        policies,
        actions,
        options.map.clone(),
        options.output.is_some(),
    );
    let Plan {
        units,
        errors,
        skipped,
        ..
    } = Plan::new(inputs);
    let mut report = Report::new(policies.what_if);
    for e in errors {
        report.add_read_error(&e);
    }
    for s in skipped {
        report.add_skipped(&s);
    }
    let new_worker = || replayer.step();
    let run = |step: &mut RecordStep<'_, '_>, unit: &Unit| {
        let r = run_unit(unit, policies, step, options);
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
    policies: &ReplayPolicies,
    step: &mut RecordStep<'_, '_>,
    options: &ReplayOptions,
) -> (Report, Vec<u8>) {
    let mut report = Report::new(policies.what_if);
    let mut lines = Vec::new();
    let cancel = options.cancel;
    let mut each = |position: &Position, parsed: Result<json::Record, String>| -> bool {
        if cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
            report.interrupted = true;
            return false;
        }
        let record = match parsed {
            Ok(v) => v,
            Err(message) => {
                let e = ReadError {
                    position: position.clone(),
                    message,
                };
                unreadable(&mut report, &mut lines, options.output, &e);
                return true;
            }
        };
        match step.replay(record, position) {
            StepOutcome::Evaluated(r) => {
                if let Some(format) = options.output {
                    r.write_line(&mut lines, format, position);
                }
                report.add_result(&r);
            }
            StepOutcome::Unmappable(u) => {
                report.add_unmappable(position, &u);
                write_error_line(&mut lines, options.output, position, u.class, &u.reason);
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
            // Every column of the header, empty but for the place, the class (in `verdict`)
            // and the reason.
            let mut row = [""; report::CSV_COLUMNS];
            row[0] = &position.file;
            row[1] = &position.place;
            row[8] = class;
            row[9] = message;
            report::write_csv_row(out, &row);
        }
    }
}
