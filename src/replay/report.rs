//! What a replay found: counts, the denied requests grouped, disagreements with the log,
//! and one line per record for `--output`.
//!
//! Reports of parts of the input are merged ([`Report::merge`]), so workers count on their
//! own and the totals do not depend on how the input was cut. Every record read ends in
//! exactly one count: evaluated (allowed, denied, depends-on), unmappable (by class), or
//! unreadable — `records_seen` is their sum, which the tests check. Files a directory walk
//! did not read (a README, a loop, a second name of a file) are not records: they are
//! counted and listed apart, as skipped.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write;

use serde_json::json;

use crate::decision::{Decision, HopDecision};
use crate::primitives::date::format_utc;

use super::actions::Origin;
use super::record::{LogOutcome, MappedRecord, Unmappable};
use super::source::{Position, ReadError, Skipped};

/// How many examples of each kind a report keeps.
const EXAMPLES: usize = 10;

/// The three-valued answer for one record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Verdict {
    Allowed,
    Denied,
    /// The decision read a key the log does not carry; it is the decision with the key
    /// absent, and may differ when the key is present.
    DependsOn,
}

impl Verdict {
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Allowed => "allowed",
            Verdict::Denied => "denied",
            Verdict::DependsOn => "depends",
        }
    }
}

/// `--output` formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputFormat {
    Json,
    Csv,
}

/// The CSV header of `--output --format csv`. `mapping` (the table that decided the
/// record's mapping) is empty unless `--explain-mapping` is given.
pub const CSV_HEADER: &str =
    "file,position,record,principal,action,resource,via,decision,verdict,reason,matched,missing,depends_on,log,decided_by,mapping\n";

/// The number of columns of [`CSV_HEADER`].
pub const CSV_COLUMNS: usize = 16;

/// One evaluated record.
#[derive(Clone, Debug)]
pub struct RecordResult<'a> {
    pub mapped: &'a MappedRecord,
    /// The decision of the record's hop; its statements and missing keys are filled for
    /// denied records, and for every record when `--output` is on.
    pub decision: HopDecision,
    pub verdict: Verdict,
    /// For a [`Verdict::DependsOn`] record: the unknowns (keys as the policies spell them,
    /// or `resource`) some value of which changes the decision.
    pub depends_on: Vec<String>,
    /// For a [`Verdict::DependsOn`] record: which decision each value of them gives
    /// ("ExplicitDeny if aws:SourceVpc absent …; Allow if aws:SourceVpc = \"vpc-1\""), or
    /// why the answer could not be proved certain.
    pub decided_by: Option<String>,
}

impl RecordResult<'_> {
    /// Whether the replay contradicts the log's own outcome. In what-if mode only a
    /// recorded success that would now be explicitly denied counts (the identity side is
    /// assumed, so a recorded denial says nothing about the guardrails).
    pub fn disagrees(&self, what_if: bool) -> bool {
        match (self.mapped.log_outcome, self.verdict) {
            (LogOutcome::Succeeded, Verdict::Denied) => {
                !what_if || self.decision.decision == Decision::ExplicitDeny
            }
            (LogOutcome::Denied, Verdict::Allowed) => !what_if,
            _ => false,
        }
    }

    /// The statements that decided, as `policy#sid` (or `policy#index`).
    pub fn deciders(&self) -> String {
        if self.decision.matched.is_empty() {
            return format!("({})", self.decision.reason);
        }
        self.decision
            .matched
            .iter()
            .map(|m| match &m.sid {
                Some(sid) => format!("{}#{sid}", m.policy),
                None => format!("{}#{}", m.policy, m.statement),
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    pub fn write_line(&self, out: &mut Vec<u8>, format: OutputFormat, position: &Position) {
        debug_assert_eq!(CSV_HEADER.split(',').count(), CSV_COLUMNS);
        let m = &self.mapped;
        match format {
            OutputFormat::Json => {
                let mut v = self.decision.to_json();
                v["record"] = json!(m.id);
                v["file"] = json!(position.file);
                v["position"] = json!(position.place);
                v["principal"] = json!(m.request.principal.arn);
                v["action"] = json!(m.action());
                v["resource"] = json!(m.resource());
                v["hop"] = json!(m.hop);
                v["via"] = json!(m.via);
                v["verdict"] = json!(self.verdict.name());
                v["depends_on"] = json!(self.depends_on);
                v["decided_by"] = json!(self.decided_by);
                v["resource_unknown"] = json!(m.resource_unknown);
                v["log"] = json!(m.log_outcome.name());
                v["error_code"] = json!(m.error_code);
                if let Some(origin) = &m.mapping {
                    v["mapping"] = json!(origin.to_string());
                }
                let _ = writeln!(out, "{v}");
            }
            OutputFormat::Csv => {
                let missing = self.decision.missing.join(" ");
                let depends = self.depends_on.join(" ");
                let reason = self.decision.reason.to_string();
                let mapping = m.mapping.as_ref().map(Origin::to_string);
                // As many fields as the header has columns, or this does not compile.
                let row: [&str; CSV_COLUMNS] = [
                    &position.file,
                    &position.place,
                    &m.id,
                    &m.request.principal.arn,
                    m.action(),
                    m.resource(),
                    m.via.as_deref().unwrap_or(""),
                    self.decision.decision.name(),
                    self.verdict.name(),
                    &reason,
                    &self.deciders(),
                    &missing,
                    &depends,
                    m.log_outcome.name(),
                    self.decided_by.as_deref().unwrap_or(""),
                    mapping.as_deref().unwrap_or(""),
                ];
                write_csv_row(out, &row);
            }
        }
    }
}

/// Writes one CSV row (RFC 4180 quoting).
pub fn write_csv_row(out: &mut Vec<u8>, fields: &[&str]) {
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        if f.contains([',', '"', '\n', '\r']) {
            out.push(b'"');
            out.extend_from_slice(f.replace('"', "\"\"").as_bytes());
            out.push(b'"');
        } else {
            out.extend_from_slice(f.as_bytes());
        }
    }
    out.push(b'\n');
}

/// Counts of one population (all records, or forwarded ones).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub allowed: u64,
    pub explicit_deny: u64,
    pub implicit_deny: u64,
    pub depends_on: u64,
}

impl Counts {
    fn add(&mut self, r: &RecordResult) {
        match (r.verdict, r.decision.decision) {
            (Verdict::DependsOn, _) => self.depends_on += 1,
            (Verdict::Allowed, _) => self.allowed += 1,
            (Verdict::Denied, Decision::ExplicitDeny) => self.explicit_deny += 1,
            (Verdict::Denied, _) => self.implicit_deny += 1,
        }
    }

    fn merge(&mut self, o: &Counts) {
        self.allowed += o.allowed;
        self.explicit_deny += o.explicit_deny;
        self.implicit_deny += o.implicit_deny;
        self.depends_on += o.depends_on;
    }

    pub fn total(&self) -> u64 {
        self.allowed + self.explicit_deny + self.implicit_deny + self.depends_on
    }
}

/// "… and N more (use --output)" under a list of `shown` examples of `count`.
fn and_more(s: &mut String, indent: &str, count: u64, shown: usize) {
    let rest = count.saturating_sub(shown as u64);
    if rest > 0 {
        let _ = writeln!(s, "{indent}… and {rest} more (use --output)");
    }
}

/// Adds one to `key`'s count, copying the key only the first time it is seen.
fn count(counts: &mut BTreeMap<String, u64>, key: &str) {
    match counts.get_mut(key) {
        Some(n) => *n += 1,
        None => {
            counts.insert(key.to_string(), 1);
        }
    }
}

/// A count with a few examples (`file: place` of records).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Examples {
    pub count: u64,
    pub examples: Vec<String>,
}

impl Examples {
    /// Counts one more; `example` is called (and formats) only while examples are kept.
    fn add(&mut self, example: impl FnOnce() -> String) {
        self.count += 1;
        if self.examples.len() < EXAMPLES {
            self.examples.push(example());
        }
    }

    fn merge(&mut self, o: Examples) {
        self.count += o.count;
        for e in o.examples {
            if self.examples.len() < EXAMPLES {
                self.examples.push(e);
            }
        }
    }
}

/// The result of a replay (or of part of one).
#[derive(Clone, Debug, Default)]
pub struct Report {
    pub what_if: bool,
    /// Records (and whole files) that could not be read.
    pub unreadable: Examples,
    /// Paths not read on purpose (not logs, hidden, loops, second names of a file).
    pub skipped: Examples,
    /// Unmappable records by class.
    pub unmappable: BTreeMap<String, Examples>,
    pub all: Counts,
    pub forwarded: Counts,
    /// Denied records by (principal, action, deciding statements).
    pub denied: BTreeMap<(String, String, String), u64>,
    /// Depends-on records by key.
    pub depends: BTreeMap<String, u64>,
    /// Depends-on records by (action, what decides them).
    pub decided_by: BTreeMap<(String, String), u64>,
    /// Records where the replay contradicts the log.
    pub disagreements: Examples,
    /// Denied records the log does not show denied (`--fail-on deny`).
    pub newly_denied: u64,
    /// Forwarded services seen (`via` → records).
    pub via: BTreeMap<String, u64>,
    /// Evaluated records by the table that decided their mapping (`--explain-mapping`).
    pub mappings: BTreeMap<Origin, u64>,
    /// Evaluated records by service (the action's prefix: `s3`, `kms`).
    pub by_service: BTreeMap<String, Counts>,
    /// Evaluated records by the time of their `eventTime`.
    pub timeline: Timeline,
    /// The run was stopped before the end of the input.
    pub interrupted: bool,
}

/// Evaluated records counted by when they happened: by hour always, and by minute while
/// the records span at most [`Timeline::MAX_MINUTES`] distinct minutes (a day's worth), so
/// that a short log still draws more than one bar and a year of logs costs a year of hours.
///
/// Keys are minutes (or hours) since the Unix epoch, UTC. Merging is a union of keys, so
/// whether the minutes are kept depends only on the whole input, not on how it was cut.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Timeline {
    /// Minute → counts; emptied for good once more than `MAX_MINUTES` minutes were seen.
    pub minutes: BTreeMap<i64, Counts>,
    /// More than `MAX_MINUTES` distinct minutes were seen: only hours are kept.
    pub minutes_dropped: bool,
    /// Hour → counts.
    pub hours: BTreeMap<i64, Counts>,
    /// Records with no readable `eventTime`.
    pub untimed: u64,
}

impl Timeline {
    /// The most distinct minutes kept.
    pub const MAX_MINUTES: usize = 1440;

    fn add(&mut self, r: &RecordResult) {
        let Some(secs) = r.mapped.event_secs else {
            self.untimed += 1;
            return;
        };
        self.hours.entry(secs.div_euclid(3600)).or_default().add(r);
        if !self.minutes_dropped {
            self.minutes.entry(secs.div_euclid(60)).or_default().add(r);
            self.cap_minutes();
        }
    }

    fn merge(&mut self, o: Timeline) {
        merge_counts(&mut self.hours, o.hours);
        self.untimed += o.untimed;
        self.minutes_dropped |= o.minutes_dropped;
        if !self.minutes_dropped {
            merge_counts(&mut self.minutes, o.minutes);
        }
        self.cap_minutes();
    }

    fn cap_minutes(&mut self) {
        if self.minutes_dropped || self.minutes.len() > Self::MAX_MINUTES {
            self.minutes = BTreeMap::new();
            self.minutes_dropped = true;
        }
    }
}

fn merge_counts<K: Ord>(into: &mut BTreeMap<K, Counts>, from: BTreeMap<K, Counts>) {
    for (k, v) in from {
        into.entry(k).or_default().merge(&v);
    }
}

impl Report {
    pub fn new(what_if: bool) -> Report {
        Report {
            what_if,
            ..Report::default()
        }
    }

    /// Every record this report accounts for.
    pub fn records_seen(&self) -> u64 {
        self.unreadable.count
            + self.unmappable.values().map(|e| e.count).sum::<u64>()
            + self.all.total()
    }

    pub fn unmappable_total(&self) -> u64 {
        self.unmappable.values().map(|e| e.count).sum()
    }

    pub fn add_read_error(&mut self, e: &ReadError) {
        self.unreadable
            .add(|| format!("{}: {}", e.position, e.message));
    }

    pub fn add_skipped(&mut self, s: &Skipped) {
        self.skipped.add(|| s.to_string());
    }

    pub fn add_unmappable(&mut self, at: &Position, u: &Unmappable) {
        let class = match self.unmappable.get_mut(u.class) {
            Some(class) => class,
            None => self.unmappable.entry(u.class.to_string()).or_default(),
        };
        class.add(|| format!("{at}: {}", u.reason));
    }

    pub fn add_result(&mut self, r: &RecordResult) {
        self.all.add(r);
        self.timeline.add(r);
        let action = r.mapped.action();
        let service = action.split_once(':').map_or(action, |(s, _)| s);
        match self.by_service.get_mut(service) {
            Some(c) => c.add(r),
            None => self
                .by_service
                .entry(service.to_string())
                .or_default()
                .add(r),
        }
        if let Some(via) = &r.mapped.via {
            self.forwarded.add(r);
            count(&mut self.via, via);
        }
        if let Some(origin) = &r.mapped.mapping {
            match self.mappings.get_mut(origin) {
                Some(n) => *n += 1,
                None => {
                    self.mappings.insert(origin.clone(), 1);
                }
            }
        }
        match r.verdict {
            Verdict::Denied => {
                if r.mapped.log_outcome != LogOutcome::Denied {
                    self.newly_denied += 1;
                }
                let key = (
                    r.mapped.request.principal.arn.clone(),
                    r.mapped.action().to_string(),
                    r.deciders(),
                );
                *self.denied.entry(key).or_default() += 1;
            }
            Verdict::DependsOn => {
                for k in &r.depends_on {
                    count(&mut self.depends, k);
                }
                if let Some(d) = &r.decided_by {
                    *self
                        .decided_by
                        .entry((r.mapped.action().to_string(), d.clone()))
                        .or_default() += 1;
                }
            }
            Verdict::Allowed => {}
        }
        if r.disagrees(self.what_if) {
            self.disagreements.add(|| {
                format!(
                    "{} {} {} on {}: log {}, replay {} ({})",
                    r.mapped.id,
                    r.mapped.request.principal.arn,
                    r.mapped.action(),
                    r.mapped.resource(),
                    r.mapped.log_outcome.name(),
                    r.decision.decision.name(),
                    r.deciders()
                )
            });
        }
    }

    pub fn merge(&mut self, o: Report) {
        self.unreadable.merge(o.unreadable);
        self.skipped.merge(o.skipped);
        self.newly_denied += o.newly_denied;
        for (k, v) in o.unmappable {
            self.unmappable.entry(k).or_default().merge(v);
        }
        self.all.merge(&o.all);
        self.forwarded.merge(&o.forwarded);
        for (k, v) in o.denied {
            *self.denied.entry(k).or_default() += v;
        }
        for (k, v) in o.depends {
            *self.depends.entry(k).or_default() += v;
        }
        for (k, v) in o.decided_by {
            *self.decided_by.entry(k).or_default() += v;
        }
        for (k, v) in o.via {
            *self.via.entry(k).or_default() += v;
        }
        for (k, v) in o.mappings {
            *self.mappings.entry(k).or_default() += v;
        }
        merge_counts(&mut self.by_service, o.by_service);
        self.timeline.merge(o.timeline);
        self.disagreements.merge(o.disagreements);
        self.interrupted |= o.interrupted;
    }

    /// The terminal summary.
    pub fn summary_table(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{} records{}{}",
            self.records_seen(),
            if self.what_if {
                " (what-if: identity and resource side assumed allowed; only guardrails deny)"
            } else {
                ""
            },
            if self.interrupted {
                " — INTERRUPTED, partial report"
            } else {
                ""
            }
        );
        let _ = writeln!(s, "\n  {:<28}{:>10}{:>12}", "", "all", "forwarded");
        let rows = [
            ("allowed", self.all.allowed, self.forwarded.allowed),
            (
                "explicitly denied",
                self.all.explicit_deny,
                self.forwarded.explicit_deny,
            ),
            (
                "implicitly denied",
                self.all.implicit_deny,
                self.forwarded.implicit_deny,
            ),
            (
                "depends on unlogged keys",
                self.all.depends_on,
                self.forwarded.depends_on,
            ),
        ];
        for (name, a, f) in rows {
            let _ = writeln!(s, "  {name:<28}{a:>10}{f:>12}");
        }
        let _ = writeln!(s, "  {:<28}{:>10}", "unmappable", self.unmappable_total());
        let _ = writeln!(s, "  {:<28}{:>10}", "unreadable", self.unreadable.count);
        if self.skipped.count > 0 {
            let _ = writeln!(
                s,
                "  {:<28}{:>10}",
                "paths skipped (not read)", self.skipped.count
            );
        }
        if !self.via.is_empty() {
            let _ = writeln!(s, "\nForwarded calls by service:");
            for (via, n) in &self.via {
                let _ = writeln!(s, "  {n:>8}  {via}");
            }
        }
        if !self.mappings.is_empty() {
            let _ = writeln!(s, "\nEvaluated records by the table that mapped them:");
            for (origin, n) in &self.mappings {
                let _ = writeln!(s, "  {n:>8}  {origin}");
            }
        }
        if !self.denied.is_empty() {
            let _ = writeln!(s, "\nDenied, by principal, action and deciding statement:");
            let mut groups: Vec<_> = self.denied.iter().collect();
            groups.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            for ((p, a, d), n) in groups.iter().take(25) {
                let _ = writeln!(s, "  {n:>8}  {p}  {a}  {d}");
            }
            if groups.len() > 25 {
                let _ = writeln!(s, "  … {} more groups (use --output)", groups.len() - 25);
            }
        }
        if !self.depends.is_empty() {
            let _ = writeln!(s, "\nDecisions that depend on keys the log does not carry:");
            for (k, n) in &self.depends {
                let _ = writeln!(s, "  {n:>8}  {k}");
            }
            let _ = writeln!(s, "\nWhat would decide them, by action:");
            let mut groups: Vec<_> = self.decided_by.iter().collect();
            groups.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            for ((action, d), n) in groups.iter().take(15) {
                let _ = writeln!(s, "  {n:>8}  {action}: {d}");
            }
            if groups.len() > 15 {
                let _ = writeln!(
                    s,
                    "  … and {} more groups (use --output)",
                    groups.len() - 15
                );
            }
        }
        let label = if self.what_if {
            "Recorded successes the guardrails would now explicitly deny"
        } else {
            "Records where the replay contradicts the log's outcome"
        };
        let _ = writeln!(s, "\n{label}: {}", self.disagreements.count);
        for e in &self.disagreements.examples {
            let _ = writeln!(s, "  {e}");
        }
        and_more(
            &mut s,
            "  ",
            self.disagreements.count,
            self.disagreements.examples.len(),
        );
        if !self.unmappable.is_empty() {
            let _ = writeln!(s, "\nUnmappable records, by class (first examples):");
            for (class, e) in &self.unmappable {
                let _ = writeln!(s, "  {:>8}  {class}", e.count);
                for ex in e.examples.iter().take(3) {
                    let _ = writeln!(s, "            {ex}");
                }
                and_more(&mut s, "            ", e.count, e.examples.len().min(3));
            }
        }
        if self.unreadable.count > 0 {
            let _ = writeln!(s, "\nUnreadable ({}):", self.unreadable.count);
            for ex in &self.unreadable.examples {
                let _ = writeln!(s, "  {ex}");
            }
            and_more(
                &mut s,
                "  ",
                self.unreadable.count,
                self.unreadable.examples.len(),
            );
        }
        if self.skipped.count > 0 {
            let _ = writeln!(s, "\nSkipped, not read ({}):", self.skipped.count);
            for ex in &self.skipped.examples {
                let _ = writeln!(s, "  {ex}");
            }
        }
        s
    }

    /// The report as JSON (`--json`).
    pub fn to_json(&self) -> serde_json::Value {
        let counts = |c: &Counts| {
            json!({"allowed": c.allowed, "explicit_deny": c.explicit_deny,
                   "implicit_deny": c.implicit_deny, "depends_on": c.depends_on})
        };
        json!({
            "what_if": self.what_if,
            "interrupted": self.interrupted,
            "records": self.records_seen(),
            "all": counts(&self.all),
            "forwarded": counts(&self.forwarded),
            "unmappable": self.unmappable.iter().map(|(k, v)| (k.clone(), json!({"count": v.count, "examples": v.examples}))).collect::<serde_json::Map<_, _>>(),
            "unreadable": {"count": self.unreadable.count, "examples": self.unreadable.examples},
            "skipped": {"count": self.skipped.count, "examples": self.skipped.examples},
            "newly_denied": self.newly_denied,
            "denied": self.denied.iter().map(|((p, a, d), n)| json!({"principal": p, "action": a, "deciders": d, "count": n})).collect::<Vec<_>>(),
            "depends_on": self.depends,
            "decided_by": self.decided_by.iter().map(|((a, d), n)| json!({"action": a, "decided_by": d, "count": n})).collect::<Vec<_>>(),
            "via": self.via,
            "mapping": self.mappings.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
            "by_service": self.by_service.iter().map(|(k, c)| (k.clone(), counts(c))).collect::<serde_json::Map<_, _>>(),
            "by_hour": self.timeline.hours.iter().map(|(h, c)| json!({"hour": format_utc(h.saturating_mul(3600)), "counts": counts(c)})).collect::<Vec<_>>(),
            "untimed": self.timeline.untimed,
            "disagreements": {"count": self.disagreements.count, "examples": self.disagreements.examples},
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A timeline with one explicitly denied record in each of `minutes`.
    fn timeline(minutes: std::ops::RangeInclusive<i64>) -> Timeline {
        let mut t = Timeline::default();
        for m in minutes {
            let one = Counts {
                explicit_deny: 1,
                ..Counts::default()
            };
            t.minutes.insert(m, one.clone());
            t.hours.entry(m.div_euclid(60)).or_default().merge(&one);
        }
        t.cap_minutes();
        t
    }

    fn merged(parts: Vec<Timeline>) -> Timeline {
        parts.into_iter().fold(Timeline::default(), |mut a, b| {
            a.merge(b);
            a
        })
    }

    #[test]
    fn minutes_are_kept_exactly_when_the_whole_input_has_few_enough() {
        let max = Timeline::MAX_MINUTES as i64;
        let whole = timeline(0..=max - 1);
        assert!(!whole.minutes_dropped);
        let cut = merged(vec![timeline(0..=99), timeline(100..=max - 1)]);
        assert_eq!(cut, whole);
        // One minute more, in any part and merged in any order: hours only.
        let parts = || {
            [
                timeline(0..=99),
                timeline(100..=max - 1),
                timeline(max..=max),
            ]
        };
        let whole = timeline(0..=max);
        assert!(whole.minutes_dropped && whole.minutes.is_empty());
        for order in [[0, 1, 2], [2, 1, 0], [1, 2, 0]] {
            let mut p = parts().map(Some);
            let got = merged(order.iter().map(|&i| p[i].take().unwrap()).collect());
            assert_eq!(got, whole, "{order:?}");
        }
        assert_eq!(
            whole.hours.values().map(|c| c.explicit_deny).sum::<u64>(),
            max as u64 + 1
        );
    }
}
